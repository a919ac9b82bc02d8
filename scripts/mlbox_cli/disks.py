"""The workbench's disks and snapshots (playbooks/disks.yml), shown as numbered lists."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from .choices import DiskChoice
from .errors import UsageError
from .playbooks import Playbooks
from .terminal import Terminal

USABLE_SNAPSHOT = ("completed", "accomplished", "succeeded", "available")


@dataclass
class Listing:
    disks: list[dict[str, Any]] = field(default_factory=list)
    snapshots: list[dict[str, Any]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.disks and not self.snapshots


def parse_listing(data: dict[str, Any]) -> Listing:
    """disks.yml's JSON (or the facts it set): newest first."""
    disks = data.get("workbench_disks", data.get("disks")) or []
    snapshots = data.get("workbench_snapshots", data.get("snapshots")) or []
    return Listing(newest_first(disks), newest_first(snapshots))


def newest_first(items: list[Any]) -> list[dict[str, Any]]:
    rows = [item for item in items if isinstance(item, dict) and item.get("id")]
    return sorted(rows, key=lambda item: str(item.get("created") or ""), reverse=True)


def list_disks(playbooks: Playbooks, variables: dict[str, Any], secrets: dict[str, str]) -> Listing:
    """Run disks.yml once; it writes its result to workbench_disks_output."""
    output = playbooks.data_dir / f"disks-{uuid.uuid4().hex[:8]}.json"
    playbooks.prepare_data_dir()
    result = playbooks.run(
        "disks.yml", {**variables, "workbench_disks_output": str(output)}, secrets, kind="disks"
    )
    if output.exists():
        try:
            data = json.loads(output.read_text(encoding="utf-8"))
        finally:
            output.unlink()
        return parse_listing(data if isinstance(data, dict) else {})
    return parse_listing(
        {
            "workbench_disks": result.events.fact("workbench_disks"),
            "workbench_snapshots": result.events.fact("workbench_snapshots"),
        }
    )


def when(created: Any) -> str:
    """ISO 8601 -> '2024-11-22 18:30 UTC'; anything else as it is."""
    text = str(created or "?")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def size(item: dict[str, Any]) -> str:
    value = item.get("size_gb")
    return f"{value} GB" if value not in (None, "") else "? GB"


def describe_disk(disk: dict[str, Any]) -> str:
    parts = [str(disk["id"]), size(disk), when(disk.get("created")), str(disk.get("status", ""))]
    if disk.get("name") and disk.get("name") != disk["id"]:
        parts.append(f"({disk['name']})")
    if disk.get("attached_to"):
        parts.append(f"attached to {disk['attached_to']}")
    return "  ".join(part for part in parts if part)


def describe_snapshot(snapshot: dict[str, Any]) -> str:
    parts = [
        str(snapshot["id"]),
        size(snapshot),
        when(snapshot.get("created")),
        str(snapshot.get("status", "")),
    ]
    if snapshot.get("disk_id"):
        parts.append(f"of {snapshot['disk_id']}")
    return "  ".join(part for part in parts if part)


def usable(snapshot: dict[str, Any]) -> bool:
    return str(snapshot.get("status", "completed")).lower() in USABLE_SNAPSHOT


def choose_source(listing: Listing, terminal: Terminal) -> str:
    """The seed's question: [n]ew / [e]xisting / [s]napshot."""
    terminal.say(
        f"data disk: {len(listing.disks)} existing disk(s), "
        f"{len(listing.snapshots)} snapshot(s) of this workbench"
    )
    return terminal.choose(
        "[n]ew disk / [e]xisting disk / [s]napshot?",
        {"new": "new", "existing": "existing", "snapshot": "snapshot"},
        flag="--disk",
    )


def pick_disk(listing: Listing, terminal: Terminal) -> DiskChoice:
    index = terminal.pick(
        "existing disks (newest first):",
        [describe_disk(disk) for disk in listing.disks],
        flag="--disk existing:ID",
        default=0,
    )
    return DiskChoice("existing", str(listing.disks[index]["id"]))


def pick_snapshot(listing: Listing, terminal: Terminal) -> DiskChoice:
    rows = [describe_snapshot(snapshot) for snapshot in listing.snapshots]
    default = next((i for i, s in enumerate(listing.snapshots) if usable(s)), None)
    while True:
        index = terminal.pick(
            "snapshots (newest first):", rows, flag="--disk snapshot:ID", default=default
        )
        snapshot = listing.snapshots[index]
        if usable(snapshot):
            return DiskChoice("snapshot", str(snapshot["id"]))
        terminal.say(f"  {snapshot['id']} is {snapshot.get('status')}, not usable yet")


def ask_disk(listing: Listing, terminal: Terminal, source: str | None) -> DiskChoice:
    """Ask until a disk choice is complete (source given by --disk, or asked)."""
    while True:
        chosen = source or choose_source(listing, terminal)
        if chosen == "new":
            return DiskChoice("new")
        if chosen == "existing" and listing.disks:
            return pick_disk(listing, terminal)
        if chosen == "snapshot" and any(usable(s) for s in listing.snapshots):
            return pick_snapshot(listing, terminal)
        what = "disks" if chosen == "existing" else "completed snapshots"
        if source:
            raise UsageError(f"--disk {source}: this workbench has no {what}")
        terminal.say(f"  this workbench has no {what}")


def missing_disk_error(listing: Listing, given: DiskChoice | None) -> UsageError:
    """Without a terminal: name the flag and what it could be."""
    options = ["--disk new"]
    options += [f"--disk existing:{disk['id']}" for disk in listing.disks[:5]]
    if any(usable(s) for s in listing.snapshots):
        options.append("--disk snapshot:latest")
    options += [f"--disk snapshot:{s['id']}" for s in listing.snapshots[:5] if usable(s)]
    what = f"--disk {given} needs an id" if given else "--disk is needed"
    return UsageError(
        f"{what} (there is no terminal to ask on, or --yes); one of:\n    " + "\n    ".join(options)
    )
