"""Turn ansible-runner events into one progress line per phase, failures and facts."""

from __future__ import annotations

import re
import sys
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, TextIO

# A task that starts a phase says so: `vars: {mlbox_phase: <key>}` on the task (or on the
# block around it), read here from the task's file. The labels of the keys:
PHASE_LABELS = {
    "inputs": "checking the inputs",
    "lock": "waiting for the workbench's lock",
    "network": "security group",
    "ssh_key": "SSH key",
    "data_disk": "data disk",
    "instance": "instance",
    "ssh_wait": "waiting for SSH",
    "snapshot": "snapshot of the data disk (waits until complete)",
    "prune": "pruning old snapshots",
    "cleanup": "network",
    "listing": "listing disks and snapshots",
}
PHASE_VAR = "mlbox_phase"
# A marked task that is still running this long after it started (not skipped) is announced.
ANNOUNCE_AFTER = 0.3

# Host-configuration roles: the phase is the role.
ROLE_PHASES = {
    "tools": "configure: tools and the notebook user",
    "data_disk": "configure: data disk at /mnt/ml",
    "libs": "configure: Python environment",
    "jupyter": "configure: Jupyter over HTTPS",
    "git_keys": "configure: GitHub key",
}

# Provider tasks: the first pattern that matches "<task file> <task name>" (lower case)
# names the phase. Order matters: "Wait until the instance answers SSH" is about SSH.
VALIDATE = (r"\bvalidate\w*\.yml\b|argument spec", "checking the inputs")
PROVISION_PHASES = [
    VALIDATE,
    (r"wait.*\bssh\b|\bssh\b.*\b(answer|ready|up)\b|reachable", "waiting for SSH"),
    (r"key.?pair|ssh key|public key", "SSH key"),
    (r"security.?group|firewall|\bnetwork|\bvpc\b|vswitch|subnet|\bports?\b", "security group"),
    (r"\bdisks?\b|volume|snapshot", "data disk"),
    (r"instance|container|\bspot\b|launch|virtual machine|\bvm\b", "instance"),
]
TEARDOWN_PHASES = [
    VALIDATE,
    (r"prune|older|beyond|keep.*snapshot", "pruning old snapshots"),
    (r"snapshot", "snapshot of the data disk (waits until complete)"),
    (r"instance|container|\bspot\b|virtual machine|\bvm\b", "instance"),
    (r"\bdisks?\b|volume", "data disk"),
    (r"security.?group|firewall|\bnetwork|\bvpc\b|vswitch|subnet|key.?pair|launch", "network"),
]
LISTING_PHASES = [(r".", "listing disks and snapshots")]

PHASE_TABLES = {
    "provision": PROVISION_PHASES,
    "teardown": TEARDOWN_PHASES,
    "disks": LISTING_PHASES,
}

# Tasks that only look, decide or plumb announce no phase: a lookup of the instance early
# in up.yml is not the instance being made.
PROBE_ACTIONS = frozenset(
    {
        "add_host",
        "assert",
        "debug",
        "fail",
        "group_by",
        "import_role",
        "import_tasks",
        "include_role",
        "include_tasks",
        "include_vars",
        "meta",
        "set_fact",
        "set_stats",
        "stat",
        "slurp",
    }
)
PROBE_NAMES = re.compile(
    r"^(look|find|list|check|read|describe|refuse|settle|choose|pick|gather|keep what)", re.I
)

MAX_MESSAGE_LINES = 15

# playbooks/configure.yml's task after the jupyter role: the notebook answers from then on,
# while the everyday tools and the GitHub key are still to come. Its message is shown at once.
NOTEBOOK_READY_TASK = "Say that the notebook answers"


def is_probe(event_data: dict[str, Any]) -> bool:
    action = str(event_data.get("resolved_action") or event_data.get("task_action") or "")
    action = action.rsplit(".", 1)[-1]
    if action in PROBE_ACTIONS or action.endswith(("_info", "_facts")):
        return True
    return bool(PROBE_NAMES.match(str(event_data.get("task") or "").strip()))


