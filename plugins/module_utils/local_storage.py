# Copyright: mlbox.workbench developers
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The local provider's data disks and snapshots, kept on the controller.

Layout, one directory per workbench under the state directory (all 0700, files 0600):

    <state_dir>/local/<workbench>/disks/<disk-id>.img        sparse disk image
    <state_dir>/local/<workbench>/disks/<disk-id>.json       its metadata
    <state_dir>/local/<workbench>/snapshots/<snap-id>.tar.zst  sparse tar, zstd
    <state_dir>/local/<workbench>/snapshots/<snap-id>.json   its metadata

A disk is "bound" to the workbench's instance (metadata ``bound_to``) from the moment up
chooses it until down lets it go; a re-run of up finds its disk by that, whatever
workbench_disk_source says, so a killed run never makes a second disk. A snapshot is
``completed`` only after its archive was written, synced, tested and renamed into place;
one whose writer died is reported ``failed``.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import secrets
import shutil
import subprocess
from typing import Any, Callable, List, Tuple

GIB = 1024**3
ID_RE = re.compile(r"^(disk|snap)-[0-9a-f]{10}$")
DISK_SUFFIX = ".img"
SNAPSHOT_SUFFIX = ".tar.zst"


class StorageError(Exception):
    """A refusal with a message meant for the user."""


def utc_now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _write_json(path: str, data: dict[str, Any]) -> None:
    """Atomically, 0600, synced: metadata is what later runs trust."""
    tmp = f"{path}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2, sort_keys=True)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _read_json(path: str) -> dict[str, Any] | None:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _pid_alive(pid: Any) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, ValueError, TypeError):
        return False
    except PermissionError:
        return True
    return True


# typing.List/Tuple: a runtime alias, evaluated on the target's Python (3.8 has no list[str]).
Runner = Callable[[List[str]], Tuple[int, str, str]]


def run(argv: list[str]) -> tuple[int, str, str]:
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    return proc.returncode, proc.stdout, proc.stderr


