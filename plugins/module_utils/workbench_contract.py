# Copyright: mlbox.workbench developers
# Apache License 2.0 (see galaxy.yml)
"""The provider contract in code: the shapes every cloud hands over, and the plan.

Every ``cloud_<name>`` role is the same five steps: lookups (read-only) -> ``plan()`` here
(pure: zone, disk source, reuse, what to create, or a refusal that names the fix) ->
mutations -> the shared publishing step (``workbench_common``'s ``publish.yml``, which reads
an ``Instance``). Nothing in this file talks to a cloud, so every rule is unit-tested on
recorded lookups (tests/unit/plugins/module_utils/test_workbench_contract.py).

The shapes, as the playbooks and the wrapper scripts see them (``to_dict``):

- ``Disk``: id, name, size_gb, created, status, zone, attached_to
- ``Snapshot``: id, name, size_gb, created, status, zone, disk_id
- ``Instance`` (the ``workbench_instance`` fact): cloud, id, name, public_ip, ssh_user,
  ssh_port, ssh_key_path, notebook_port, disk_id, disk_device_hint, spot, region, zone,
  plus what a cloud adds (``extra``: resource_group, ssh_known_hosts, ...)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Dict

DISK_SOURCES = ("new", "existing", "snapshot")
# A disk that can be attached (or already is): anything else is on its way in or out.
USABLE_DISK_STATUSES = ("available", "in-use")


class PlanError(Exception):
    """A refusal meant for the user: what is wrong and the variable that fixes it."""


class SnapshotChoiceError(PlanError):
    """A snapshot choice that cannot be satisfied (snapshot_choice's failure)."""


@dataclass(frozen=True)
class Attachment:
    """Where a disk is attached: the instance and the device name the cloud gave."""

    instance_id: str
    device: str = ""


@dataclass(frozen=True)
class Disk:
    """A data disk in the contract's shape; ``owner`` is its workbench tag (plan only)."""

    id: str
    name: str = ""
    size_gb: int = 0
    created: str = ""
    status: str = ""
    zone: str = ""
    owner: str = ""
    attachments: tuple[Attachment, ...] = ()

    @property
    def attached_to(self) -> str:
        return self.attachments[0].instance_id if self.attachments else ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name or self.id,
            "size_gb": int(self.size_gb),
            "created": self.created,
            "status": self.status,
            "zone": self.zone,
            "attached_to": self.attached_to,
        }


@dataclass(frozen=True)
class Snapshot:
    """A snapshot in the contract's shape (what snapshot_choice chooses from)."""

    id: str
    name: str = ""
    size_gb: int = 0
    created: str = ""
    status: str = ""
    zone: str = ""
    disk_id: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name or self.id,
            "size_gb": int(self.size_gb),
            "created": self.created,
            "status": self.status,
            "zone": self.zone,
            "disk_id": self.disk_id,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Snapshot:
        return cls(
            id=str(data.get("id") or ""),
            name=str(data.get("name") or ""),
            size_gb=int(data.get("size_gb") or 0),
            created=str(data.get("created") or ""),
            status=str(data.get("status") or ""),
            zone=str(data.get("zone") or ""),
            disk_id=str(data.get("disk_id") or ""),
        )


INSTANCE_REQUIRED = ("cloud", "id", "name", "ssh_user", "ssh_key_path", "disk_id")


