#!/usr/bin/python
# Copyright: mlbox.workbench developers
# Apache License 2.0 (see galaxy.yml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: data_disk_find
short_description: Find the attached data disk from a provider's hint, read-only
version_added: 0.1.0
description:
  - Looks at the block devices (C(lsblk), the C(/dev/disk) links, C(blkid -p)) and returns
    the one device the hint names, with its filesystem, or fails with a message that lists
    the devices seen. Changes nothing; the C(mlbox.workbench.data_disk) role formats and
    mounts what it returns.
  - The first of O(device), O(serial), O(volume_id) that is set selects the disk. When it
    matches nothing and O(size_gb) is set, the one free, unpartitioned disk of that size is
    used; O(size_gb) alone selects by size.
  - O(volume_id) is turned into what the guest sees - AWS C(vol-0abc) becomes serial
    C(vol0abc) (NVMe), Aliyun C(d-bp1xyz) serial C(bp1xyz) (virtio, cut to 20 bytes), an
    Azure C(lunN) the link C(/dev/disk/azure/scsi1/lunN); anything else is matched as a serial.
  - A device that is (or has a partition) mounted anywhere but O(mount_path), used as swap,
    or held by LVM, RAID or dm-crypt is never chosen. A disk with exactly one partition stands
    for that partition; with several it is an error.
  - Nothing matching, several matching, another device at O(mount_path), a device holding
    something other than a filesystem (a bare partition table, LVM, LUKS) and an O(owner)
    that does not exist are refusals.
  - With O(digest) and O(state_file) it also says whether the role's last full run still
    holds (RV(current)) - the digest is the recorded one, the device is mounted at
    O(mount_path) with an fstab entry by its UUID, and O(mount_path) has the owner, group
    and mode asked for - so the role can skip the rest.
author:
  - mlbox.workbench developers (!UNKNOWN)
options:
  device:
    description:
      - Device path or a link to it (C(/dev/nvme1n1), C(/dev/disk/by-id/...)); wins over the
        other hints. May name a partition.
    type: str
    default: ""
  serial:
    description:
      - Disk serial as the guest sees it, compared case-insensitively and with
        C(/dev/disk/by-id) names.
    type: str
    default: ""
  volume_id:
    description: The provider's volume id (C(vol-...), C(d-...), C(lunN)).
    type: str
    default: ""
  size_gb:
    description:
      - Size in GiB; the fallback when the hints above match nothing, or the only hint.
      - 0 means no size hint.
    type: int
    default: 0
  mount_path:
    description: Where the disk is (to be) mounted.
    type: path
    required: true
  owner:
    description: The user who is to own O(mount_path); it must exist. Empty skips the check.
    type: str
    default: ""
  group:
    description:
      - The group of O(mount_path), a name or a number.
      - Empty means the owner's primary group.
    type: str
    default: ""
  mode:
    description: The mode O(mount_path) is to have (octal string), for RV(current).
    type: str
    default: "0755"
extends_documentation_fragment:
  - mlbox.workbench.host_state
attributes:
  check_mode:
    description: Can run in check mode and return what a real run would change, changing nothing.
    support: full
    details:
      - The module only reads.
  diff_mode:
    description: Returns details on what has changed (or would change in check mode) in diff mode.
    support: none
seealso:
  - module: mlbox.workbench.libs_probe
"""

EXAMPLES = r"""
- name: Find the EBS volume the provider attached
  mlbox.workbench.data_disk_find:
    volume_id: vol-0123456789abcdef0
    size_gb: 100
    mount_path: /mnt/ml
    owner: ml
  register: found

- name: Format it only when it is blank
  community.general.filesystem:
    dev: "{{ found.device }}"
    fstype: ext4
  when: found.blank
"""

RETURN = r"""
device:
  description: The device that holds (or will hold) the filesystem - the disk or its only partition.
  returned: success
  type: str
  sample: /dev/nvme1n1
disk:
  description: The whole disk the device belongs to.
  returned: success
  type: str
  sample: /dev/nvme1n1
matched_by:
  description: Which hint found it (device, serial, volume_id or size_gb).
  returned: success
  type: str
  sample: volume_id
blank:
  description: Whether C(blkid -p) found no signature at all on the device.
  returned: success
  type: bool
  sample: false
fstype:
  description: The filesystem type found, empty on a blank device.
  returned: success
  type: str
  sample: ext4
uuid:
  description: The filesystem's UUID, empty on a blank device.
  returned: success
  type: str
  sample: 0b7c6a4e-5f63-4c1b-9f7e-0c2d7f1f2a11
