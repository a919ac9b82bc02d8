"""A stateful double of Azure Resource Manager and the Entra ID token endpoints, for tests.

azure.azcollection's SDK (azure-identity, azure-mgmt-*, on requests) honours HTTPS_PROXY, so
pointing HTTPS_PROXY at this server sends every call here: the client asks the proxy to
CONNECT to management.azure.com or login.microsoftonline.com, the server answers, terminates
TLS itself with a certificate the tests make (trusted by the client through
REQUESTS_CA_BUNDLE), and serves the tunnelled requests. They are the real wire protocol:
OpenID discovery and the client-credentials token POST; ARM PUT/GET/PATCH/DELETE/POST on
resource ids with api-version; errors as {"error": {"code", "message", "target"?}};
long-running operations as Azure does them; provisioningState on every resource.

It holds to the vendor's contract, with sources:
- Every PUT and PATCH body is checked against the vendor's definition of that resource at
  the api-version sent (azure_arm_schema.json, generated from the azure-mgmt-* SDK models by
  devtools/azure_arm_schema.py): a member the definition lacks or a value of the wrong JSON
  type is refused as ARM's deserializer refuses it (400 InvalidRequestContent), a value
  outside a documented enum or a missing required member as the resource providers do (400
  InvalidParameter; location: LocationRequired). An api-version it holds no definition for
  is refused too, so the definitions cannot silently go stale.
- The documented rules are data: RULES, one row per rule with its source (VM size vs. disk
  SKU, disk sizes per SKU, attach / detach / delete preconditions, snapshots, names, Spot,
  quotas, immutable properties), each a unit test in tests/unit/doubles.
- Asynchronous by default: PUT and DELETE of VMs, disks and snapshots answer at once with
  provisioningState Creating / Updating / Deleting and an operation (Azure-AsyncOperation,
  and Location for disks and snapshots) that reports InProgress until it has been polled
  `lro_polls` times (config, default 3) or the resource read as often; then the resource is
  Succeeded (or gone). As on Azure, the operation goes on whether anyone polls: one left
  alone finishes SETTLE_SECONDS after it started (a killed client leaves a resource that
  completes). lro_polls 0 completes in the answer to the PUT itself (opt-in, for a test that
  says why).
- Faults from the vendor's error tables (FAULTS): capacity refusals that arrive through the
  long-running operation (AllocationFailed, ZonalAllocationFailed, OverconstrainedAllocation-
  Request, SkuNotAvailable: the VM is left in provisioningState Failed, holding its disks)
  or synchronously (SkuNotAvailable 409); quotas (QUOTA, config "quota") refused with 409
  OperationNotAllowed as the compute RP words it.

Controls, on the server's own address (plain HTTP, not through the proxy):
  GET    /_mlbox/requests   the journal: [{method, host, path, query, body, status, code}]
  DELETE /_mlbox/requests   forget the journal
  POST   /_mlbox/faults     [{method?, type?, match?: {dotted.path: value}, times?, and one of
                            fault: a FAULTS name; code (+ status, message): refuse the request;
                            outcome: "Failed" (the operation and the resource end Failed) or
                            "stuck" (an incremental snapshot whose copy never gets past 0 %)}]
  DELETE /_mlbox/faults     no faults
  POST   /_mlbox/reset      empty subscription, no faults, empty journal, default config
  GET    /_mlbox/state      every resource held: {id: resource}
  POST   /_mlbox/resources  [resource]: put resources in place directly (decoys, fixtures)
  POST   /_mlbox/config     {"snapshot_copy_polls": N, "lro_polls": N, "quota": {name: limit}}
  POST   /_mlbox/evict      {"id": vm id}: Azure evicts that Spot VM, as its evictionPolicy says

Run: python tests/doubles/azure_arm.py --cert cert.pem --key key.pem [--port 0]; prints
"port=N" once it listens.
"""

from __future__ import annotations

import argparse
import copy
import datetime
import itertools
import json
import re
import socket
import ssl
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

SUBSCRIPTION = "00000000-0000-0000-0000-000000000001"
TENANT = "00000000-0000-0000-0000-0000000000aa"
SCHEMA_FILE = Path(__file__).resolve().with_name("azure_arm_schema.json")
LOCATIONS = {
    "westeurope": "West Europe",
    "northeurope": "North Europe",
    "eastus": "East US",
    "westus2": "West US 2",
}
# The sizes every location offers. cores/memory/disks: the size tables of
# learn.microsoft.com/azure/virtual-machines/sizes (dv3-dsv3-series, bv1-series,
# nct4-v3-series, dv2-dsv2-series); premium: "Premium Storage: Supported" there (the sizes with
# an 's'); spot: spot-vms.md, Limitations ("Promo versions of any size" are not offered as
# Spot); family: the quota each counts against (the compute RP's quota names, as in its
# OperationNotAllowed messages).
VM_SIZES: dict[str, dict[str, Any]] = {
    "Standard_B2s": {"cores": 2, "memory": 4096, "disks": 4, "premium": True, "spot": True,
                     "family": "standardBSFamily"},
    "Standard_D2s_v3": {"cores": 2, "memory": 8192, "disks": 4, "premium": True, "spot": True,
                        "family": "standardDSv3Family"},
    "Standard_D4s_v3": {"cores": 4, "memory": 16384, "disks": 8, "premium": True, "spot": True,
                        "family": "standardDSv3Family"},
    "Standard_D2_v3": {"cores": 2, "memory": 8192, "disks": 4, "premium": False, "spot": True,
                       "family": "standardDv3Family"},
    "Standard_DS2_v2_Promo": {"cores": 2, "memory": 7168, "disks": 8, "premium": True,
                              "spot": False, "family": "standardDSv2PromoFamily"},
    "Standard_NC4as_T4_v3": {"cores": 4, "memory": 28672, "disks": 8, "premium": True,
                             "spot": True, "family": "standardNCASv3_T4Family"},
}  # fmt: skip
# The Spot price per hour (USD) the double answers maxPrice with. Illustrative values, of the
# order of the Linux Spot prices of these sizes; the rule they feed
# (SpotPriceGreaterThanProvidedMaxPrice) is error-codes-spot.md's.
SPOT_PRICES = {name: round(0.01 * spec["cores"], 5) for name, spec in VM_SIZES.items()}
# Quotas (vCPUs per location): "Total Regional Cores", one per VM family, and Spot's own pool,
# lowPriorityCores ("Azure Spot Virtual Machines will have a separate quota pool", spot-vms.md
# FAQ). config {"quota": {...}} overrides a limit.
QUOTA_DEFAULT = 100
# The image every version of every offer is: Ubuntu-like, Linux, Gen2, a 30 GiB OS disk.
IMAGE_OS_DISK_GB = 30
# Managed disk sizes (GiB) per SKU: learn.microsoft.com/azure/virtual-machines/disks-types
# (Standard HDD / Standard SSD / Premium SSD: up to 32,767 GiB; Premium SSD v2 and Ultra: up
# to 65,536 GiB, Ultra from 4 GiB).
DISK_SIZE_GB = {
    "Standard_LRS": (1, 32767),
    "StandardSSD_LRS": (1, 32767),
    "StandardSSD_ZRS": (1, 32767),
    "Premium_LRS": (1, 32767),
    "Premium_ZRS": (1, 32767),
    "PremiumV2_LRS": (1, 65536),
    "UltraSSD_LRS": (4, 65536),
}
# "The maximum size of an OS disk is 4,095 GiB" (expand-os-disk.md / disks-types: OS disks
# are MBR-partitioned by default).
OS_DISK_MAX_GB = 4095
PREMIUM_SKUS = {"Premium_LRS", "Premium_ZRS", "PremiumV2_LRS", "UltraSSD_LRS"}
# Resource names: learn.microsoft.com/azure/azure-resource-manager/management/
# resource-name-rules (length, characters; "Resource names are case-insensitive").
_WORD_NAME = r"^[A-Za-z0-9](?:[\w.-]*\w)?$"  # alnum first; alnum, _ . - ; alnum or _ last
NAME_RULES: dict[str, tuple[int, int, str, str]] = {
    "microsoft.resources/resourcegroups": (
        1, 90, r"^[-\w.()]*[-\w()]$",
        "alphanumerics, underscores, parentheses, hyphens and periods; not ending in a period"),
    "microsoft.compute/virtualmachines": (
        1, 64, r"^(?!_)[^\\/\"\[\]:|<>+=;,?*@&\s]*[^\\/\"\[\]:|<>+=;,?*@&\s.-]$",
        "none of \\/\"[]:|<>+=;,?*@& or whitespace; not starting with an underscore, not "
        "ending with a period or a hyphen"),
    "microsoft.compute/disks": (1, 80, _WORD_NAME, "alphanumerics, underscores, periods and "
                                "hyphens; starting with an alphanumeric, ending with an "
                                "alphanumeric or an underscore"),
    "microsoft.compute/snapshots": (1, 80, _WORD_NAME, "as disks"),
    "microsoft.network/virtualnetworks": (2, 64, _WORD_NAME, "as disks"),
    "microsoft.network/virtualnetworks/subnets": (1, 80, _WORD_NAME, "as disks"),
    "microsoft.network/networksecuritygroups": (1, 80, _WORD_NAME, "as disks"),
    "microsoft.network/publicipaddresses": (1, 80, _WORD_NAME, "as disks"),
    "microsoft.network/networkinterfaces": (1, 80, _WORD_NAME, "as disks"),
}  # fmt: skip
# Types whose PUT and DELETE are long-running operations, as in Azure.
ASYNC_TYPES = {
    "microsoft.compute/virtualmachines",
    "microsoft.compute/disks",
    "microsoft.compute/snapshots",
}
CONTROL_PREFIX = "/_mlbox/"
# An operation nobody polls finishes on its own this long after it started.
SETTLE_SECONDS = 0.5
# What Azure tells a client to wait between polls. The SDK honours it (azure-core
# LROBasePolling._delay); the integration tests shorten the sleep itself
# (tests/doubles/vendor_pauses).
RETRY_AFTER = "10"
# An incremental snapshot under the "stuck" outcome: its copy never completes.
NEVER = 10**9
DEFAULT_CONFIG: dict[str, Any] = {"snapshot_copy_polls": 1, "lro_polls": 3, "quota": {}}

