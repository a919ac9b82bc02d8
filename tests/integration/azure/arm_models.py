"""Run with .venv-azure's python (test_arm_contract.py does): every kind of answer the ARM
double serves, deserialized with the vendor's own model (azure-mgmt-* at the api-version the
calls use) and serialized back, must come back whole: a member the model does not know, or
of another type, would be dropped or changed by the SDK, which a client then never sees.

The double's Store is driven in process through one workbench's life: resource group,
network, NSG, public IP, NIC, disk, VM (Spot, instance view), incremental snapshot, a disk
restored from it, the listings, the location's sizes and images, the subscription, errors.
Prints one line per answer checked; exits 1 listing what did not round-trip.
"""

from __future__ import annotations

import datetime
import importlib.util
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
_SPEC = importlib.util.spec_from_file_location("azure_arm", ROOT / "tests/doubles/azure_arm.py")
assert _SPEC and _SPEC.loader
arm = importlib.util.module_from_spec(_SPEC)
sys.modules["azure_arm"] = arm
_SPEC.loader.exec_module(arm)

from azure.mgmt.compute import v2022_03_02, v2023_04_02, v2024_03_02, v2024_07_01  # noqa: E402
from azure.mgmt.network import models as network  # noqa: E402
from azure.mgmt.resource.resources import v2021_04_01, v2022_09_01  # noqa: E402
from azure.mgmt.resource.subscriptions import v2022_12_01 as subscriptions  # noqa: E402

BASE = "https://management.azure.com"
LOC = "westeurope"
SUB = f"/subscriptions/{arm.SUBSCRIPTION}"
RG = f"{SUB}/resourceGroups/rg"
DATA = f"{SUB}/resourceGroups/rg-data"
VNET = f"{RG}/providers/Microsoft.Network/virtualNetworks/vnet"
SUBNET = f"{VNET}/subnets/default"
NSG = f"{RG}/providers/Microsoft.Network/networkSecurityGroups/nsg"
PIP = f"{RG}/providers/Microsoft.Network/publicIPAddresses/ip"
NIC = f"{RG}/providers/Microsoft.Network/networkInterfaces/nic"
VM = f"{RG}/providers/Microsoft.Compute/virtualMachines/vm"
DISK = f"{DATA}/providers/Microsoft.Compute/disks/data"
SNAP = f"{DATA}/providers/Microsoft.Compute/snapshots/snap"
RESTORED = f"{DATA}/providers/Microsoft.Compute/disks/restored"
IMAGE = (
    f"{SUB}/providers/Microsoft.Compute/locations/{LOC}/publishers/Canonical/artifacttypes/"
    "vmimage/offers/0001-com-ubuntu-server-jammy/skus/22_04-lts-gen2/versions"
)
FRACTION = re.compile(r"(\.\d{6})\d+")


