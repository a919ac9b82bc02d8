"""Shared by every provider suite under tests/integration/.

``secret_guard``: each suite's environment fixture registers its secrets with it and runs
Ansible through ``guard.env(...)`` (verbosity 3, logged); at the end of the test the guard's
findings (a secret in the output, on a command line, or in a file not private to its owner)
fail it. See secret_guard.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from secret_guard import SecretGuard


@pytest.fixture
def secret_guard(tmp_path: Path) -> Iterator[SecretGuard]:
    guard = SecretGuard(tmp_path)
    guard.start()
    yield guard
    findings = guard.finish()
    assert not findings, "secrets leaked:\n" + "\n".join(findings)
    assert guard.processes_seen > 0, "the process watch never ran"


# --- the suite's report ----------------------------------------------------------------
# Every provider test is a reliability or security case; the report lists what ran, its
# outcome and what it proves (the test's docstring, else its name), grouped by kind, in
# test-reports/integration-<suites>.md. The secret guard ran on every one of them.

REPORT_DIR = Path(__file__).resolve().parents[2] / "test-reports"
KINDS = {
    "validation": "bad input: refused early, with the fix named, nothing created",
    "faults": "faults: killed runs, failed snapshots, unreachable instances",
    "spot": "spot: asked for, fallback, refusal",
    "lifecycle": "lifecycle: new, snapshot, restore, reuse, idempotence, nothing left",
    "scripts": "wrapper scripts: keys from the environment, prompts, output",
}
_cases: list[dict[str, str]] = []


def _kind(path: str) -> str:
    name = Path(path).stem
    return next((kind for kind in KINDS if kind in name), "other")


def _proves(item: pytest.Item) -> str:
    obj = getattr(item, "obj", None)
    doc = ((obj.__doc__ if obj is not None else "") or "").strip().splitlines()
    name = getattr(item, "originalname", item.name).removeprefix("test_").replace("_", " ")
    params = getattr(item, "callspec", None)
    suffix = f" [{params.id}]" if params else ""
    return (doc[0] if doc else name) + suffix


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" or (report.when != "call" and not report.passed):
        suite = Path(str(item.path)).parent.name
        entry = {
            "suite": suite,
            "kind": _kind(str(item.path)),
            "case": _proves(item),
            "outcome": "skipped" if report.skipped else ("passed" if report.passed else "failed"),
            "when": report.when,
            "seconds": f"{report.duration:.1f}",
        }
        # One line per test: a failure in teardown (the secret guard) overrides a pass.
        for old in _cases:
            if old.get("id") == item.nodeid:
                if entry["outcome"] == "failed":
                    old.update(entry, id=item.nodeid)
                break
        else:
            _cases.append({**entry, "id": item.nodeid})


def pytest_sessionfinish(session: pytest.Session) -> None:
    if not _cases:
        return
    suites = sorted({case["suite"] for case in _cases})
    REPORT_DIR.mkdir(exist_ok=True)
    passed = sum(case["outcome"] == "passed" for case in _cases)
    lines = [
        f"# Reliability and security cases: {', '.join(suites)}",
        "",
        f"{len(_cases)} cases, {passed} passed. Every case ran Ansible at -vvv under the secret",
        "guard (tests/integration/secret_guard.py): no cloud key, notebook password or private",
        "key in the output, on a command line, or in a file that is not private.",
        "",
        "| suite | kind | case | outcome | s |",
        "|---|---|---|---|---|",
    ]
    for case in sorted(_cases, key=lambda c: (c["suite"], c["kind"], c["case"])):
        outcome = case["outcome"] + ("" if case["when"] == "call" else f" ({case['when']})")
        lines.append(
            f"| {case['suite']} | {case['kind']} | {case['case']} | {outcome} | {case['seconds']} |"
        )
    counts = {kind: sum(c["kind"] == kind for c in _cases) for kind in [*KINDS, "other"]}
    lines += ["", "Kinds: " + "; ".join(f"{KINDS.get(k, k)}: {n}" for k, n in counts.items() if n)]
    (REPORT_DIR / f"integration-{'-'.join(suites)}.md").write_text("\n".join(lines) + "\n")
    # The same cases as data: devtools/reliability_report.py merges every suite's into
    # test-reports/reliability.md.
    (REPORT_DIR / f"integration-{'-'.join(suites)}.json").write_text(
        json.dumps({"suites": suites, "cases": _cases}, indent=1) + "\n"
    )