# The fault catalogue: what Azure answers when it has no capacity, from its own error tables.
# via "operation": the PUT is accepted (201 Creating) and its long-running operation ends
# Failed with this error, the VM left in provisioningState Failed with its disks (what Azure
# does when allocation fails after the request was accepted); via "request": the PUT itself
# is refused with that status.
ALLOCATION_GUIDANCE = (
    "Read more about improving likelihood of allocation success at "
    "http://aka.ms/allocation-guidance"
)
FAULTS: dict[str, dict[str, Any]] = {
    # learn.microsoft.com/troubleshoot/azure/virtual-machines/windows/allocation-failure
    "AllocationFailed": {
        "via": "operation", "code": "AllocationFailed",
        "message": "Allocation failed. We do not have sufficient capacity for the requested "
                   "VM size in this region. " + ALLOCATION_GUIDANCE,
    },
    "ZonalAllocationFailed": {
        "via": "operation", "code": "ZonalAllocationFailed",
        "message": "Allocation failed. We do not have sufficient capacity for the requested "
                   "VM size in this zone. " + ALLOCATION_GUIDANCE,
    },
    # troubleshoot/azure/virtual-machine-scale-sets/allocationfailed-or-zonalallocationfailed
    "OverconstrainedAllocationRequest": {
        "via": "operation", "code": "OverconstrainedAllocationRequest",
        "message": "Allocation failed. VM(s) with the following constraints cannot be "
                   "allocated, because the condition is too restrictive. Please remove some "
                   "constraints and try again. Constraints applied are: - Priority (Spot)",
    },
    # error-codes-spot.md, SkuNotAvailable: "There is not enough Azure Spot Virtual Machine
    # capacity in this location"; it arrives through the operation or, checked up front, as
    # the PUT's own 409 (MicrosoftDocs/azure-docs#55435).
    "SkuNotAvailable": {
        "via": "operation", "code": "SkuNotAvailable",
        "message": "The requested tier for resource '{id}' is currently not available in "
                   "location '{location}' for subscription '" + SUBSCRIPTION + "'. Try "
                   "another tier or deploy to a different location.",
    },
    "SkuNotAvailableAtRequest": {
        "via": "request", "code": "SkuNotAvailable", "status": 409,
        "message": "The requested size for resource '{id}' is currently not available in "
                   "location '{location}' zones '' for subscription '" + SUBSCRIPTION + "'. "
                   "Please try another size or deploy to a different location or zones. See "
                   "https://aka.ms/azureskunotavailable for details.",
    },
}  # fmt: skip


def expand_fault(fault: dict[str, Any], rid: str, body: Any) -> dict[str, Any]:
    """A fault as injected, with a FAULTS entry named by "fault" filled in for this request."""
    name = fault.get("fault")
    if not name:
        return fault
    if name not in FAULTS:
        raise ArmError("InvalidFault", f"azure_arm double: no fault {name} in FAULTS")
    entry = {**FAULTS[name], **{k: v for k, v in fault.items() if k != "fault"}}
    location = str((body or {}).get("location") or "")
    entry["message"] = entry["message"].format(id="/" + "/".join(segments(rid)), location=location)
    return entry


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f0+00:00")


class ArmError(Exception):
    def __init__(self, code: str, message: str = "", status: int = 400, target: str = "") -> None:
        super().__init__(code)
        self.code, self.message, self.status = code, message or code, status
        self.target = target

    def body(self) -> dict[str, Any]:
        error = {"code": self.code, "message": self.message}
        if self.target:
            error["target"] = self.target
        return {"error": error}


def segments(path: str) -> list[str]:
    return [s for s in path.strip("/").split("/") if s]


def provider_index(segs: list[str]) -> int | None:
    lowered = [s.lower() for s in segs]
    if "providers" not in lowered:
        return None
    return len(lowered) - 1 - lowered[::-1].index("providers")


def resource_type(rid: str) -> str:
    """'Microsoft.Compute/disks' for a disk's id; resource groups too."""
    segs = segments(rid)
    i = provider_index(segs)
    if i is None:
        return "Microsoft.Resources/resourceGroups"
    rest = segs[i + 2 :]
    return segs[i + 1] + "/" + "/".join(rest[0::2])


def is_resource(path: str) -> bool:
    segs = segments(path)
    if len(segs) < 2 or segs[0].lower() != "subscriptions":
        return False
    if len(segs) == 4 and segs[2].lower() == "resourcegroups":
        return True
    i = provider_index(segs)
    return i is not None and i + 2 < len(segs) and len(segs[i + 2 :]) % 2 == 0


def is_collection(path: str) -> bool:
    segs = segments(path)
    if len(segs) == 3 and segs[2].lower() == "resourcegroups":
        return True
    i = provider_index(segs)
    return i is not None and i + 2 < len(segs) and len(segs[i + 2 :]) % 2 == 1


def group_of(rid: str) -> str:
    """The resource group id of a resource id (lower case)."""
    return "/" + "/".join(segments(rid)[:4]).lower()


