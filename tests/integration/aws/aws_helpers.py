"""Helpers for the cloud_aws integration tests: the moto double's controls and playbook runs.

Nothing here can reach AWS: every run gets AWS_ENDPOINT_URL pointing at the local server and
dummy credentials.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import boto3
from playbook_run import Run, run_playbook

ROOT = Path(__file__).resolve().parents[3]
MOTO_SERVER = ROOT / "tests" / "doubles" / "moto_server.py"
WAITER_SHIM = Path(__file__).resolve().parent / "waiter_pause"
REGION = "us-east-1"

# Calls that create, change or delete something; a run that stops in validation sends none.
MUTATING = re.compile(
    r"^(Create|Run|Import|Request|Attach|Detach|Authorize|Revoke|Delete|Modify|Terminate"
    r"|Start|Stop|Cancel|Associate|Disassociate|Copy|Register|Deregister)"
)


class Moto:
    """The running double: its URL, its controls, and a boto3 EC2 client on it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.ec2 = boto3.client(
            "ec2",
            region_name=REGION,
            endpoint_url=url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def _call(self, method: str, path: str, payload: Any = None) -> Any:
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def reset(self) -> None:
        self._call("POST", "/moto-api/reset")
        self._call("DELETE", "/_mlbox/faults")
        self._call("DELETE", "/_mlbox/settle")
        self._call("DELETE", "/_mlbox/requests")

    def inject(self, **faults: str) -> None:
        """Faults by name; on_demand= stands for the double's "on-demand" key."""
        self._call("POST", "/_mlbox/faults", {k.replace("_", "-"): v for k, v in faults.items()})

    def settle(self, **polls: int) -> None:
        """Reads a new resource takes to settle: polls= for every kind, or per kind."""
        self._call("POST", "/_mlbox/settle", polls)

    def unsettled(self, *kinds: str) -> dict[str, int]:
        """The resources of these kinds (all when none is named) still on their way
        (pending, creating, attaching), per kind."""
        pending = self._call("GET", "/_mlbox/settling")
        return {k: n for k, n in pending.items() if n and (not kinds or k in kinds)}

    def requests(self) -> list[dict[str, Any]]:
        return self._call("GET", "/_mlbox/requests")

    def actions(self) -> list[str]:
        return [call["action"] for call in self.requests()]

    def forget_requests(self) -> None:
        self._call("DELETE", "/_mlbox/requests")

    def mutations(self) -> list[str]:
        """The calls that change something; ec2_key's fingerprint probe does not count.

        To compare key material amazon.aws.ec2_key imports it as "ansible-<uuid>" and deletes
        that key pair again at once; nothing of it remains.
        """
        return [
            call["action"]
            for call in self.requests()
            if MUTATING.match(call["action"])
            and not call["params"].get("KeyName", "").startswith("ansible-")
        ]

    def inventory(self) -> dict[str, set[str]]:
        """Every resource the account holds, by kind (terminated instances left out)."""
        ec2 = self.ec2
        instances = {
            i["InstanceId"]
            for r in ec2.describe_instances()["Reservations"]
            for i in r["Instances"]
            if i["State"]["Name"] != "terminated"
        }
        return {
            "instances": instances,
            "volumes": {v["VolumeId"] for v in ec2.describe_volumes()["Volumes"]},
            "snapshots": {
                s["SnapshotId"] for s in ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]
            },
            "key_pairs": {k["KeyName"] for k in ec2.describe_key_pairs()["KeyPairs"]},
            "security_groups": {
                g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"]
            },
            "launch_templates": {
                t["LaunchTemplateId"] for t in ec2.describe_launch_templates()["LaunchTemplates"]
            },
            "spot_requests": {
                s["SpotInstanceRequestId"]
                for s in ec2.describe_spot_instance_requests()["SpotInstanceRequests"]
                if s["State"] in ("open", "active")
            },
        }


DRIVER = Path(__file__).resolve().parent / "driver.yml"
ALLOWED_CIDR = "203.0.113.7/32"


class Workbench:
    """The cloud_aws entry points for one workbench name, run as ansible-playbook would."""

    def __init__(self, name: str, env: dict[str, str], ssh_key: Path) -> None:
        self.name = name
        self.env = env
        self.base_vars: dict[str, Any] = {
            "cloud": "aws",
            "workbench_name": name,
            "workbench_configure": False,
            "workbench_allowed_cidr": ALLOWED_CIDR,
            "workbench_ssh_key_path": str(ssh_key),
            "workbench_region": REGION,
            # The role's own polls (snapshots, attachments): the double settles in reads, so
            # there is nothing to wait for between two of them.
            "__cloud_aws_poll": 0.5,
            "__cloud_aws_snapshot_poll": 0.5,
        }

    def run(self, entry: str, env: dict[str, str] | None = None, **extra: Any) -> Run:
        extra_vars = {**self.base_vars, "cloud_aws_entry": entry, **extra}
        return run_playbook(DRIVER, extra_vars, env or self.env)

    def up(self, **extra: Any) -> Run:
        return self.run("up", **extra)

    def down(self, **extra: Any) -> Run:
        return self.run("down", **extra)

    def disks(self, **extra: Any) -> Run:
        return self.run("disks", **extra)

    def validate(self, **extra: Any) -> Run:
        return self.run("validate", **extra)

    def inventory(self) -> dict[str, Any]:
        """ansible-inventory --list of inventory/aws_ec2.yml, unsafe markers removed."""
        result = subprocess.run(
            [
                str(Path(sys.executable).parent / "ansible-inventory"),
                "-i",
                str(ROOT / "inventory" / "aws_ec2.yml"),
                "--list",
            ],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )
        # At -vvv (the secret guard's runs) the version banner comes first on stdout.
        start = re.search(r"^\{", result.stdout, flags=re.MULTILINE)
        assert start, result.stdout[-2000:]
        return unwrap(json.loads(result.stdout[start.start() :]))


def unwrap(value: Any) -> Any:
    """ansible-inventory marks templated strings as {"__ansible_unsafe": "..."}."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value