label:
  description: The filesystem's label.
  returned: success
  type: str
  sample: mlbox-data
mounted_at:
  description: Where the device is mounted now, empty when it is not.
  returned: success
  type: str
  sample: /mnt/ml
seen:
  description: One line per block device seen.
  returned: success
  type: list
  elements: str
mkfs:
  description: The filesystem types whose mkfs is installed (ext4, xfs, btrfs).
  returned: success
  type: list
  elements: str
owner:
  description: The owner's passwd entry (name, uid, gid, home), empty without O(owner).
  returned: success
  type: dict
  sample: {name: ml, uid: 1000, gid: 1000, home: /home/ml}
group_id:
  description: The gid O(mount_path) is to have (O(group) resolved), -1 without O(owner).
  returned: success
  type: int
  sample: 1000
current:
  description: Whether the role's last full run still holds (see the description).
  returned: success
  type: bool
  sample: true
why:
  description: Why RV(current) is false, for the log.
  returned: success
  type: str
  sample: the recorded digest differs
"""

import grp
import json
import os
import pwd
import re
import shutil
import subprocess
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.mlbox.workbench.plugins.module_utils.host_state import (
    HOST_STATE_ARGS,
    digest_matches,
    owner_mode,
)

GIB = 1024**3
LSBLK = [
    "lsblk",
    "--json",
    "--bytes",
    "--paths",
    "--output",
    "NAME,SERIAL,SIZE,TYPE,MOUNTPOINT,WWN,MODEL",
]
LINK_DIRS = ("/dev/disk/by-id", "/dev/disk/by-path", "/dev/disk/azure")
# virtio-blk carries at most 20 bytes of serial: a longer id is seen cut short.
VIRTIO_SERIAL_MAX = 20
SELECTABLE_TYPES = ("disk", "loop")
AZURE_LUN = re.compile(r"^lun[-:]?(\d{1,2})$", re.IGNORECASE)


class DiskError(Exception):
    """A hint that cannot be satisfied safely; the message is shown as is."""


def flatten(devices: list[dict[str, Any]], parent: str = "") -> list[dict[str, Any]]:
    """lsblk's tree as a flat list; every entry keeps its parent's name and its children."""
    flat: list[dict[str, Any]] = []
    for dev in devices:
        children = dev.get("children") or []
        flat.append(dict(dev, parent=parent, children=children))
        flat.extend(flatten(children, dev["name"]))
    return flat


def mountpoints(dev: dict[str, Any]) -> list[str]:
    """Mount points (and [SWAP]) of a device and everything below it."""
    own = [dev["mountpoint"]] if dev.get("mountpoint") else []
    return own + [m for child in dev.get("children") or [] for m in mountpoints(child)]


def in_use(dev: dict[str, Any], mount_path: str) -> str:
    """Why the device must not be touched, or "" when it is free for mount_path."""
    elsewhere = [m for m in mountpoints(dev) if m != mount_path]
    if elsewhere:
        return "mounted at " + ", ".join(elsewhere)
    holders = [c["type"] for c in dev.get("children") or [] if c.get("type") != "part"]
    if holders:
        return "held by " + ", ".join(holders)
    return ""


def describe(dev: dict[str, Any]) -> str:
    """One readable line per device, for error messages."""
    size = int(dev.get("size") or 0)
    words = [dev["name"], dev.get("type") or "?", f"{size / GIB:g} GiB"]
    for key in ("serial", "wwn", "model"):
        if dev.get(key):
            words.append(f"{key}={str(dev[key]).strip()}")
    if dev.get("mountpoint"):
        words.append(f"mounted at {dev['mountpoint']}")
    return " ".join(words)


def volume_id_hint(volume_id: str) -> tuple[list[str], list[str]]:
    """The serials and /dev/disk link paths under which a provider volume id shows up."""
    vid = volume_id.strip()
    if "/providers/microsoft.compute/disks/" in vid.lower():
        raise DiskError(
            f"data_disk_volume_id {vid!r} is an Azure resource id, which the VM cannot see; "
            "give the LUN instead (data_disk_volume_id: lun0 or "
            "data_disk_device: /dev/disk/azure/scsi1/lun0)"
        )
    lun = AZURE_LUN.match(vid)
    if lun:
        n = lun.group(1)
        return [], [f"/dev/disk/azure/scsi1/lun{n}", f"/dev/disk/azure/data/by-lun/{n}"]
    if vid.lower().startswith("vol-"):
        serial = "vol" + vid[4:]
        return [serial], [f"/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_{serial}"]
    if vid.lower().startswith("d-"):
        serial = vid[2:]
        return [serial], [f"/dev/disk/by-id/virtio-{serial[:VIRTIO_SERIAL_MAX]}"]
    return [vid], []


def serial_matches(wanted: str, seen: str) -> bool:
    """Equal ignoring case, or seen is wanted cut to virtio's 20 bytes."""
    wanted, seen = wanted.strip().lower(), seen.strip().lower()
    if not wanted or not seen:
        return False
    if wanted == seen:
        return True
    return (
        len(seen) == VIRTIO_SERIAL_MAX
        and len(wanted) > VIRTIO_SERIAL_MAX
        and wanted.startswith(seen)
    )


