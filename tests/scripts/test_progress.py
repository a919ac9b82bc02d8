"""Progress lines, failure messages and facts from ansible-runner events."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
import yaml
from conftest import REPO
from mlbox_cli.progress import (
    NOTEBOOK_READY_TASK,
    PROVISION_PHASES,
    TEARDOWN_PHASES,
    Output,
    RunEvents,
    error_from_stdout,
    failure_message,
    phase_for,
)


@pytest.mark.parametrize(
    ("task", "path", "role", "phase"),
    [
        ("Check the inputs", "/c/roles/cloud_aws/tasks/validate.yml:3", "cloud_aws", "checking"),
        ("Open SSH and the notebook port to the caller", "/x/up.yml:1", "", "security group"),
        ("Create the security group", "", "", "security group"),
        ("Import the SSH public key as a key pair", "", "", "SSH key"),
        ("Restore the data disk from the snapshot", "", "", "data disk"),
        ("Request a spot instance", "", "", "instance"),
        ("Wait until the instance answers on SSH", "", "", "waiting for SSH"),
        ("Install packages", "/r/roles/tools/tasks/main.yml:1", "tools", "configure: tools"),
        ("Mount it", "", "mlbox.workbench.data_disk", "configure: data disk"),
        ("Write the config", "", "jupyter", "configure: Jupyter"),
    ],
)
def test_provision_phases(task: str, path: str, role: str, phase: str) -> None:
    found = phase_for({"task": task, "task_path": path, "role": role}, PROVISION_PHASES)
    assert found is not None and found.startswith(phase)


@pytest.mark.parametrize(
    ("task", "phase"),
    [
        ("Snapshot the data disk and wait until it is complete", "snapshot"),
        ("Delete the instance", "instance"),
        ("Delete the data disk", "data disk"),
        ("Prune snapshots beyond workbench_keep_snapshots", "pruning"),
        ("Delete the snapshots older than the newest 3", "pruning"),
        ("Remove the workbench's launch template, key pair and security group", "network"),
    ],
)
def test_teardown_phases(task: str, phase: str) -> None:
    found = phase_for({"task": task}, TEARDOWN_PHASES)
    assert found is not None and found.startswith(phase)


def test_unknown_tasks_say_nothing() -> None:
    assert phase_for({"task": "Gathering Facts"}, PROVISION_PHASES) is None


def test_one_line_per_phase_in_first_order() -> None:
    stream = io.StringIO()
    events = RunEvents("provision", output=Output(stream))
    for task, action in (
        ("Look for an instance of the workbench that already runs", "amazon.aws.ec2_instance_info"),
        ("Create the security group", "amazon.aws.ec2_security_group"),
        ("Allow port 22", "amazon.aws.ec2_security_group"),
        ("Describe the workbench", "ansible.builtin.set_fact"),
        ("Create the data disk", "amazon.aws.ec2_vol"),
        ("Launch the workbench's instance as spot", "amazon.aws.ec2_instance"),
        ("Attach the data disk to the instance", "amazon.aws.ec2_vol"),
        ("Wait until SSH answers on the instance", "ansible.builtin.wait_for"),
    ):
        data = {"task": task, "task_action": action, "task_uuid": task}
        events.handle({"event": "playbook_on_task_start", "event_data": data})
        events.handle({"event": "runner_on_ok", "event_data": data})
    lines = [line.split(" ", 1)[1] for line in stream.getvalue().splitlines()]
    assert lines == ["security group", "data disk", "instance", "waiting for SSH"]


@pytest.mark.parametrize(
    ("task", "action"),
    [
        ("Find the workbench's instances", "amazon.aws.ec2_instance"),
        ("Create the data disk fact", "ansible.builtin.set_fact"),
        ("Open the port", "ansible.builtin.assert"),
        ("Start the instance", "amazon.aws.ec2_instance_info"),
        ("Look up the region's default VPC", "amazon.aws.ec2_vpc_net"),
    ],
)
def test_probes_announce_no_phase(task: str, action: str) -> None:
    data = {"task": task, "task_action": action}
    assert phase_for(data, PROVISION_PHASES) is None


def test_validate_files_are_a_phase_even_for_probes() -> None:
    data = {
        "task": "Look up the instance type in the region",
        "task_action": "amazon.aws.ec2_instance_type_info",
        "task_path": "/c/roles/cloud_aws/tasks/validate_launch.yml:12",
    }
    assert phase_for(data, PROVISION_PHASES) == "checking the inputs"


def test_the_notebook_is_announced_as_soon_as_it_answers() -> None:
    # configure.yml says so after the jupyter role, before the tools' wait and git_keys.
    [play] = yaml.safe_load((REPO / "playbooks" / "configure.yml").read_text())
    names = [task["name"] for task in play["tasks"]]
    jupyter = next(i for i, t in enumerate(play["tasks"]) if "jupyter" in str(t))
    assert names.index(NOTEBOOK_READY_TASK) == jupyter + 1
    assert names.index(NOTEBOOK_READY_TASK) < len(names) - 2

    stream = io.StringIO()
    output = Output(stream)
    events = RunEvents("provision", output=output)
    url_line = "Notebook answers at https://192.0.2.9:8888/ (the everyday tools ... follow)"
    for task, role, msg in (
        ("Serve it", "mlbox.workbench.jupyter", None),
        (NOTEBOOK_READY_TASK, "", url_line),
        ("Wait for the everyday packages", "mlbox.workbench.tools", None),
        ("Generate the key", "mlbox.workbench.git_keys", None),
    ):
        data = {"task": task, "role": role, "task_action": "ansible.builtin.debug"}
        events.handle({"event": "playbook_on_task_start", "event_data": data})
        events.handle({"event": "runner_on_ok", "event_data": {**data, "res": {"msg": msg}}})
    phase, ok = output.marks["phase"], output.marks["ok"]
    assert stream.getvalue().splitlines() == [
        f"{phase} configure: Jupyter over HTTPS",
        f"{ok} {url_line}",
        f"{phase} configure: tools and the notebook user",
        f"{phase} configure: GitHub key",
    ]


def test_facts_and_failures_are_collected() -> None:
    events = RunEvents("provision")
    events.handle({"event": "playbook_on_start", "pid": 4242, "event_data": {}})
    events.handle(
        {
            "event": "runner_on_ok",
            "event_data": {
                "host": "localhost",
                "res": {"ansible_facts": {"workbench_instance": {"public_ip": "192.0.2.9"}}},
            },
        }
    )
    events.handle(
        {
            "event": "runner_on_failed",
            "event_data": {"host": "h", "task": "Ignored", "ignore_errors": True, "res": {}},
        }
    )
    events.handle(
        {
            "event": "runner_on_failed",
            "event_data": {
                "host": "localhost",
                "task": "Request a spot instance",
                "res": {"msg": "InsufficientInstanceCapacity", "invocation": {"x": 1}},
            },
        }
    )
    assert events.ansible_pid == 4242
    assert events.fact("workbench_instance") == {"public_ip": "192.0.2.9"}
    assert [(f.task, f.message) for f in events.failures] == [
        ("Request a spot instance", "InsufficientInstanceCapacity")
    ]


def test_failure_message_of_a_loop_names_the_item() -> None:
    res = {
        "msg": "One or more items failed",
        "results": [{"item": "a", "failed": False}, {"item": "b", "failed": True, "msg": "no b"}],
    }
    assert failure_message(res) == "b: no b"


def test_failure_message_is_clipped() -> None:
    text = failure_message({"stderr": "\n".join(f"line {n}" for n in range(100))})
    assert text.count("\n") == 15
    assert text.endswith("(85 more lines in the log)")


def test_ansible_errors_without_a_task_come_from_stdout() -> None:
    stdout = "noise\nERROR! the playbook: x.yml could not be found\nmore"
    assert error_from_stdout(stdout).startswith("ERROR! the playbook")


def test_ascii_terminals_get_ascii_marks() -> None:
    class Ascii(io.StringIO):
        encoding = "ascii"

    assert Output(Ascii()).marks["ok"] == "OK"


def run_file(events: RunEvents, path: Path, skipped: set[str] = frozenset()) -> None:
    """Every task of a role file, in order, as ansible-runner reports it; `skipped` are the
    marks whose tasks are skipped."""
    from mlbox_cli.progress import _marks

    for line, key in sorted(_marks(str(path)).items()):
        data = {"task": key, "task_path": f"{path}:{line}", "task_uuid": f"{path}:{line}"}
        events.handle({"event": "playbook_on_task_start", "event_data": data})
        events.handle({"event": "runner_on_start", "event_data": data})
        result = "runner_on_skipped" if key in skipped else "runner_on_ok"
        events.handle({"event": result, "event_data": data})


def test_teardown_phases_are_marked_and_shown_in_the_order_they_run() -> None:
    stream = io.StringIO()
    events = RunEvents("teardown", output=Output(stream))
    roles = REPO / "roles"
    # workbench_common (its provision-only SSH key skipped), then cloud_local's down.yml,
    # whose validate.yml comes first; no snapshot asked for.
    run_file(events, roles / "workbench_common" / "tasks" / "main.yml")
    run_file(events, roles / "workbench_common" / "tasks" / "ssh_key.yml", skipped={"ssh_key"})
    run_file(events, roles / "cloud_local" / "tasks" / "validate.yml")
    run_file(events, roles / "cloud_local" / "tasks" / "down.yml", skipped={"snapshot"})
    lines = [line.split(" ", 1)[1] for line in stream.getvalue().splitlines()]
    assert lines == ["checking the inputs", "instance", "data disk", "pruning old snapshots"]


def test_provision_phases_of_the_local_provider() -> None:
    stream = io.StringIO()
    events = RunEvents("provision", output=Output(stream))
    run_file(events, REPO / "roles" / "cloud_local" / "tasks" / "validate.yml")
    run_file(events, REPO / "roles" / "cloud_local" / "tasks" / "up.yml")
    lines = [line.split(" ", 1)[1] for line in stream.getvalue().splitlines()]
    assert lines == ["checking the inputs", "data disk", "instance", "waiting for SSH"]


def test_unmarked_tasks_of_a_marked_file_start_no_phase() -> None:
    path = REPO / "roles" / "cloud_local" / "tasks" / "down.yml"
    text = path.read_text().splitlines()
    line = 1 + next(i for i, t in enumerate(text) if "Remove the pinned host key" in t)
    data = {"task": "Remove the pinned host key of the instance", "task_path": f"{path}:{line}"}
    assert phase_for(data, TEARDOWN_PHASES) is None  # the regexes would say "network"


def test_a_long_marked_task_is_announced_while_it_runs() -> None:
    stream = io.StringIO()
    events = RunEvents("teardown", output=Output(stream), announce_after=0.01)
    path = REPO / "roles" / "cloud_local" / "tasks" / "down.yml"
    from mlbox_cli.progress import _marks

    [line] = [n for n, key in _marks(str(path)).items() if key == "snapshot"]
    data = {"task": "Snapshot", "task_path": f"{path}:{line}", "task_uuid": "u1"}
    events.handle({"event": "playbook_on_task_start", "event_data": data})
    events.handle({"event": "runner_on_start", "event_data": data})
    deadline = time.monotonic() + 5
    while "snapshot" not in stream.getvalue() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert stream.getvalue().split(" ", 1)[1].startswith("snapshot of the data disk")