@dataclass(frozen=True)
class Instance:
    """The ``workbench_instance`` fact: what the playbooks and scripts get from any cloud."""

    cloud: str
    id: str
    name: str
    public_ip: str
    ssh_user: str
    ssh_key_path: str
    disk_id: str
    disk_device_hint: dict[str, Any]
    ssh_port: int = 22
    notebook_port: int = 8888
    spot: bool = False
    region: str = ""
    zone: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.extra)
        out.update(
            cloud=self.cloud,
            id=self.id,
            name=self.name,
            public_ip=self.public_ip,
            ssh_user=self.ssh_user,
            ssh_port=int(self.ssh_port),
            ssh_key_path=self.ssh_key_path,
            notebook_port=int(self.notebook_port),
            disk_id=self.disk_id,
            disk_device_hint=dict(self.disk_device_hint),
            spot=bool(self.spot),
            region=self.region,
            zone=self.zone,
        )
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Instance:
        """The shape checked: a provider that forgets a field fails here, not in configure."""
        missing = [key for key in INSTANCE_REQUIRED if not str(data.get(key) or "").strip()]
        if missing:
            raise PlanError(f"workbench_instance lacks {', '.join(missing)}: {data}")
        hint = data.get("disk_device_hint") or {}
        if not isinstance(hint, dict) or not any(str(v) for v in hint.values()):
            raise PlanError(
                f"workbench_instance's disk_device_hint must name the data disk "
                f"(device, serial or volume_id): {hint!r}"
            )
        known = {f for f in cls.__dataclass_fields__ if f != "extra"}
        try:
            return cls(
                cloud=str(data["cloud"]),
                id=str(data["id"]),
                name=str(data["name"]),
                public_ip=str(data.get("public_ip") or ""),
                ssh_user=str(data["ssh_user"]),
                ssh_key_path=str(data["ssh_key_path"]),
                disk_id=str(data["disk_id"]),
                disk_device_hint={k: v for k, v in hint.items() if str(v)},
                ssh_port=int(data.get("ssh_port") or 22),
                notebook_port=int(data.get("notebook_port") or 8888),
                spot=as_bool(data.get("spot", False)),
                region=str(data.get("region") or ""),
                zone=str(data.get("zone") or ""),
                extra={k: v for k, v in data.items() if k not in known},
            )
        except (TypeError, ValueError) as exc:
            raise PlanError(
                f"workbench_instance has a field of the wrong type ({exc}): {data}"
            ) from None


def as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "1", "on")
    return bool(value)


@dataclass(frozen=True)
class PlanInputs:
    """The resolved inputs the plan reads (one value each, resolved by the caller).

    ``data_device`` is where the provider attaches data disks ('' when the cloud names no
    device), ``max_disk_size_gb`` what the cloud's disk can be; ``network_var`` names the
    variable that pins the network (a subnet or vSwitch), for messages; ``snapshot_scope``
    says which snapshots count (appended to a failed choice).
    """

    cloud: str
    name: str
    region: str
    instance_type: str
    disk_source: str = "new"
    disk_id: str = ""
    snapshot_choice: str = "latest"
    disk_size_gb: int = 20
    max_disk_size_gb: int = 16384
    disk_kind: str = "disk"
    zone: str = ""
    spot: bool = True
    data_device: str = ""
    network_var: str = ""
    network_id: str = ""
    tag: str = "mlbox:workbench"
    snapshot_scope: str = ""


@dataclass(frozen=True)
class LiveInstance:
    """An instance of the workbench that exists (running, starting or stopped)."""

    id: str
    zone: str = ""


@dataclass(frozen=True)
class Lookups:
    """What the read-only lookups found, already in the contract's shapes.

    ``type_zones`` is None when the cloud does not know the instance type at all;
    ``network_zones`` the zones the workbench's network can place an instance in (None: no
    constraint); ``network_zone`` the one zone a given subnet pins ('' when none was given).
    """

    type_zones: list[str] | None = None
    type_usage: list[str] = field(default_factory=list)
    type_suggestions: list[str] = field(default_factory=list)
    network_zones: list[str] | None = None
    network_zone: str = ""
    instances: list[LiveInstance] = field(default_factory=list)
    bound_disks: list[Disk] = field(default_factory=list)
    existing_disk: Disk | None = None
    disks: list[Disk] = field(default_factory=list)
    snapshots: list[Snapshot] = field(default_factory=list)


@dataclass(frozen=True)
class Plan:
    """What up does: the zone, the instance to reuse, the data disk and what is created.

    ``disk_action``: reuse (the disk the running instance already uses), attach (an
    existing disk), create (a new one) or restore (from ``snapshot``); ``disk_size_gb`` the
    size of a disk made here.
    """

    zone: str
    instance_id: str
    disk_action: str
    disk_id: str
    disk_size_gb: int
    snapshot: Snapshot | None
    creates: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "zone": self.zone,
            "instance_id": self.instance_id,
            "disk_action": self.disk_action,
            "disk_id": self.disk_id,
            "disk_size_gb": self.disk_size_gb,
            "snapshot": self.snapshot.to_dict() if self.snapshot else {},
            "creates": list(self.creates),
        }