def phase_for(event_data: dict[str, Any], table: list[tuple[str, str]]) -> str | None:
    """The phase a task starts, or None when it starts none: its explicit mark; a host role;
    else (a provider whose files mark no phase yet) a guess from the task's name."""
    marked = marked_phase(event_data)
    if marked:
        return marked
    path = str(event_data.get("task_path") or "").rpartition(":")[0]
    if path and _marks(path):
        return None  # a file that marks its phases: unmarked tasks start none
    role = str(event_data.get("role") or "")
    for name, phase in ROLE_PHASES.items():
        if role == name or role.endswith("." + name):
            return phase
    task_file = Path(str(event_data.get("task_path") or "").rsplit(":", 1)[0]).name
    text = f"{task_file} {event_data.get('task') or ''}".lower()
    if table is not LISTING_PHASES and not re.search(VALIDATE[0], text) and is_probe(event_data):
        return None
    for pattern, phase in table:
        if re.search(pattern, text):
            return phase
    return None


def _phase_of(node: Any, inherited: str | None, marks: dict[int, str]) -> None:
    """Walk a task list node: every task's line -> the phase its vars (or its blocks') set."""
    import yaml

    if not isinstance(node, yaml.SequenceNode):
        return
    for task in node.value:
        if not isinstance(task, yaml.MappingNode):
            continue
        keys = {k.value: v for k, v in task.value if isinstance(k, yaml.ScalarNode)}
        phase = inherited
        task_vars = keys.get("vars")
        if isinstance(task_vars, yaml.MappingNode):
            for key, value in task_vars.value:
                if key.value == PHASE_VAR and isinstance(value, yaml.ScalarNode):
                    phase = value.value
        if phase and "{{" not in phase:
            marks[task.start_mark.line + 1] = phase
        for nested in ("block", "rescue", "always"):
            _phase_of(keys.get(nested), phase, marks)


