"""The disk choice: listing, the [n]ew/[e]xisting/[s]napshot question, numbered lists."""

from __future__ import annotations

import io

import pytest
from mlbox_cli.choices import DiskChoice
from mlbox_cli.disks import (
    Listing,
    ask_disk,
    describe_snapshot,
    missing_disk_error,
    parse_listing,
    when,
)
from mlbox_cli.errors import UsageError
from mlbox_cli.terminal import Terminal

DISKS = [
    {"id": "d-old", "size_gb": 20, "created": "2024-01-02T03:04:05Z", "status": "available"},
    {"id": "d-new", "size_gb": 40, "created": "2024-06-01T00:00:00+00:00", "status": "available"},
]
SNAPSHOTS = [
    {"id": "s-1", "size_gb": 20, "created": "2024-02-01T10:00:00Z", "status": "completed"},
    {"id": "s-2", "size_gb": 20, "created": "2024-03-01T10:00:00Z", "status": "accomplished"},
    {"id": "s-3", "size_gb": 20, "created": "2024-04-01T10:00:00Z", "status": "progressing"},
]


def scripted(answers: list[str]) -> tuple[Terminal, io.StringIO]:
    out = io.StringIO()
    queue = list(answers)
    return Terminal(True, out=out, ask=lambda prompt: queue.pop(0)), out


def test_listing_is_newest_first_and_accepts_both_key_styles() -> None:
    listing = parse_listing({"workbench_disks": DISKS, "snapshots": SNAPSHOTS})
    assert [d["id"] for d in listing.disks] == ["d-new", "d-old"]
    assert [s["id"] for s in listing.snapshots] == ["s-3", "s-2", "s-1"]


def test_dates_are_shown_in_utc() -> None:
    assert when("2024-06-01T02:00:00+02:00") == "2024-06-01 00:00 UTC"
    assert when("yesterday") == "yesterday"
    assert "20 GB" in describe_snapshot(SNAPSHOTS[0])


def test_new_from_the_question() -> None:
    terminal, _out = scripted(["n"])
    assert ask_disk(parse_listing({}), terminal, None) == DiskChoice("new")


def test_snapshot_by_number_skips_unusable_ones() -> None:
    listing = parse_listing({"workbench_snapshots": SNAPSHOTS})
    terminal, out = scripted(["s", "1", "3"])  # 1 = s-3, still progressing; 3 = s-1
    assert ask_disk(listing, terminal, None) == DiskChoice("snapshot", "s-1")
    assert "progressing, not usable yet" in out.getvalue()


def test_default_snapshot_is_the_newest_usable() -> None:
    listing = parse_listing({"workbench_snapshots": SNAPSHOTS})
    terminal, _out = scripted([""])
    assert ask_disk(listing, terminal, "snapshot") == DiskChoice("snapshot", "s-2")


def test_existing_disk_by_number_and_bad_input_is_asked_again() -> None:
    listing = parse_listing({"workbench_disks": DISKS})
    terminal, out = scripted(["x", "e", "9", "2"])
    assert ask_disk(listing, terminal, None) == DiskChoice("existing", "d-old")
    assert "please answer one of" in out.getvalue()
    assert "please type a number from 1 to 2" in out.getvalue()


def test_asking_for_existing_when_there_is_none_asks_again() -> None:
    terminal, out = scripted(["e", "n"])
    assert ask_disk(Listing([], SNAPSHOTS), terminal, None) == DiskChoice("new")
    assert "no disks" in out.getvalue()


def test_flag_source_without_anything_to_pick_is_an_error() -> None:
    terminal, _out = scripted([])
    with pytest.raises(UsageError, match="no completed snapshots"):
        ask_disk(Listing(DISKS, []), terminal, "snapshot")


def test_without_terminal_the_error_names_the_flag_and_the_options() -> None:
    error = missing_disk_error(parse_listing({"disks": DISKS, "snapshots": SNAPSHOTS}), None)
    text = str(error)
    assert "--disk is needed" in text
    for option in ("--disk new", "--disk existing:d-new", "--disk snapshot:latest", "snapshot:s-2"):
        assert option in text
    assert "snapshot:s-3" not in text
    assert error.exit_code == 2


def test_questions_without_terminal_raise_usage_errors() -> None:
    with pytest.raises(UsageError, match="--disk"):
        ask_disk(parse_listing({"disks": DISKS}), Terminal(False), None)
