"""What both scripts share: common flags, the session (terminal, credentials, runner)
and main()'s error handling."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from .azure_sdk import ensure_azure_sdk
from .choices import CLOUDS, parse_name
from .credentials import cloud_credentials
from .errors import EXIT_INTERRUPTED, EXIT_OK, EXIT_UNEXPECTED, CliError, PlaybookError
from .lock import WorkbenchLock
from .playbooks import Playbooks, import_runner, project_dir
from .progress import Output
from .terminal import Terminal

CREDENTIALS_HELP = """\
cloud credentials (from the environment, else asked without echo; never written to a file,
never on a command line: they reach only the environment of the ansible-playbook process):
  aws     AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN),
          or AWS_PROFILE / ~/.aws/credentials (then nothing is asked)
  aliyun  ALIYUN_ACCESS_KEY_ID + ALIYUN_ACCESS_KEY_SECRET (passed on as ALICLOUD_ACCESS_KEY /
          ALICLOUD_SECRET_KEY; those are accepted directly too), or ALICLOUD_PROFILE
  azure   AZURE_CLIENT_ID + AZURE_SECRET + AZURE_TENANT + AZURE_SUBSCRIPTION_ID,
          or AZURE_PROFILE / ~/.azure/credentials / `az login`
  local   none
"""


def default_state_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "mlbox"


def common_parser() -> argparse.ArgumentParser:
    """Flags both scripts take."""
    parser = argparse.ArgumentParser(add_help=False)
    group = parser.add_argument_group("workbench")
    group.add_argument(
        "--cloud", choices=CLOUDS, default="local", help="where it runs (default: %(default)s)"
    )
    group.add_argument(
        "--name",
        type=parse_name,
        default="mlbox",
        help="the workbench's name: tags every resource; two names never touch each other "
        "(default: %(default)s)",
    )
    group.add_argument("--region", help="region / location (default: the provider's)")
    group.add_argument(
        "--state-dir",
        type=Path,
        metavar="DIR",
        help="the controller's state: local disks and snapshots, run logs "
        "(default: ~/.local/share/mlbox)",
    )
    behaviour = parser.add_argument_group("behaviour")
    behaviour.add_argument(
        "-y",
        "--yes",
        action="store_true",
        help="ask nothing: take the safe default answer where there is one, fail (exit 2) "
        "naming the flag where there is none",
    )
    behaviour.add_argument(
        "--wait",
        action="store_true",
        help="when another start or delete of this workbench runs, wait for it to end "
        "instead of failing (exit 5) at once",
    )
    behaviour.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="show Ansible's own output; -vv, -vvv ... raise Ansible's verbosity; "
        "tracebacks on unexpected errors",
    )
    return parser


@dataclass
class Session:
    """One invocation: the terminal, the cloud's credentials, the playbook runner."""

    args: argparse.Namespace
    terminal: Terminal
    output: Output
    playbooks: Playbooks
    secrets: dict[str, str]
    credentials_source: str
    lock: WorkbenchLock | None = None

    def hold_lock(self) -> None:
        """The workbench's lock for the rest of this run: one start or delete at a time."""
        self.lock = WorkbenchLock(self.args.cloud, self.args.name)
        self.lock.take(self.args.wait, self.output)

    def common_vars(self) -> dict[str, Any]:
        variables: dict[str, Any] = {"cloud": self.args.cloud, "workbench_name": self.args.name}
        if self.args.region:
            variables["workbench_region"] = self.args.region
        if self.args.state_dir:
            variables["workbench_state_dir"] = str(self.args.state_dir.expanduser().resolve())
        return variables


def open_session(args: argparse.Namespace) -> Session:
    import_runner()  # before any question: may re-run us under the project's .venv
    output = Output()
    terminal = Terminal.detect(assume_yes=args.yes)
    state_dir = (args.state_dir or default_state_dir()).expanduser().resolve()
    # '_runs' cannot be a workbench name, so it never meets a provider's per-name state.
    data_dir = state_dir / "_runs" / args.name
    playbooks = Playbooks(project_dir(), data_dir, verbosity=args.verbose, output=output)
    if args.cloud == "azure":
        ensure_azure_sdk(playbooks.project, os.environ, output)
    secrets, source = cloud_credentials(args.cloud, os.environ, terminal)
    return Session(args, terminal, output, playbooks, secrets, source)


def report_error(error: BaseException, verbose: int) -> None:
    if isinstance(error, PlaybookError):
        mark = Output(sys.stderr).marks["fail"]
        sys.stderr.write(f"{mark} {error}\n")
    elif isinstance(error, CliError):
        sys.stderr.write(f"error: {error}\n")
    else:
        if verbose:
            traceback.print_exc()
        hint = "" if verbose else " (run with -v for the traceback)"
        sys.stderr.write(f"error: unexpected {type(error).__name__}: {error}{hint}\n")
    sys.stderr.flush()


def run_main(
    parser: argparse.ArgumentParser,
    command: Callable[[argparse.Namespace], None],
    argv: list[str] | None = None,
) -> int:
    """Parse (argparse exits 2 on bad usage), run, and map every outcome to an exit code."""
    args = parser.parse_args(argv)
    try:
        command(args)
    except CliError as error:
        report_error(error, args.verbose)
        return error.exit_code
    except (KeyboardInterrupt, EOFError):
        sys.stderr.write("\ninterrupted\n")
        return EXIT_INTERRUPTED
    except Exception as error:
        report_error(error, args.verbose)
        return EXIT_UNEXPECTED
    return EXIT_OK