def check_inputs(inputs: PlanInputs) -> None:
    if inputs.disk_source not in DISK_SOURCES:
        raise PlanError(
            f"workbench_disk_source must be new, existing (with workbench_disk_id) or snapshot "
            f"(with workbench_snapshot_id: an id, a name or latest); got '{inputs.disk_source}'"
        )
    if inputs.disk_source == "existing" and not inputs.disk_id:
        raise PlanError(
            "workbench_disk_source=existing needs workbench_disk_id (--disk existing:ID); list "
            "the workbench's disks with: ansible-playbook playbooks/disks.yml "
            f"-e cloud={inputs.cloud} -e workbench_name={inputs.name}"
        )
    if not 1 <= int(inputs.disk_size_gb) <= inputs.max_disk_size_gb:
        raise PlanError(
            f"workbench_disk_size_gb must be 1 to {inputs.max_disk_size_gb} (GiB, what a "
            f"{inputs.disk_kind} can be); got {inputs.disk_size_gb}"
        )


def check_instance_type(inputs: PlanInputs, lookups: Lookups) -> list[str]:
    """The zones that offer the type; a refusal when there are none or spot is not sold."""
    if lookups.type_zones is None or not lookups.type_zones:
        offered = ", ".join(lookups.type_suggestions) or "none"
        raise PlanError(
            f"Instance type '{inputs.instance_type}' (workbench_instance_type) is not offered in "
            f"{inputs.region}; types of that family there: {offered}"
        )
    if inputs.spot and lookups.type_usage and "spot" not in lookups.type_usage:
        raise PlanError(
            f"Instance type '{inputs.instance_type}' is not sold as spot; set workbench_spot=false "
            "or choose another type"
        )
    return sorted(set(lookups.type_zones))


def existing_disk_problem(inputs: PlanInputs, lookups: Lookups) -> str:
    """Why the given disk cannot be this workbench's data disk, or ''."""
    disk = lookups.existing_disk
    current = {i.id for i in lookups.instances}
    bound = [d.id for d in lookups.bound_disks]
    if disk is None:
        return f"no such {inputs.disk_kind} there"
    if disk.owner != inputs.name:
        return (
            f"it is not tagged {inputs.tag}={inputs.name} (tag it so, if it really is this "
            "workbench's)"
        )
    if disk.status not in USABLE_DISK_STATUSES:
        return f"it is {disk.status}"
    elsewhere = [a.instance_id for a in disk.attachments if a.instance_id not in current]
    if elsewhere:
        attached = ", ".join(a.instance_id for a in disk.attachments)
        return f"it is attached to {attached}; detach it, or tear that workbench down, first"
    if inputs.data_device and any(a.device != inputs.data_device for a in disk.attachments):
        return "it is the instance's root volume, not a data disk"
    others = [d for d in bound if d != disk.id]
    if others:
        return f"the running instance uses {', '.join(others)}; tear the workbench down first"
    return ""


def check_existing_disk(inputs: PlanInputs, lookups: Lookups) -> None:
    problem = existing_disk_problem(inputs, lookups)
    if problem:
        disks = ", ".join(d.id for d in lookups.disks) or "none"
        raise PlanError(
            f"Disk '{inputs.disk_id}' (workbench_disk_id) cannot be used by workbench "
            f"'{inputs.name}' in {inputs.region}: {problem}. The workbench's data disks: {disks}"
        )


def choose_restore_snapshot(inputs: PlanInputs, lookups: Lookups) -> Snapshot:
    listed = [s.to_dict() for s in lookups.snapshots]
    try:
        chosen = choose_snapshot(listed, inputs.snapshot_choice or "latest")
    except SnapshotChoiceError as exc:
        scope = f"; {inputs.snapshot_scope}" if inputs.snapshot_scope else ""
        raise PlanError(f"{exc} (workbench_snapshot_id{scope})") from None
    if chosen is None:  # "none": there is nothing to restore from
        raise PlanError(
            "workbench_disk_source=snapshot needs a snapshot (workbench_snapshot_id: an id, a "
            "name or latest), not none; use workbench_disk_source=new for an empty disk"
        )
    return Snapshot.from_dict(chosen)