class Store:
    """The disks and snapshots of one workbench."""

    def __init__(self, state_dir: str, workbench: str, runner: Runner = run) -> None:
        self.base = os.path.join(os.path.expanduser(state_dir), "local")
        self.workbench = workbench
        self.root = os.path.join(self.base, workbench)
        self.disks_dir = os.path.join(self.root, "disks")
        self.snapshots_dir = os.path.join(self.root, "snapshots")
        self.runner = runner

    # ----------------------------------------------------------------- paths and listing
    def ensure_dirs(self) -> None:
        for path in (self.base, self.root, self.disks_dir, self.snapshots_dir):
            os.makedirs(path, mode=0o700, exist_ok=True)
            os.chmod(path, 0o700)

    def disk_image(self, disk_id: str) -> str:
        return os.path.join(self.disks_dir, disk_id + DISK_SUFFIX)

    def snapshot_archive(self, snapshot_id: str) -> str:
        return os.path.join(self.snapshots_dir, snapshot_id + SNAPSHOT_SUFFIX)

    def _records(self, directory: str) -> list[dict[str, Any]]:
        if not os.path.isdir(directory):
            return []
        out = []
        for entry in sorted(os.listdir(directory)):
            if entry.endswith(".json") and ID_RE.match(entry[: -len(".json")]):
                data = _read_json(os.path.join(directory, entry))
                if data and data.get("id") == entry[: -len(".json")]:
                    out.append(data)
        return sorted(out, key=lambda r: (r.get("created", ""), r["id"]))

    def disks(self) -> list[dict[str, Any]]:
        """Every disk with its live state: status in-use when a loop device holds it."""
        loops = self.loop_table()
        out = []
        for record in self._records(self.disks_dir):
            image = os.path.realpath(self.disk_image(record["id"]))
            if not os.path.exists(image):
                continue
            devices = sorted(dev for dev, back in loops.items() if back == image)
            out.append(
                dict(
                    record,
                    devices=devices,
                    status="in-use" if devices else "available",
                    size_gb=-(-os.path.getsize(image) // GIB),
                )
            )
        return out

    def snapshots(self) -> list[dict[str, Any]]:
        out = []
        for record in self._records(self.snapshots_dir):
            status = record.get("status", "failed")
            if status == "creating" and not _pid_alive(record.get("pid")):
                status = "failed"
            if status == "completed" and not os.path.exists(self.snapshot_archive(record["id"])):
                status = "failed"
            out.append(dict(record, status=status))
        return out

    def disk(self, disk_id: str) -> dict[str, Any] | None:
        return next((d for d in self.disks() if d["id"] == disk_id), None)

    def snapshot(self, snapshot_id: str) -> dict[str, Any] | None:
        return next((s for s in self.snapshots() if s["id"] == snapshot_id), None)

    def bound_disk(self, instance: str) -> dict[str, Any] | None:
        bound = [d for d in self.disks() if d.get("bound_to") == instance]
        return bound[-1] if bound else None

    def owner_of(self, kind: str, item_id: str) -> str | None:
        """The other workbench whose state directory holds this disk or snapshot id."""
        if not os.path.isdir(self.base):
            return None
        sub = "disks" if kind == "disk" else "snapshots"
        for name in sorted(os.listdir(self.base)):
            if name != self.workbench and os.path.exists(
                os.path.join(self.base, name, sub, item_id + ".json")
            ):
                return name
        return None

    @staticmethod
    def normalized_disk(disk: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": disk["id"],
            "name": disk.get("name", disk["id"]),
            "size_gb": int(disk.get("size_gb", 0)),
            "created": disk.get("created", ""),
            "status": disk.get("status", "available"),
            "zone": "local",
            "attached_to": disk.get("bound_to", "") if disk.get("devices") else "",
            "bound_to": disk.get("bound_to", ""),
            "devices": disk.get("devices", []),
            "snapshot_id": disk.get("snapshot_id", ""),
        }

    @staticmethod
    def normalized_snapshot(snap: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": snap["id"],
            "name": snap.get("name", snap["id"]),
            "size_gb": int(snap.get("size_gb", 0)),
            "created": snap.get("created", ""),
            "status": snap.get("status", "failed"),
            "zone": "local",
            "disk_id": snap.get("disk_id", ""),
            "stored_bytes": int(snap.get("stored_bytes", 0)),
        }

    # ----------------------------------------------------------------------- loop devices
    def loop_table(self) -> dict[str, str]:
        """Loop device -> real path of its backing file, for every loop device in use."""
        rc, out, err = self.runner(["losetup", "--list", "--json", "--output", "NAME,BACK-FILE"])
        if rc != 0:
            raise StorageError(f"losetup --list failed: {err.strip() or out.strip()}")
        table = {}
        for dev in (json.loads(out or "{}") or {}).get("loopdevices", []):
            back = (dev.get("back-file") or "").removesuffix(" (deleted)")
            if back:
                table[dev["name"]] = os.path.realpath(back)
        return table

    def attach(self, disk: dict[str, Any]) -> tuple[str, bool]:
        """The loop device of the disk, made when there is none: (device, changed)."""
        if disk.get("devices"):
            return disk["devices"][0], False
        rc, out, err = self.runner(["losetup", "--find", "--show", self.disk_image(disk["id"])])
        if rc != 0:
            raise StorageError(
                f"could not attach {disk['id']} to a loop device ({err.strip()}): the local "
                "provider needs root and the loop module (modprobe loop)"
            )
        return out.strip(), True

    def detach(self, disk: dict[str, Any]) -> list[str]:
        detached = []
        for dev in disk.get("devices", []):
            rc, _out, err = self.runner(["losetup", "--detach", dev])
            if rc != 0:
                raise StorageError(f"could not detach {dev} from {disk['id']}: {err.strip()}")
            detached.append(dev)
        return detached

    # ---------------------------------------------------------------------------- disks
    def _new_id(self, prefix: str) -> str:
        while True:
            candidate = f"{prefix}-{secrets.token_hex(5)}"
            if not os.path.exists(os.path.join(self.disks_dir, candidate + ".json")) and not (
                os.path.exists(os.path.join(self.snapshots_dir, candidate + ".json"))
            ):
                return candidate

    def create_disk(self, size_gb: int, bound_to: str) -> dict[str, Any]:
        self.ensure_dirs()
        disk_id = self._new_id("disk")
        image = self.disk_image(disk_id)
        fd = os.open(image, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.ftruncate(fd, size_gb * GIB)
        finally:
            os.close(fd)
        record = {
            "id": disk_id,
            "name": f"{self.workbench}-data",
            "created": utc_now(),
            "workbench": self.workbench,
            "bound_to": bound_to,
            "snapshot_id": "",
        }
        _write_json(os.path.join(self.disks_dir, disk_id + ".json"), record)
        return self.disk(disk_id) or record

    def restore_disk(self, snapshot: dict[str, Any], size_gb: int, bound_to: str) -> dict[str, Any]:
        """A new disk from a completed snapshot, at least the snapshot's size."""
        self.ensure_dirs()
        disk_id = self._new_id("disk")
        work = os.path.join(self.disks_dir, f".restore-{disk_id}")
        os.makedirs(work, mode=0o700)
        try:
            script = 'zstd -q -d -c -- "$1" | tar -x -S -f - -C "$2"'
            rc, _out, err = self.runner(
                ["bash", "-o", "pipefail", "-c", script, "restore",
                 self.snapshot_archive(snapshot["id"]), work]
            )  # fmt: skip
            extracted = os.path.join(work, snapshot["disk_id"] + DISK_SUFFIX)
            if rc != 0 or not os.path.exists(extracted):
                raise StorageError(
                    f"could not restore snapshot {snapshot['id']}: {err.strip() or 'no image'}"
                )
            image = self.disk_image(disk_id)
            os.chmod(extracted, 0o600)
            if os.path.getsize(extracted) < size_gb * GIB:
                os.truncate(extracted, size_gb * GIB)
            os.replace(extracted, image)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        record = {
            "id": disk_id,
            "name": f"{self.workbench}-data",
            "created": utc_now(),
            "workbench": self.workbench,
            "bound_to": bound_to,
            "snapshot_id": snapshot["id"],
        }
        _write_json(os.path.join(self.disks_dir, disk_id + ".json"), record)
        return self.disk(disk_id) or record

    def set_binding(self, disk: dict[str, Any], bound_to: str) -> bool:
        path = os.path.join(self.disks_dir, disk["id"] + ".json")
        record = _read_json(path) or {}
        if record.get("bound_to", "") == bound_to:
            return False
        record["bound_to"] = bound_to
        _write_json(path, record)
        return True

    def delete_disk(self, disk: dict[str, Any]) -> None:
        if disk.get("devices"):
            raise StorageError(
                f"disk {disk['id']} is still attached ({', '.join(disk['devices'])}): "
                "delete the instance first"
            )
        os.unlink(self.disk_image(disk["id"]))
        os.unlink(os.path.join(self.disks_dir, disk["id"] + ".json"))

    # ------------------------------------------------------------------------ snapshots
    def create_snapshot(self, disk: dict[str, Any], name: str = "") -> dict[str, Any]:
        """Archive a detached disk; returns only when the snapshot is completed."""
        if disk.get("devices"):
            raise StorageError(
                f"disk {disk['id']} is attached ({', '.join(disk['devices'])}): a snapshot "
                "of a disk in use would not be consistent; delete the instance first"
            )
        self.ensure_dirs()
        snap_id = self._new_id("snap")
        meta_path = os.path.join(self.snapshots_dir, snap_id + ".json")
        archive = self.snapshot_archive(snap_id)
        partial = os.path.join(self.snapshots_dir, f".{snap_id}.partial")
        created = utc_now()
        record = {
            "id": snap_id,
            "name": name or f"{self.workbench}-{created.replace('-', '').replace(':', '')}",
            "created": created,
            "workbench": self.workbench,
            "disk_id": disk["id"],
            "size_gb": int(disk.get("size_gb", 0)),
            "status": "creating",
            "pid": os.getpid(),
        }
        _write_json(meta_path, record)
        script = (
            'tar -c -S -f - -C "$1" -- "$2" | zstd -q -T0 -3 -o "$3" && zstd -q -t -- "$3" '
            '&& sync -- "$3"'
        )
        rc, _out, err = self.runner(
            ["bash", "-o", "pipefail", "-c", script, "snapshot",
             self.disks_dir, disk["id"] + DISK_SUFFIX, partial]
        )  # fmt: skip
        if rc != 0:
            record.update(status="failed", error=err.strip()[-500:])
            record.pop("pid", None)
            _write_json(meta_path, record)
            if os.path.exists(partial):
                os.unlink(partial)
            raise StorageError(f"snapshot of {disk['id']} failed: {err.strip()[-300:]}")
        os.chmod(partial, 0o600)
        os.replace(partial, archive)
        record.update(
            status="completed", stored_bytes=os.path.getsize(archive), completed=utc_now()
        )
        record.pop("pid", None)
        _write_json(meta_path, record)
        return self.snapshot(snap_id) or record

    def delete_snapshot(self, snapshot: dict[str, Any]) -> None:
        for path in (
            self.snapshot_archive(snapshot["id"]),
            os.path.join(self.snapshots_dir, f".{snapshot['id']}.partial"),
            os.path.join(self.snapshots_dir, snapshot["id"] + ".json"),
        ):
            if os.path.exists(path):
                os.unlink(path)

    def prune_plan(self, keep: int) -> list[dict[str, Any]]:
        """Snapshots to delete: completed ones beyond the newest `keep`, and failed ones."""
        snaps = self.snapshots()
        completed = [s for s in snaps if s["status"] == "completed"]
        doomed = [s for s in snaps if s["status"] == "failed"]
        if keep > 0 and len(completed) > keep:
            doomed += completed[: len(completed) - keep]
        return doomed
