"""Turn ansible-runner events into one progress line per phase, failures and facts."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

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
    """The phase a task belongs to, or None when it says nothing about one."""
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

    def handle(self, event: dict[str, Any]) -> bool:
        """ansible-runner's event_handler: returns True so the event is kept in the log."""
        data = event.get("event_data") or {}
        if self.ansible_pid is None and isinstance(event.get("pid"), int):
            self.ansible_pid = event["pid"]
        name = event.get("event")
        if name == "playbook_on_task_start":
            self._task_started(data)
        elif name == "runner_on_ok":
            self._task_ok(data)
        elif (
            name == "runner_on_failed" and not data.get("ignore_errors")
        ) or name == "runner_on_unreachable":
            self._task_failed(data)
        return True

    def _task_started(self, data: dict[str, Any]) -> None:
        phase = phase_for(data, PHASE_TABLES.get(self.kind, PROVISION_PHASES))
        if phase and phase != self.phase:
            self.phase = phase
            if self.output and phase not in self.shown:  # one line per phase, in first order
                self.shown.add(phase)
                self.output.line("phase", phase)

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