def choose_zone(inputs: PlanInputs, lookups: Lookups, type_zones: list[str]) -> str:
    """The one zone where the instance, the network, the disk and workbench_zone meet.

    A volume attaches only in its own zone and a subnet lives in one: every one of them that
    exists pins the zone; among the zones left, the first by name (stable across re-runs).
    """
    wanted = [i.zone for i in lookups.instances if i.zone]
    wanted += [lookups.network_zone] if lookups.network_zone else []
    if inputs.disk_source == "existing" and lookups.existing_disk and lookups.existing_disk.zone:
        wanted.append(lookups.existing_disk.zone)
    wanted += [inputs.zone] if inputs.zone else []
    distinct = sorted(set(wanted))
    if len(distinct) > 1:
        raise PlanError(
            f"The running instance, the network, the existing {inputs.disk_kind} and "
            f"workbench_zone name different zones ({', '.join(distinct)}); a {inputs.disk_kind} "
            f"attaches only in its own zone: choose a {inputs.network_var or 'network'} or zone "
            "where the disk is, or restore a snapshot of it instead"
        )
    usable = set(type_zones)
    if lookups.network_zones is not None:
        usable &= set(lookups.network_zones)
    if distinct:
        usable &= set(distinct)
    if not usable:
        where = (
            f"in {inputs.network_var} {inputs.network_id}"
            if inputs.network_id
            else "with a default network"
        )
        zone = f"{distinct[0]} " if distinct else ""
        raise PlanError(
            f"No zone {zone}offers {inputs.instance_type} {where}; it is offered in "
            f"{', '.join(type_zones)}"
        )
    return sorted(usable)[0]


def plan(inputs: PlanInputs, lookups: Lookups) -> Plan:
    """Decide the launch from the inputs and the lookups, or refuse before anything exists."""
    check_inputs(inputs)
    type_zones = check_instance_type(inputs, lookups)
    if len(lookups.instances) > 1:
        ids = ", ".join(i.id for i in lookups.instances)
        raise PlanError(
            f"Workbench '{inputs.name}' has {len(lookups.instances)} instances ({ids}); tear it "
            "down (playbooks/teardown.yml) before provisioning it again"
        )
    instance_id = lookups.instances[0].id if lookups.instances else ""
    bound = lookups.bound_disks[0] if instance_id and lookups.bound_disks else None
    if inputs.disk_source == "existing":
        check_existing_disk(inputs, lookups)
    snapshot = None
    if inputs.disk_source == "snapshot" and bound is None:
        snapshot = choose_restore_snapshot(inputs, lookups)
    zone = choose_zone(inputs, lookups, type_zones)
    size = int(inputs.disk_size_gb)
    if bound is not None:
        action, disk_id, size = "reuse", bound.id, bound.size_gb
    elif inputs.disk_source == "existing":
        existing = lookups.existing_disk
        action, disk_id, size = "attach", inputs.disk_id, existing.size_gb if existing else 0
    elif snapshot is not None:
        action, disk_id, size = "restore", "", max(size, snapshot.size_gb)
    else:
        action, disk_id = "create", ""
    creates = () if instance_id else ("instance",)
    if action in ("create", "restore"):
        creates += ("data disk",)
    return Plan(
        zone=zone,
        instance_id=instance_id,
        disk_action=action,
        disk_id=disk_id,
        disk_size_gb=size,
        snapshot=snapshot,
        creates=creates,
    )


# The snapshot choice (also the snapshot_choice module's): by id, by name, latest completed.

# typing.Dict: a runtime alias, evaluated on the target's Python (3.8 has no dict[str, ...]).
SnapshotDict = Dict[str, Any]

DEFAULT_COMPLETED = ["completed", "accomplished", "succeeded"]


def parse_created(value: str) -> datetime:
    """ISO 8601 as the providers write it, on Python 3.9 too (no 'Z', 6-digit fractions)."""
    text = value.strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    # Azure writes 7 fractional digits; fromisoformat before 3.11 takes only 3 or 6.
    text = re.sub(r"\.(\d+)", lambda m: "." + (m.group(1) + "000000")[:6], text, count=1)
    text = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", text)
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


