"""The workbench's lifecycle on a real account: up -> snapshot teardown -> restore -> teardown.

Runs only as ``make smoke-aws`` / ``make smoke-aliyun`` / ``make smoke-azure`` (they set
MLBOX_SMOKE to the cloud), and only with that cloud's credentials in the environment (the
variables scripts/mlbox_cli/credentials.py reads, or a profile variable such as AWS_PROFILE);
otherwise every test here is skipped. It is never part of ``make test`` or CI. It bills the
account: the expected cost is printed first (tests/smoke/smoke_plan.py says how it is
estimated), and the teardown runs in a ``finally``.

Every cloud API call of the playbook runs is recorded through tests/smoke/recorder (names and
types only, tests/smoke/sanitize.py) and, when the lifecycle passed, written to
tests/doubles/transcripts/<cloud>.json, replacing the seed; tests/unit/doubles/
test_transcript_shapes.py then compares the cloud's double against it. Commit it after
reading the diff.
"""

from __future__ import annotations

import datetime
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "tests" / "doubles"))
import shapes  # noqa: E402
from smoke_plan import PLANS, Plan, skip_unless_asked  # noqa: E402

TIMEOUT = 3600


def python_for(cloud: str) -> str:
    if cloud == "azure":
        return os.environ.get("MLBOX_AZURE_PYTHON") or str(ROOT / ".venv-azure" / "bin" / "python")
    return sys.executable


class Smoke:
    """One smoke workbench: its playbook runs, recorded, and its cleanup."""

    def __init__(self, plan: Plan, tmp: Path) -> None:
        self.plan = plan
        self.name = f"smoke-{secrets.token_hex(3)}"
        self.records = tmp / "records"
        self.records.mkdir()
        self.logs = tmp / "logs"
        self.logs.mkdir()
        self.runs = 0
        self.env = dict(os.environ)
        self.env.update(
            PYTHONPATH=os.pathsep.join([str(HERE / "recorder"), os.environ.get("PYTHONPATH", "")]),
            MLBOX_TRANSCRIPT_DIR=str(self.records),
            ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
            # Not used (no configuration of the host), but asked for by the inputs' check.
            WORKBENCH_NOTEBOOK_PASSWORD=secrets.token_urlsafe(16),
        )
        self.base: dict[str, Any] = {
            "cloud": plan.cloud,
            "workbench_name": self.name,
            "workbench_region": plan.chosen_region(),
            "workbench_instance_type": plan.chosen_type(),
            "workbench_disk_size_gb": plan.disk_gb,
            "workbench_configure": False,
            "workbench_ssh_key_path": str(tmp / "key" / "id_ed25519"),
            **plan.extra,
        }

    def playbook(self, playbook: str, **extra: Any) -> None:
        """One run; its output goes to a log file (it holds ids: never into git)."""
        self.runs += 1
        log = self.logs / f"{self.runs:02d}-{playbook}.log"
        args = [
            str(Path(sys.executable).parent / "ansible-playbook"),
            "-e",
            json.dumps({**self.base, **extra}),
            str(ROOT / "playbooks" / playbook),
        ]
        with log.open("w") as out:
            result = subprocess.run(
                args, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                timeout=TIMEOUT, check=False,
            )  # fmt: skip
        print(f"  {playbook} {extra or ''}: rc {result.returncode} (log: {log})", flush=True)
        assert result.returncode == 0, f"{playbook} failed; see {log}"

    def cleanup(self) -> dict[str, Any]:
        result = subprocess.run(
            [python_for(self.plan.cloud), str(HERE / "cleanup.py"), self.plan.cloud, self.name,
             self.plan.chosen_region()],
            cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=TIMEOUT, check=False,
        )  # fmt: skip
        if result.returncode != 0:
            return {"error": result.stderr[-2000:]}
        return json.loads(result.stdout)

    def transcript(self) -> dict[str, Any]:
        records = [
            json.loads(line)
            for path in sorted(self.records.glob("*.jsonl"))
            for line in path.read_text().splitlines()
            if line.strip()
        ]
        records = [r for r in records if r.get("cloud") == self.plan.cloud]
        today = datetime.date.today().isoformat()
        return shapes.transcript_from_records(
            records,
            cloud=self.plan.cloud,
            source=f"recorded {today} by make smoke-{self.plan.cloud} (tests/smoke), "
            f"{self.plan.chosen_type()} in {self.plan.chosen_region()}",
        )


@pytest.mark.parametrize(
    "cloud",
    [
        pytest.param("aws", marks=pytest.mark.smoke_aws),
        pytest.param("aliyun", marks=pytest.mark.smoke_aliyun),
        pytest.param("azure", marks=pytest.mark.smoke_azure),
    ],
)
def test_lifecycle_on_a_real_account(cloud: str, tmp_path: Path) -> None:
    skip_unless_asked(cloud)
    plan = PLANS[cloud]
    print("\n" + plan.estimate(), flush=True)
    smoke = Smoke(plan, tmp_path)
    print(f"Workbench {smoke.name}; logs and records under {tmp_path}", flush=True)
    passed = False
    try:
        smoke.playbook("provision.yml", workbench_disk_source="new")
        smoke.playbook(
            "teardown.yml", workbench_snapshot_on_delete=True, workbench_delete_disk=True
        )
        smoke.playbook(
            "provision.yml", workbench_disk_source="snapshot", workbench_snapshot_id="latest"
        )
        smoke.playbook("teardown.yml", workbench_delete_disk=True)
        passed = True
    finally:
        # Whatever happened: the teardown again (it finishes what a failed one left), then
        # what it keeps on purpose (snapshots; Azure's groups), then a look at what is left.
        try:
            smoke.playbook("teardown.yml", workbench_delete_disk=True)
        finally:
            cleaned = smoke.cleanup()
            print(f"Cleanup: {json.dumps(cleaned)}", flush=True)
    left = {kind: n for kind, n in cleaned.get("left", {}).items() if n}
    assert "error" not in cleaned and not left, (
        f"resources of {smoke.name} may be left in {plan.chosen_region()}: {cleaned}; "
        f"remove what is tagged mlbox:workbench={smoke.name} (Azure: mlbox-workbench)"
    )
    transcript = smoke.transcript()
    assert transcript["calls"], "the recorder saw no call: was PYTHONPATH passed on?"
    if passed:
        path = shapes.TRANSCRIPTS / f"{cloud}.json"
        path.write_text(json.dumps(transcript, indent=1) + "\n")
        print(f"Transcript: {path} ({len(transcript['calls'])} actions); read the diff, commit")
