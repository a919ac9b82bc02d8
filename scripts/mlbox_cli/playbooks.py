"""Run the collection's playbooks through ansible-runner, with no secret in any file.

What ansible-runner 2.4 writes under its private data dir, and how each is kept clean:
- ``env/envvars``, ``env/extravars``, ``env/passwords``, ``env/cmdline``: written only by
  ``ansible_runner.run()`` / ``interface.init_runner`` (dump_artifacts). We build a
  RunnerConfig ourselves, so none of them is written (and suppress_env_files is set too).
- ``artifacts/<ident>/command``: always written, and it holds the child's *whole*
  environment (os.environ plus envvars). So no secret may be in that environment: after
  ``prepare()`` every sensitive variable is removed from ``config.env`` and the secrets
  travel through the pseudo-terminal instead (see relay.py): the command becomes
  ``python relay.py ansible-playbook ...``, and ansible-runner's own ``passwords``
  mechanism (prompt pattern -> answer, held in memory) answers the relay's prompt.
- ``artifacts/<ident>/stdout`` and ``job_events/*.json``: what Ansible prints and the task
  results. The roles keep secrets out with ``no_log``; as a second line, every event is
  scrubbed of the secret values in our event handler *before* ansible-runner writes it
  (the handler gets the very dict that is then dumped, and whose ``stdout`` goes to the
  stdout file), so even a careless ``debug`` or localhost ``ansible_env`` fact ends up
  as ``********``. The relay's answer is never echoed.
- ``artifacts/<ident>/fact_cache``: the runner's jsonfile fact cache would store
  localhost's ``ansible_env`` (which holds the secrets) if a play gathered facts there:
  we use the in-memory cache instead.
- Not covered: ansible-runner's callback hands each event over through a short-lived
  ``job_events/<uuid>-partial.json`` (0600, deleted as soon as it is read); only
  ``no_log`` keeps a secret out of that one.
Extra vars are on the command line, in ``command``: they never carry a secret.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, ModuleType
from typing import Any

from . import relay
from .errors import CliError, Interrupted, PlaybookError
from .progress import Output, RunEvents, error_from_stdout

RELAY = Path(__file__).with_name("relay.py")
REPO_ROOT = Path(__file__).resolve().parents[2]
KEEP_RUNS = 20
PROJECT_DIR_ENV = "MLBOX_PROJECT_DIR"  # tests point the scripts at stub playbooks
REEXEC_ENV = "MLBOX_REEXEC"

SENSITIVE_PATTERN = re.compile(
    r"SECRET|PASSW|TOKEN|CREDENTIAL|PRIVATE|ACCESS_KEY|API_KEY|_KEY$|_KEY_ID$", re.IGNORECASE
)
# Not secret-sounding, but part of a credential set: they travel with the secrets.
SENSITIVE_NAMES = frozenset(
    {"AZURE_CLIENT_ID", "AZURE_TENANT", "AZURE_SUBSCRIPTION_ID", "AZURE_AD_USER"}
)

REDACTED = "********"
MIN_REDACTED = 4  # shorter values would blank out ordinary text

INSTALL_HINT = (
    "run `make setup` (a .venv with Ansible and ansible-runner) and use .venv/bin/python, "
    "or `pip install -r requirements.txt`"
)


def is_sensitive(name: str) -> bool:
    return name in SENSITIVE_NAMES or bool(SENSITIVE_PATTERN.search(name))


def split_environment(environ: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """(public, sensitive) parts of an environment."""
    public = {k: v for k, v in environ.items() if not is_sensitive(k)}
    sensitive = {k: v for k, v in environ.items() if is_sensitive(k)}
    return public, sensitive


def project_dir() -> Path:
    """The collection root (scripts/..), or MLBOX_PROJECT_DIR for tests."""
    override = os.environ.get(PROJECT_DIR_ENV)
    if override:
        return Path(override).resolve()
    return REPO_ROOT


def import_runner() -> ModuleType:
    """ansible_runner, re-running the script under the project's .venv when that has it."""
    try:
        import ansible_runner
    except ImportError:
        _reexec_in_project_venv()
        raise CliError(
            f"ansible-runner is not installed for {sys.executable}: {INSTALL_HINT}"
        ) from None
    return ansible_runner


def _reexec_in_project_venv() -> None:
    venv_python = REPO_ROOT / ".venv" / "bin" / "python"
    if os.environ.get(REEXEC_ENV) or not venv_python.exists():
        return
    if Path(sys.executable).resolve() == venv_python.resolve():
        return
    os.environ[REEXEC_ENV] = "1"
    os.execv(str(venv_python), [str(venv_python), *sys.argv])


def runner_environment(project: Path) -> dict[str, str]:
    """What the child needs besides our environment: this project's ansible.cfg, and the
    ansible-playbook next to our interpreter (a venv's) first on PATH."""
    # The progress lines and facts come from ansible-runner's events, which only its display
    # callback wrapping the default one produces: a user's own stdout callback would hide them.
    env: dict[str, str] = {"PYTHONUNBUFFERED": "1", "ANSIBLE_STDOUT_CALLBACK": "default"}
    config = project / "ansible.cfg"
    if config.exists():
        env["ANSIBLE_CONFIG"] = str(config)
    bin_dir = Path(sys.executable).parent
    path = os.environ.get("PATH", os.defpath)
    if (bin_dir / "ansible-playbook").exists():
        path = os.pathsep.join([str(bin_dir), path])
    elif not shutil.which("ansible-playbook", path=path):
        raise CliError(f"ansible-playbook is not on PATH: {INSTALL_HINT}")
    env["PATH"] = path
    return env


