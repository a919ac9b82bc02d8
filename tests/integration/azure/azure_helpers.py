"""Helpers for the cloud_azure integration tests: the ARM double's controls and playbook runs.

Nothing here can reach Azure: every run goes through HTTPS_PROXY to the local double, which
terminates TLS with a certificate made for the test session, and the credentials are dummies.
"""

from __future__ import annotations

import json
import secrets
import urllib.request
from pathlib import Path
from typing import Any

from playbook_run import Run, run_playbook

ROOT = Path(__file__).resolve().parents[3]
ARM_DOUBLE = ROOT / "tests" / "doubles" / "azure_arm.py"
AZURE_PYTHON = ROOT / ".venv-azure" / "bin" / "python"
# On PYTHONPATH for every run: azure-core's pause between polls of a long-running operation,
# shortened (lro_pause/sitecustomize.py).
LRO_PAUSE = Path(__file__).resolve().parent / "lro_pause"
SUBSCRIPTION = "00000000-0000-0000-0000-000000000001"
TENANT = "00000000-0000-0000-0000-0000000000aa"
LOCATION = "westeurope"
ALLOWED_CIDR = "203.0.113.7/32"
DRIVER = Path(__file__).resolve().parent / "driver.yml"
MUTATING = ("PUT", "PATCH", "DELETE", "POST")
# The double takes any secret; a distinctive one lets the secret guard find it wherever it leaks.
CLIENT_SECRET = "mlbox-test-secret-" + secrets.token_hex(12)


def group_id(name: str) -> str:
    return f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{name}"


def resource_id(group: str, kind: str, name: str) -> str:
    """kind: 'Compute/disks', 'Network/networkSecurityGroups', ..."""
    return f"{group_id(group)}/providers/Microsoft.{kind}/{name}"


class Arm:
    """The running double: its control URL and what it holds."""

    def __init__(self, url: str) -> None:
        self.url = url

    def _call(self, method: str, path: str, payload: Any = None) -> Any:
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def reset(self) -> None:
        self._call("POST", "/_mlbox/reset")

    def inject(self, *faults: dict[str, Any]) -> None:
        self._call("POST", "/_mlbox/faults", list(faults))

    def clear_faults(self) -> None:
        self._call("DELETE", "/_mlbox/faults")

    def configure(self, **config: Any) -> None:
        self._call("POST", "/_mlbox/config", config)

    def evict(self, rid: str) -> dict[str, Any]:
        """Azure takes the Spot VM's capacity back (its evictionPolicy applies)."""
        return self._call("POST", "/_mlbox/evict", {"id": rid})

    def put(self, *resources: dict[str, Any]) -> None:
        self._call("POST", "/_mlbox/resources", list(resources))

    def requests(self) -> list[dict[str, Any]]:
        return self._call("GET", "/_mlbox/requests")

    def forget_requests(self) -> None:
        self._call("DELETE", "/_mlbox/requests")

    def mutations(self) -> list[tuple[str, str]]:
        """(method, path) of every request that changes something."""
        return [
            (r["method"], r["path"])
            for r in self.requests()
            if r["method"] in MUTATING and r["host"].startswith("management.")
        ]

    def state(self) -> dict[str, dict[str, Any]]:
        """Every resource held, by lower-case id."""
        return {k.lower(): v for k, v in self._call("GET", "/_mlbox/state").items()}

    def get(self, rid: str) -> dict[str, Any] | None:
        return self.state().get(rid.lower())

    def of_kind(self, kind: str, workbench: str | None = None) -> list[dict[str, Any]]:
        """Resources of a type ('Microsoft.Compute/disks'), optionally of one workbench."""
        return [
            r
            for r in self.state().values()
            if r.get("type", "").lower() == kind.lower()
            and (workbench is None or (r.get("tags") or {}).get("mlbox-workbench") == workbench)
        ]


class Workbench:
    """The cloud_azure entry points for one workbench name, run as ansible-playbook would."""

    def __init__(self, name: str, env: dict[str, str], ssh_key: Path) -> None:
        self.name = name
        self.env = env
        self.group = f"mlbox-{name}"
        self.data_group = f"mlbox-{name}-data"
        self.base_vars: dict[str, Any] = {
            "cloud": "azure",
            "workbench_name": name,
            "workbench_configure": False,
            "workbench_allowed_cidr": ALLOWED_CIDR,
            "workbench_ssh_key_path": str(ssh_key),
            "workbench_region": LOCATION,
            "workbench_azure_snapshot_poll": 1,
        }

    def run(self, entry: str, env: dict[str, str] | None = None, **extra: Any) -> Run:
        extra_vars = {**self.base_vars, "cloud_azure_entry": entry, **extra}
        return run_playbook(DRIVER, extra_vars, env or self.env)

    def up(self, **extra: Any) -> Run:
        return self.run("up", **extra)

    def down(self, **extra: Any) -> Run:
        return self.run("down", **extra)

    def disks(self, **extra: Any) -> Run:
        return self.run("disks", **extra)

    @property
    def vm_id(self) -> str:
        return resource_id(self.group, "Compute/virtualMachines", self.name)