def describe(snapshot: SnapshotDict) -> str:
    size = snapshot.get("size_gb")
    size_text = f"{size:g} GB" if isinstance(size, (int, float)) else f"{size or '?'} GB"
    return (
        f"{snapshot.get('id')} (name {snapshot.get('name') or '-'}, "
        f"{snapshot.get('created') or 'unknown time'}, {snapshot.get('status') or 'unknown'}, "
        f"{size_text})"
    )


def available(snapshots: list[SnapshotDict]) -> str:
    return ", ".join(describe(s) for s in snapshots) or "none"


def scope(disk_id: str | None) -> str:
    return f" (disk {disk_id})" if disk_id else ""


def is_completed(snapshot: SnapshotDict, completed_statuses: list[str]) -> bool:
    wanted = {status.lower() for status in completed_statuses}
    return str(snapshot.get("status") or "").lower() in wanted


def for_disk(snapshots: list[SnapshotDict], disk_id: str | None) -> list[SnapshotDict]:
    if not disk_id:
        return list(snapshots)
    return [s for s in snapshots if str(s.get("disk_id") or "") == disk_id]


def created_time(snapshot: SnapshotDict, snapshots: list[SnapshotDict]) -> datetime:
    try:
        return parse_created(str(snapshot.get("created") or ""))
    except ValueError:
        raise SnapshotChoiceError(
            f"snapshot {snapshot.get('id')} has no ISO 8601 created time "
            f"({snapshot.get('created')!r}), so the latest one is unknown; "
            f"choose a snapshot by id; available: {available(snapshots)}"
        ) from None


def latest_completed(
    snapshots: list[SnapshotDict], completed_statuses: list[str], disk_id: str | None = None
) -> SnapshotDict:
    completed = [s for s in snapshots if is_completed(s, completed_statuses)]
    if not completed:
        raise SnapshotChoiceError(
            f"no completed snapshot to restore from{scope(disk_id)}; "
            f"available: {available(snapshots)}"
        )
    newest: SnapshotDict = completed[0]
    newest_time = created_time(newest, snapshots)
    for snapshot in completed[1:]:
        when = created_time(snapshot, snapshots)
        # Strictly newer, so on a tie the one listed first wins.
        if when > newest_time:
            newest, newest_time = snapshot, when
    return newest


def find(snapshots: list[SnapshotDict], choice: str, disk_id: str | None = None) -> SnapshotDict:
    by_id = [s for s in snapshots if str(s.get("id")) == choice]
    if by_id:
        return by_id[0]
    by_name = [s for s in snapshots if s.get("name") == choice]
    if len(by_name) > 1:
        raise SnapshotChoiceError(
            f"snapshot name '{choice}' matches {len(by_name)} snapshots{scope(disk_id)}: "
            f"{available(by_name)}; choose one by id"
        )
    if not by_name:
        raise SnapshotChoiceError(
            f"snapshot '{choice}' not found{scope(disk_id)}; available: {available(snapshots)}"
        )
    return by_name[0]


def choose_snapshot(
    snapshots: list[SnapshotDict],
    choice: str,
    disk_id: str | None = None,
    completed_statuses: list[str] | None = None,
) -> SnapshotDict | None:
    """The snapshot to restore from, or None for `none`."""
    if choice == "none":
        return None
    statuses = DEFAULT_COMPLETED if completed_statuses is None else completed_statuses
    for position, snapshot in enumerate(snapshots):
        if not snapshot.get("id"):
            raise SnapshotChoiceError(f"snapshot #{position} in the list has no id: {snapshot}")
    candidates = for_disk(snapshots, disk_id)
    if choice == "latest":
        return latest_completed(candidates, statuses, disk_id)
    chosen = find(candidates, choice, disk_id)
    if not is_completed(chosen, statuses):
        raise SnapshotChoiceError(
            f"snapshot {chosen.get('id')} is {chosen.get('status') or 'of unknown status'}, "
            f"not completed{scope(disk_id)}; wait for it or choose another; "
            f"available: {available(candidates)}"
        )
    return chosen
