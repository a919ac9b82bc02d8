"""delete_instance.py: stop paying for the instance, keep (or snapshot) the data."""

from __future__ import annotations

import argparse
from typing import Any

from .choices import non_negative_int
from .cli import CREDENTIALS_HELP, Session, common_parser, open_session, run_main
from .disks import describe_disk, list_disks
from .errors import EXIT_CODES_HELP, UsageError

DESCRIPTION = """\
Delete a workbench's instance (and its spot request). On request first snapshot the data
disk and wait until the snapshot is complete; delete the data disk only when asked, and
never before its snapshot is complete. Runs playbooks/teardown.yml through ansible-runner.

Asked on a terminal when not given by a flag: "snapshot the data disk before deleting?
[Y/n]" and "delete the data disk too? [y/N]"; deleting the disk must be confirmed by
typing its id (or 'yes') unless --yes. Without a terminal a missing answer is an error
naming its flag; with --yes the defaults are taken (snapshot: yes, delete the disk: no)."""

EXAMPLES = """\
examples:
  # snapshot the disk, delete the instance, keep the disk (pay for disk + snapshot):
  delete_instance.py --cloud aliyun --snapshot --no-delete-disk
  # pay only for the snapshot: snapshot, then delete instance and disk, keep 2 snapshots:
  delete_instance.py --cloud aws --snapshot --delete-disk --keep-snapshots 2 --yes
  # the local demo, everything gone:
  delete_instance.py --cloud local --no-snapshot --delete-disk --yes

"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="delete_instance.py",
        description=DESCRIPTION,
        epilog=EXAMPLES + CREDENTIALS_HELP + "\n" + EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common_parser()],
    )
    disk = parser.add_argument_group("data disk")
    disk.add_argument(
        "--snapshot",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="snapshot the data disk first and wait until it is complete (asked when unset)",
    )
    disk.add_argument(
        "--delete-disk",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="delete the data disk too (asked when unset; confirmed by typing its id unless --yes)",
    )
    disk.add_argument(
        "--keep-snapshots",
        type=non_negative_int,
        metavar="N",
        help="keep the N newest snapshots of this workbench, delete older ones "
        "(0 = keep all; default: 3)",
    )
    return parser


def resolve_snapshot(args: argparse.Namespace, session: Session) -> bool:
    if args.snapshot is not None:
        return bool(args.snapshot)
    if args.yes:
        return True
    return session.terminal.yes_no(
        "snapshot the data disk before deleting?", default=True, flag="--snapshot/--no-snapshot"
    )


def resolve_delete_disk(args: argparse.Namespace, session: Session) -> bool:
    if args.delete_disk is not None:
        return bool(args.delete_disk)
    if args.yes:
        return False
    return session.terminal.yes_no(
        "delete the data disk too?", default=False, flag="--delete-disk/--no-delete-disk"
    )


def confirm_disk_deletion(args: argparse.Namespace, session: Session) -> bool:
    """Type the disk's id (or 'yes'). False when the workbench has no disk to delete."""
    if args.yes:
        return True
    if not session.terminal.interactive:
        raise UsageError("--delete-disk needs --yes when there is no terminal to confirm on")
    listing = list_disks(session.playbooks, session.common_vars(), session.secrets)
    if not listing.disks:
        session.terminal.say("this workbench has no data disk: nothing to delete there")
        return False
    session.terminal.say(f"data disk(s) of workbench {args.name!r}, deleted for good:")
    for disk in listing.disks:
        session.terminal.say(f"    {describe_disk(disk)}")
    ids = [str(disk["id"]) for disk in listing.disks]
    if session.terminal.confirm_typed(
        "type the disk id (or 'yes') to confirm:", [*ids, "yes"], flag="--yes"
    ):
        return True
    raise UsageError("not confirmed: nothing was deleted (answer 'n' to keep the disk)")


def teardown_vars(args: argparse.Namespace, snapshot: bool, delete_disk: bool) -> dict[str, Any]:
    variables: dict[str, Any] = {
        "workbench_snapshot_on_delete": snapshot,
        "workbench_delete_disk": delete_disk,
    }
    if args.keep_snapshots is not None:
        variables["workbench_keep_snapshots"] = args.keep_snapshots
    return variables


def delete(args: argparse.Namespace) -> None:
    session = open_session(args)
    session.playbooks.require("teardown.yml", "disks.yml")
    session.hold_lock()
    snapshot = resolve_snapshot(args, session)
    delete_disk = resolve_delete_disk(args, session)
    if delete_disk:
        delete_disk = confirm_disk_deletion(args, session)
    variables = {**session.common_vars(), **teardown_vars(args, snapshot, delete_disk)}
    session.playbooks.run("teardown.yml", variables, session.secrets, kind="teardown")
    session.output.line("ok", f"workbench {args.name!r} ({args.cloud}): instance deleted")
    if snapshot:
        session.output.text("  data disk snapshot: complete")
    if delete_disk:
        session.output.text("  data disk: deleted")
    else:
        again = f"--cloud {args.cloud}" + (f" --name {args.name}" if args.name != "mlbox" else "")
        session.output.text(
            f"  data disk: kept; back on it with start_instance.py {again} --disk existing"
        )


def main(argv: list[str] | None = None) -> int:
    return run_main(build_parser(), delete, argv)
