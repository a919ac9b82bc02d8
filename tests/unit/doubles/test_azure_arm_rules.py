"""The ARM double's contract (tests/doubles/azure_arm.py), in process: each documented rule
of RULES made to fire, each fault of FAULTS arriving the way Azure sends it, bodies checked
against the vendor's definitions, long-running operations that settle over polls, eviction.

The Store is driven directly, with the bodies azure.azcollection's SDK sends (camelCase,
flattened "properties"); no server, no SDK. Fixtures that only set the scene are made with
lro_polls 0 (their operations complete at once: what is under test is the request after
them); the asynchronous behaviour has its own tests below.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
_SPEC = importlib.util.spec_from_file_location("azure_arm", ROOT / "tests/doubles/azure_arm.py")
assert _SPEC and _SPEC.loader
arm = importlib.util.module_from_spec(_SPEC)
sys.modules["azure_arm"] = arm  # dataclasses look their module up by name
_SPEC.loader.exec_module(arm)

BASE = "https://management.azure.com"
LOC = "westeurope"
RG = f"/subscriptions/{arm.SUBSCRIPTION}/resourceGroups/rg"
VERSION = {
    "virtualMachines": "2024-07-01",
    "disks": "2023-04-02",
    "snapshots": "2022-03-02",
    "resourceGroups": "2022-09-01",
}
NET = "2024-03-01"


def rid(kind: str, name: str, group: str = RG) -> str:
    """kind: 'Compute/disks', 'Network/networkInterfaces' ..."""
    return f"{group}/providers/Microsoft.{kind}/{name}"


VNET = rid("Network/virtualNetworks", "vnet")
SUBNET = VNET + "/subnets/default"
NIC = rid("Network/networkInterfaces", "nic")
PIP = rid("Network/publicIPAddresses", "ip")
NSG = rid("Network/networkSecurityGroups", "nsg")
VM = rid("Compute/virtualMachines", "vm")
DISK = rid("Compute/disks", "data")


def version_of(path: str) -> str:
    kind = arm.resource_type(path).split("/")[1]
    return VERSION.get(kind, NET)


def put(store: Any, path: str, body: dict[str, Any], patch: bool = False) -> tuple[int, Any]:
    status, out, _headers = store.put(path, body, patch, BASE, version_of(path))
    return status, out


def refused(action: Callable[[], Any]) -> Any:
    with pytest.raises(arm.ArmError) as caught:
        action()
    return caught.value


def disk_body(size: int = 4, sku: str = "StandardSSD_LRS", **props: Any) -> dict[str, Any]:
    return {
        "location": LOC,
        "sku": {"name": sku},
        "properties": {"creationData": {"createOption": "Empty"}, "diskSizeGB": size, **props},
    }


def vm_body(
    size: str = "Standard_D2s_v3",
    disks: list[str] | None = None,
    os_sku: str = "StandardSSD_LRS",
    **props: Any,
) -> dict[str, Any]:
    data = [
        {"lun": i, "createOption": "Attach", "caching": "ReadWrite", "managedDisk": {"id": d}}
        for i, d in enumerate([DISK] if disks is None else disks)
    ]
    return {
        "location": LOC,
        "tags": {"mlbox-workbench": "t"},
        "properties": {
            "hardwareProfile": {"vmSize": size},
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
                    "managedDisk": {"storageAccountType": os_sku},
                },
                "dataDisks": data,
            },
            "osProfile": {
                "computerName": "vm",
                "adminUsername": "azureuser",
                "linuxConfiguration": {"disablePasswordAuthentication": True},
            },
            "networkProfile": {"networkInterfaces": [{"id": NIC, "properties": {"primary": True}}]},
            **props,
        },
    }


def spot(price: float = -1, policy: str = "Deallocate") -> dict[str, Any]:
    return {"priority": "Spot", "evictionPolicy": policy, "billingProfile": {"maxPrice": price}}


@pytest.fixture
def store() -> Any:
    """A resource group with a network, a NIC and a 4 GiB data disk; operations instant."""
    s = arm.Store()
    s.config["lro_polls"] = 0
    put(s, RG, {"location": LOC, "tags": {"mlbox-workbench": "t"}})
    put(
        s,
        VNET,
        {"location": LOC, "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}}},
    )
    put(s, SUBNET, {"properties": {"addressPrefix": "10.0.0.0/24"}})
    put(
        s,
        PIP,
        {
            "location": LOC,
            "sku": {"name": "Standard"},
            "properties": {"publicIPAllocationMethod": "Static"},
        },
    )
    put(
        s,
        NIC,
        {
            "location": LOC,
            "properties": {
                "ipConfigurations": [
                    {
                        "name": "ipconfig1",
                        "properties": {"subnet": {"id": SUBNET}, "publicIPAddress": {"id": PIP}},
                    }
                ]
            },
        },
    )
    put(s, DISK, disk_body())
    return s  # fmt: skip


@pytest.fixture
def with_vm(store: Any) -> Any:
    put(store, VM, vm_body(**spot()))
    return store


def second_disk(store: Any, name: str = "other", **kw: Any) -> str:
    path = rid("Compute/disks", name)
    put(store, path, disk_body(**kw))
    return path


# Each rule of RULES, made to fire: rule name -> (scene, request, code, status).
def _vm_elsewhere(s: Any) -> Any:
    put(s, VM, vm_body())
    other = rid("Compute/virtualMachines", "vm2")
    body = vm_body()
    body["properties"]["storageProfile"]["osDisk"]["name"] = "vm2-os"
    return lambda: put(s, other, body)


def edited(body: dict[str, Any], edit: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    """The body after edit(body) changed it in place."""
    edit(body)
    return body


def _premium_data_disk(s: Any) -> Any:
    other = second_disk(s, sku="Premium_LRS")
    return lambda: put(s, VM, vm_body(size="Standard_D2_v3", disks=[other]))


def _two_disks_one_lun(s: Any) -> Any:
    body = vm_body(disks=[DISK, second_disk(s)])
    body["properties"]["storageProfile"]["dataDisks"][1].update(lun=0)
    return lambda: put(s, VM, body)


def _too_many_disks(s: Any) -> Any:
    disks = [second_disk(s, f"d{i}") for i in range(5)]
    return lambda: put(s, VM, vm_body(disks=disks))


def _snapshot_of_unfinished_disk(s: Any) -> Any:
    s.config["lro_polls"] = 3
    disk = rid("Compute/disks", "fresh")
    put(s, disk, disk_body())  # Creating until polled
    snap = rid("Compute/snapshots", "snap")
    body = {"location": LOC, "properties": {"incremental": True, "creationData": {
        "createOption": "Copy", "sourceResourceId": disk}}}  # fmt: skip
    return lambda: put(s, snap, body)


def _incremental_flip(s: Any) -> Any:
    snap = rid("Compute/snapshots", "snap")
    body = {"location": LOC, "properties": {"incremental": True, "creationData": {
        "createOption": "Copy", "sourceResourceId": DISK}}}  # fmt: skip
    put(s, snap, body)
    s.read(snap.lower())  # its background copy done
    body["properties"]["incremental"] = False
    return lambda: put(s, snap, body)


def _attached_delete(s: Any) -> Any:
    put(s, VM, vm_body())
    return lambda: s.delete(DISK, BASE)


def _attached_sku_change(s: Any) -> Any:
    put(s, VM, vm_body())
    return lambda: put(s, DISK, {"sku": {"name": "Premium_LRS"}}, patch=True)


def _nic_in_use(s: Any) -> Any:
    put(s, VM, vm_body())
    return lambda: s.delete(NIC, BASE)


def _ip_in_use(s: Any) -> Any:
    return lambda: s.delete(PIP, BASE)


def _busy(s: Any) -> Any:
    s.config["lro_polls"] = 3
    put(s, rid("Compute/disks", "slow"), disk_body())
    return lambda: put(s, rid("Compute/disks", "slow"), disk_body(size=8))


def _priority_change(s: Any) -> Any:
    put(s, VM, vm_body(**spot()))
    return lambda: put(s, VM, vm_body(priority="Regular"))


def _priority_late(s: Any) -> Any:
    put(s, VM, vm_body())
    return lambda: put(s, VM, vm_body(**spot()))


def _price_change(s: Any) -> Any:
    put(s, VM, vm_body(**spot(0.5)))
    return lambda: put(s, VM, vm_body(**spot(0.6)))


def _quota(s: Any, name: str, body: dict[str, Any]) -> Any:
    s.config["quota"] = {name: 1}
    return lambda: put(s, VM, body)


RULE_CASES: dict[str, list[tuple[str, Callable[[Any], Any], str, int]]] = {
    "name": [
        (
            "disk name with a space",
            lambda s: lambda: put(s, rid("Compute/disks", "a b"), disk_body()),
            "InvalidResourceName",
            400,
        ),
        (
            "VM name ending in a hyphen",
            lambda s: lambda: put(s, rid("Compute/virtualMachines", "vm-"), vm_body()),
            "InvalidResourceName",
            400,
        ),
        (
            "81-character NSG name",
            lambda s: (
                lambda: put(s, rid("Network/networkSecurityGroups", "n" * 81), {"location": LOC})
            ),
            "InvalidResourceName",
            400,
        ),
        (
            "resource group ending in a period",
            lambda s: lambda: put(s, RG.replace("/rg", "/rg."), {"location": LOC}),
            "InvalidResourceName",
            400,
        ),
    ],
    "location": [
        (
            "unknown location",
            lambda s: (
                lambda: put(s, rid("Compute/disks", "d2"), {**disk_body(), "location": "moon"})
            ),
            "LocationNotAvailableForResourceType",
            400,
        ),
        (
            "resource group moved",
            lambda s: lambda: put(s, RG, {"location": "eastus"}),
            "InvalidResourceGroupLocation",
            409,
        ),
        (
            "disk moved",
            lambda s: lambda: put(s, DISK, {**disk_body(), "location": "eastus"}),
            "InvalidResourceLocation",
            409,
        ),
    ],
    "busy": [("a second write while the first runs", _busy, "OperationNotAllowed", 409)],
    "vm-size": [
        (
            "unknown size",
            lambda s: lambda: put(s, VM, vm_body(size="Standard_Huge_v9")),
            "InvalidParameter",
            400,
        )
    ],
    "premium-storage": [
        (
            "Premium OS disk on a size without 's'",
            lambda s: (
                lambda: put(s, VM, vm_body(size="Standard_D2_v3", disks=[], os_sku="Premium_LRS"))
            ),
            "InvalidParameter",
            400,
        ),
        (
            "Premium data disk on a size without 's'",
            _premium_data_disk,
            "InvalidParameter",
            400,
        ),
    ],
    "os-disk": [
        (
            "OS disk name taken",
            lambda s: (
                put(s, rid("Compute/disks", "vm-os"), disk_body()),
                lambda: put(s, VM, vm_body()),
            )[1],
            "ConflictingUserInput",
            409,
        ),
        (
            "OS disk smaller than the image",
            lambda s: (
                lambda: put(
                    s,
                    VM,
                    edited(
                        vm_body(),
                        lambda b: b["properties"]["storageProfile"]["osDisk"].update(diskSizeGB=10),
                    ),
                )
            ),
            "InvalidParameter",
            400,
        ),
        (
            "OS disk above 4095 GiB",
            lambda s: (
                lambda: put(
                    s,
                    VM,
                    edited(
                        vm_body(),
                        lambda b: b["properties"]["storageProfile"]["osDisk"].update(
                            diskSizeGB=5000
                        ),
                    ),
                )
            ),
            "InvalidParameter",
            400,
        ),
    ],
    "data-disks": [
        ("disk attached to another VM", _vm_elsewhere, "OperationNotAllowed", 409),
        (
            "two disks at one LUN",
            _two_disks_one_lun,
            "InvalidParameter",
            400,
        ),
        ("more disks than the size takes", _too_many_disks, "OperationNotAllowed", 409),
        (
            "Empty with a managed disk id",
            lambda s: (
                lambda: put(
                    s,
                    VM,
                    edited(
                        vm_body(),
                        lambda b: b["properties"]["storageProfile"]["dataDisks"][0].update(
                            createOption="Empty"
                        ),
                    ),
                )
            ),
            "InvalidParameterConflictingProperties",
            400,
        ),
        (
            "disk in another location",
            lambda s: (
                put(s, RG.replace("/rg", "/rg2"), {"location": "eastus"}),
                put(
                    s,
                    rid("Compute/disks", "far", RG.replace("/rg", "/rg2")),
                    {**disk_body(), "location": "eastus"},
                ),
                lambda: put(
                    s, VM, vm_body(disks=[rid("Compute/disks", "far", RG.replace("/rg", "/rg2"))])
                ),
            )[2],
            "InvalidParameter",
            400,
        ),
        (
            "unknown disk",
            lambda s: lambda: put(s, VM, vm_body(disks=[rid("Compute/disks", "nope")])),
            "NotFound",
            404,
        ),
    ],
    "spot": [
        (
            "Spot without an eviction policy",
            lambda s: lambda: put(s, VM, vm_body(priority="Spot", billingProfile={"maxPrice": -1})),
            "InvalidParameter",
            400,
        ),
        (
            "eviction policy on a Regular VM",
            lambda s: lambda: put(s, VM, vm_body(evictionPolicy="Delete")),
            "EvictionPolicyCanBeSetOnlyOnAzureSpotVirtualMachines",
            400,
        ),
        (
            "max price on a Regular VM",
            lambda s: lambda: put(s, VM, vm_body(billingProfile={"maxPrice": -1})),
            "MaxPriceIsSupportedOnlyForAzureSpotVirtualMachines",
            400,
        ),
        (
            "max price 0",
            lambda s: lambda: put(s, VM, vm_body(**spot(0))),
            "MaxPriceValueInvalid",
            400,
        ),
        (
            "max price with six decimals",
            lambda s: lambda: put(s, VM, vm_body(**spot(0.123456))),
            "MaxPriceValueInvalid",
            400,
        ),
        (
            "max price under the Spot price",
            lambda s: lambda: put(s, VM, vm_body(**spot(0.00001))),
            "SpotPriceGreaterThanProvidedMaxPrice",
            409,
        ),
        (
            "Spot on a Promo size",
            lambda s: lambda: put(s, VM, vm_body(size="Standard_DS2_v2_Promo", **spot())),
            "AzureSpotIsNotSupportedForThisVMSize",
            400,
        ),
        (
            "max price changed while allocated",
            _price_change,
            "MaxPriceChangeNotAllowedForAllocatedVMs",
            409,
        ),
    ],
    "immutable": [
        ("Spot VM made Regular", _priority_change, "PropertyChangeNotAllowed", 409),
        ("Regular VM made Spot", _priority_late, "VMPriorityCannotBeApplied", 409),
    ],
    "quota": [
        (
            "Spot over lowPriorityCores",
            lambda s: _quota(s, "lowPriorityCores", vm_body(**spot())),
            "OperationNotAllowed",
            409,
        ),
        (
            "Regular over the family quota",
            lambda s: _quota(s, "standardDSv3Family", vm_body()),
            "OperationNotAllowed",
            409,
        ),
        (
            "Regular over Total Regional Cores",
            lambda s: _quota(s, "cores", vm_body()),
            "OperationNotAllowed",
            409,
        ),
    ],
    "disk-size": [
        (
            "Standard SSD over 32767 GiB",
            lambda s: lambda: put(s, rid("Compute/disks", "big"), disk_body(40000)),
            "InvalidParameter",
            400,
        ),
        (
            "Ultra under 4 GiB",
            lambda s: lambda: put(s, rid("Compute/disks", "u"), disk_body(2, sku="UltraSSD_LRS")),
            "InvalidParameter",
            400,
        ),
        (
            "an empty disk without a size",
            lambda s: (
                lambda: put(
                    s,
                    rid("Compute/disks", "n"),
                    {"location": LOC, "properties": {"creationData": {"createOption": "Empty"}}},
                )
            ),
            "InvalidParameter",
            400,
        ),
        ("a disk shrunk", lambda s: lambda: put(s, DISK, disk_body(2)), "BadRequest", 400),
        (
            "a copy smaller than its source",
            lambda s: (
                lambda: put(
                    s,
                    rid("Compute/disks", "copy"),
                    disk_body(2, creationData={"createOption": "Copy", "sourceResourceId": DISK}),
                )
            ),
            "BadRequest",
            400,
        ),
    ],
    "copy-source": [
        (
            "snapshot of a disk still being created",
            _snapshot_of_unfinished_disk,
            "OperationNotAllowed",
            409,
        ),
        (
            "restore from a snapshot whose copy is not done",
            lambda s: (
                s.config.update(snapshot_copy_polls=5),
                put(
                    s,
                    rid("Compute/snapshots", "sn"),
                    {
                        "location": LOC,
                        "properties": {
                            "incremental": True,
                            "creationData": {"createOption": "Copy", "sourceResourceId": DISK},
                        },
                    },
                ),
                lambda: put(
                    s,
                    rid("Compute/disks", "r"),
                    disk_body(
                        creationData={
                            "createOption": "Copy",
                            "sourceResourceId": rid("Compute/snapshots", "sn"),
                        }
                    ),
                ),
            )[2],
            "OperationNotAllowed",
            409,
        ),
        (
            "snapshot of a missing disk",
            lambda s: (
                lambda: put(
                    s,
                    rid("Compute/snapshots", "x"),
                    {
                        "location": LOC,
                        "properties": {
                            "creationData": {
                                "createOption": "Copy",
                                "sourceResourceId": rid("Compute/disks", "gone"),
                            }
                        },
                    },
                )
            ),
            "NotFound",
            404,
        ),
        (
            "snapshot in another region",
            lambda s: (
                lambda: put(
                    s,
                    rid("Compute/snapshots", "x"),
                    {
                        "location": "eastus",
                        "properties": {
                            "creationData": {"createOption": "Copy", "sourceResourceId": DISK}
                        },
                    },
                )
            ),
            "InvalidParameter",
            400,
        ),
    ],
    "incremental": [
        ("an incremental snapshot made full", _incremental_flip, "PropertyChangeNotAllowed", 409)
    ],
    "disk-delete-attached": [
        ("delete an attached disk", _attached_delete, "OperationNotAllowed", 409)
    ],
    "disk-update-attached": [
        ("change the SKU under a running VM", _attached_sku_change, "OperationNotAllowed", 409)
    ],
    "nsg-priority": [
        (
            "rule priority 50",
            lambda s: (
                lambda: put(
                    s,
                    NSG,
                    {
                        "location": LOC,
                        "properties": {
                            "securityRules": [
                                {
                                    "name": "ssh",
                                    "properties": {
                                        "priority": 50,
                                        "protocol": "Tcp",
                                        "access": "Allow",
                                        "direction": "Inbound",
                                    },
                                }
                            ]
                        },
                    },
                )
            ),
            "SecurityRuleInvalidPriority",
            400,
        ),
    ],
    "subnet-range": [
        (
            "subnet outside its network",
            lambda s: (
                lambda: put(
                    s, VNET + "/subnets/out", {"properties": {"addressPrefix": "10.9.0.0/24"}}
                )
            ),
            "NetcfgSubnetRangeOutsideVnet",
            400,
        ),
    ],
    "references": [
        (
            "NIC on a missing subnet",
            lambda s: (
                lambda: put(
                    s,
                    rid("Network/networkInterfaces", "n2"),
                    {
                        "location": LOC,
                        "properties": {
                            "ipConfigurations": [
                                {"name": "c", "properties": {"subnet": {"id": VNET + "/subnets/x"}}}
                            ]
                        },
                    },
                )
            ),
            "InvalidResourceReference",
            400,
        ),
        (
            "VM on a missing NIC",
            lambda s: (
                lambda: put(
                    s,
                    VM,
                    edited(
                        vm_body(),
                        lambda b: b["properties"]["networkProfile"].update(
                            networkInterfaces=[{"id": NIC + "x"}]
                        ),
                    ),
                )
            ),
            "InvalidResourceReference",
            400,
        ),
    ],
    "in-use": [
        ("delete the NIC of a VM", _nic_in_use, "NicInUse", 400),
        ("delete the public IP of a NIC", _ip_in_use, "PublicIPAddressCannotBeDeleted", 400),
    ],
}
CASES = [
    pytest.param(rule, scene, code, status, id=f"{rule}: {label}")
    for rule, cases in RULE_CASES.items()
    for label, scene, code, status in cases
]


def test_every_rule_has_a_case_and_a_source() -> None:
    assert {r.name for r in arm.RULES} == set(RULE_CASES)
    for rule in arm.RULES:
        assert len(rule.source) > 20, rule.name


@pytest.mark.parametrize(("rule", "scene", "code", "status"), CASES)
def test_rule_fires(
    store: Any, monkeypatch: pytest.MonkeyPatch, rule: str, scene: Any, code: str, status: int
) -> None:
    """Each case is refused with its code, by the rule it is listed under, changing nothing."""
    fired: list[str] = []

    def spy(row: Any) -> Any:
        def check(s: Any, change: Any) -> None:
            try:
                row.check(s, change)
            except arm.ArmError:
                fired.append(row.name)
                raise

        return arm.Rule(row.name, row.kinds, row.methods, check, row.source)

    monkeypatch.setattr(arm, "RULES", [spy(row) for row in arm.RULES])
    action = scene(store)
    assert fired == [], fired  # the scene itself is accepted
    before = set(store.resources)
    error = refused(action)
    assert (error.code, error.status) == (code, status), error.message
    assert fired == [rule], (fired, error.message)
    assert error.message and error.message != error.code
    assert set(store.resources) == before  # a refused request leaves nothing behind


def test_the_workbench_request_passes_every_rule(store: Any) -> None:
    """What cloud_azure asks for (a Spot D2s_v3, max price -1, Deallocate) is accepted."""
    status, out = put(store, VM, vm_body(**spot()))
    assert status == 201 and out["properties"]["priority"] == "Spot"
    disk = store.resources[DISK.lower()]
    assert disk["managedBy"] == VM and disk["properties"]["diskState"] == "Attached"


# Bodies against the vendor's definitions ----------------------------------------------------
@pytest.mark.parametrize(
    ("change", "code", "words"),
    [
        (lambda b: b["properties"].update(hardwareProfil={"vmSize": "x"}), "InvalidRequestContent",
         "Could not find member 'hardwareProfil' on object of type 'VirtualMachineProperties'"),
        (lambda b: b["properties"]["hardwareProfile"].update(cores=2), "InvalidRequestContent",
         "Could not find member 'cores' on object of type 'HardwareProfile'"),
        (lambda b: b["properties"]["storageProfile"]["osDisk"].update(diskSizeGB="30"),
         "InvalidRequestContent", "Error converting value \"30\" to type 'System.Int32'"),
        (lambda b: b["properties"].update(priority="Cheap"), "InvalidParameter",
         "The value 'Cheap' of parameter 'properties.priority' is not valid"),
        (lambda b: b["properties"]["storageProfile"]["osDisk"]["managedDisk"].update(
            storageAccountType="Premium_XRS"), "InvalidParameter", "storageAccountType"),
        (lambda b: b.pop("location"), "LocationRequired", "location property is required"),
        (lambda b: b["properties"]["storageProfile"]["osDisk"].pop("createOption"),
         "InvalidParameter", "Required parameter 'properties.storageProfile.osDisk.createOption'"),
    ],
)  # fmt: skip
def test_bodies_are_checked_against_the_vendor_definition(
    store: Any, change: Callable[[dict[str, Any]], Any], code: str, words: str
) -> None:
    body = vm_body(**spot())
    change(body)
    error = refused(lambda: put(store, VM, body))
    assert error.status == 400 and error.code == code, error.message
    assert words in error.message, error.message
    assert VM.lower() not in store.resources


def test_member_names_and_enum_values_are_case_insensitive(store: Any) -> None:
    """As ARM's deserializer and the RPs' case-insensitive enums take them."""
    body = vm_body(**spot())
    body["properties"]["Priority"] = body["properties"].pop("priority").lower()
    status, _out = put(store, VM, body)
    assert status == 201


def test_an_api_version_without_a_definition_is_refused(store: Any) -> None:
    error = refused(lambda: store.put(DISK, disk_body(), False, BASE, "2015-06-15"))
    assert error.code == "NoRegisteredProviderFound" and "2023-04-02" in error.message


def test_snapshot_body_as_azure_rm_snapshot_sends_it(store: Any) -> None:
    """azure_rm_snapshot sends creationData.sourceUri as null: JSON null is no value."""
    body = {"location": LOC, "tags": {}, "properties": {"incremental": True, "creationData": {
        "createOption": "Copy", "sourceUri": None, "sourceResourceId": DISK}}}  # fmt: skip
    status, out = put(store, rid("Compute/snapshots", "s"), body)
    assert status == 202 and out["properties"]["completionPercent"] == 0.0


# Long-running operations ------------------------------------------------------------------------
def operation_of(headers: dict[str, str]) -> str:
    return arm.op_id(headers["Azure-AsyncOperation"])


def test_a_vm_put_settles_after_several_polls(store: Any) -> None:
    store.config["lro_polls"] = 3
    status, out, headers = store.put(VM, vm_body(**spot()), False, BASE, VERSION["virtualMachines"])
    assert status == 201 and out["properties"]["provisioningState"] == "Creating"
    assert headers["Retry-After"] == arm.RETRY_AFTER
    op = operation_of(headers)
    assert [store.poll_operation(op)["status"] for _poll in range(3)] == [
        "InProgress",
        "InProgress",
        "Succeeded",
    ]
    assert store.resources[VM.lower()]["properties"]["provisioningState"] == "Succeeded"


def test_disks_and_snapshots_answer_202_with_location_and_reads_advance_them(store: Any) -> None:
    store.config["lro_polls"] = 2
    path = rid("Compute/disks", "slow")
    status, out, headers = store.put(path, disk_body(), False, BASE, VERSION["disks"])
    assert status == 202 and headers["Location"] == headers["Azure-AsyncOperation"]
    assert out["properties"]["provisioningState"] == "Creating"
    assert store.get(path, {})[1]["properties"]["provisioningState"] == "Creating"
    assert store.get(path, {})[1]["properties"]["provisioningState"] == "Succeeded"


def test_a_delete_is_long_running_too(store: Any) -> None:
    store.config["lro_polls"] = 2
    status, _out, headers = store.delete(DISK, BASE)
    assert status == 202
    assert store.resources[DISK.lower()]["properties"]["provisioningState"] == "Deleting"
    op = operation_of(headers)
    assert store.poll_operation(op)["status"] == "InProgress"
    assert store.poll_operation(op)["status"] == "Succeeded"
    assert DISK.lower() not in store.resources


def test_an_operation_left_alone_finishes_on_its_own(store: Any, monkeypatch: Any) -> None:
    store.config["lro_polls"] = 50
    store.put(rid("Compute/disks", "left"), disk_body(), False, BASE, VERSION["disks"])
    clock = arm.time.monotonic()
    monkeypatch.setattr(arm.time, "monotonic", lambda: clock + arm.SETTLE_SECONDS + 0.01)
    store.settle()
    assert (
        store.resources[rid("Compute/disks", "left").lower()]["properties"]["provisioningState"]
        == "Succeeded"
    )


def test_lro_polls_zero_is_the_opt_in_for_instant_operations(store: Any) -> None:
    store.config["lro_polls"] = 0
    _status, out, _headers = store.put(
        rid("Compute/disks", "now"), disk_body(), False, BASE, VERSION["disks"]
    )
    assert out["properties"]["provisioningState"] == "Succeeded"


# Faults ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", [n for n, f in arm.FAULTS.items() if f["via"] == "operation"])
def test_allocation_failures_arrive_through_the_operation(store: Any, name: str) -> None:
    """The PUT is accepted; the operation fails; the VM stays, Failed, holding its disks."""
    store.config["lro_polls"] = 2
    store.faults.append({"fault": name, "type": "Microsoft.Compute/virtualMachines",
                         "match": {"properties.priority": "Spot"}, "times": 1})  # fmt: skip
    status, out, headers = store.put(VM, vm_body(**spot()), False, BASE, VERSION["virtualMachines"])
    assert status == 201 and out["properties"]["provisioningState"] == "Creating"
    op = operation_of(headers)
    assert store.poll_operation(op)["status"] == "InProgress"
    final = store.poll_operation(op)
    assert final["status"] == "Failed" and final["error"]["code"] == arm.FAULTS[name]["code"]
    assert VM.lower() not in final["error"]["message"] or "{id}" not in final["error"]["message"]
    vm = store.resources[VM.lower()]
    assert vm["properties"]["provisioningState"] == "Failed"
    assert store.resources[DISK.lower()]["managedBy"] == VM  # the data disk is held
    assert store.resources[rid("Compute/disks", "vm-os").lower()]["managedBy"] == VM


def test_sku_not_available_at_request_is_a_synchronous_409(store: Any) -> None:
    store.faults.append(
        {"fault": "SkuNotAvailableAtRequest", "match": {"properties.priority": "Spot"}}
    )
    error = refused(lambda: put(store, VM, vm_body(**spot())))
    assert (error.code, error.status) == ("SkuNotAvailable", 409)
    assert "westeurope" in error.message and VM in error.message
    assert VM.lower() not in store.resources
    assert "managedBy" not in store.resources[DISK.lower()]


def test_every_fault_names_its_source_code_and_message() -> None:
    for name, fault in arm.FAULTS.items():
        assert fault["via"] in ("operation", "request"), name
        assert fault["code"] and len(fault["message"]) > 40, name


def test_spot_quota_refusal_words_it_as_the_compute_rp(store: Any) -> None:
    store.config["quota"] = {"lowPriorityCores": 0}
    error = refused(lambda: put(store, VM, vm_body(**spot())))
    assert (error.code, error.status) == ("OperationNotAllowed", 409)
    assert "exceeding approved LowPriorityCores quota" in error.message
    assert "Current Limit: 0, Current Usage: 0, Additional Required: 2" in error.message
    status, _out = put(store, VM, vm_body())  # Regular draws on another quota
    assert status == 201


# Eviction -------------------------------------------------------------------------------------
def test_eviction_deallocate_keeps_the_vm_and_every_disk(with_vm: Any) -> None:
    assert with_vm.evict(VM)["evictionPolicy"] == "Deallocate"
    vm = with_vm.resources[VM.lower()]
    assert vm["properties"]["_power"] == "deallocated"
    assert with_vm.resources[DISK.lower()]["managedBy"] == VM


def test_eviction_delete_takes_the_vm_with_its_disks(store: Any) -> None:
    """spot-vms.md: evicted VMs "are deleted together with their underlying disks"."""
    put(store, VM, vm_body(**spot(policy="Delete")))
    store.evict(VM)
    assert VM.lower() not in store.resources
    assert DISK.lower() not in store.resources
    assert "virtualMachine" not in store.resources[NIC.lower()]["properties"]


def test_a_plain_vm_delete_detaches_data_disks(with_vm: Any) -> None:
    """delete.md: a data disk's deleteOption is Detach unless set; the disk stays."""
    with_vm.delete(VM, BASE)
    disk = with_vm.resources[DISK.lower()]
    assert "managedBy" not in disk and disk["properties"]["diskState"] == "Unattached"
    assert rid("Compute/disks", "vm-os").lower() in with_vm.resources


def test_a_put_without_priority_keeps_the_spot_vm_spot(with_vm: Any) -> None:
    """The compute RP merges what a PUT leaves out: a 'Regular' retry that omits priority
    updates the Spot VM (the bug of cloud_azure's old fallback)."""
    body = vm_body()
    body["properties"].pop("priority", None)
    put(with_vm, VM, body)
    assert with_vm.resources[VM.lower()]["properties"]["priority"] == "Spot"


def test_a_refused_request_on_an_existing_vm_keeps_it(with_vm: Any) -> None:
    before = dict(with_vm.resources[VM.lower()]["properties"])
    refused(lambda: put(with_vm, VM, vm_body(priority="Regular")))
    assert with_vm.resources[VM.lower()]["properties"]["priority"] == before["priority"]