@lru_cache(maxsize=64)
def _marks(path: str) -> dict[int, str]:
    import yaml

    try:
        root = yaml.compose(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return {}
    marks: dict[int, str] = {}
    _phase_of(root, None, marks)
    return marks


def marked_phase(event_data: dict[str, Any]) -> str | None:
    """The phase the task's own file marks it with (vars: {mlbox_phase: ...}), as a label."""
    path, _colon, line = str(event_data.get("task_path") or "").rpartition(":")
    if not path or not line.isdigit():
        return None
    key = _marks(path).get(int(line))
    if key is None:
        return None
    return PHASE_LABELS.get(key, key.replace("_", " "))


def _first_text(res: dict[str, Any]) -> str:
    for key in ("msg", "message", "reason", "stderr", "module_stderr", "stdout"):
        value = res.get(key)
        if value and isinstance(value, str):
            return value
        if value and isinstance(value, list):
            return "\n".join(str(item) for item in value)
    return ""


def failure_message(res: dict[str, Any]) -> str:
    """The useful part of a failed result: its message, or a failed loop item's."""
    text = _first_text(res)
    results = res.get("results")
    if isinstance(results, list):
        for item in results:
            if isinstance(item, dict) and item.get("failed"):
                item_text = failure_message(item)
                if item_text:
                    label = item.get("item")
                    text = f"{label}: {item_text}" if label is not None else item_text
                    break
    if not text:
        text = "the task failed without a message"
    return clip(text)


def clip(text: str, max_lines: int = MAX_MESSAGE_LINES) -> str:
    lines = text.strip().splitlines()
    if len(lines) > max_lines:
        lines = [*lines[:max_lines], f"... ({len(lines) - max_lines} more lines in the log)"]
    return "\n".join(lines)


def error_from_stdout(stdout: str) -> str:
    """Ansible's own error (syntax, missing file) when no task failed: from 'ERROR' on."""
    lines = stdout.splitlines()
    for index, line in enumerate(lines):
        if "ERROR!" in line or "[ERROR]" in line:
            return clip("\n".join(lines[index:]))
    tail = [line for line in lines if line.strip()][-MAX_MESSAGE_LINES:]
    return "\n".join(tail)


class Output:
    """Progress lines for people: one per phase, a tick at the end, a cross on failure."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        encoding = getattr(self.stream, "encoding", None) or "ascii"
        try:
            "▸✓✗".encode(encoding)
            self.marks = {"phase": "▸", "ok": "✓", "fail": "✗"}
        except (UnicodeEncodeError, LookupError):
            self.marks = {"phase": ">", "ok": "OK", "fail": "X"}

    def line(self, kind: str, text: str) -> None:
        prefix = self.marks.get(kind, " ")
        self.stream.write(f"{prefix} {text}\n")
        self.stream.flush()

    def text(self, text: str = "") -> None:
        self.stream.write(text + "\n")
        self.stream.flush()


@dataclass
class Failure:
    task: str
    host: str
    message: str


@dataclass
class RunEvents:
    """What one playbook run reported: phases shown, failures, facts set on hosts."""

    kind: str
    output: Output | None = None
    phase: str | None = None
    shown: set[str] = field(default_factory=set)
    failures: list[Failure] = field(default_factory=list)
    facts: dict[str, dict[str, Any]] = field(default_factory=dict)
    ansible_pid: int | None = None
    announce_after: float = ANNOUNCE_AFTER
    # The phase a task started, shown once the task is seen to run (not skipped).
    pending: tuple[str, str] | None = None
    _timer: threading.Timer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, event: dict[str, Any]) -> bool:
        """ansible-runner's event_handler: returns True so the event is kept in the log."""
        data = event.get("event_data") or {}
        if self.ansible_pid is None and isinstance(event.get("pid"), int):
            self.ansible_pid = event["pid"]
        name = str(event.get("event") or "")
        if name == "playbook_on_task_start":
            self._task_started(data)
        elif name == "runner_on_start":
            self._runner_started(data)
        elif name == "runner_on_skipped":
            self._drop(data)
        elif name.startswith(("runner_on_", "runner_item_on_", "runner_retry")):
            self._show(data.get("task_uuid"))
        if name == "runner_on_ok":
            self._task_ok(data)
        elif (
            name == "runner_on_failed" and not data.get("ignore_errors")
        ) or name == "runner_on_unreachable":
            self._task_failed(data)
        return True

    def _task_started(self, data: dict[str, Any]) -> None:
        phase = phase_for(data, PHASE_TABLES.get(self.kind, PROVISION_PHASES))
        with self._lock:
            self._cancel()
            self.pending = None
            if phase and phase not in self.shown:
                self.pending = (str(data.get("task_uuid") or ""), phase)

    def _runner_started(self, data: dict[str, Any]) -> None:
        """A skipped task ends at once: one still running a moment later runs its phase."""
        with self._lock:
            if not self.pending or self.pending[0] != str(data.get("task_uuid") or ""):
                return
            self._cancel()
            if self.announce_after <= 0:
                return
            uuid = self.pending[0]
            self._timer = threading.Timer(self.announce_after, self._show, args=(uuid,))
            self._timer.daemon = True
            self._timer.start()

    def _drop(self, data: dict[str, Any]) -> None:
        with self._lock:
            if self.pending and self.pending[0] == str(data.get("task_uuid") or ""):
                self._cancel()
                self.pending = None

    def _show(self, uuid: Any) -> None:
        with self._lock:
            if not self.pending or self.pending[0] != str(uuid or ""):
                return
            self._cancel()
            phase = self.pending[1]
            self.pending = None
            self.phase = phase
            if phase not in self.shown:  # one line per phase, in the order they run
                self.shown.add(phase)
                if self.output:
                    self.output.line("phase", phase)

    def _cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _task_ok(self, data: dict[str, Any]) -> None:
        res = data.get("res") or {}
        if data.get("task") == NOTEBOOK_READY_TASK and self.output and res.get("msg"):
            self.output.line("ok", str(res["msg"]))
        facts = res.get("ansible_facts")
        if isinstance(facts, dict):
            self.facts.setdefault(str(data.get("host")), {}).update(facts)

    def _task_failed(self, data: dict[str, Any]) -> None:
        res = data.get("res") or {}
        failure = Failure(
            task=str(data.get("task") or "?"),
            host=str(data.get("host") or "?"),
            message=failure_message(res if isinstance(res, dict) else {"msg": str(res)}),
        )
        self.failures.append(failure)

    def fact(self, name: str) -> Any:
        """The last value any host set for a fact (set_fact results), or None."""
        value = None
        for host_facts in self.facts.values():
            if name in host_facts:
                value = host_facts[name]
        return value
