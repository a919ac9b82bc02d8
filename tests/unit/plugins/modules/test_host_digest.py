"""The host_digest module and module_utils/host_state: recording and comparing a role's digest."""

from __future__ import annotations

from pathlib import Path

from ansible_collections.mlbox.workbench.plugins.module_utils import host_state
from ansible_collections.mlbox.workbench.plugins.modules import host_digest


def test_a_digest_is_recorded_once_private_and_compared(run_module, tmp_path: Path) -> None:
    path = tmp_path / "state" / "tools.digest"
    assert not host_state.digest_matches(str(path), "abc")
    first = run_module(host_digest.main, {"path": str(path), "digest": "abc"})
    assert first.result["changed"] and first.result["previous"] == ""
    assert path.read_text() == "abc\n"
    assert (path.stat().st_mode & 0o777, path.parent.stat().st_mode & 0o777) == (0o600, 0o700)
    assert host_state.digest_matches(str(path), "abc")
    assert not host_state.digest_matches(str(path), "abd")
    assert not host_state.digest_matches(str(path), "")
    again = run_module(host_digest.main, {"path": str(path), "digest": "abc"})
    assert again.result["changed"] is False
    assert not list(path.parent.glob(".digest-*"))


def test_check_mode_writes_nothing(run_module, tmp_path: Path) -> None:
    path = tmp_path / "x.digest"
    exited = run_module(
        host_digest.main, {"path": str(path), "digest": "abc", "_ansible_check_mode": True}
    )
    assert exited.result["changed"] and not path.exists()


def test_an_empty_digest_is_refused(run_module, tmp_path: Path) -> None:
    exited = run_module(host_digest.main, {"path": str(tmp_path / "x"), "digest": " "})
    assert exited.failed


def test_an_unreadable_state_is_no_digest(tmp_path: Path) -> None:
    (tmp_path / "bin").write_bytes(b"\xff\xfe")
    assert host_state.recorded(str(tmp_path / "bin")) == ""
    assert host_state.recorded(str(tmp_path / "missing")) == ""
    assert host_state.recorded("") == ""
