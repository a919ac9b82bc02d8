"""--yes without --disk takes the disk the workbench already has, never a new one beside it."""

from __future__ import annotations

from mlbox_cli.choices import DiskChoice
from mlbox_cli.disks import Listing
from mlbox_cli.start import yes_disk

HELD = {"id": "disk-held", "status": "in-use", "attached_to": "mlbox-mlbox"}
KEPT = {"id": "disk-kept", "status": "available"}
OTHER = {"id": "disk-other", "status": "available"}


def test_the_disk_the_instance_holds_wins() -> None:
    assert yes_disk(Listing([KEPT, HELD], [])) == DiskChoice("existing", "disk-held")


def test_the_only_kept_disk_is_reused() -> None:
    assert yes_disk(Listing([KEPT], [])) == DiskChoice("existing", "disk-kept")


def test_several_kept_disks_have_no_safe_answer() -> None:
    assert yes_disk(Listing([KEPT, OTHER], [])) is None


def test_nothing_kept_has_no_answer_here() -> None:
    assert yes_disk(Listing([], [{"id": "snap-1", "status": "completed"}])) is None
