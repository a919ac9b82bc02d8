"""snapshot_choice: by id, by name, latest completed, none, and failures that list what exists."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone

import pytest
from ansible_collections.mlbox.workbench.plugins.modules import snapshot_choice as module
from ansible_collections.mlbox.workbench.plugins.modules.snapshot_choice import (
    SnapshotChoiceError,
    choose_snapshot,
    describe,
    for_disk,
    parse_created,
)


def snap(id_: str, name: str, created: str, status: str, disk_id: str = "d-1") -> dict:
    return {
        "id": id_,
        "name": name,
        "created": created,
        "status": status,
        "size_gb": 10,
        "disk_id": disk_id,
    }


SNAPSHOTS = [
    snap("snap-1", "a", "2026-01-01T00:00:00Z", "completed"),
    snap("snap-2", "b", "2026-02-01T00:00:00Z", "Accomplished"),  # aliyun
    snap("snap-3", "c", "2026-03-01T00:00:00Z", "pending"),  # newest, not finished
    snap("snap-4", "dup", "2026-02-01T00:00:00.1234567+00:00", "Succeeded", "d-2"),  # azure
    # Earlier on the wall clock in its own zone, but 01:00 UTC: newer than snap-4.
    snap("snap-5", "dup", "2026-01-31T23:00:00-02:00", "completed", "d-2"),
    snap("snap-6", "snap-1", "2026-01-05T00:00:00Z", "completed"),  # named like an id
]


@pytest.fixture
def snapshots() -> list[dict]:
    return copy.deepcopy(SNAPSHOTS)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-01T00:00:00Z", datetime(2026, 1, 1, tzinfo=timezone.utc)),
        ("2026-01-01T00:00:00.000Z", datetime(2026, 1, 1, tzinfo=timezone.utc)),
        ("2026-01-01T00:00:00+00:00", datetime(2026, 1, 1, tzinfo=timezone.utc)),
        ("2026-01-01T02:00:00+0200", datetime(2026, 1, 1, tzinfo=timezone.utc)),
        ("2026-01-01T00:00:00", datetime(2026, 1, 1, tzinfo=timezone.utc)),
        (
            "2026-01-01T00:00:00.1234567+00:00",
            datetime(2026, 1, 1, 0, 0, 0, 123456, tzinfo=timezone.utc),
        ),
        (
            "2026-01-01T00:00:00-05:00",
            datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=-5))),
        ),
    ],
)
def test_parse_created_reads_what_providers_write(text: str, expected: datetime) -> None:
    assert parse_created(text) == expected


@pytest.mark.parametrize("text", ["", "yesterday", "2026-13-01T00:00:00Z"])
def test_parse_created_refuses_non_iso(text: str) -> None:
    with pytest.raises(ValueError):
        parse_created(text)


def test_describe_names_id_name_created_status_and_size() -> None:
    assert describe(SNAPSHOTS[0]) == "snap-1 (name a, 2026-01-01T00:00:00Z, completed, 10 GB)"
    assert describe({"id": "s"}) == "s (name -, unknown time, unknown, ? GB)"


def test_for_disk_keeps_only_that_disk(snapshots: list[dict]) -> None:
    assert [s["id"] for s in for_disk(snapshots, "d-2")] == ["snap-4", "snap-5"]
    assert for_disk(snapshots, None) == snapshots


def test_by_id(snapshots: list[dict]) -> None:
    assert choose_snapshot(snapshots, "snap-2") == SNAPSHOTS[1]


def test_id_wins_over_a_name(snapshots: list[dict]) -> None:
    assert choose_snapshot(snapshots, "snap-1")["id"] == "snap-1"


def test_by_name(snapshots: list[dict]) -> None:
    assert choose_snapshot(snapshots, "b")["id"] == "snap-2"


def test_latest_skips_snapshots_that_are_not_completed(snapshots: list[dict]) -> None:
    assert choose_snapshot(snapshots, "latest", disk_id="d-1")["id"] == "snap-2"


def test_latest_compares_times_across_zones(snapshots: list[dict]) -> None:
    assert choose_snapshot(snapshots, "latest", disk_id="d-2")["id"] == "snap-5"
    assert choose_snapshot(snapshots, "latest")["id"] == "snap-5"


def test_latest_on_a_tie_takes_the_first_listed() -> None:
    twins = [
        snap("snap-a", "x", "2026-01-01T00:00:00Z", "completed"),
        snap("snap-b", "y", "2026-01-01T00:00:00+00:00", "completed"),
    ]
    assert choose_snapshot(twins, "latest")["id"] == "snap-a"
    assert choose_snapshot(twins[::-1], "latest")["id"] == "snap-b"


def test_latest_ignores_bad_times_of_unfinished_snapshots(snapshots: list[dict]) -> None:
    snapshots[2]["created"] = ""
    assert choose_snapshot(snapshots, "latest", disk_id="d-1")["id"] == "snap-2"


def test_latest_refuses_a_completed_snapshot_without_a_time(snapshots: list[dict]) -> None:
    snapshots[0]["created"] = "yesterday"
    with pytest.raises(SnapshotChoiceError, match="snap-1 has no ISO 8601 created time"):
        choose_snapshot(snapshots, "latest")


def test_none_chooses_nothing(snapshots: list[dict]) -> None:
    assert choose_snapshot(snapshots, "none") is None
    assert choose_snapshot([], "none") is None


def test_not_found_lists_what_exists(snapshots: list[dict]) -> None:
    with pytest.raises(SnapshotChoiceError) as failed:
        choose_snapshot(snapshots[:2], "snap-x")
    assert str(failed.value) == (
        "snapshot 'snap-x' not found; available: "
        "snap-1 (name a, 2026-01-01T00:00:00Z, completed, 10 GB), "
        "snap-2 (name b, 2026-02-01T00:00:00Z, Accomplished, 10 GB)"
    )


def test_no_completed_snapshot(snapshots: list[dict]) -> None:
    with pytest.raises(SnapshotChoiceError) as failed:
        choose_snapshot(snapshots, "latest", disk_id="d-9")
    assert str(failed.value) == "no completed snapshot to restore from (disk d-9); available: none"


def test_latest_with_only_unfinished_snapshots_lists_them(snapshots: list[dict]) -> None:
    with pytest.raises(SnapshotChoiceError, match=r"no completed snapshot.*snap-3 \(name c"):
        choose_snapshot([snapshots[2]], "latest")


def test_ambiguous_name_lists_the_matches(snapshots: list[dict]) -> None:
    with pytest.raises(SnapshotChoiceError) as failed:
        choose_snapshot(snapshots, "dup")
    message = str(failed.value)
    assert message.startswith("snapshot name 'dup' matches 2 snapshots: ")
    assert "snap-4 (name dup" in message
    assert "snap-5 (name dup" in message
    assert "snap-1" not in message
    assert message.endswith("choose one by id")


def test_a_snapshot_that_is_not_completed_is_refused(snapshots: list[dict]) -> None:
    with pytest.raises(SnapshotChoiceError, match="snap-3 is pending, not completed") as failed:
        choose_snapshot(snapshots, "c")
    assert "available: snap-1 (name a" in str(failed.value)


def test_completed_statuses_are_configurable(snapshots: list[dict]) -> None:
    assert choose_snapshot(snapshots, "snap-3", completed_statuses=["PENDING"])["id"] == "snap-3"
    with pytest.raises(SnapshotChoiceError, match="snap-1 is completed, not completed"):
        choose_snapshot(snapshots, "snap-1", completed_statuses=["ready"])


def test_disk_id_restricts_every_lookup(snapshots: list[dict]) -> None:
    with pytest.raises(SnapshotChoiceError) as failed:
        choose_snapshot(snapshots, "snap-4", disk_id="d-1")
    message = str(failed.value)
    assert message.startswith("snapshot 'snap-4' not found (disk d-1); available: snap-1 ")
    assert "snap-5" not in message


def test_disk_id_makes_a_shared_name_unique() -> None:
    nightly = [
        snap("snap-a", "nightly", "2026-01-01T00:00:00Z", "completed", "d-1"),
        snap("snap-b", "nightly", "2026-01-01T00:00:00Z", "completed", "d-2"),
    ]
    assert choose_snapshot(nightly, "nightly", disk_id="d-2")["id"] == "snap-b"
    with pytest.raises(SnapshotChoiceError, match="matches 2 snapshots"):
        choose_snapshot(nightly, "nightly")


def test_an_entry_without_id_is_refused(snapshots: list[dict]) -> None:
    snapshots.append({"name": "orphan", "status": "completed"})
    with pytest.raises(SnapshotChoiceError, match="#6 in the list has no id"):
        choose_snapshot(snapshots, "latest")


def test_main_returns_the_chosen_snapshot_unchanged(run_module, snapshots: list[dict]) -> None:
    exited = run_module(module.main, {"snapshots": snapshots, "choice": "latest", "disk_id": "d-1"})
    assert exited.failed is False
    assert exited.result == {"changed": False, "snapshot": SNAPSHOTS[1]}


def test_main_none_returns_null(run_module, snapshots: list[dict]) -> None:
    exited = run_module(module.main, {"snapshots": snapshots, "choice": "none"})
    assert exited.result == {"changed": False, "snapshot": None}


def test_main_in_check_mode_chooses_the_same(run_module, snapshots: list[dict]) -> None:
    args = {"snapshots": snapshots, "choice": "b", "_ansible_check_mode": True}
    assert run_module(module.main, args).result == {"changed": False, "snapshot": SNAPSHOTS[1]}


def test_main_fails_with_the_list(run_module, snapshots: list[dict]) -> None:
    exited = run_module(module.main, {"snapshots": snapshots, "choice": "snap-x"})
    assert exited.failed is True
    assert exited.result["msg"].startswith("snapshot 'snap-x' not found; available: snap-1 ")
    assert "snapshot" not in {k for k in exited.result if k != "msg"}


def test_main_uses_the_default_completed_statuses(run_module, snapshots: list[dict]) -> None:
    exited = run_module(module.main, {"snapshots": snapshots, "choice": "snap-4"})
    assert exited.result["snapshot"]["id"] == "snap-4"