class Redactor:
    """Replaces secret values wherever they occur in an event, in place."""

    def __init__(self, values: list[str]) -> None:
        self.values = sorted({v for v in values if len(v) >= MIN_REDACTED}, key=len, reverse=True)

    def text(self, value: str) -> str:
        for secret in self.values:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value

    def scrub(self, item: Any) -> Any:
        if isinstance(item, str):
            return self.text(item)
        if isinstance(item, dict):
            for key in list(item):
                item[key] = self.scrub(item[key])
        elif isinstance(item, list):
            item[:] = [self.scrub(element) for element in item]
        return item


@dataclass
class RunResult:
    status: str
    rc: int
    events: RunEvents
    artifact_dir: Path

    @property
    def log(self) -> Path:
        return self.artifact_dir / "stdout"


class _InterruptForwarder:
    """First Ctrl-C: pass SIGINT on to ansible-playbook (it stops after the running task);
    second, or before ansible-playbook has started: cancel (ansible-runner kills it)."""

    def __init__(self, events: RunEvents) -> None:
        self.events = events
        self.count = 0

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.count += 1
        pid = self.events.ansible_pid
        if self.count == 1 and pid:
            sys.stderr.write("\nstopping after the running task (Ctrl-C again: at once)\n")
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(os.getpgid(pid), signal.SIGINT)

    def cancel_requested(self) -> bool:
        return self.count >= 2 or (self.count >= 1 and self.events.ansible_pid is None)


@contextmanager
def _forward_interrupts(forwarder: _InterruptForwarder) -> Iterator[None]:
    previous = signal.signal(signal.SIGINT, forwarder)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class Playbooks:
    """Runs playbooks/<name>.yml of the project with ansible-runner (lcitool's shape: one
    wrapper that prepares the private data dir and raises a typed error on failure)."""

    def __init__(
        self,
        project: Path,
        data_dir: Path,
        verbosity: int = 0,
        output: Output | None = None,
    ) -> None:
        self.project = project
        self.data_dir = data_dir
        self.verbosity = verbosity
        self.output = output or Output()

    def require(self, *playbooks: str) -> list[Path]:
        """The playbooks' paths; a clear error before any question when one is missing."""
        paths = [self.project / "playbooks" / name for name in playbooks]
        for path in paths:
            if not path.is_file():
                raise CliError(f"{path} does not exist (is {self.project} the collection root?)")
        return paths

    def prepare_data_dir(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.data_dir.chmod(0o700)

    def run(
        self,
        playbook: str,
        extravars: dict[str, Any],
        secrets: dict[str, str] | None = None,
        kind: str = "provision",
    ) -> RunResult:
        """Run one playbook; raise PlaybookError when it fails, Interrupted on Ctrl-C."""
        ansible_runner = import_runner()
        (path,) = self.require(playbook)
        self.prepare_data_dir()
        _env_plain, env_secrets = split_environment(dict(os.environ))
        relayed = {**env_secrets, **(secrets or {})}
        config = self._config(ansible_runner, path, extravars, relayed, kind)
        events = RunEvents(kind=kind, output=None if self.verbosity else self.output)
        redactor = Redactor(list(relayed.values()))
        forwarder = _InterruptForwarder(events)

        def handle(event: dict[str, Any]) -> bool:
            return events.handle(redactor.scrub(event))

        runner = ansible_runner.Runner(
            config=config, event_handler=handle, cancel_callback=forwarder.cancel_requested
        )
        with _forward_interrupts(forwarder):
            status, rc = runner.run()
        result = RunResult(str(status), int(rc or 0), events, Path(config.artifact_dir))
        if forwarder.count:
            raise Interrupted(
                f"interrupted during {events.phase or playbook}; run the same command again "
                f"to finish (log: {result.log})"
            )
        if status != "successful":
            raise PlaybookError(self.describe_failure(playbook, result))
        return result

    def _config(
        self,
        ansible_runner: ModuleType,
        path: Path,
        extravars: dict[str, Any],
        relayed: dict[str, str],
        kind: str,
    ) -> Any:
        """A prepared RunnerConfig whose recorded environment holds no secret."""
        envvars = runner_environment(self.project)
        if not (self.verbosity and sys.stdout.isatty()):
            envvars["ANSIBLE_NOCOLOR"] = "1"  # the log is read in an editor, not a terminal
        config = ansible_runner.RunnerConfig(
            private_data_dir=str(self.data_dir),
            project_dir=str(self.project),
            playbook=str(path),
            extravars=extravars,
            envvars=envvars,
            passwords={re.escape(relay.PROMPT): relay.encode(relayed)} if relayed else None,
            verbosity=self.verbosity or None,
            quiet=not self.verbosity,
            ident=f"{time.strftime('%Y%m%d-%H%M%S')}-{kind}-{uuid.uuid4().hex[:6]}",
            rotate_artifacts=KEEP_RUNS,
            suppress_env_files=True,
            fact_cache_type="memory",
        )
        config.prepare()
        # artifacts/<ident>/command records the child's environment: drop every secret
        # from it; the relay puts them back inside the child only.
        config.env = {k: v for k, v in config.env.items() if not is_sensitive(k)}
        if relayed:
            config.command = [sys.executable, str(RELAY), *config.command]
        return config

    def describe_failure(self, playbook: str, result: RunResult) -> str:
        failures = result.events.failures
        if failures:
            last = failures[-1]
            message = f"task '{last.task}' failed on {last.host}:\n{indent(last.message)}"
        else:
            try:
                stdout = result.log.read_text(encoding="utf-8", errors="replace")
            except OSError:
                stdout = ""
            message = f"{playbook} failed (rc={result.rc}):\n{indent(error_from_stdout(stdout))}"
        return f"{message}\nfull log: {result.log}"


def indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())
