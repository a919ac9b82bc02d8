"""start_instance.py: a workbench from nothing, or on an old disk or snapshot."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from .choices import DiskChoice, is_world, parse_cidr, parse_disk, port, positive_int
from .cli import CREDENTIALS_HELP, Session, common_parser, open_session, run_main
from .disks import Listing, ask_disk, list_disks, missing_disk_error
from .errors import EXIT_CODES_HELP, UsageError
from .password import PASSWORD_ENV, NotebookPassword, notebook_password
from .pricing import default_region
from .pricing import quote as price_quote

DEFAULT_DISK_GB = 20  # every provider's workbench_disk_size_gb default

DESCRIPTION = """\
Start a cloud notebook machine: a security group open to you only, a data disk that
outlives the instance (new, an existing one, or restored from a snapshot), a spot
instance (on-demand when spot capacity is refused), the disk at /mnt/ml, and JupyterLab
over HTTPS with a password. Runs playbooks/provision.yml through ansible-runner.

What is not given by a flag is asked on a terminal: which disk ([n]ew / [e]xisting /
[s]napshot, then a numbered list made by playbooks/disks.yml), the instance type, the
notebook password. Without a terminal (or with --yes) a missing choice is an error that
names its flag."""

EXAMPLES = """\
examples:
  # a local workbench in podman, no questions (password generated and stored):
  start_instance.py --cloud local --disk new --yes
  # Aliyun, asked which disk or snapshot to use:
  export ALIYUN_ACCESS_KEY_ID=... ALIYUN_ACCESS_KEY_SECRET=...
  start_instance.py --cloud aliyun --region cn-hongkong
  # AWS with a profile, from the newest snapshot, on-demand, a GPU:
  AWS_PROFILE=ml start_instance.py --cloud aws --region eu-west-1 \\
      --disk snapshot:latest --instance-type g4dn.xlarge --no-spot
  # Azure, back on a disk kept from last time, a second workbench:
  start_instance.py --cloud azure --name exp2 --disk existing:exp2-data

notebook password: $WORKBENCH_NOTEBOOK_PASSWORD, else the one stored in
  $XDG_CONFIG_HOME/mlbox/NAME/notebook-password (~/.config/...; delete it for a new one),
  else asked twice; generated and stored there (0600) with --generate-password, or for
  --cloud local when there is no terminal to ask on (or --yes).

"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="start_instance.py",
        description=DESCRIPTION,
        epilog=EXAMPLES + CREDENTIALS_HELP + "\n" + EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common_parser()],
    )
    disk = parser.add_argument_group("data disk")
    disk.add_argument(
        "--disk",
        type=parse_disk,
        metavar="new|existing:ID|snapshot:ID|snapshot:latest",
        help="where the data disk comes from; 'existing' or 'snapshot' alone: pick from a list",
    )
    disk.add_argument(
        "--disk-size", type=positive_int, metavar="GB", help="size of a new disk (default: 20)"
    )
    instance = parser.add_argument_group("instance")
    instance.add_argument("--instance-type", help="instance size (default: the provider's)")
    instance.add_argument("--zone", help="availability zone (default: the provider's)")
    instance.add_argument(
        "--no-spot", action="store_true", help="on-demand from the start instead of spot"
    )
    instance.add_argument(
        "--no-spot-fallback",
        action="store_true",
        help="fail instead of falling back to on-demand when spot capacity is refused",
    )
    access = parser.add_argument_group("access")
    access.add_argument(
        "--allowed-cidr",
        type=parse_cidr,
        metavar="CIDR",
        help="who may reach SSH and the notebook (default: your public address /32; "
        "local: 127.0.0.1/32)",
    )
    access.add_argument(
        "--allow-world", action="store_true", help="needed to accept --allowed-cidr 0.0.0.0/0"
    )
    access.add_argument(
        "--notebook-port", type=port, metavar="PORT", help="the notebook's port (default: 8888)"
    )
    access.add_argument(
        "--ssh-port",
        type=port,
        metavar="PORT",
        help="--cloud local only: the host port the instance's SSH is published on (default: 2222)",
    )
    access.add_argument(
        "--generate-password",
        action="store_true",
        help="generate the notebook password (shown once, stored 0600) instead of asking",
    )
    access.add_argument(
        "--no-configure",
        action="store_true",
        help="create and start the instance only; skip the host roles (tools, disk mount, "
        "Python, Jupyter)",
    )
    return parser


