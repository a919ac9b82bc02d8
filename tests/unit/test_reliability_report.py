"""devtools/reliability_report.py merges every suite's cases into one report: the matrix
counts passed / run per suite and kind, failures are listed, and the exit status says
whether anything failed or nothing was reported at all."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "devtools" / "reliability_report.py"
spec = importlib.util.spec_from_file_location("reliability_report", SCRIPT)
assert spec and spec.loader
report = importlib.util.module_from_spec(spec)
spec.loader.exec_module(report)


def case(suite: str, kind: str, outcome: str = "passed", name: str = "c") -> dict[str, str]:
    return {"suite": suite, "kind": kind, "case": name, "outcome": outcome, "when": "call",
            "seconds": "1.0", "id": f"{suite}::{name}"}  # fmt: skip


def write(directory: Path, suite: str, cases: list[dict[str, str]]) -> None:
    (directory / f"integration-{suite}.json").write_text(json.dumps({"cases": cases}))


def run(directory: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(sys, "argv", ["reliability_report.py", "--dir", str(directory)])
    return report.main()


def test_matrix_and_totals(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "aws", [case("aws", "validation", name=f"v{i}") for i in range(3)])
    write(tmp_path, "local", [case("local", "faults"), case("local", "validation", "skipped")])
    assert run(tmp_path, monkeypatch) == 0
    text = (tmp_path / "reliability.md").read_text()
    assert "5 cases in 2 suites (aws, local): 4 passed, 0 failed, 1 skipped" in text
    assert "| aws | 3/3 | - | 3/3 |" in text
    assert "| local | 0/1 | 1/1 | 1/2 |" in text
    assert "| **all** | 3/4 | 1/1 | 4/5 |" in text


def test_a_failed_case_is_listed_and_fails(tmp_path: Path, monkeypatch) -> None:
    write(tmp_path, "azure", [case("azure", "faults", "failed", "stuck snapshot")])
    assert run(tmp_path, monkeypatch) == 1
    assert (
        "- azure: stuck snapshot (azure::stuck snapshot)"
        in (tmp_path / "reliability.md").read_text()
    )


def test_no_report_at_all_fails(tmp_path: Path, monkeypatch) -> None:
    assert run(tmp_path, monkeypatch) == 1
    assert not (tmp_path / "reliability.md").exists()
