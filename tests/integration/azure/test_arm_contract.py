"""The ARM double against the vendor's own definitions, with the Azure SDK (.venv-azure):
every kind of answer it serves survives the azure-mgmt models' deserializer and serializer
unchanged (arm_models.py), and the request definitions it checks bodies against
(tests/doubles/azure_arm_schema.json) are those of the installed SDK. Seconds, no playbook."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from azure_helpers import ROOT

pytestmark = pytest.mark.azure

HERE = Path(__file__).resolve().parent


def run(azure_python: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(azure_python), *args], cwd=ROOT, capture_output=True, text=True, timeout=300,
        check=False,
    )  # fmt: skip


def test_every_answer_round_trips_through_the_vendor_models(azure_python: Path) -> None:
    done = run(azure_python, str(HERE / "arm_models.py"))
    assert done.returncode == 0, done.stdout + done.stderr
    checked = [line for line in done.stdout.splitlines() if line.startswith("ok ")]
    # Every resource type the double serves, its listings, the location's data and errors.
    for kind in ("VirtualMachine", "Disk", "Snapshot", "VirtualNetwork", "Subnet",
                 "NetworkSecurityGroup", "PublicIPAddress", "NetworkInterface", "ResourceGroup",
                 "ResourceListResult", "VirtualMachineSizeListResult", "LocationListResult",
                 "VirtualMachineImage", "VirtualMachineInstanceView", "ApiError"):  # fmt: skip
        assert any(line.endswith(f": {kind}") for line in checked), (kind, done.stdout)


def test_the_request_definitions_are_the_installed_sdks(azure_python: Path) -> None:
    done = run(azure_python, str(ROOT / "devtools" / "azure_arm_schema.py"), "--check")
    assert done.returncode == 0, done.stderr
