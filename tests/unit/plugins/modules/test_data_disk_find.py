"""The data_disk_find module: choosing the disk from a hint, and whether the last run holds."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from ansible_collections.mlbox.workbench.plugins.modules import data_disk_find as finder

GIB = 1024**3
MNT = "/mnt/ml"


def disk(name: str, size_gb: float, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "type": extra.pop("type", "disk"),
        "size": int(size_gb * GIB),
        "serial": extra.pop("serial", None),
        "wwn": None,
        "model": None,
        "mountpoint": extra.pop("mountpoint", None),
        **extra,
    }


def aws_host() -> list[dict[str, Any]]:
    """An EC2 Nitro instance: root on nvme0n1, the data volume on nvme1n1, plus a spare."""
    return finder.flatten(
        [
            disk(
                "/dev/nvme0n1",
                20,
                serial="vol0root0000000000001",
                children=[
                    disk("/dev/nvme0n1p1", 19.9, type="part", mountpoint="/"),
                    disk("/dev/nvme0n1p15", 0.1, type="part", mountpoint="/boot/efi"),
                ],
            ),
            disk("/dev/nvme1n1", 100, serial="vol0123456789abcdef0"),
            disk("/dev/nvme2n1", 50, serial="vol0fedcba9876543210"),
            disk("/dev/zram0", 0, mountpoint="[SWAP]"),
        ]
    )


def params(**given: Any) -> dict[str, Any]:
    base = {"device": "", "serial": "", "volume_id": "", "size_gb": 0, "mount_path": MNT}
    return {**base, **given}


def choose(flat, links=None, resolve=None, **given):
    return finder.choose(flat, links or {}, params(**given), resolve or {})


# --- volume id normalization ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("volume_id", "serials", "links"),
    [
        (
            "vol-0123456789abcdef0",
            ["vol0123456789abcdef0"],
            ["/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0123456789abcdef0"],
        ),
        (
            "d-bp1abcdefghij0123456",
            ["bp1abcdefghij0123456"],
            ["/dev/disk/by-id/virtio-bp1abcdefghij0123456"],
        ),
        # Longer than virtio's 20 bytes: the link carries the serial cut short.
        (
            "d-bp1abcdefghij0123456789",
            ["bp1abcdefghij0123456789"],
            ["/dev/disk/by-id/virtio-bp1abcdefghij0123456"],
        ),
        ("lun3", [], ["/dev/disk/azure/scsi1/lun3", "/dev/disk/azure/data/by-lun/3"]),
        ("LUN0", [], ["/dev/disk/azure/scsi1/lun0", "/dev/disk/azure/data/by-lun/0"]),
        ("some-serial", ["some-serial"], []),
    ],
)
def test_volume_id_becomes_what_the_guest_sees(volume_id, serials, links):
    assert finder.volume_id_hint(volume_id) == (serials, links)


def test_azure_resource_id_is_refused_with_the_lun_advice():
    rid = "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Compute/disks/mlbox-data"
    with pytest.raises(finder.DiskError, match="give the LUN"):
        finder.volume_id_hint(rid)


@pytest.mark.parametrize(
    ("wanted", "seen", "expected"),
    [
        ("vol0ABC", "vol0abc", True),
        ("vol0abc", "vol0abd", False),
        ("bp1abcdefghij0123456789", "bp1abcdefghij0123456", True),  # virtio cut at 20
        ("bp1abcdefghij0123456789", "bp1abcdefghij012345", False),  # a real prefix is not enough
        ("", "x", False),
        ("x", "", False),
    ],
)
def test_serial_matches(wanted, seen, expected):
    assert finder.serial_matches(wanted, seen) is expected


# --- choosing -----------------------------------------------------------------------------------


def test_aws_volume_id_finds_the_nvme_disk_by_serial():
    dev, how = choose(aws_host(), volume_id="vol-0123456789abcdef0")
    assert (dev["name"], how) == ("/dev/nvme1n1", "volume_id")


def test_aws_serial_finds_the_nvme_disk():
    dev, how = choose(aws_host(), serial="VOL0123456789ABCDEF0")
    assert (dev["name"], how) == ("/dev/nvme1n1", "serial")


def test_serial_found_through_a_by_id_link_when_lsblk_shows_none():
    flat = finder.flatten([disk("/dev/vdb", 40)])
    links = {"/dev/vdb": ["/dev/disk/by-id/virtio-bp1abcdefghij0123456"]}
    dev, _how = choose(flat, links, volume_id="d-bp1abcdefghij0123456")
    assert dev["name"] == "/dev/vdb"


def test_serial_found_in_sysfs_when_lsblk_shows_none():
    flat = finder.flatten([disk("/dev/vdb", 40, sysfs_serials=["bp1abcdefghij0123456"])])
    dev, _how = choose(flat, volume_id="d-bp1abcdefghij0123456789")
    assert dev["name"] == "/dev/vdb"


def test_partition_links_do_not_count_as_the_disk():
    assert not finder.link_has_serial("/dev/disk/by-id/virtio-abc-part1", "abc")


def test_azure_lun_resolves_through_the_link():
    flat = finder.flatten([disk("/dev/sda", 30, mountpoint="/"), disk("/dev/sdc", 64)])
    resolve = {"/dev/disk/azure/scsi1/lun0": "/dev/sdc", "/dev/disk/azure/data/by-lun/0": ""}
    dev, how = choose(flat, resolve=resolve, volume_id="lun0")
    assert (dev["name"], how) == ("/dev/sdc", "volume_id")


def test_device_path_may_be_a_link():
    resolve = {"/dev/disk/by-id/nvme-x": "/dev/nvme2n1"}
    dev, how = choose(aws_host(), resolve=resolve, device="/dev/disk/by-id/nvme-x")
    assert (dev["name"], how) == ("/dev/nvme2n1", "device")


def test_device_wins_over_serial():
    dev, _how = choose(
        aws_host(),
        resolve={"/dev/nvme2n1": "/dev/nvme2n1"},
        device="/dev/nvme2n1",
        serial="vol0123456789abcdef0",
    )
    assert dev["name"] == "/dev/nvme2n1"


def test_size_alone_finds_the_one_free_disk():
    dev, how = choose(aws_host(), size_gb=100)
    assert (dev["name"], how) == ("/dev/nvme1n1", "size_gb")


def test_size_is_the_fallback_when_the_serial_is_not_visible():
    # Xen-era EC2: /dev/xvdf has no serial, so the volume id cannot match.
    flat = finder.flatten([disk("/dev/xvda", 8, mountpoint="/"), disk("/dev/xvdf", 100)])
    dev, how = choose(flat, volume_id="vol-0123456789abcdef0", size_gb=100)
    assert (dev["name"], how) == ("/dev/xvdf", "size_gb")


def test_size_never_matches_a_partitioned_disk():
    flat = finder.flatten([disk("/dev/vdb", 10, children=[disk("/dev/vdb1", 10, type="part")])])
    with pytest.raises(finder.DiskError, match="No free block device"):
        choose(flat, size_gb=10)


def test_nothing_matching_names_the_hint_and_lists_the_devices():
    with pytest.raises(finder.DiskError) as err:
        choose(aws_host(), serial="nonexistent")
    msg = str(err.value)
    assert "No free block device matches serial 'nonexistent'" in msg
    assert "/dev/nvme1n1 disk 100 GiB serial=vol0123456789abcdef0" in msg
    assert "/dev/nvme0n1p1 part" in msg


def test_no_hint_at_all_is_an_error():
    with pytest.raises(finder.DiskError, match="data_disk needs a hint"):
        choose(aws_host())


def test_several_matches_are_listed():
    flat = finder.flatten([disk("/dev/vdb", 10), disk("/dev/vdc", 10)])
    with pytest.raises(finder.DiskError, match=r"2 block devices match size 10 GiB") as err:
        choose(flat, size_gb=10)
    assert "/dev/vdb disk 10 GiB" in str(err.value) and "/dev/vdc" in str(err.value)


def test_root_disk_is_never_chosen():
    with pytest.raises(finder.DiskError) as err:
        choose(aws_host(), serial="vol0root0000000000001")
    assert "in use, so left alone: /dev/nvme0n1 (mounted at /, /boot/efi)" in str(err.value)


def test_a_disk_in_use_is_not_replaced_by_the_size_fallback():
    with pytest.raises(finder.DiskError, match="in use"):
        choose(aws_host(), serial="vol0root0000000000001", size_gb=100)


def test_swap_and_lvm_count_as_in_use():
    flat = finder.flatten(
        [
            disk("/dev/vdb", 10, children=[disk("/dev/mapper/vg-lv", 10, type="lvm")]),
            disk("/dev/vdc", 10, mountpoint="[SWAP]"),
        ]
    )
    assert finder.in_use(flat[0], MNT) == "held by lvm"
    assert finder.in_use(flat[2], MNT) == "mounted at [SWAP]"


def test_a_disk_already_mounted_at_the_data_dir_is_chosen_again():
    flat = finder.flatten([disk("/dev/nvme1n1", 100, mountpoint=MNT)])
    dev, _how = choose(flat, size_gb=100)
    assert dev["name"] == "/dev/nvme1n1"


def test_a_device_mounted_elsewhere_is_in_use():
    flat = finder.flatten([disk("/dev/loop7", 1, type="loop", mountpoint="/mnt/other")])
    with pytest.raises(finder.DiskError, match=r"/dev/loop7 \(mounted at /mnt/other\)"):
        choose(flat, resolve={"/dev/loop7": "/dev/loop7"}, device="/dev/loop7")


def test_missing_device_path_matches_nothing():
    with pytest.raises(finder.DiskError, match="No free block device matches device '/dev/vdz'"):
        choose(aws_host(), resolve={"/dev/vdz": ""}, device="/dev/vdz")


# --- the filesystem's device ----------------------------------------------------------------


def test_unpartitioned_disk_holds_the_filesystem_itself():
    assert finder.filesystem_device(disk("/dev/vdb", 10, children=[])) == "/dev/vdb"


def test_a_single_partition_stands_for_the_disk():
    dev = disk("/dev/vdb", 10, children=[disk("/dev/vdb1", 10, type="part")])
    assert finder.filesystem_device(dev) == "/dev/vdb1"


def test_several_partitions_are_an_error():
    parts = [disk("/dev/vdb1", 5, type="part"), disk("/dev/vdb2", 5, type="part")]
    with pytest.raises(finder.DiskError, match="has 2 partitions"):
        finder.filesystem_device(disk("/dev/vdb", 10, children=parts))


# --- blkid and mounts -------------------------------------------------------------------------


def test_parse_blkid_export():
    out = "DEVNAME=/dev/loop3\nUUID=1234-abcd\nLABEL=a=b\nTYPE=ext4\nUSAGE=filesystem\n"
    probe = finder.parse_blkid(out)
    assert probe == {
        "DEVNAME": "/dev/loop3",
        "UUID": "1234-abcd",
        "LABEL": "a=b",
        "TYPE": "ext4",
        "USAGE": "filesystem",
    }
    finder.check_signature("/dev/loop3", probe)


@pytest.mark.parametrize(
    ("probe", "words"),
    [
        ({"TYPE": "LVM2_member", "USAGE": "raid"}, "holds LVM2_member"),
        ({"TYPE": "crypto_LUKS", "USAGE": "crypto"}, "holds crypto_LUKS"),
        ({"PTTYPE": "gpt"}, "gpt partition table but no filesystem"),
    ],
)
def test_what_is_not_a_filesystem_is_refused(probe, words):
    with pytest.raises(finder.DiskError, match=words):
        finder.check_signature("/dev/vdb", probe)


def test_an_xfs_filesystem_is_accepted_as_it_is():
    finder.check_signature("/dev/vdb", {"TYPE": "xfs", "USAGE": "filesystem", "UUID": "u"})


def test_mounted_sources_reads_escaped_paths():
    mounts = (
        "overlay / overlay rw 0 0\n"
        "/dev/loop3 /mnt/ml ext4 rw,relatime 0 0\n"
        "/dev/loop4 /mnt/my\\040data ext4 rw 0 0\n"
    )
    assert finder.mounted_sources(mounts, "/mnt/ml/") == ["/dev/loop3"]
    assert finder.mounted_sources(mounts, "/mnt/my data") == ["/dev/loop4"]
    assert finder.mounted_sources(mounts, "/mnt/none") == []


# --- the module ------------------------------------------------------------------------------


def test_a_refusal_fails_the_module_with_its_message(run_module, monkeypatch):
    def refuse(_params):
        raise finder.DiskError("No free block device matches serial 'x'.")

    monkeypatch.setattr(finder, "run", refuse)
    exited = run_module(finder.main, {"serial": "x", "mount_path": "/mnt/ml"})
    assert exited.failed
    assert exited.result["msg"] == "No free block device matches serial 'x'."


def test_an_owner_that_does_not_exist_is_refused_before_the_disks_are_read(run_module, monkeypatch):
    monkeypatch.setattr(finder, "run", lambda _p: pytest.fail("the disks were read"))
    exited = run_module(
        finder.main, {"serial": "x", "mount_path": "/mnt/ml", "owner": "nobody-here-at-all"}
    )
    assert exited.failed
    assert "data_disk_owner 'nobody-here-at-all' does not exist" in exited.result["msg"]


FOUND = {"device": "/dev/loop3", "blank": False, "uuid": "u-1", "owner": {"uid": 1000}}


@pytest.fixture
def mounted(tmp_path, monkeypatch):
    """A host where /dev/loop3 (UUID u-1) is mounted at tmp/ml and fstab names it."""
    mnt = tmp_path / "ml"
    mnt.mkdir(mode=0o755)
    mnt.chmod(0o755)
    files = {
        "/proc/self/mounts": f"/dev/loop3 {mnt} ext4 rw 0 0\n",
        "/etc/fstab": f"# comment\nUUID=u-1 {mnt} ext4 defaults,nofail 0 2\n",
    }
    real_open = open

    def fake_open(path, *args, **kwargs):
        if path in files:
            target = tmp_path / Path(path).name
            target.write_text(files[path])
            return real_open(target, *args, **kwargs)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr("builtins.open", fake_open)
    state = tmp_path / "data_disk.digest"
    state.write_text("abc\n")
    st = os.stat(mnt)
    found = dict(FOUND, owner={"uid": st.st_uid})
    params = {"state_file": str(state), "digest": "abc", "mount_path": str(mnt), "mode": "0755"}
    return found, params, st.st_gid, files


def test_the_last_run_holds_when_digest_mount_fstab_and_owner_agree(mounted):
    found, params, gid, _unused = mounted
    assert finder.still_current(found, params, gid) == ""


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"digest": "other"}, "digest differs"),
        ({"digest": ""}, "digest differs"),
        ({"mode": "0700"}, "is not"),
        ({"mode": "u+rwx"}, "not octal"),
    ],
)
def test_the_full_path_runs_when_an_input_or_the_directory_differs(mounted, change, why):
    found, params, gid, _unused = mounted
    assert why in finder.still_current(found, dict(params, **change), gid)


def test_the_full_path_runs_when_the_disk_is_not_mounted_or_not_in_fstab(mounted):
    found, params, gid, files = mounted
    assert "not mounted" in finder.still_current(dict(found, device="/dev/loop9"), params, gid)
    files["/etc/fstab"] = "UUID=u-2 /elsewhere ext4 defaults 0 2\n"
    assert "/etc/fstab does not mount UUID=u-1" in finder.still_current(found, params, gid)
    assert "no filesystem" in finder.still_current(dict(found, blank=True), params, gid)


def test_fstab_lines_are_matched_by_uuid_and_escaped_path():
    fstab = "#UUID=a /mnt/ml ext4 d 0 0\nUUID=b /mnt/my\\040data ext4 d 0 2\n"
    assert not finder.fstab_has(fstab, "a", "/mnt/ml")
    assert finder.fstab_has(fstab, "b", "/mnt/my data")


def test_mkfs_lists_the_installed_tools_only(tmp_path, monkeypatch):
    """The role installs a mkfs package only when the probe did not find the tool."""
    if any(Path(d, "mkfs.btrfs").exists() for d in ("/usr/sbin", "/sbin")):
        pytest.skip("this machine has mkfs.btrfs itself")
    monkeypatch.setenv("PATH", str(tmp_path))
    assert "btrfs" not in finder.mkfs_types()
    tool = tmp_path / "mkfs.btrfs"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    assert "btrfs" in finder.mkfs_types()