def check_args(args: argparse.Namespace) -> None:
    if args.allowed_cidr and is_world(args.allowed_cidr) and not args.allow_world:
        raise UsageError(
            f"--allowed-cidr {args.allowed_cidr} opens the workbench to everyone: "
            "add --allow-world if that is really meant"
        )
    if args.ssh_port and args.cloud != "local":
        raise UsageError("--ssh-port is for --cloud local; a cloud instance's SSH is on port 22")
    if args.disk_size and args.disk and args.disk.source == "existing":
        raise UsageError(
            "--disk-size is for a new disk or a restored snapshot, not --disk existing"
        )


def resolve_disk(args: argparse.Namespace, session: Session) -> DiskChoice:
    """--disk, or asked; listing disks and snapshots once when something must be chosen."""
    given: DiskChoice | None = args.disk
    if given and given.complete:
        return given
    listing = list_disks(session.playbooks, session.common_vars(), session.secrets)
    if given is None and listing.empty:
        session.output.text("no disks or snapshots of this workbench yet: a new data disk")
        return DiskChoice("new")
    if given is None and args.yes:
        kept = yes_disk(listing)
        if kept is not None:
            session.output.text(f"data disk: {kept.ident}, the workbench's own (--yes)")
            return kept
    if not session.terminal.interactive:
        raise missing_disk_error(listing, given)
    return ask_disk(listing, session.terminal, given.source if given else None)


def yes_disk(listing: Listing) -> DiskChoice | None:
    """--yes without --disk: the safe answer is the disk the workbench already has - the one
    its instance holds, else its only kept disk. Never a new disk beside kept data."""
    held = [d for d in listing.disks if d.get("attached_to") or d.get("bound_to")]
    kept = [d for d in listing.disks if str(d.get("status", "")).lower() == "available"]
    for candidates in (held, kept):
        if len(candidates) == 1:
            return DiskChoice("existing", str(candidates[0]["id"]))
    return None


def provider_default(project: Path, cloud: str, suffix: str) -> str | None:
    """A provider role's default for a variable ending in `suffix` (for prompts only)."""
    defaults = project / "roles" / f"cloud_{cloud}" / "defaults" / "main.yml"
    try:
        import yaml

        data = yaml.safe_load(defaults.read_text(encoding="utf-8")) or {}
    except Exception:  # missing file, no PyYAML, bad YAML: a prompt hint is not worth failing
        return None
    for key, value in data.items() if isinstance(data, dict) else ():
        if str(key).endswith(suffix) and isinstance(value, str) and "{{" not in value:
            return value
    return None


def resolve_instance_type(args: argparse.Namespace, session: Session) -> str | None:
    if args.instance_type or args.cloud == "local" or not session.terminal.interactive:
        return args.instance_type
    default = provider_default(session.playbooks.project, args.cloud, "instance_type")
    hint = f"Enter: {default}" if default else "Enter: the provider's default"
    answer = session.terminal.text(f"instance type ({hint}):", flag="--instance-type")
    return answer or None


def provision_vars(
    args: argparse.Namespace, disk: DiskChoice, instance_type: str | None
) -> dict[str, Any]:
    """Only what the user set: the playbooks' defaults stay the single source of defaults."""
    variables: dict[str, Any] = disk.extravars()
    optional = {
        "workbench_disk_size_gb": args.disk_size,
        "workbench_instance_type": instance_type,
        "workbench_zone": args.zone,
        "workbench_allowed_cidr": args.allowed_cidr,
        "workbench_notebook_port": args.notebook_port,
        "workbench_local_ssh_port": args.ssh_port,
    }
    variables.update({key: value for key, value in optional.items() if value is not None})
    if args.no_spot:
        variables["workbench_spot"] = False
    if args.no_spot_fallback:
        variables["workbench_spot_fallback"] = False
    if args.allow_world:
        variables["workbench_allow_world"] = True
    if args.no_configure:
        variables["workbench_configure"] = False
    return variables


def show_prices(args: argparse.Namespace, session: Session, instance_type: str | None) -> bool:
    """The chosen shape's prices, live from the cloud's pricing API, before anything is made;
    then 'go on?' on a terminal (--yes, or no terminal: printed, not asked). False: stop."""
    region = args.region or default_region(args.cloud, os.environ)
    quote = price_quote(
        args.cloud,
        region,
        instance_type or provider_default(session.playbooks.project, args.cloud, "instance_type"),
        args.disk_size or DEFAULT_DISK_GB,
        session.secrets,
        args.zone or "",
    )
    for line in quote.lines():
        session.output.text(line)
    if args.cloud == "local" or not session.terminal.interactive:
        return True
    return session.terminal.yes_no("go on and create it?", default=True, flag="--yes")


