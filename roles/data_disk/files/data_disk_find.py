#!/usr/bin/env python3
# Copyright: mlbox.workbench developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Find the data disk from a provider's hint. Read-only: lsblk, the /dev/disk links, blkid -p.

The data_disk role runs this with ansible.builtin.script (roles inside a collection cannot
carry their own modules), so it needs nothing but Python 3 and util-linux on the host:

    data_disk_find.py '{"device": "", "serial": "", "volume_id": "vol-0abc",
                        "size_gb": 100, "mount_path": "/mnt/ml"}'

It prints one JSON object: on success device, disk, matched_by, blank, fstype, uuid, label,
mounted_at, seen, mkfs (the filesystem types whose mkfs is installed); on a refusal
{"error": "<message for the user>"}.

Rules:
- The first of device, serial, volume_id that is set selects the disk. When it matches
  nothing and size_gb is set, the one free, unpartitioned disk of that size is used;
  size_gb alone selects by size.
- volume_id is turned into what the guest sees: AWS vol-0abc -> serial vol0abc (NVMe),
  Aliyun d-bp1xyz -> serial bp1xyz (virtio, cut to 20 bytes), Azure lunN ->
  /dev/disk/azure/scsi1/lunN; anything else is matched as a serial.
- A device that is (or has a partition) mounted anywhere but mount_path, used as swap, or
  held by LVM, RAID or dm-crypt is never chosen.
- A disk with exactly one partition stands for that partition; with several it is an error.
- Nothing matching, several matching, another device at mount_path, or a device holding
  something other than a filesystem (a bare partition table, LVM, LUKS) are refusals.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from typing import Any

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
PARAM_KEYS = ("device", "serial", "volume_id", "mount_path")
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


def read_params(argv: list[str]) -> dict[str, Any]:
    """The one JSON argument, with every key present and size_gb an int."""
    given = json.loads(argv[1]) if len(argv) > 1 else {}
    params: dict[str, Any] = {key: str(given.get(key) or "") for key in PARAM_KEYS}
    params["size_gb"] = int(given.get("size_gb") or 0)
    if not params["mount_path"]:
        raise DiskError("mount_path is required")
    # lsblk and /proc/self/mounts show /mnt/ml, never /mnt/ml/ or /mnt//ml.
    params["mount_path"] = os.path.normpath(params["mount_path"])
    return params


def main(argv: list[str]) -> int:
    """Print the result or the refusal as JSON; exit non-zero only for a crash."""
    try:
        result = run(read_params(argv))
    except DiskError as exc:
        result = {"error": str(exc)}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