def build(store: Any) -> None:
    """One workbench, with the bodies azure.azcollection sends."""

    def put(path: str, body: dict[str, Any], version: str) -> None:
        store.put(path, body, False, BASE, version)

    put(RG, {"location": LOC, "tags": {"mlbox-workbench": "t"}}, "2022-09-01")
    put(DATA, {"location": LOC, "tags": {"mlbox-workbench": "t"}}, "2022-09-01")
    net = "2024-03-01"
    put(
        VNET,
        {"location": LOC, "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}}},
        net,
    )
    put(SUBNET, {"properties": {"addressPrefix": "10.0.0.0/24"}}, net)
    put(
        NSG,
        {
            "location": LOC,
            "properties": {
                "securityRules": [
                    {
                        "name": "ssh",
                        "properties": {
                            "protocol": "Tcp",
                            "sourcePortRange": "*",
                            "destinationPortRange": "22",
                            "sourceAddressPrefix": "203.0.113.7/32",
                            "destinationAddressPrefix": "*",
                            "access": "Allow",
                            "priority": 100,
                            "direction": "Inbound",
                        },
                    }
                ]
            },
        },
        net,
    )
    put(
        PIP,
        {
            "location": LOC,
            "sku": {"name": "Standard"},
            "properties": {"publicIPAllocationMethod": "Static"},
        },
        net,
    )
    put(
        NIC,
        {
            "location": LOC,
            "properties": {
                "networkSecurityGroup": {"id": NSG},
                "ipConfigurations": [
                    {
                        "name": "ipconfig1",
                        "properties": {
                            "primary": True,
                            "subnet": {"id": SUBNET},
                            "publicIPAddress": {"id": PIP},
                        },
                    }
                ],
            },
        },
        net,
    )
    put(
        DISK,
        {
            "location": LOC,
            "sku": {"name": "StandardSSD_LRS"},
            "tags": {"mlbox-workbench": "t"},
            "properties": {"creationData": {"createOption": "Empty"}, "diskSizeGB": 4},
        },
        "2023-04-02",
    )
    put(
        VM,
        {
            "location": LOC,
            "tags": {"mlbox-workbench": "t"},
            "properties": {
                "hardwareProfile": {"vmSize": "Standard_D2s_v3"},
                "storageProfile": {
                    "imageReference": {
                        "publisher": "Canonical",
                        "offer": "0001-com-ubuntu-server-jammy",
                        "sku": "22_04-lts-gen2",
                        "version": "latest",
                    },
                    "osDisk": {
                        "name": "vm-os",
                        "createOption": "FromImage",
                        "caching": "ReadWrite",
                        "diskSizeGB": 30,
                        "managedDisk": {"storageAccountType": "StandardSSD_LRS"},
                    },
                    "dataDisks": [
                        {
                            "lun": 0,
                            "createOption": "Attach",
                            "caching": "ReadWrite",
                            "managedDisk": {"id": DISK},
                        }
                    ],
                },
                "osProfile": {
                    "computerName": "vm",
                    "adminUsername": "azureuser",
                    "linuxConfiguration": {
                        "disablePasswordAuthentication": True,
                        "ssh": {
                            "publicKeys": [
                                {
                                    "path": "/home/azureuser/.ssh/authorized_keys",
                                    "keyData": "ssh-ed25519 AAAA test",
                                }
                            ]
                        },
                    },
                },
                "networkProfile": {
                    "networkInterfaces": [{"id": NIC, "properties": {"primary": True}}]
                },
                "priority": "Spot",
                "evictionPolicy": "Deallocate",
                "billingProfile": {"maxPrice": -1},
            },
        },
        "2024-07-01",
    )
    put(
        SNAP,
        {
            "location": LOC,
            "tags": {"mlbox-workbench": "t"},
            "properties": {
                "incremental": True,
                "creationData": {
                    "createOption": "Copy",
                    "sourceUri": None,
                    "sourceResourceId": DISK,
                },
            },
        },
        "2022-03-02",
    )
    store.read(SNAP.lower())  # its background copy done
    put(
        RESTORED,
        {
            "location": LOC,
            "sku": {"name": "StandardSSD_LRS"},
            "properties": {
                "creationData": {"createOption": "Copy", "sourceResourceId": SNAP},
                "diskSizeGB": 4,
            },
        },
        "2023-04-02",
    )


def answers(store: Any) -> list[tuple[str, Any, Any]]:
    """(what, model, the double's answer) for every kind of answer it serves."""
    compute, disks, snaps = v2024_07_01.models, v2024_03_02.models, v2022_03_02.models

    def get(path: str, **query: str) -> Any:
        return store.get(path, query)[1]

    def error(action: Any) -> Any:
        try:
            action()
        except arm.ArmError as exc:
            return exc.body()["error"]
        raise AssertionError("no error")

    providers = "/providers/Microsoft.Compute/"
    return [
        ("subscription", subscriptions.models.Subscription, get(SUB)),
        ("locations", subscriptions.models.LocationListResult, get(f"{SUB}/locations")),
        ("resource group", v2022_09_01.models.ResourceGroup, get(RG)),
        (
            "resource groups",
            v2022_09_01.models.ResourceGroupListResult,
            get(f"{SUB}/resourcegroups"),
        ),
        ("a group's resources", v2021_04_01.models.ResourceListResult, get(f"{RG}/resources")),
        ("virtual network", network.VirtualNetwork, get(VNET)),
        ("subnet", network.Subnet, get(SUBNET)),
        ("network security group", network.NetworkSecurityGroup, get(NSG)),
        ("public IP", network.PublicIPAddress, get(PIP)),
        ("network interface", network.NetworkInterface, get(NIC)),
        (
            "network interfaces",
            network.NetworkInterfaceListResult,
            get(f"{RG}/providers/Microsoft.Network/networkInterfaces"),
        ),
        ("disk (2024-03-02)", disks.Disk, get(DISK)),
        ("disk (2023-04-02)", v2023_04_02.models.Disk, get(DISK)),
        ("restored disk", disks.Disk, get(RESTORED)),
        ("OS disk", disks.Disk, get(f"{RG}{providers}disks/vm-os")),
        ("disks", disks.DiskList, get(f"{DATA}{providers}disks")),
        ("snapshot (2024-03-02)", disks.Snapshot, get(SNAP)),
        ("snapshot (2022-03-02)", snaps.Snapshot, get(SNAP)),
        ("snapshots", disks.SnapshotList, get(f"{DATA}{providers}snapshots")),
        ("virtual machine", compute.VirtualMachine, get(VM)),
        (
            "virtual machine, instance view",
            compute.VirtualMachine,
            get(VM, **{"$expand": "instanceView"}),
        ),
        ("instance view", compute.VirtualMachineInstanceView, get(f"{VM}/instanceView")),
        (
            "virtual machines",
            compute.VirtualMachineListResult,
            get(f"{RG}{providers}virtualMachines"),
        ),
        (
            "VM sizes",
            compute.VirtualMachineSizeListResult,
            get(f"{SUB}{providers}locations/{LOC}/vmSizes"),
        ),
        ("image versions", "[VirtualMachineImageResource]", get(IMAGE)),
        ("image version", compute.VirtualMachineImage, get(f"{IMAGE}/1.0.0")),
        ("error", compute.ApiError, error(lambda: get(f"{RG}{providers}disks/none"))),
        (
            "rule refusal",
            compute.ApiError,
            error(
                lambda: store.put(
                    VM,
                    {"location": LOC, "properties": {"priority": "Spot"}},
                    False,
                    BASE,
                    "2024-07-01",
                )
            ),
        ),
    ]


def normal(value: Any) -> Any:
    """JSON as a comparison sees it: no nulls, times as instants."""
    if isinstance(value, dict):
        return {k: normal(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [normal(v) for v in value]
    if isinstance(value, str) and re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d", value):
        try:
            return datetime.datetime.fromisoformat(
                FRACTION.sub(r"\1", value).replace("Z", "+00:00")
            )
        except ValueError:
            return value
    return value


def lost(original: Any, back: Any, path: str = "") -> list[str]:
    """Where `back` differs from `original` (a member missing, or another value)."""
    if isinstance(original, dict):
        if not isinstance(back, dict):
            return [f"{path or '.'}: {back!r}"]
        out = []
        for key, value in original.items():
            out += lost(value, back.get(key), f"{path}.{key}") if key in back else [f"{path}.{key}"]
        return out
    if isinstance(original, list):
        if not isinstance(back, list) or len(back) != len(original):
            return [f"{path}: {back!r}"]
        return [p for i, item in enumerate(original) for p in lost(item, back[i], f"{path}[{i}]")]
    return [] if original == back else [f"{path}: {original!r} came back as {back!r}"]


def round_trip(model: Any, data: Any) -> Any:
    if isinstance(model, str):  # a list of a model: the deserializer of its module
        from azure.mgmt.compute import _serialization
        from azure.mgmt.compute.v2024_07_01.models import _models_py3

        classes = {k: v for k, v in vars(_models_py3).items() if isinstance(v, type)}
        items = _serialization.Deserializer(classes)(model, data)
        return [item.serialize(keep_readonly=True) for item in items]
    return model.deserialize(data).serialize(keep_readonly=True)


def main() -> int:
    store = arm.Store()
    store.config["lro_polls"] = 0  # a scene: each write settled before the next
    build(store)
    failures = []
    for what, model, data in answers(store):
        back = round_trip(model, data)
        where = lost(normal(data), normal(back))
        name = model if isinstance(model, str) else model.__name__
        print(f"{'ok  ' if not where else 'LOST'} {what}: {name}")
        if where:
            failures.append(f"{what} ({name}): {', '.join(where)}")
    for failure in failures:
        print(failure, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