def link_has_serial(link: str, serial: str) -> bool:
    """/dev/disk/by-id names end in the serial after '-' or '_' (nvme-..._vol0abc, virtio-xyz)."""
    name, serial = os.path.basename(link).lower(), serial.strip().lower()
    if "-part" in name:
        return False
    return bool(serial) and (name.endswith("_" + serial) or name.endswith("-" + serial))


def by_serial(
    flat: list[dict[str, Any]], links: dict[str, list[str]], serials: list[str]
) -> list[dict[str, Any]]:
    """Whole disks whose serial, WWN or by-id link name carries one of the serials."""
    found = []
    for dev in flat:
        if dev.get("type") not in SELECTABLE_TYPES:
            continue
        seen = [s for s in (dev.get("serial"), dev.get("wwn"), *dev.get("sysfs_serials", [])) if s]
        if any(serial_matches(w, s) for w in serials for s in seen) or any(
            link_has_serial(link, w) for w in serials for link in links.get(dev["name"], [])
        ):
            found.append(dev)
    return found


def by_paths(flat: list[dict[str, Any]], real_paths: list[str]) -> list[dict[str, Any]]:
    """Devices (disks or partitions) whose node one of the resolved paths is."""
    return [dev for dev in flat if dev["name"] in real_paths]


def by_size(flat: list[dict[str, Any]], size_gb: int) -> list[dict[str, Any]]:
    """Unpartitioned disks of exactly size_gb GiB."""
    return [
        dev
        for dev in flat
        if dev.get("type") in SELECTABLE_TYPES
        and int(dev.get("size") or 0) == size_gb * GIB
        and not dev["children"]
    ]


def choose(
    flat: list[dict[str, Any]],
    links: dict[str, list[str]],
    params: dict[str, Any],
    resolve: dict[str, str],
) -> tuple[dict[str, Any], str]:
    """Apply the hints in order; return the one free device and which hint found it.

    resolve maps each path the hints name (device, Azure LUN links) to its real node, or to
    "" when the path does not exist.
    """
    mount_path = params["mount_path"]
    attempts: list[tuple[str, str, list[dict[str, Any]]]] = []
    if params.get("device"):
        what = f"device {params['device']!r}"
        attempts.append(("device", what, by_paths(flat, [resolve.get(params["device"], "")])))
    elif params.get("serial"):
        what = f"serial {params['serial']!r}"
        attempts.append(("serial", what, by_serial(flat, links, [params["serial"]])))
    elif params.get("volume_id"):
        serials, paths = volume_id_hint(params["volume_id"])
        what = (
            f"volume id {params['volume_id']!r} "
            f"(serial {', '.join(serials) or '-'}; links {', '.join(paths) or '-'})"
        )
        found = by_serial(flat, links, serials)
        found += [d for d in by_paths(flat, [resolve.get(p, "") for p in paths]) if d not in found]
        attempts.append(("volume_id", what, found))
    if params.get("size_gb") and not any(found for _how, _what, found in attempts):
        what = f"size {params['size_gb']} GiB (a free disk without partitions)"
        attempts.append(("size_gb", what, by_size(flat, params["size_gb"])))
    if not attempts:
        raise DiskError(
            "data_disk needs a hint: set data_disk_device, data_disk_serial, "
            "data_disk_volume_id or data_disk_size_gb"
        )

    looked_for = " or ".join(what for _how, what, _found in attempts)
    matched_by, _what, found = attempts[-1]
    free = [dev for dev in found if not in_use(dev, mount_path)]
    busy = [f"{d['name']} ({in_use(d, mount_path)})" for d in found if in_use(d, mount_path)]
    if not free:
        message = f"No free block device matches {looked_for}."
        if busy:
            message += " Matched but in use, so left alone: " + "; ".join(busy) + "."
        seen = "; ".join(describe(d) for d in flat)
        raise DiskError(f"{message} Block devices seen: {seen}.")
    if len(free) > 1:
        raise DiskError(
            f"{len(free)} block devices match {looked_for}: "
            + "; ".join(describe(d) for d in free)
            + ". Give data_disk_device or data_disk_serial to pick one."
        )
    return free[0], matched_by