def announce_password(password: NotebookPassword, session: Session) -> None:
    if password.source == "generated":
        session.output.text(f"notebook password generated, stored 0600 in {password.path}")
        if sys.stdout.isatty():
            session.output.text(f"  it is (shown this once): {password.value}")
    elif password.source == "file":
        session.output.text(f"notebook password: the one stored in {password.path}")


def ssh_command(instance: dict[str, Any]) -> str:
    parts = ["ssh"]
    if instance.get("ssh_key_path"):
        parts += ["-i", str(instance["ssh_key_path"])]
    if instance.get("ssh_port") and int(instance["ssh_port"]) != 22:
        parts += ["-p", str(instance["ssh_port"])]
    if instance.get("ssh_known_hosts"):
        parts += ["-o", f"UserKnownHostsFile={instance['ssh_known_hosts']}"]
    parts.append(f"{instance.get('ssh_user', 'root')}@{instance.get('public_ip', '?')}")
    return " ".join(parts)


def summary(
    args: argparse.Namespace,
    instance: Any,
    password: NotebookPassword,
    ssh_entry: Any = None,
) -> list[tuple[str, str]]:
    """The lines printed at the end: (mark kind, text)."""
    if not isinstance(instance, dict):
        return [("ok", "provisioned (the playbook reported no workbench_instance fact)")]
    ip = instance.get("public_ip", "?")
    port_ = instance.get("notebook_port") or args.notebook_port or 8888
    spot = "spot" if instance.get("spot") else "on-demand"
    if args.no_configure:
        lines = [("ok", f"instance up at {ip} (not configured: --no-configure)")]
    else:
        lines = [("ok", f"notebook at https://{ip}:{port_}  (self-signed certificate)")]
        lines.append(("", f"  password:  {password.where()}"))
    disk = instance.get("disk_id", "?")
    lines += [
        ("", f"  ssh:       {ssh_command(instance)}"),
    ]
    if isinstance(ssh_entry, dict) and ssh_entry.get("host"):
        # roles/workbench_common/tasks/ssh_config.yml wrote ~/.ssh/config.d/mlbox-NAME.
        lines += [
            ("", f"             or: ssh {ssh_entry['host']}  ({ssh_entry.get('path', '')})"),
            ("", f"  VS Code:   {ssh_entry.get('vscode', '')}"),
        ]
    lines.append(("", f"  data disk: {disk}  (at /mnt/ml)"))
    if instance.get("disk_origin") == "bound" and args.disk and args.disk.source == "new":
        lines.append(
            ("", "             kept: the instance holds it, so --disk new made no new disk "
                 "(delete the instance first for one)")
        )  # fmt: skip
    lines.append(("", f"  instance:  {instance.get('id', '?')} ({spot}, {args.cloud})"))
    if args.cloud == "local":
        # Nothing is billed on this machine: say what deleting it does instead.
        lines.append(("", f"  to take it away (the disk is kept): {delete_hint(args)}"))
    else:
        lines.append(("", f"  to stop paying: {delete_hint(args)}"))
    return lines


def delete_hint(args: argparse.Namespace) -> str:
    hint = f"scripts/delete_instance.py --cloud {args.cloud}"
    if args.name != "mlbox":
        hint += f" --name {args.name}"
    if args.state_dir:
        hint += f" --state-dir {args.state_dir}"
    return hint + " --snapshot"


def start(args: argparse.Namespace) -> None:
    check_args(args)
    session = open_session(args)
    session.playbooks.require("provision.yml", "disks.yml")
    session.hold_lock()
    disk = resolve_disk(args, session)
    instance_type = resolve_instance_type(args, session)
    if not show_prices(args, session, instance_type):
        session.output.text("stopped: nothing was created")
        return
    password = notebook_password(
        args.name, args.cloud, session.terminal, args.generate_password, os.environ
    )
    announce_password(password, session)
    variables = {**session.common_vars(), **provision_vars(args, disk, instance_type)}
    secrets = {**session.secrets, PASSWORD_ENV: password.value}
    result = session.playbooks.run("provision.yml", variables, secrets, kind="provision")
    instance = result.events.fact("workbench_instance")
    ssh_entry = result.events.fact("workbench_ssh_entry")
    for kind, text in summary(args, instance, password, ssh_entry):
        if kind:
            session.output.line(kind, text)
        else:
            session.output.text(text)


def main(argv: list[str] | None = None) -> int:
    return run_main(build_parser(), start, argv)