def dig(body: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(body, dict):
            return None
        body = {k.lower(): v for k, v in body.items()}.get(part.lower())
    return body


def lower_keys(value: Any) -> Any:
    return {k.lower(): v for k, v in value.items()} if isinstance(value, dict) else {}


# Request bodies against the vendor's definitions --------------------------------------------
class Schema:
    """azure_arm_schema.json: the SDK's models of the bodies ARM takes, per api-version."""

    def __init__(self, path: Path = SCHEMA_FILE) -> None:
        data = json.loads(path.read_text())
        self.bodies: dict[str, dict[str, dict[str, str]]] = data["bodies"]
        self.models: dict[str, dict[str, Any]] = data["models"]

    def model_for(self, kind: str, version: str, method: str) -> str | None:
        """The model id of a PUT/PATCH body; an ArmError when ARM would not know the version."""
        versions = self.bodies.get(kind.lower())
        if versions is None:
            return None  # a type with no body definition (none is served)
        if version not in versions or method not in versions[version]:
            raise ArmError(
                "NoRegisteredProviderFound",
                f"No registered resource provider found for API version '{version}' and type "
                f"'{kind}' (the double holds the definitions of: {', '.join(sorted(versions))}).",
                400,
            )
        return versions[version][method]

    def check(self, model: str, body: Any) -> Any:
        """The body with its member names as the definition spells them (ARM matches names
        case-insensitively), or an ArmError."""
        return self._check({"t": "ref", "model": model}, body, "")

    def _check(self, node: dict[str, Any], value: Any, path: str) -> Any:
        if value is None:  # JSON null: as if absent
            return value
        kind = node["t"]
        if kind == "ref":
            node, kind = self.models[node["model"]], "obj"
        if kind == "obj":
            if not isinstance(value, dict):
                raise convert_error(value, node["name"], path)
            members = {k.lower(): (k, v) for k, v in node["members"].items()}
            out: dict[str, Any] = {}
            for key, item in value.items():
                found = members.get(key.lower())
                if found is None:
                    if node.get("open"):
                        out[key] = item
                        continue
                    raise ArmError(
                        "InvalidRequestContent",
                        "The request content was invalid and could not be deserialized: "
                        f"'Could not find member '{key}' on object of type '{node['name']}'. "
                        f"Path '{join(path, key)}'.'",
                    )
                out[found[0]] = self._check(found[1], item, join(path, found[0]))
            given = lower_keys(value)
            for required in node.get("required", []):
                if given.get(required.lower()) is None:
                    if required == "location" and not path:
                        raise ArmError(
                            "LocationRequired",
                            "The location property is required for this definition.",
                        )
                    raise ArmError(
                        "InvalidParameter",
                        f"Required parameter '{join(path, required)}' is missing (null).",
                        target=join(path, required),
                    )
            return out
        if kind in ("list", "map"):
            if not isinstance(value, list if kind == "list" else dict):
                raise convert_error(value, kind, path)
            if kind == "list":
                return [self._check(node["of"], v, f"{path}[{i}]") for i, v in enumerate(value)]
            return {k: self._check(node["of"], v, join(path, str(k))) for k, v in value.items()}
        if kind in ("str", "date"):
            if not isinstance(value, str):
                raise convert_error(value, "System.String", path)
            allowed = {a.lower(): a for a in node.get("enum") or []}
            if allowed and value.lower() not in allowed:
                raise ArmError(
                    "InvalidParameter",
                    f"The value '{value}' of parameter '{path}' is not valid; the allowed "
                    f"values are: {', '.join(allowed.values())}.",
                    target=path,
                )
            self._constraints(node, value, path)
            return allowed.get(value.lower(), value)
        if kind == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                raise convert_error(value, "System.Int32", path)
            self._constraints(node, value, path)
        elif kind == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise convert_error(value, "System.Double", path)
        elif kind == "bool" and not isinstance(value, bool):
            raise convert_error(value, "System.Boolean", path)
        return value

    @staticmethod
    def _constraints(node: dict[str, Any], value: Any, path: str) -> None:
        rules = node.get("constraints") or {}
        too_long = "max_length" in rules and len(value) > rules["max_length"]
        too_short = "min_length" in rules and len(value) < rules["min_length"]
        pattern = "pattern" in rules and not re.search(rules["pattern"], str(value))
        above = "maximum" in rules and value > rules["maximum"]
        below = "minimum" in rules and value < rules["minimum"]
        if too_long or too_short or pattern or above or below:
            raise ArmError(
                "InvalidParameter", f"The value of parameter {path} is invalid.", target=path
            )


def op_id(url: str) -> str:
    return url.split("?", 1)[0].rsplit("/", 1)[1]


def join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def convert_error(value: Any, to: str, path: str) -> ArmError:
    """What ARM's JSON deserializer says of a value of the wrong JSON type."""
    return ArmError(
        "InvalidRequestContent",
        "The request content was invalid and could not be deserialized: 'Error converting "
        f"value {json.dumps(value)} to type '{to}'. Path '{path}'.'",
    )


# The documented rules ------------------------------------------------------------------------
@dataclass
class Change:
    """A write as the rules see it: the resource as it would be, and as it was."""

    method: str  # PUT, PATCH or DELETE
    path: str
    kind: str  # lower case, 'microsoft.compute/disks'
    new: dict[str, Any]  # the resource after the write ({} for DELETE)
    old: dict[str, Any] | None
    sent: dict[str, Any]  # the body as sent

    @property
    def props(self) -> dict[str, Any]:
        return self.new.get("properties") or {}

    @property
    def old_props(self) -> dict[str, Any]:
        return (self.old or {}).get("properties") or {}

    @property
    def name(self) -> str:
        return segments(self.path)[-1]


@dataclass(frozen=True)
class Rule:
    name: str
    kinds: tuple[str, ...]  # lower-case resource types; () = every type
    methods: tuple[str, ...]
    check: Callable[[Store, Change], None]  # raises ArmError
    source: str


def vm_size_of(change: Change) -> str:
    return str((change.props.get("hardwareProfile") or {}).get("vmSize") or "")


def is_spot(props: dict[str, Any]) -> bool:
    return str(props.get("priority") or "").lower() in ("spot", "low")


def attached_disks(store: Store, vm_props: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(where, disk resource) for the OS disk and each data disk the VM refers to."""
    storage = vm_props.get("storageProfile") or {}
    out = []
    refs = [("osDisk", storage.get("osDisk") or {})]
    refs += [(f"dataDisks[{i}]", d) for i, d in enumerate(storage.get("dataDisks") or [])]
    for where, ref in refs:
        disk_id = str((ref.get("managedDisk") or {}).get("id") or "").lower()
        if disk_id and disk_id in store.resources:
            out.append((where, store.resources[disk_id]))
    return out


def check_name(store: Store, change: Change) -> None:
    low, high, pattern, words = NAME_RULES[change.kind]
    name = change.name
    if not (low <= len(name) <= high and re.match(pattern, name)):
        raise ArmError(
            "InvalidResourceName",
            f"Resource name {name} is invalid. The name can be {low}-{high} characters long: "
            f"{words}.",
            target=name,
        )


def check_location(store: Store, change: Change) -> None:
    location = str(change.new.get("location") or "")
    if location and location.lower() not in LOCATIONS:
        raise ArmError(
            "LocationNotAvailableForResourceType",
            f"The provided location '{location}' is not available for resource type "
            f"'{resource_type(change.path)}'. List of available regions for the resource type "
            f"is '{','.join(LOCATIONS)}'.",
        )
    if change.old and location and location.lower() != str(change.old.get("location")).lower():
        if change.kind == "microsoft.resources/resourcegroups":
            raise ArmError(
                "InvalidResourceGroupLocation",
                f"Invalid resource group location '{location}'. The Resource group already "
                f"exists in location '{change.old.get('location')}'.",
                409,
            )
        raise ArmError(
            "InvalidResourceLocation",
            f"The resource '{change.name}' already exists in location "
            f"'{change.old.get('location')}' in resource group '{segments(change.path)[3]}'. A "
            f"resource with the same name cannot be created in location '{location}'. Please "
            "select a new resource name.",
            409,
        )


def check_vm_size(store: Store, change: Change) -> None:
    size = vm_size_of(change)
    if size not in VM_SIZES:
        raise ArmError(
            "InvalidParameter",
            f"The requested VM size '{size}' is not valid in location "
            f"'{change.new.get('location')}'. The valid sizes are: {', '.join(VM_SIZES)}.",
            target="vmSize",
        )


def check_premium_storage(store: Store, change: Change) -> None:
    size = VM_SIZES.get(vm_size_of(change), {})
    if size.get("premium", True):
        return
    storage = change.props.get("storageProfile") or {}
    wanted = [
        (storage.get("osDisk") or {}).get("name") or "osDisk",
        ((storage.get("osDisk") or {}).get("managedDisk") or {}).get("storageAccountType"),
    ]
    candidates = [wanted]
    for _where, disk in attached_disks(store, change.props):
        candidates.append([disk["name"], (disk.get("sku") or {}).get("name")])
    for name, sku in candidates:
        if sku in PREMIUM_SKUS:
            raise ArmError(
                "InvalidParameter",
                "Requested operation cannot be performed because the VM size "
                f"{vm_size_of(change)} does not support the storage account type {sku} of disk "
                f"'{name}'. Consider updating the VM to a size that supports Premium storage.",
            )


def check_os_disk(store: Store, change: Change) -> None:
    os_disk = (change.props.get("storageProfile") or {}).get("osDisk") or {}
    size = os_disk.get("diskSizeGB")
    if str(os_disk.get("createOption", "")).lower() != "fromimage" or change.old:
        return
    if size is not None and size < IMAGE_OS_DISK_GB:
        raise ArmError(
            "InvalidParameter",
            f"The specified disk size {size} GB is smaller than the size of the corresponding "
            f"disk in the VM image: {IMAGE_OS_DISK_GB} GB. This is not allowed. Please choose "
            f"equal or greater size or do not specify an explicit size.",
            target="osDisk.diskSizeGB",
        )
    if size is not None and size > OS_DISK_MAX_GB:
        raise ArmError(
            "InvalidParameter",
            f"The specified disk size {size} GB is above the maximum OS disk size, "
            f"{OS_DISK_MAX_GB} GB.",
            target="osDisk.diskSizeGB",
        )
    name = os_disk.get("name") or change.name + "_OsDisk_1"
    disk_id = f"{group_of(change.path)}/providers/microsoft.compute/disks/{name}".lower()
    if disk_id in store.resources:
        raise ArmError(
            "ConflictingUserInput",
            f"Disk {name} already exists in resource group {segments(change.path)[3].upper()}. "
            "Only CreateOption.Attach is supported.",
            409,
            target="/"
            + "/".join(segments(change.path)[:4])
            + f"/providers/Microsoft.Compute/disks/{name}",
        )


def check_data_disks(store: Store, change: Change) -> None:
    vm_id = "/" + "/".join(segments(change.path))
    disks = (change.props.get("storageProfile") or {}).get("dataDisks") or []
    luns = [d.get("lun") for d in disks]
    size = VM_SIZES.get(vm_size_of(change), {})
    if len(disks) > size.get("disks", 64):
        raise ArmError(
            "OperationNotAllowed",
            "The maximum number of data disks allowed to be attached to a VM of this size is "
            f"{size['disks']}.",
            409,
            target="dataDisks",
        )
    for lun in luns:
        if luns.count(lun) > 1:
            raise ArmError(
                "InvalidParameter",
                f"A disk at LUN {lun} already exists.",
                target="dataDisks",
            )
    for i, ref in enumerate(disks):
        disk_id = str((ref.get("managedDisk") or {}).get("id") or "")
        option = str(ref.get("createOption") or "").lower()
        if disk_id and option == "empty":
            raise ArmError(
                "InvalidParameterConflictingProperties",
                "The property 'dataDisk.createOption' cannot have the value 'Empty' when "
                "property 'dataDisk.managedDisk.id' is set.",
            )
        if option != "attach" or not disk_id:
            continue
        disk = store.resources.get(disk_id.lower())
        if disk is None:
            raise ArmError("NotFound", f"Disk {disk_id} was not found.", 404)
        owner = str(disk.get("managedBy") or "")
        if owner and owner.lower() != vm_id.lower():
            raise ArmError(
                "OperationNotAllowed",
                f"Disk '{disk['name']}' is already attached to VM '{owner}'.",
                409,
                target=f"dataDisks[{i}]",
            )
        if str(disk.get("location", "")).lower() != str(change.new.get("location", "")).lower():
            raise ArmError(
                "InvalidParameter",
                f"Disk {disk_id} is in location {disk.get('location')}; a VM in "
                f"{change.new.get('location')} cannot attach it.",
                target=f"dataDisks[{i}].managedDisk.id",
            )
        state = disk["properties"].get("provisioningState")
        if state != "Succeeded":
            raise ArmError(
                "OperationNotAllowed",
                f"Disk {disk['name']} cannot be attached: its provisioning state is {state}.",
                409,
            )


def check_spot(store: Store, change: Change) -> None:
    props = change.props
    size = vm_size_of(change)
    billing = props.get("billingProfile") or {}
    price = billing.get("maxPrice")
    if not is_spot(props):
        if props.get("evictionPolicy"):
            raise ArmError(
                "EvictionPolicyCanBeSetOnlyOnAzureSpotVirtualMachines",
                "Eviction policy can be set only on Azure Spot Virtual Machines.",
            )
        if price is not None:
            raise ArmError(
                "MaxPriceIsSupportedOnlyForAzureSpotVirtualMachines",
                "Max price is supported only for Azure Spot Virtual Machines.",
            )
        return
    if not props.get("evictionPolicy"):
        raise ArmError(
            "InvalidParameter",
            "Required parameter 'evictionPolicy' is missing (null).",
            target="evictionPolicy",
        )
    if not VM_SIZES.get(size, {}).get("spot", True):
        raise ArmError(
            "AzureSpotIsNotSupportedForThisVMSize",
            f"Azure Spot Virtual Machine is not supported for this VM size {size}.",
        )
    if price is not None:
        decimals = max(0, -int(Decimal(repr(float(price))).normalize().as_tuple().exponent))
        if (price != -1 and price <= 0) or decimals > 5:
            raise ArmError(
                "MaxPriceValueInvalid",
                "Invalid max price value. The only supported values for max price are -1 or a "
                "decimal greater than zero. Max price value of -1 indicates the Azure Spot "
                "Virtual Machine will not be evicted for price reasons.",
            )
        current = SPOT_PRICES.get(size, 0.0)
        if price != -1 and price < current:
            raise ArmError(
                "SpotPriceGreaterThanProvidedMaxPrice",
                f"Unable to perform operation 'Create VM' since the provided max price "
                f"'{price} USD' is lower than the current spot price '{current} USD' for Azure "
                f"Spot Virtual Machine size '{size}'.",
                409,
            )
    old_price = (change.old_props.get("billingProfile") or {}).get("maxPrice")
    allocated = change.old_props.get("_power", "running") not in ("deallocated",)
    changed = change.old and price is not None and old_price is not None and price != old_price
    if changed and allocated and change.old_props.get("provisioningState") != "Failed":
        raise ArmError(
            "MaxPriceChangeNotAllowedForAllocatedVMs",
            f"Max price change is not allowed when the VM '{change.name}' is currently "
            "allocated. Deallocate and try again.",
            409,
        )


def check_immutable_vm(store: Store, change: Change) -> None:
    if not change.old:
        return
    old, new = change.old_props, change.props
    was = str(old.get("priority") or "")
    now_ = str(new.get("priority") or "")
    if now_ and not was:
        raise ArmError(
            "VMPriorityCannotBeApplied",
            f"The specified priority value '{now_}' cannot be applied to the Virtual Machine "
            f"'{change.name}' since no priority was specified when the Virtual Machine was "
            "created.",
            409,
        )
    if now_ and was and now_.lower() != was.lower():
        raise ArmError(
            "PropertyChangeNotAllowed",
            "Changing property 'priority' is not allowed.",
            409,
            target="priority",
        )
    for field in ("evictionPolicy",):
        if new.get(field) and old.get(field) and new[field].lower() != old[field].lower():
            raise ArmError(
                "PropertyChangeNotAllowed",
                f"Changing property '{field}' is not allowed.",
                409,
                target=field,
            )
    old_os = (old.get("storageProfile") or {}).get("osDisk") or {}
    new_os = (new.get("storageProfile") or {}).get("osDisk") or {}
    if new_os.get("name") and old_os.get("name") and new_os["name"] != old_os["name"]:
        raise ArmError(
            "PropertyChangeNotAllowed",
            "Changing property 'osDisk.name' is not allowed.",
            409,
            target="osDisk.name",
        )


def quota_usage(store: Store, location: str, exclude: str) -> dict[str, int]:
    used: dict[str, int] = {}
    for key, vm in store.resources.items():
        if resource_type(key).lower() != "microsoft.compute/virtualmachines" or key == exclude:
            continue
        if str(vm.get("location", "")).lower() != location.lower():
            continue
        props = vm.get("properties") or {}
        size = VM_SIZES.get(str((props.get("hardwareProfile") or {}).get("vmSize")), {})
        cores = size.get("cores", 0)
        for name in quota_names(props, size):
            used[name] = used.get(name, 0) + cores
    return used


def quota_names(props: dict[str, Any], size: dict[str, Any]) -> list[str]:
    if is_spot(props):
        return ["lowPriorityCores"]
    return ["cores", size.get("family", "")]


QUOTA_WORDS = {"lowPriorityCores": "LowPriorityCores", "cores": "Total Regional Cores"}


def check_quota(store: Store, change: Change) -> None:
    if change.old:
        return  # an update keeps what the VM holds (a resize is out of scope)
    location = str(change.new.get("location") or "")
    size = VM_SIZES.get(vm_size_of(change), {})
    need = size.get("cores", 0)
    used = quota_usage(store, location, change.path.rstrip("/").lower())
    limits = store.config.get("quota") or {}
    for name in quota_names(change.props, size):
        limit = int(limits.get(name, QUOTA_DEFAULT))
        usage = used.get(name, 0)
        if usage + need > limit:
            words = QUOTA_WORDS.get(name, f"{name} Cores")
            raise ArmError(
                "OperationNotAllowed",
                f"Operation could not be completed as it results in exceeding approved {words} "
                f"quota. Additional details - Deployment Model: Resource Manager, Location: "
                f"{location}, Current Limit: {limit}, Current Usage: {usage}, Additional "
                f"Required: {need}, (Minimum) New Limit Required: {usage + need}. Submit a "
                "request for Quota increase at https://aka.ms/ProdportalCRP/#blade/"
                "Microsoft_Azure_Capacity/UsageAndQuota.ReactView by specifying parameters "
                "listed in the 'Details' section for deployment to succeed. Please read more "
                "about quota limits at https://docs.microsoft.com/en-us/azure/azure-portal/"
                "supportability/per-vm-quota-requests",
                409,
            )


def disk_sku(resource: dict[str, Any]) -> str:
    return str((resource.get("sku") or {}).get("name") or "Standard_LRS")


def check_disk_size(store: Store, change: Change) -> None:
    props = change.props
    sku = disk_sku(change.new)
    data = props.get("creationData") or {}
    option = str(data.get("createOption") or "").lower()
    size = props.get("diskSizeGB")
    if option == "empty" and size is None and not change.old:
        raise ArmError(
            "InvalidParameter",
            "Required parameter 'diskSizeGB' is missing (null).",
            target="diskSizeGB",
        )
    if size is None:
        return
    low, high = DISK_SIZE_GB.get(sku, (1, 32767))
    if not low <= size <= high:
        raise ArmError(
            "InvalidParameter",
            f"Disk size {size} GB is invalid for storage account type {sku}: it must be "
            f"between {low} and {high} GB.",
            target="diskSizeGB",
        )
    old_size = change.old_props.get("diskSizeGB")
    if old_size is not None and size < old_size:
        raise ArmError(
            "BadRequest",
            f"Disk size reduction is not supported. Current size is {old_size} GB, requested "
            f"size is {size} GB.",
            target="diskSizeGB",
        )
    source = store.resources.get(str(data.get("sourceResourceId") or "").lower())
    if source is not None and not change.old:
        source_size = (source.get("properties") or {}).get("diskSizeGB") or 0
        if size < source_size:
            raise ArmError(
                "BadRequest",
                f"The specified disk size {size} GB is smaller than the size of the source "
                f"{source['name']}, {source_size} GB.",
                target="diskSizeGB",
            )


def check_copy_source(store: Store, change: Change) -> None:
    data = change.props.get("creationData") or {}
    if change.old or str(data.get("createOption") or "").lower() != "copy":
        return
    source_id = str(data.get("sourceResourceId") or "")
    source = store.resources.get(source_id.lower())
    if source is None:
        raise ArmError("NotFound", f"Resource {source_id} not found.", 404)
    props = source.get("properties") or {}
    if props.get("provisioningState") != "Succeeded":
        raise ArmError(
            "OperationNotAllowed",
            f"The source {source['name']} is in provisioning state "
            f"{props.get('provisioningState')}; it can be copied once it has Succeeded.",
            409,
        )
    if "completionPercent" in props and float(props["completionPercent"]) < 100:
        raise ArmError(
            "OperationNotAllowed",
            f"Snapshot {source['name']} cannot be used yet: its background copy is at "
            f"{props['completionPercent']} %.",
            409,
        )
    if str(source.get("location", "")).lower() != str(change.new.get("location", "")).lower():
        raise ArmError(
            "InvalidParameter",
            f"The source {source_id} is in location {source.get('location')}; a copy in "
            f"{change.new.get('location')} cannot be made from it (use CopyStart).",
            target="creationData.sourceResourceId",
        )


def check_incremental(store: Store, change: Change) -> None:
    if not change.old:
        return
    was, now_ = change.old_props.get("incremental"), change.props.get("incremental")
    if now_ is not None and was is not None and bool(now_) != bool(was):
        raise ArmError(
            "PropertyChangeNotAllowed",
            "Changing property 'incremental' is not allowed.",
            409,
            target="incremental",
        )


def check_disk_delete(store: Store, change: Change) -> None:
    disk = change.old or {}
    if disk.get("managedBy"):
        raise ArmError(
            "OperationNotAllowed",
            f"Disk {disk['name']} is attached to VM {disk['managedBy']}.",
            409,
        )


def check_attached_disk_update(store: Store, change: Change) -> None:
    if not change.old or not change.old.get("managedBy"):
        return
    vm = store.resources.get(str(change.old["managedBy"]).lower()) or {}
    running = (vm.get("properties") or {}).get("_power", "running") == "running"
    if not running:
        return
    old_sku, new_sku = disk_sku(change.old), disk_sku(change.new)
    if old_sku != new_sku:
        raise ArmError(
            "OperationNotAllowed",
            f"Disk {change.name} is attached to a running VM: its storage type can be changed "
            "only while the VM is deallocated.",
            409,
        )


def check_nsg_rules(store: Store, change: Change) -> None:
    for rule in change.props.get("securityRules") or []:
        priority = (rule.get("properties") or {}).get("priority")
        if priority is not None and not 100 <= priority <= 4096:
            raise ArmError(
                "SecurityRuleInvalidPriority",
                f"Security rule {rule.get('name')} has invalid Priority. Value provided: "
                f"{priority} Allowed range 100-4096.",
            )


def check_subnet_range(store: Store, change: Change) -> None:
    import ipaddress

    vnet = store.resources.get("/".join(change.path.rstrip("/").lower().split("/")[:-2]))
    prefixes = ((vnet or {}).get("properties") or {}).get("addressSpace", {}).get(
        "addressPrefixes"
    ) or []
    wanted = change.props.get("addressPrefix")
    if vnet is None or not wanted:
        return
    subnet = ipaddress.ip_network(wanted, strict=False)
    if not any(subnet.subnet_of(ipaddress.ip_network(p, strict=False)) for p in prefixes):
        raise ArmError(
            "NetcfgSubnetRangeOutsideVnet",
            f"Subnet '{change.name}' is not valid because its IP address range is outside the "
            f"IP address range of virtual network '{vnet['name']}'.",
        )


def check_references(store: Store, change: Change) -> None:
    """A NIC's subnet and public IP, a VM's NICs: they must exist."""
    refs: list[str] = []
    if change.kind == "microsoft.network/networkinterfaces":
        for ipc in change.props.get("ipConfigurations") or []:
            p = ipc.get("properties") or {}
            refs += [str((p.get(k) or {}).get("id") or "") for k in ("subnet", "publicIPAddress")]
        refs.append(str((change.props.get("networkSecurityGroup") or {}).get("id") or ""))
    else:
        for nic in (change.props.get("networkProfile") or {}).get("networkInterfaces") or []:
            refs.append(str(nic.get("id") or ""))
    for ref in filter(None, refs):
        if ref.lower() not in store.resources:
            raise ArmError(
                "InvalidResourceReference",
                f"Resource {ref} referenced by resource {change.path} was not found. Please "
                "make sure that the referenced resource exists, and that both resources are "
                "in the same region.",
            )


def check_in_use(store: Store, change: Change) -> None:
    """A NIC a VM uses, a public IP a NIC uses: not deleted."""
    props = (change.old or {}).get("properties") or {}
    if change.kind == "microsoft.network/networkinterfaces" and props.get("virtualMachine"):
        raise ArmError(
            "NicInUse",
            f"Network Interface {change.path} is used by existing resource "
            f"{props['virtualMachine']['id']}. In order to delete the network interface, it "
            "must be dissociated from the resource.",
        )
    if change.kind == "microsoft.network/publicipaddresses" and props.get("ipConfiguration"):
        raise ArmError(
            "PublicIPAddressCannotBeDeleted",
            f"Public IP address {change.path} can not be deleted since it is still allocated "
            f"to resource {props['ipConfiguration']['id']}.",
        )


def check_busy(store: Store, change: Change) -> None:
    state = change.old_props.get("provisioningState")
    if change.old is not None and state not in ("Succeeded", "Failed", "Canceled", None):
        raise ArmError(
            "OperationNotAllowed",
            f"Operation on '{change.path}' is not allowed while another operation is in "
            f"progress (provisioning state {state}).",
            409,
        )


VM = ("microsoft.compute/virtualmachines",)
DISK = ("microsoft.compute/disks",)
SNAPSHOT = ("microsoft.compute/snapshots",)
WRITE = ("PUT", "PATCH")
DOCS = "learn.microsoft.com/azure/"
RULES: list[Rule] = [
    Rule("name", tuple(NAME_RULES), ("PUT",), check_name,
         DOCS + "azure-resource-manager/management/resource-name-rules"),
    Rule("location", (), WRITE, check_location,
         DOCS + "azure-resource-manager/troubleshooting/error-sku-not-available; ARM's "
         "InvalidResourceGroupLocation / InvalidResourceLocation"),
    Rule("busy", (), (*WRITE, "DELETE"), check_busy,
         DOCS + "azure-resource-manager/management/async-operations (one operation at a "
         "time on a resource; the double refuses the second with 409)"),
    Rule("vm-size", VM, WRITE, check_vm_size,
         DOCS + "virtual-machines/sizes; the compute RP's InvalidParameter (target vmSize)"),
    Rule("premium-storage", VM, WRITE, check_premium_storage,
         "InvalidParameter 'does not support the storage account type Premium_LRS' "
         "(google/cloud-forensics-utils#488, MicrosoftLearning/20533-...#345)"),
    Rule("os-disk", VM, ("PUT",), check_os_disk,
         "ConflictingUserInput 'Disk X already exists in resource group Y. Only "
         "CreateOption.Attach is supported.' (hashicorp/terraform-provider-azurerm#15513); "
         "OS disk sizes: " + DOCS + "virtual-machines/linux/expand-disks"),
    Rule("data-disks", VM, WRITE, check_data_disks,
         DOCS + "virtual-machines/managed-disks-overview (a disk attaches to one VM, in its "
         "location); InvalidParameterConflictingProperties (kubernetes-sigs/"
         "azuredisk-csi-driver#254); maxDataDiskCount per size"),
    Rule("immutable", VM, WRITE, check_immutable_vm,
         "PropertyChangeNotAllowed (hashicorp/terraform-provider-azurerm#592); "
         "VMPriorityCannotBeApplied (" + DOCS + "virtual-machines/error-codes-spot)"),
    Rule("spot", VM, WRITE, check_spot,
         DOCS + "virtual-machines/error-codes-spot and spot-vms (max price -1 or > 0, five "
         "decimals; no Promo sizes); evictionPolicy required with Spot: the stricter reading "
         "of the SDK's VirtualMachine.eviction_policy"),
    Rule("quota", VM, ("PUT",), check_quota,
         "OperationNotAllowed '... exceeding approved LowPriorityCores quota' "
         "(scylladb/scylla-cluster-tests#4994, Azure/karpenter-provider-azure#91); "
         + DOCS + "virtual-machines/spot-vms (FAQ: Spot's separate quota pool)"),
    Rule("disk-size", DISK, WRITE, check_disk_size,
         DOCS + "virtual-machines/disks-types; " + DOCS + "virtual-machines/linux/"
         "expand-disks (a disk grows, never shrinks)"),
    Rule("copy-source", DISK + SNAPSHOT, ("PUT",), check_copy_source,
         DOCS + "virtual-machines/disks-incremental-snapshots (a snapshot is usable once its "
         "background copy is done; copies across regions need CopyStart)"),
    Rule("incremental", SNAPSHOT, WRITE, check_incremental,
         DOCS + "virtual-machines/disks-incremental-snapshots"),
    Rule("disk-delete-attached", DISK, ("DELETE",), check_disk_delete,
         DOCS + "virtual-machines/windows/detach-disk (detach before deleting)"),
    Rule("disk-update-attached", DISK, WRITE, check_attached_disk_update,
         DOCS + "virtual-machines/disks-convert-types (deallocate the VM first)"),
    Rule("nsg-priority", ("microsoft.network/networksecuritygroups",), WRITE, check_nsg_rules,
         DOCS + "virtual-network/network-security-groups-overview (priority 100-4096)"),
    Rule("subnet-range", ("microsoft.network/virtualnetworks/subnets",), WRITE,
         check_subnet_range, DOCS + "virtual-network/virtual-network-manage-subnet"),
    Rule("references", ("microsoft.network/networkinterfaces", *VM), WRITE, check_references,
         "ARM's InvalidResourceReference"),
    Rule("in-use", ("microsoft.network/networkinterfaces", "microsoft.network/publicipaddresses"),
         ("DELETE",), check_in_use,
         DOCS + "virtual-network/virtual-network-network-interface (NicInUse); "
         "virtual-network/ip-services/virtual-network-public-ip-address"),
]  # fmt: skip


def apply_rules(store: Store, change: Change) -> None:
    for rule in RULES:
        if change.method not in rule.methods:
            continue
        if rule.kinds and change.kind not in rule.kinds:
            continue
        rule.check(store, change)


class Store:
    """The subscription's resources (lower-case id -> resource), operations, journal."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.schema = Schema()
        self.reset()

    def reset(self) -> None:
        self.resources: dict[str, dict[str, Any]] = {}
        self.operations: dict[str, dict[str, Any]] = {}
        self.journal: list[dict[str, Any]] = []
        self.faults: list[dict[str, Any]] = []
        self.config: dict[str, Any] = copy.deepcopy(DEFAULT_CONFIG)
        self.addresses = itertools.count(10)

    # Faults -------------------------------------------------------------------------------
    def fault_for(self, method: str, rid: str, body: Any) -> dict[str, Any] | None:
        for fault in self.faults:
            if fault.get("method", method).upper() != method:
                continue
            if fault.get("type", resource_type(rid)).lower() != resource_type(rid).lower():
                continue
            match = fault.get("match") or {}
            if any(str(dig(body, k)) != str(v) for k, v in match.items()):
                continue
            times = fault.get("times")
            if times is not None:
                if times <= 0:
                    continue
                fault["times"] = times - 1
            return expand_fault(fault, rid, body)
        return None

    @staticmethod
    def refusal(fault: dict[str, Any] | None) -> ArmError | None:
        if fault is None or "code" not in fault or fault.get("via") == "operation":
            return None
        return ArmError(fault["code"], fault.get("message", ""), int(fault.get("status", 409)))

    # Long-running operations -------------------------------------------------------------
    def start_operation(self, base: str, finish: dict[str, Any]) -> str:
        op = uuid.uuid4().hex
        self.operations[op] = {"polls": 0, "started": time.monotonic(), **finish}
        sub = SUBSCRIPTION
        return (
            f"{base}/subscriptions/{sub}/providers/Microsoft.Compute/locations/x/operations/{op}"
            "?api-version=2024-07-01"
        )

    def poll_operation(self, op: str) -> dict[str, Any]:
        record = self.operations.get(op)
        if record is None:
            raise ArmError("OperationNotFound", f"no operation {op}", 404)
        record["polls"] += 1
        if not record.get("done") and record["polls"] >= int(self.config["lro_polls"]):
            self.finish(record)
        status = {"name": op, "status": "InProgress", "startTime": now()}
        if record.get("done"):
            status.update(status="Succeeded", endTime=now())
            if record.get("error"):
                status.update(status="Failed", error=record["error"])
        return status

    def settle(self) -> None:
        """Operations go on without a poll: those started SETTLE_SECONDS ago are done."""
        limit = time.monotonic() - SETTLE_SECONDS
        for record in self.operations.values():
            if not record.get("done") and record["started"] <= limit:
                self.finish(record)

    def advance(self, key: str) -> None:
        """A read of a resource is a look at how its operation is doing."""
        for record in self.operations.values():
            if record.get("key") == key and not record.get("done"):
                record["polls"] += 1
                if record["polls"] >= int(self.config["lro_polls"]):
                    self.finish(record)

    def finish(self, record: dict[str, Any]) -> None:
        record["done"] = True
        if record["kind"] == "put":
            resource = self.resources.get(record["key"])
            if resource is not None:
                failed = bool(record.get("error"))
                resource["properties"]["provisioningState"] = "Failed" if failed else "Succeeded"
        elif record["kind"] == "delete":
            self.delete_now(record["key"])

    # Reads --------------------------------------------------------------------------------
    def view(self, resource: dict[str, Any], expand: str = "") -> dict[str, Any]:
        out = copy.deepcopy(resource)
        props = out.setdefault("properties", {})
        power = props.pop("_power", None)
        props.pop("_copy_reads", None)
        if power and "instanceview" in expand.lower():
            props["instanceView"] = instance_view(power, props.get("provisioningState"))
        return out

    def read(self, key: str) -> dict[str, Any]:
        self.advance(key)
        resource = self.resources[key]
        props = resource["properties"]
        if "_copy_reads" in props:
            props["_copy_reads"] -= 1
            if props["_copy_reads"] <= 0:
                props.pop("_copy_reads")
                props["completionPercent"] = 100.0
        return resource

    def get(self, path: str, query: dict[str, str]) -> tuple[int, Any]:
        key = path.rstrip("/").lower()
        special = self.special_get(path, key)
        if special is not None:
            return 200, special
        if key in self.resources:
            return 200, self.view(self.read(key), query.get("$expand", ""))
        if key.endswith("/instanceview") and key[: -len("/instanceview")] in self.resources:
            vm = self.read(key[: -len("/instanceview")])
            props = vm["properties"]
            return 200, instance_view(props.get("_power", "running"), props["provisioningState"])
        if key.endswith("/resources") and key[: -len("/resources")] in self.resources:
            group = key[: -len("/resources")]
            inside = [k for k in self.resources if k.startswith(group + "/providers/")]
            return 200, {"value": [self.view(self.read(k)) for k in inside]}
        if is_collection(path):
            return 200, {"value": [self.view(self.read(k)) for k in self.collection(key)]}
        if is_resource(path):
            if "/providers/" in key:
                raise ArmError("ResourceNotFound", f"The Resource '{path}' was not found.", 404)
            raise ArmError(
                "ResourceGroupNotFound",
                f"Resource group '{segments(path)[3]}' could not be found.",
                404,
            )
        raise ArmError("InvalidResourceType", f"azure_arm double: no GET for {path}", 404)

    def collection(self, key: str) -> list[str]:
        segs = segments(key)
        if len(segs) == 3 and segs[2] == "resourcegroups":
            return [k for k in self.resources if len(segments(k)) == 4]
        i = provider_index(segs)
        assert i is not None
        wanted = (segs[i + 1] + "/" + "/".join(segs[i + 2 :][0::2])).lower()
        scope = "/".join(segs[:i]).lower()
        return [
            k
            for k in list(self.resources)
            if resource_type(k).lower() == wanted
            and k.startswith("/" + scope + "/")
            and len(segments(k)) == len(segs) + 1
        ]

    def special_get(self, path: str, key: str) -> Any:
        segs = segments(key)
        if len(segs) == 2 and segs[0] == "subscriptions":
            return {
                "id": f"/subscriptions/{segs[1]}",
                "subscriptionId": segs[1],
                "tenantId": TENANT,
                "displayName": "mlbox test subscription",
                "state": "Enabled",
            }
        if len(segs) == 3 and segs[2] == "locations":
            return {
                "value": [
                    {
                        "id": f"/subscriptions/{segs[1]}/locations/{name}",
                        "name": name,
                        "displayName": display,
                        "regionalDisplayName": display,
                        "metadata": {"regionType": "Physical"},
                    }
                    for name, display in LOCATIONS.items()
                ]
            }
        m = re.match(
            r"^/subscriptions/[^/]+/providers/microsoft\.compute/locations/([^/]+)/(.+)$", key
        )
        if not m:
            return None
        location, tail = m.group(1), m.group(2)
        if location not in LOCATIONS:
            raise ArmError(
                "NoRegisteredProviderFound",
                f"No registered resource provider found for location '{location}'.",
                400,
            )
        if tail == "vmsizes":
            return {
                "value": [
                    {
                        "name": name,
                        "numberOfCores": spec["cores"],
                        "memoryInMB": spec["memory"],
                        "maxDataDiskCount": spec["disks"],
                        "osDiskSizeInMB": 1047552,
                        "resourceDiskSizeInMB": 16384,
                    }
                    for name, spec in VM_SIZES.items()
                ]
            }
        original = segments(path)
        if tail.endswith("/versions"):
            return [{"name": "1.0.0", "location": location, "id": path.rstrip("/") + "/1.0.0"}]
        if "/versions/" in tail:
            return {
                "name": original[-1],
                "location": location,
                "id": path,
                "properties": {
                    "osDiskImage": {"operatingSystem": "Linux"},
                    "hyperVGeneration": "V2",
                    "dataDiskImages": [],
                },
            }
        return None

    # Writes -------------------------------------------------------------------------------
    def put(
        self, path: str, body: dict[str, Any], patch: bool, base: str, version: str = ""
    ) -> tuple[int, Any, dict]:
        if not is_resource(path):
            raise ArmError("InvalidResourceType", f"azure_arm double: not a resource: {path}")
        key = path.rstrip("/").lower()
        segs = segments(path)
        kind = resource_type(path).lower()
        method = "PATCH" if patch else "PUT"
        model = self.schema.model_for(kind, version, method)
        if model is not None:
            body = self.schema.check(model, body)
        if len(segs) > 4 and group_of(path) not in self.resources:
            raise ArmError(
                "ResourceGroupNotFound", f"Resource group '{segs[3]}' could not be found.", 404
            )
        fault = self.fault_for(method, path, body)
        refusal = self.refusal(fault)
        if refusal:
            raise refusal
        old = self.resources.get(key)
        sent = body
        if patch:
            if old is None:
                raise ArmError("ResourceNotFound", f"The Resource '{path}' was not found.", 404)
            merged = copy.deepcopy(old)
            merged["properties"].update(body.get("properties") or {})
            for field in ("tags", "sku", "zones", "managedBy"):
                if field in body:
                    merged[field] = body[field]
            body = merged
        resource = copy.deepcopy(body)
        resource["id"] = "/".join(["", *segs])
        resource["name"] = segs[-1]
        resource["type"] = resource_type(path)
        props = resource.setdefault("properties", {})
        if kind == "microsoft.compute/virtualmachines" and old is not None:
            # What a PUT leaves out, a VM keeps (the compute RP merges its properties): a
            # PUT without priority on a Spot VM updates that Spot VM.
            for field in ("priority", "evictionPolicy", "billingProfile"):
                if field not in props and field in old["properties"]:
                    props[field] = copy.deepcopy(old["properties"][field])
        if old is not None and "_power" in old.get("properties", {}):
            props["_power"] = old["properties"]["_power"]
        apply_rules(self, Change(method, path, kind, resource, old, sent))
        self.complete(kind, resource, old)
        if (fault or {}).get("outcome") == "stuck" and "_copy_reads" in props:
            props["_copy_reads"] = NEVER
        long_running = kind in ASYNC_TYPES
        props["provisioningState"] = (
            ("Updating" if old else "Creating") if long_running else "Succeeded"
        )
        self.resources[key] = resource
        if not long_running:
            return (200 if old else 201), self.view(resource), {}
        error = None
        if (fault or {}).get("outcome") == "Failed":
            error = {
                "code": "InternalOperationError",
                "message": "The operation failed: azure_arm double, outcome Failed.",
            }
        elif (fault or {}).get("via") == "operation":
            error = {"code": fault["code"], "message": fault["message"]}
        record = {"kind": "put", "key": key, "error": error}
        url = self.start_operation(base, record)
        if int(self.config["lro_polls"]) <= 0:  # opt-in: the operation is done at once
            self.finish(self.operations[op_id(url)])
        headers = {"Azure-AsyncOperation": url, "Retry-After": RETRY_AFTER}
        # Azure: a new VM is 201, a disk or snapshot 202 (Location too), updates 200.
        if kind == "microsoft.compute/virtualmachines":
            return (200 if old else 201), self.view(resource), headers
        headers["Location"] = url
        return 202, self.view(resource), headers

    def complete(self, kind: str, resource: dict[str, Any], old: dict[str, Any] | None) -> None:
        """What Azure adds to a resource it creates, and the links it keeps between them."""
        props = resource["properties"]
        rid = resource["id"]
        old_props = (old or {}).get("properties", {})
        for value in props.values():  # embedded named children get ids
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, dict) and item.get("name") and not item.get("id"):
                        listing = next(k for k, v in props.items() if v is value)
                        item["id"] = f"{rid}/{listing}/{item['name']}"
                        item.setdefault("properties", {})["provisioningState"] = "Succeeded"
        if kind == "microsoft.resources/resourcegroups":
            resource.pop("type", None)
            resource["type"] = "Microsoft.Resources/resourceGroups"
        elif kind == "microsoft.network/publicipaddresses":
            props.setdefault(
                "ipAddress", old_props.get("ipAddress") or f"198.51.100.{next(self.addresses)}"
            )
            if old_props.get("ipConfiguration"):
                props["ipConfiguration"] = old_props["ipConfiguration"]
        elif kind == "microsoft.network/networkinterfaces":
            props.setdefault("macAddress", "00-0D-3A-00-00-01")
            props.setdefault("primary", True)
            props.setdefault("enableAcceleratedNetworking", False)
            props.setdefault("enableIPForwarding", False)
            props.setdefault("dnsSettings", {"dnsServers": [], "appliedDnsServers": []})
            for ipc in props.get("ipConfigurations", []):
                ipp = ipc.setdefault("properties", {})
                ipp.setdefault("privateIPAddress", f"10.0.0.{next(self.addresses)}")
                ipp.setdefault("privateIPAllocationMethod", "Dynamic")
                pip = self.resources.get(
                    str((ipp.get("publicIPAddress") or {}).get("id", "")).lower()
                )
                if pip is not None:
                    pip["properties"]["ipConfiguration"] = {"id": ipc["id"]}
            if old_props.get("virtualMachine"):
                props["virtualMachine"] = old_props["virtualMachine"]
        elif kind == "microsoft.compute/disks":
            self.complete_copy(props)
            props.setdefault("diskState", old_props.get("diskState", "Unattached"))
            props.setdefault("timeCreated", old_props.get("timeCreated") or now())
            props.setdefault("uniqueId", old_props.get("uniqueId") or str(uuid.uuid4()))
            props.setdefault("diskSizeBytes", int(props.get("diskSizeGB") or 0) * 2**30)
            if old and old.get("managedBy") and "managedBy" not in resource:
                resource["managedBy"] = old["managedBy"]
        elif kind == "microsoft.compute/snapshots":
            self.complete_copy(props)
            props.setdefault("timeCreated", old_props.get("timeCreated") or now())
            props.setdefault("diskState", "Unattached")
            props.setdefault("uniqueId", old_props.get("uniqueId") or str(uuid.uuid4()))
            if props.get("incremental") and old is None:
                props["completionPercent"] = 0.0
                props["_copy_reads"] = int(self.config.get("snapshot_copy_polls", 1))
            elif old is not None:
                for k in ("completionPercent", "_copy_reads"):
                    if k in old_props:
                        props[k] = old_props[k]
        elif kind == "microsoft.compute/virtualmachines":
            self.complete_vm(resource, old)

    def complete_copy(self, props: dict[str, Any]) -> dict[str, Any] | None:
        data = props.get("creationData") or {}
        source_id = data.get("sourceResourceId") or data.get("sourceUri") or ""
        if not source_id:
            return {}
        source = self.resources.get(str(source_id).lower())
        if source is None:
            raise ArmError("NotFound", f"Resource {source_id} not found.", 404)
        if not props.get("diskSizeGB"):
            props["diskSizeGB"] = source["properties"].get("diskSizeGB")
        return source

    def complete_vm(self, vm: dict[str, Any], old: dict[str, Any] | None) -> None:
        rid, props = vm["id"], vm["properties"]
        old_props = (old or {}).get("properties", {})
        props.setdefault("vmId", old_props.get("vmId") or str(uuid.uuid4()))
        props["_power"] = old_props.get("_power", "running")
        storage = props.setdefault("storageProfile", {})
        os_disk = storage.setdefault("osDisk", {})
        os_disk.setdefault("osType", "Linux")
        os_disk.setdefault("deleteOption", "Detach")
        group = "/".join(segments(rid)[:4])
        if os_disk.get("createOption", "").lower() == "fromimage":
            name = os_disk.get("name") or vm["name"] + "_OsDisk_1"
            disk_id = f"/{group}/providers/Microsoft.Compute/disks/{name}"
            os_disk["name"] = name
            os_disk.setdefault("managedDisk", {})["id"] = disk_id
            if disk_id.lower() not in self.resources:
                self.resources[disk_id.lower()] = {
                    "id": disk_id,
                    "name": name,
                    "type": "Microsoft.Compute/disks",
                    "location": vm.get("location"),
                    "sku": {
                        "name": (os_disk.get("managedDisk") or {}).get("storageAccountType")
                        or "StandardSSD_LRS"
                    },
                    "properties": {
                        "diskSizeGB": os_disk.get("diskSizeGB") or IMAGE_OS_DISK_GB,
                        "provisioningState": "Succeeded",
                        "timeCreated": now(),
                        "osType": "Linux",
                        "creationData": {"createOption": "FromImage"},
                    },
                }
            self.bind(disk_id.lower(), rid)
        attached = {str((os_disk.get("managedDisk") or {}).get("id", "")).lower()}
        for data_disk in storage.get("dataDisks", []):
            disk_id = str((data_disk.get("managedDisk") or {}).get("id") or "")
            disk = self.resources.get(disk_id.lower())
            if disk is None:
                continue
            data_disk.setdefault("name", disk["name"])
            data_disk.setdefault("diskSizeGB", disk["properties"].get("diskSizeGB"))
            data_disk.setdefault("toBeDetached", False)
            data_disk.setdefault("deleteOption", "Detach")
            data_disk["managedDisk"].setdefault(
                "storageAccountType", (disk.get("sku") or {}).get("name")
            )
            self.bind(disk_id.lower(), rid)
            attached.add(disk_id.lower())
        for key, disk in self.resources.items():  # the disks taken off the VM
            if (disk.get("managedBy") or "").lower() == rid.lower() and key not in attached:
                self.unbind(key)
        for nic_ref in (props.get("networkProfile") or {}).get("networkInterfaces", []):
            nic = self.resources.get(str(nic_ref.get("id", "")).lower())
            if nic is not None:
                nic["properties"]["virtualMachine"] = {"id": rid}

    def bind(self, disk_key: str, vm_id: str) -> None:
        disk = self.resources[disk_key]
        disk["managedBy"] = vm_id
        disk["properties"]["diskState"] = "Attached"

    def unbind(self, disk_key: str) -> None:
        disk = self.resources[disk_key]
        disk.pop("managedBy", None)
        disk["properties"]["diskState"] = "Unattached"

    def delete(self, path: str, base: str) -> tuple[int, Any, dict]:
        key = path.rstrip("/").lower()
        refusal = self.refusal(self.fault_for("DELETE", path, {}))
        if refusal:
            raise refusal
        resource = self.resources.get(key)
        if resource is None:
            return 204, None, {}
        kind = resource_type(key).lower()
        apply_rules(self, Change("DELETE", path, kind, {}, resource, {}))
        if kind in ASYNC_TYPES or kind == "microsoft.resources/resourcegroups":
            resource["properties"]["provisioningState"] = "Deleting"
            url = self.start_operation(base, {"kind": "delete", "key": key})
            if int(self.config["lro_polls"]) <= 0:
                self.finish(self.operations[op_id(url)])
            return 202, None, {"Azure-AsyncOperation": url, "Location": url,
                               "Retry-After": RETRY_AFTER}  # fmt: skip
        self.delete_now(key)
        return 200, None, {}

    def delete_now(self, key: str, with_disks: bool = False) -> None:
        """Gone, with what is inside it; a VM's disks as their deleteOption says (all of
        them when with_disks: an eviction under evictionPolicy Delete)."""
        resource = self.resources.pop(key, None)
        if resource is None:
            return
        for inner in [k for k in self.resources if k.startswith(key + "/")]:
            self.resources.pop(inner)
        kind = resource_type(key).lower()
        if kind == "microsoft.compute/virtualmachines":
            storage = resource["properties"].get("storageProfile") or {}
            options = {
                str((d.get("managedDisk") or {}).get("id") or "").lower(): d.get("deleteOption")
                for d in [storage.get("osDisk") or {}, *(storage.get("dataDisks") or [])]
            }
            for disk_key, disk in list(self.resources.items()):
                if (disk.get("managedBy") or "").lower() != key:
                    continue
                self.unbind(disk_key)
                if with_disks or str(options.get(disk_key) or "").lower() == "delete":
                    self.resources.pop(disk_key)
            for nic in self.resources.values():
                if (nic.get("properties", {}).get("virtualMachine") or {}).get(
                    "id", ""
                ).lower() == key:
                    nic["properties"].pop("virtualMachine")
        if kind == "microsoft.network/networkinterfaces":
            for ipc in resource["properties"].get("ipConfigurations") or []:
                ref = ((ipc.get("properties") or {}).get("publicIPAddress") or {}).get("id")
                pip = self.resources.get(str(ref or "").lower())
                if pip is not None:
                    pip["properties"].pop("ipConfiguration", None)

    def evict(self, vm_id: str) -> dict[str, Any]:
        """Azure takes a Spot VM's capacity back: spot-vms.md, Eviction policy. Deallocate
        stops it (deallocated, its disks kept); Delete deletes it "together with their
        underlying disks" (the documented words; whether data disks set to Detach survive is
        not said, so the double takes them all: the stricter reading)."""
        key = vm_id.rstrip("/").lower()
        vm = self.resources.get(key)
        if vm is None or not is_spot(vm["properties"]):
            raise ArmError("OperationNotAllowed", f"{vm_id} is not a Spot VM of this double.")
        policy = str(vm["properties"].get("evictionPolicy") or "Deallocate")
        if policy.lower() == "delete":
            self.delete_now(key, with_disks=True)
        else:
            vm["properties"]["_power"] = "deallocated"
        return {"id": vm["id"], "evictionPolicy": policy}

    def post(self, path: str) -> tuple[int, Any, dict]:
        key = path.rstrip("/").lower()
        parent, action = key.rsplit("/", 1)
        resource = self.resources.get(parent)
        if resource is None:
            raise ArmError("ResourceNotFound", f"The Resource '{path}' was not found.", 404)
        power = {
            "poweroff": "stopped",
            "deallocate": "deallocated",
            "start": "running",
            "restart": "running",
        }
        if action in power:
            resource["properties"]["_power"] = power[action]
            return 200, None, {}
        if action == "instanceview":
            props = resource["properties"]
            view = instance_view(props.get("_power", "running"), props["provisioningState"])
            return 200, view, {}
        raise ArmError("InvalidResourceType", f"azure_arm double: no POST {action}")


def instance_view(power: str, state: str = "Succeeded") -> dict[str, Any]:
    return {
        "statuses": [
            {
                "code": f"ProvisioningState/{state.lower()}",
                "level": "Error" if state == "Failed" else "Info",
                "displayStatus": f"Provisioning {state.lower()}",
            },
            {"code": f"PowerState/{power}", "level": "Info", "displayStatus": f"VM {power}"},
        ]
    }


def openid_configuration(base: str, tenant: str) -> dict[str, Any]:
    root = f"{base}/{tenant}"
    return {
        "token_endpoint": f"{root}/oauth2/v2.0/token",
        "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
        "device_authorization_endpoint": f"{root}/oauth2/v2.0/devicecode",
        "issuer": f"https://login.microsoftonline.com/{tenant}/v2.0",
        "jwks_uri": f"{root}/discovery/v2.0/keys",
        "token_endpoint_auth_methods_supported": [
            "client_secret_post",
            "private_key_jwt",
            "client_secret_basic",
        ],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "tenant_region_scope": "EU",
    }


STORE = Store()
TLS: ssl.SSLContext | None = None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    tunnel_host = ""

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without this, Nagle and the client's
        # delayed ACK hold every answer back ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_CONNECT(self) -> None:
        """HTTPS_PROXY: accept the tunnel, terminate its TLS, serve what comes through it."""
        assert TLS is not None
        self.tunnel_host = self.path.split(":", 1)[0]
        self.send_response(200, "Connection established")
        self.end_headers()
        self.wfile.flush()
        self.connection = TLS.wrap_socket(self.connection, server_side=True)
        self.rfile = self.connection.makefile("rb", self.rbufsize)
        self.wfile = self.connection.makefile("wb", 0)
        self.close_connection = False
        while not self.close_connection:
            self.handle_one_request()

    def _serve(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not self.tunnel_host and url.path.startswith(CONTROL_PREFIX):
            self.control(url.path, raw)
            return
        host = self.tunnel_host or (url.hostname or "")
        base = f"https://{host}"
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        body: Any = None
        status, out, headers = 500, None, {}
        try:
            if host.startswith("management."):
                body = json.loads(raw) if raw.strip() else {}
            with STORE.lock:
                STORE.settle()
                status, out, headers = self.route(host, url.path, query, body, base)
        except ArmError as exc:
            status, out = exc.status, exc.body()
        except json.JSONDecodeError as exc:
            status, out = 400, ArmError("InvalidRequestContent", str(exc)).body()
        if host.startswith(("management.", "login.")):
            with STORE.lock:
                STORE.journal.append(
                    {
                        "time": round(time.time(), 3),
                        "method": self.command,
                        "host": host,
                        "path": url.path,
                        "query": query,
                        "body": body,
                        "status": status,
                        "code": (out or {}).get("error", {}).get("code", "")
                        if isinstance(out, dict)
                        else "",
                    }
                )
        self.reply(status, out, headers)

    do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = do_HEAD = _serve

    def route(
        self, host: str, path: str, query: dict[str, str], body: Any, base: str
    ) -> tuple[int, Any, dict]:
        lowered = path.lower()
        if host.startswith("login."):
            return self.login(lowered, path, base)
        if lowered.startswith("/metadata/endpoints"):
            raise ArmError("NotFound", "the double serves the public cloud's fixed endpoints", 404)
        if not lowered.startswith("/subscriptions"):
            raise ArmError("InvalidResourceType", f"azure_arm double: nothing at {path}", 404)
        if "/operations/" in lowered and self.command == "GET":
            status = STORE.poll_operation(segments(path)[-1])
            return 200, status, {"Retry-After": RETRY_AFTER}
        version = query.get("api-version", "")
        if not version:
            raise ArmError(
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            )
        if self.command == "GET":
            status, out = STORE.get(path, query)
            return status, out, {}
        if self.command == "HEAD":
            return (204 if path.rstrip("/").lower() in STORE.resources else 404), None, {}
        if self.command in ("PUT", "PATCH"):
            if not isinstance(body, dict):
                raise convert_error(body, "ResourceDefinition", "")
            return STORE.put(path, body, self.command == "PATCH", base, version)
        if self.command == "DELETE":
            return STORE.delete(path, base)
        if self.command == "POST":
            return STORE.post(path)
        raise ArmError("MethodNotAllowed", self.command, 405)

    def login(self, lowered: str, path: str, base: str) -> tuple[int, Any, dict]:
        if lowered.endswith("/discovery/instance"):
            return (
                200,
                {
                    "tenant_discovery_endpoint": (
                        f"{base}/common/v2.0/.well-known/openid-configuration"
                    ),
                    "api-version": "1.1",
                    "metadata": [
                        {
                            "preferred_network": "login.microsoftonline.com",
                            "preferred_cache": "login.windows.net",
                            "aliases": ["login.microsoftonline.com", "login.windows.net"],
                        }
                    ],
                },
                {},
            )
        if lowered.endswith("/.well-known/openid-configuration"):
            return 200, openid_configuration(base, segments(path)[0]), {}
        if lowered.endswith("/oauth2/v2.0/token") or lowered.endswith("/oauth2/token"):
            return (
                200,
                {
                    "token_type": "Bearer",
                    "expires_in": 3599,
                    "ext_expires_in": 3599,
                    "access_token": "double-token-" + uuid.uuid4().hex,
                },
                {},
            )
        raise ArmError("NotFound", path, 404)

    def control(self, path: str, raw: bytes) -> None:
        payload = json.loads(raw) if raw.strip() else None
        with STORE.lock:
            if path == "/_mlbox/requests":
                if self.command == "DELETE":
                    STORE.journal.clear()
                self.reply(200, STORE.journal if self.command == "GET" else {})
            elif path == "/_mlbox/faults":
                if self.command == "POST":
                    STORE.faults.extend(payload if isinstance(payload, list) else [payload])
                else:
                    STORE.faults.clear()
                self.reply(200, STORE.faults)
            elif path == "/_mlbox/reset":
                STORE.reset()
                self.reply(200, {})
            elif path == "/_mlbox/state":
                self.reply(200, {r["id"]: STORE.view(r) for r in STORE.resources.values()})
            elif path == "/_mlbox/resources":
                for resource in payload or []:
                    resource = copy.deepcopy(resource)
                    resource.setdefault("type", resource_type(resource["id"]))
                    resource.setdefault("name", segments(resource["id"])[-1])
                    resource.setdefault("properties", {}).setdefault(
                        "provisioningState", "Succeeded"
                    )
                    STORE.resources[resource["id"].lower()] = resource
                self.reply(200, {})
            elif path == "/_mlbox/config":
                STORE.config.update(payload or {})
                self.reply(200, STORE.config)
            elif path == "/_mlbox/evict":
                try:
                    self.reply(200, STORE.evict(str((payload or {}).get("id", ""))))
                except ArmError as exc:
                    self.reply(exc.status, exc.body())
            else:
                self.reply(404, {"error": {"code": "NotFound", "message": path}})

    def reply(self, status: int, out: Any, headers: dict[str, str] | None = None) -> None:
        data = b"" if out is None else json.dumps(out).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("x-ms-request-id", str(uuid.uuid4()))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD" and data:
            self.wfile.write(data)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    address_family = socket.AF_INET


def main(argv: list[str] | None = None) -> None:
    global TLS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--cert", required=True, help="PEM certificate for the tunnelled hosts")
    parser.add_argument("--key", required=True, help="its PEM private key")
    args = parser.parse_args(argv)
    TLS = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    TLS.load_cert_chain(args.cert, args.key)
    server = Server((args.host, args.port), Handler)
    print(f"port={server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    sys.exit(0)


if __name__ == "__main__":
    main()