def filesystem_device(dev: dict[str, Any]) -> str:
    """The disk itself, or its only partition; several partitions are ambiguous."""
    parts = [c for c in dev.get("children") or [] if c.get("type") == "part"]
    if not parts:
        return dev["name"]
    if len(parts) == 1:
        return parts[0]["name"]
    raise DiskError(
        f"{dev['name']} has {len(parts)} partitions ({', '.join(p['name'] for p in parts)}); "
        "set data_disk_device to the partition that holds the data"
    )


def parse_blkid(stdout: str) -> dict[str, str]:
    """`blkid -p -o export` lines (KEY=value) as a dict."""
    pairs = (line.split("=", 1) for line in stdout.splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs}


def check_signature(device: str, probe: dict[str, str]) -> None:
    """Refuse what is neither blank nor a filesystem: formatting or mounting it would hurt."""
    if probe.get("TYPE") and probe.get("USAGE", "filesystem") != "filesystem":
        raise DiskError(
            f"{device} holds {probe['TYPE']} ({probe.get('USAGE')}), not a filesystem; "
            "refusing to format or mount it"
        )
    if not probe.get("TYPE") and (probe.get("PTTYPE") or probe.get("PART_ENTRY_SCHEME")):
        raise DiskError(
            f"{device} has a {probe.get('PTTYPE', 'partition')} partition table but no filesystem; "
            "refusing to format it (wipe it yourself if it is really unused)"
        )


def unescape_mount(field: str) -> str:
    """/proc/self/mounts escapes space, tab, newline and backslash as octal."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def mounted_sources(mounts_text: str, mount_path: str) -> list[str]:
    """Sources mounted at mount_path, per /proc/self/mounts."""
    target = mount_path.rstrip("/") or "/"
    sources = []
    for line in mounts_text.splitlines():
        fields = line.split()
        if len(fields) >= 2 and unescape_mount(fields[1]) == target:
            sources.append(unescape_mount(fields[0]))
    return sources


def read_links() -> dict[str, list[str]]:
    """Real device node -> the /dev/disk links that point to it (empty without udev)."""
    links: dict[str, list[str]] = {}
    for top in LINK_DIRS:
        for root, _dirs, files in os.walk(top):
            for name in files:
                path = os.path.join(root, name)
                if os.path.islink(path):
                    links.setdefault(os.path.realpath(path), []).append(path)
    return links


def read_sysfs_serials(name: str) -> list[str]:
    """Serials the kernel exposes without udev (virtio: serial; nvme, scsi: device/serial)."""
    base = "/sys/class/block/" + os.path.basename(name)
    serials = []
    for rel in ("serial", "device/serial"):
        try:
            with open(os.path.join(base, rel), encoding="utf-8", errors="replace") as handle:
                value = handle.read().strip()
        except OSError:
            continue
        if value:
            serials.append(value)
    return serials


def run_command(argv: list[str]) -> tuple[int, str, str]:
    """Run a read-only probe with a C locale; never raises for a non-zero exit."""
    env = dict(os.environ, LC_ALL="C")
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def run(params: dict[str, Any]) -> dict[str, Any]:
    """Probe the host and apply the rules; raises DiskError for every refusal."""
    rc, out, err = run_command(LSBLK)
    if rc != 0:
        raise DiskError(f"lsblk failed: {err.strip() or out.strip()}")
    flat = flatten(json.loads(out).get("blockdevices") or [])
    for dev in flat:
        dev["sysfs_serials"] = read_sysfs_serials(dev["name"])
    links = read_links()
    wanted_paths = [params["device"]] if params["device"] else []
    if params["volume_id"] and not params["device"] and not params["serial"]:
        wanted_paths += volume_id_hint(params["volume_id"])[1]
    resolve = {p: os.path.realpath(p) if os.path.exists(p) else "" for p in wanted_paths}

    dev, matched_by = choose(flat, links, params, resolve)
    device = filesystem_device(dev)
    part = next((d for d in flat if d["name"] == device), dev)

    with open("/proc/self/mounts", encoding="utf-8") as handle:
        sources = mounted_sources(handle.read(), params["mount_path"])
    others = [s for s in sources if os.path.realpath(s) != os.path.realpath(device)]
    if others:
        raise DiskError(
            f"{params['mount_path']} already has {', '.join(others)} mounted, not {device}; "
            "unmount it first"
        )

    rc, out, err = run_command(["blkid", "-p", "-o", "export", device])
    if rc not in (0, 2):
        raise DiskError(f"blkid -p {device} failed (rc {rc}): {err.strip()}")
    probe = parse_blkid(out) if rc == 0 else {}
    check_signature(device, probe)
    return {
        "device": device,
        "disk": dev["parent"] if dev.get("type") == "part" and dev.get("parent") else dev["name"],
        "matched_by": matched_by,
        "blank": rc == 2,
        "fstype": probe.get("TYPE", ""),
        "uuid": probe.get("UUID", ""),
        "label": probe.get("LABEL", ""),
        "mounted_at": part.get("mountpoint") or "",
        "seen": [describe(d) for d in flat],
        "mkfs": mkfs_types(),
    }


def mkfs_types() -> list[str]:
    """The filesystem types the role formats whose mkfs is installed already."""
    path = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"
    return [fs for fs in ("ext4", "xfs", "btrfs") if shutil.which(f"mkfs.{fs}", path=path)]


def owner_entry(owner: str, group: str) -> tuple[dict[str, Any], int]:
    """The owner's passwd entry and the gid to give; DiskError when either does not exist."""
    try:
        entry = pwd.getpwnam(owner)
    except KeyError:
        raise DiskError(
            f"data_disk_owner '{owner}' does not exist on this host; "
            "create the user first (mlbox.workbench.tools does)"
        ) from None
    gid = entry.pw_gid
    if group:
        try:
            gid = int(group) if group.isdigit() else grp.getgrnam(group).gr_gid
        except KeyError:
            raise DiskError(f"data_disk_group '{group}' does not exist on this host") from None
    info = {"name": owner, "uid": entry.pw_uid, "gid": entry.pw_gid, "home": entry.pw_dir}
    return info, gid


