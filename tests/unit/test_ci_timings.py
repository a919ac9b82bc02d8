"""devtools/ci_timings.py: the suite timer and the report .ci/run prints."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("ci_timings", ROOT / "devtools" / "ci_timings.py")
assert spec and spec.loader
ci_timings = importlib.util.module_from_spec(spec)
sys.modules["ci_timings"] = ci_timings
spec.loader.exec_module(ci_timings)


def test_run_records_time_load_and_passes_the_exit_status_through(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("MLBOX_CI_STREAM", "doubles")
    rc = ci_timings.run(
        "integration-x",
        [sys.executable, "-c", "import time, sys; time.sleep(0.3); sys.exit(3)"],
        directory=tmp_path,
    )
    assert rc == 3
    record = json.loads((tmp_path / "integration-x.json").read_text())
    assert record["suite"] == "integration-x"
    assert record["stream"] == "doubles"
    assert record["rc"] == 3
    assert 0.3 <= record["seconds"] < 30
    assert record["load_max"] >= record["load_mean"] >= 0


def test_report_orders_suites_sums_streams_and_lists_the_slowest(tmp_path: Path) -> None:
    timings, junit = tmp_path / "t", tmp_path / "j"
    timings.mkdir()
    junit.mkdir()
    base = 1_700_000_000.0
    rows = [
        ("unit", "fast", base, 60.0),
        ("integration-aws", "doubles", base + 100, 1500.0),
        ("molecule-libs", "podman", base + 100, 400.0),
    ]
    for name, stream, started, seconds in rows:
        (timings / f"{name}.json").write_text(
            json.dumps(
                {
                    "suite": name,
                    "stream": stream,
                    "started": started,
                    "seconds": seconds,
                    "rc": 0,
                    "load_start": 1.0,
                    "load_end": 2.0,
                    "load_mean": 3.0,
                    "load_max": 6.5,
                }
            )
        )
    (junit / "aws.xml").write_text(
        '<testsuites><testsuite name="pytest">'
        '<testcase classname="tests.aws.test_a" name="test_fast" time="1.5"/>'
        '<testcase classname="tests.aws.test_a" name="test_slow" time="125.0"/>'
        "</testsuite></testsuites>"
    )
    (junit / "broken.xml").write_text("<testsuites")
    text = ci_timings.report(timings, junit, count=1)
    assert text.index("| unit |") < text.index("| integration-aws |")
    assert "| integration-aws | doubles | +1:40 | 25:00 | 1.0 | 3.0 | 6.5 | 2.0 | 0 |" in text
    assert "doubles 25:00" in text and "podman 6:40" in text
    # first start to last end: 100 s + 1500 s
    assert "26:40 (budget 45:00: within)" in text
    assert "2:05  tests.aws.test_a::test_slow" in text
    assert "test_fast" not in text


def test_report_over_budget_and_empty(tmp_path: Path) -> None:
    assert "no suite recorded" in ci_timings.report(tmp_path / "none", tmp_path / "none")
    (tmp_path / "a.json").write_text(
        json.dumps(
            {
                "suite": "a",
                "started": 0.0,
                "seconds": 46 * 60.0,
                "rc": 1,
                "load_start": 0,
                "load_end": 0,
                "load_mean": 0,
                "load_max": 0,
            }
        )
    )
    assert "OVER" in ci_timings.report(tmp_path, tmp_path / "none")
