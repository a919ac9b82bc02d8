"""wait_job: a job that ends is seen within a backoff step; failures, silence and gaps fail."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.mlbox.workbench.plugins.modules import wait_job as module

RUNNING = {"started": 1, "finished": 0, "pid": 4242, "ansible_job_id": "j1"}


def run_module(args: dict[str, object], capsys: pytest.CaptureFixture[str]) -> dict:
    with patch_module_args(args), pytest.raises(SystemExit):
        module.main()
    return json.loads(capsys.readouterr().out)


def write(path: Path, data: object, after: float = 0.0) -> threading.Thread:
    """Writes `data` (JSON, or a str as it is) to `path` after `after` s, in a thread."""

    def later() -> None:
        time.sleep(after)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(data if isinstance(data, str) else json.dumps(data))
        tmp.rename(path)

    thread = threading.Thread(target=later, daemon=True)
    thread.start()
    return thread


def test_finished_job_returns_its_result_and_removes_the_file(tmp_path, capsys):
    (tmp_path / "j1").write_text(
        json.dumps({"changed": True, "rc": 0, "stdout": "Setting up tree", "stderr": ""})
    )
    result = run_module({"jid": "j1", "async_dir": str(tmp_path)}, capsys)
    assert result["changed"] is True
    assert result["finished"] is True
    assert result["stdout"] == "Setting up tree"
    assert result["rc"] == 0
    assert result["job"]["stdout"] == "Setting up tree"
    assert result["attempts"] == 1
    assert not (tmp_path / "j1").exists()


def test_running_job_is_seen_soon_after_it_ends(tmp_path, capsys):
    path = tmp_path / "j1"
    path.write_text(json.dumps(RUNNING))
    thread = write(path, {"changed": False, "rc": 0, "stdout": "", "stderr": ""}, after=0.5)
    started = time.monotonic()
    result = run_module({"jid": "j1", "async_dir": str(tmp_path), "max_delay": 0.2}, capsys)
    waited = time.monotonic() - started
    thread.join()
    assert result["finished"] is True
    assert result["changed"] is False
    assert result["attempts"] > 2
    # Ended at 0.5 s; with pauses capped at 0.2 s it is read by about 0.7 s (not a 2 s step).
    assert 0.5 <= waited < 1.5


def test_half_written_file_counts_as_running(tmp_path, capsys):
    path = tmp_path / "j1"
    path.write_text('{"changed": tr')
    thread = write(path, {"changed": True, "rc": 0}, after=0.3)
    result = run_module({"jid": "j1", "async_dir": str(tmp_path), "max_delay": 0.1}, capsys)
    thread.join()
    assert result["finished"] is True
    assert result["changed"] is True


def test_failed_job_fails_with_its_message_and_output(tmp_path, capsys):
    (tmp_path / "j1").write_text(
        json.dumps({
            "failed": True, "rc": 100, "msg": "non-zero return code", "stdout": "",
            "stderr": "E: Unable to locate package no-such-package\n",
        })
    )  # fmt: skip
    result = run_module({"jid": "j1", "async_dir": str(tmp_path)}, capsys)
    assert result["failed"] is True
    assert result["finished"] is True
    assert result["rc"] == 100
    assert "job j1 failed: non-zero return code" in result["msg"]
    assert "Unable to locate package no-such-package" in result["msg"]


def test_job_killed_by_its_time_limit_fails(tmp_path, capsys):
    # What ansible's async_wrapper and Mitogen write when the job's own timeout ends it.
    (tmp_path / "j1").write_text(
        json.dumps(
            {"failed": 1, "finished": 1, "msg": "Job reached maximum time limit of 5 seconds."}
        )
    )
    result = run_module({"jid": "j1", "async_dir": str(tmp_path)}, capsys)
    assert result["failed"] is True
    assert "maximum time limit" in result["msg"]


def test_timeout_leaves_the_job_and_its_file(tmp_path, capsys):
    path = tmp_path / "j1"
    path.write_text(json.dumps(RUNNING))
    started = time.monotonic()
    result = run_module(
        {"jid": "j1", "async_dir": str(tmp_path), "timeout": 0.4, "max_delay": 0.1}, capsys
    )
    assert time.monotonic() - started < 2
    assert result["failed"] is True
    assert result["finished"] is False
    assert "still running after 0.4 s" in result["msg"]
    assert path.exists()


def test_missing_status_file_fails_at_once(tmp_path, capsys):
    started = time.monotonic()
    result = run_module({"jid": "j404", "async_dir": str(tmp_path), "timeout": 30}, capsys)
    assert time.monotonic() - started < 2
    assert result["failed"] is True
    assert "has no status file" in result["msg"]
    assert result["attempts"] == 1


def test_check_mode_keeps_the_file(tmp_path, capsys):
    (tmp_path / "j1").write_text(json.dumps({"changed": True, "rc": 0}))
    result = run_module(
        {"jid": "j1", "async_dir": str(tmp_path), "_ansible_check_mode": True}, capsys
    )
    assert result["finished"] is True
    assert (tmp_path / "j1").exists()


@pytest.mark.parametrize("jid", ["../etc", ".", ""])
def test_job_id_that_is_a_path_is_refused(tmp_path, capsys, jid):
    result = run_module({"jid": jid, "async_dir": str(tmp_path)}, capsys)
    assert result["failed"] is True
    assert "is no job id" in result["msg"]


def test_non_positive_delay_is_refused(tmp_path, capsys):
    result = run_module({"jid": "j1", "async_dir": str(tmp_path), "max_delay": 0}, capsys)
    assert result["failed"] is True
    assert "max_delay must be more than 0 seconds" in result["msg"]


def test_job_arguments_are_not_returned(tmp_path, capsys):
    (tmp_path / "j1").write_text(
        json.dumps({"changed": True, "rc": 0, "invocation": {"module_args": {"password": "x"}}})
    )
    result = run_module({"jid": "j1", "async_dir": str(tmp_path)}, capsys)
    assert "invocation" not in result["job"]