def fstab_has(fstab_text: str, uuid: str, mount_path: str) -> bool:
    """Whether fstab mounts UUID=uuid at mount_path (the line the role writes)."""
    for line in fstab_text.splitlines():
        fields = line.split()
        if (
            len(fields) >= 2
            and fields[0] == f"UUID={uuid}"
            and unescape_mount(fields[1]) == mount_path
        ):
            return True
    return False


def still_current(result: dict[str, Any], params: dict[str, Any], gid: int) -> str:
    """Why the role's last full run no longer holds, or "" when it does."""
    if not digest_matches(params["state_file"], params["digest"]):
        return "the recorded digest differs (or there is none)"
    if result["blank"] or not result["uuid"]:
        return f"{result['device']} has no filesystem"
    with open("/proc/self/mounts", encoding="utf-8") as handle:
        sources = mounted_sources(handle.read(), params["mount_path"])
    if os.path.realpath(result["device"]) not in [os.path.realpath(s) for s in sources]:
        return f"{result['device']} is not mounted at {params['mount_path']}"
    try:
        with open("/etc/fstab", encoding="utf-8") as handle:
            fstab = handle.read()
    except OSError:
        fstab = ""
    if not fstab_has(fstab, result["uuid"], params["mount_path"]):
        return f"/etc/fstab does not mount UUID={result['uuid']} at {params['mount_path']}"
    try:
        want = (result["owner"].get("uid"), gid, int(params["mode"], 8))
    except ValueError:
        return f"mode {params['mode']!r} is not octal, so it is left to the file module"
    if owner_mode(params["mount_path"]) != want:
        return f"{params['mount_path']} is not {want[0]}:{want[1]} {params['mode']}"
    return ""


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "device": {"type": "str", "default": ""},
            "serial": {"type": "str", "default": ""},
            "volume_id": {"type": "str", "default": ""},
            "size_gb": {"type": "int", "default": 0},
            "mount_path": {"type": "path", "required": True},
            "owner": {"type": "str", "default": ""},
            "group": {"type": "str", "default": ""},
            "mode": {"type": "str", "default": "0755"},
            **HOST_STATE_ARGS,
        },
        supports_check_mode=True,
    )
    params = dict(module.params)
    # lsblk and /proc/self/mounts show /mnt/ml, never /mnt/ml/ or /mnt//ml.
    params["mount_path"] = os.path.normpath(params["mount_path"])
    try:
        owner, gid = owner_entry(params["owner"], params["group"]) if params["owner"] else ({}, -1)
        result = run(params)
    except DiskError as exc:
        module.fail_json(msg=str(exc))
    result["owner"], result["group_id"] = owner, gid
    why = still_current(result, params, gid) if params["owner"] else "no owner given"
    module.exit_json(changed=False, current=not why, why=why, **result)


if __name__ == "__main__":
    main()
