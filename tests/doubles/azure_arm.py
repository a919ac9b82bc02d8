"""A stateful double of Azure Resource Manager and the Entra ID token endpoints, for tests.

azure.azcollection's SDK (azure-identity, azure-mgmt-*, on requests) honours HTTPS_PROXY, so
pointing HTTPS_PROXY at this server sends every call here: the client asks the proxy to
CONNECT to management.azure.com or login.microsoftonline.com, the server answers, terminates
TLS itself with a certificate the tests make (trusted by the client through
REQUESTS_CA_BUNDLE), and serves the tunnelled requests. They are the real wire protocol:
OpenID discovery and the client-credentials token POST; ARM PUT/GET/PATCH/DELETE/POST on
resource ids with api-version; errors as {"error": {"code", "message"}}; long-running
operations as Azure does them (202/201 + Azure-AsyncOperation polled until Succeeded, with
Retry-After so clients poll at once), provisioningState on every resource.

What it knows beyond a generic store: resource groups hold resources (deleting one deletes
its content), a public IP gets an address, a NIC a private one, a VM creates its OS disk
and attaches data disks (a disk attached elsewhere is refused, managedBy and diskState
follow), a disk or snapshot copied from a source gets its size, an incremental snapshot
reports completionPercent until its background copy is done, an attached disk cannot be
deleted, locations, VM sizes and image versions are listed.

Controls, on the server's own address (plain HTTP, not through the proxy):
  GET    /_mlbox/requests   the journal: [{method, host, path, query, body, status, code}]
  DELETE /_mlbox/requests   forget the journal
  POST   /_mlbox/faults     [{method, type, code, message?, status?, match?: {dotted.path:
                            value}, times?}]: answer matching requests with that error;
                            with "outcome" instead of "code", a PUT is accepted and its
                            long-running operation goes wrong: "Failed" (the operation and
                            the resource's provisioningState end Failed) or "stuck" (an
                            incremental snapshot whose copy never gets past 0 %)
  DELETE /_mlbox/faults     no faults
  POST   /_mlbox/reset      empty subscription, no faults, empty journal, default config
  GET    /_mlbox/state      every resource held: {id: resource}
  POST   /_mlbox/resources  [resource]: put resources in place directly (decoys, fixtures)
  POST   /_mlbox/config     {"snapshot_copy_polls": N}: an incremental snapshot's copy is
                            done after N reads of it

A long-running operation completes at its first poll or SETTLE_SECONDS after it started,
whichever comes first, as Azure's go on whether anyone polls (a client killed right after a
PUT leaves a resource that finishes).

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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

SUBSCRIPTION = "00000000-0000-0000-0000-000000000001"
TENANT = "00000000-0000-0000-0000-0000000000aa"
LOCATIONS = {
    "westeurope": "West Europe",
    "northeurope": "North Europe",
    "eastus": "East US",
    "westus2": "West US 2",
}
VM_SIZES = ["Standard_B2s", "Standard_D2s_v3", "Standard_D4s_v3", "Standard_NC4as_T4_v3"]
# Types whose PUT and DELETE are long-running operations, as in Azure.
ASYNC_TYPES = {
    "microsoft.compute/virtualmachines",
    "microsoft.compute/disks",
    "microsoft.compute/snapshots",
}
CONTROL_PREFIX = "/_mlbox/"
SETTLE_SECONDS = 1.0
# An incremental snapshot under the "stuck" outcome: its copy never completes.
NEVER = 10**9


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f0+00:00")


class ArmError(Exception):
    def __init__(self, code: str, message: str = "", status: int = 400) -> None:
        super().__init__(code)
        self.code, self.message, self.status = code, message or code, status

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message}}


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


class Store:
    """The subscription's resources (lower-case id -> resource), operations, journal."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        self.resources: dict[str, dict[str, Any]] = {}
        self.operations: dict[str, dict[str, Any]] = {}
        self.journal: list[dict[str, Any]] = []
        self.faults: list[dict[str, Any]] = []
        self.config: dict[str, Any] = {"snapshot_copy_polls": 1}
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
            return fault
        return None

    @staticmethod
    def refusal(fault: dict[str, Any] | None) -> ArmError | None:
        if fault is None or "code" not in fault:
            return None
        return ArmError(fault["code"], fault.get("message", ""), int(fault.get("status", 409)))

    # Long-running operations -------------------------------------------------------------
    def start_operation(self, base: str, finish: dict[str, Any]) -> str:
        op = uuid.uuid4().hex
        self.operations[op] = {"polls": 0, "started": time.monotonic(), **finish}
        sub = SUBSCRIPTION
        return f"{base}/subscriptions/{sub}/providers/Microsoft.Compute/locations/x/operations/{op}"

    def poll_operation(self, op: str) -> dict[str, Any]:
        record = self.operations.get(op)
        if record is None:
            raise ArmError("OperationNotFound", f"no operation {op}", 404)
        record["polls"] += 1
        # Done at the first look (the resource said Creating/Deleting until then); a real
        # operation may answer InProgress for a while, which the SDK handles the same way.
        if not record.get("done"):
            self.finish(record)
        status = {"name": op, "status": "Succeeded", "startTime": now(), "endTime": now()}
        if record.get("outcome") == "Failed":
            status["status"] = "Failed"
            status["error"] = {
                "code": "InternalOperationError",
                "message": "The operation failed: azure_arm double, outcome Failed.",
            }
        return status

    def settle(self) -> None:
        """Operations go on without a poll: those started SETTLE_SECONDS ago are done."""
        limit = time.monotonic() - SETTLE_SECONDS
        for record in self.operations.values():
            if not record.get("done") and record["started"] <= limit:
                self.finish(record)

    def finish(self, record: dict[str, Any]) -> None:
        record["done"] = True
        if record["kind"] == "put":
            resource = self.resources.get(record["key"])
            if resource is not None:
                failed = record.get("outcome") == "Failed"
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
            props["instanceView"] = instance_view(power)
        return out

    def read(self, key: str) -> dict[str, Any]:
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
            vm = self.resources[key[: -len("/instanceview")]]
            return 200, instance_view(vm["properties"].get("_power", "running"))
        if key.endswith("/resources") and key[: -len("/resources")] in self.resources:
            group = key[: -len("/resources")]
            inside = [r for k, r in self.resources.items() if k.startswith(group + "/providers/")]
            return 200, {"value": [self.view(r) for r in inside]}
        if is_collection(path):
            return 200, {"value": [self.view(r) for r in self.collection(key)]}
        if is_resource(path):
            if "/providers/" in key:
                raise ArmError("ResourceNotFound", f"The Resource '{path}' was not found.", 404)
            raise ArmError(
                "ResourceGroupNotFound",
                f"Resource group '{segments(path)[3]}' could not be found.",
                404,
            )
        raise ArmError("InvalidResourceType", f"azure_arm double: no GET for {path}", 404)

    def collection(self, key: str) -> list[dict[str, Any]]:
        segs = segments(key)
        if len(segs) == 3 and segs[2] == "resourcegroups":
            return [r for k, r in self.resources.items() if len(segments(k)) == 4]
        i = provider_index(segs)
        assert i is not None
        wanted = (segs[i + 1] + "/" + "/".join(segs[i + 2 :][0::2])).lower()
        scope = "/".join(segs[:i]).lower()
        return [
            r
            for k, r in self.resources.items()
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
                        "numberOfCores": 2,
                        "memoryInMB": 8192,
                        "maxDataDiskCount": 8,
                        "osDiskSizeInMB": 1047552,
                        "resourceDiskSizeInMB": 16384,
                    }
                    for name in VM_SIZES
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
                    "osImage": {"operatingSystem": "Linux"},
                    "hyperVGeneration": "V2",
                    "dataDiskImages": [],
                },
            }
        return None

    # Writes -------------------------------------------------------------------------------
    def put(self, path: str, body: dict[str, Any], patch: bool, base: str) -> tuple[int, Any, dict]:
        if not is_resource(path):
            raise ArmError("InvalidResourceType", f"azure_arm double: not a resource: {path}")
        key = path.rstrip("/").lower()
        segs = segments(path)
        if len(segs) > 4 and group_of(path) not in self.resources:
            raise ArmError(
                "ResourceGroupNotFound", f"Resource group '{segs[3]}' could not be found.", 404
            )
        fault = self.fault_for("PATCH" if patch else "PUT", path, body)
        refusal = self.refusal(fault)
        if refusal:
            raise refusal
        outcome = (fault or {}).get("outcome")
        old = self.resources.get(key)
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
        if old is not None and old.get("properties", {}).get("provisioningState") not in (
            "Succeeded",
            "Failed",
            None,
        ):
            raise ArmError(
                "OperationNotAllowed", f"Another operation is in progress on '{path}'.", 409
            )
        kind = resource["type"].lower()
        self.complete(kind, resource, old)
        if outcome == "stuck" and "_copy_reads" in props:
            props["_copy_reads"] = NEVER
        long_running = kind in ASYNC_TYPES
        props["provisioningState"] = (
            ("Updating" if old else "Creating") if long_running else "Succeeded"
        )
        self.resources[key] = resource
        headers: dict[str, str] = {}
        if long_running:
            url = self.start_operation(base, {"kind": "put", "key": key, "outcome": outcome})
            headers = {"Azure-AsyncOperation": url, "Retry-After": "1"}
            # Azure: a new VM is 201, a disk or snapshot 202 (Location too), updates 200.
            if kind == "microsoft.compute/virtualmachines":
                return (200 if old else 201), self.view(resource), headers
            headers["Location"] = url
            return 202, self.view(resource), headers
        return (200 if old else 201), self.view(resource), headers

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
            source = self.complete_copy(props)
            if source is None:
                raise ArmError(
                    "NotFound",
                    f"Resource {props.get('creationData', {}).get('sourceResourceId')} not found.",
                    404,
                )
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
                        "diskSizeGB": os_disk.get("diskSizeGB") or 30,
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
            if not disk_id:
                continue
            disk = self.resources.get(disk_id.lower())
            if disk is None:
                raise ArmError("NotFound", f"Disk {disk_id} was not found.", 404)
            owner = disk.get("managedBy") or ""
            if owner and owner.lower() != rid.lower():
                raise ArmError(
                    "OperationNotAllowed",
                    f"Disk '{disk['name']}' is already attached to VM '{owner}'.",
                    409,
                )
            data_disk.setdefault("name", disk["name"])
            data_disk.setdefault("diskSizeGB", disk["properties"].get("diskSizeGB"))
            data_disk.setdefault("toBeDetached", False)
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
        if kind == "microsoft.compute/disks" and resource.get("managedBy"):
            raise ArmError(
                "OperationNotAllowed",
                f"Disk {resource['name']} is attached to VM {resource['managedBy']}.",
                409,
            )
        if kind in ASYNC_TYPES or kind == "microsoft.resources/resourcegroups":
            resource["properties"]["provisioningState"] = "Deleting"
            url = self.start_operation(base, {"kind": "delete", "key": key})
            return 202, None, {"Azure-AsyncOperation": url, "Location": url, "Retry-After": "1"}
        self.delete_now(key)
        return 200, None, {}

    def delete_now(self, key: str) -> None:
        resource = self.resources.pop(key, None)
        if resource is None:
            return
        for inner in [k for k in self.resources if k.startswith(key + "/")]:
            self.resources.pop(inner)
        if resource_type(key).lower() == "microsoft.compute/virtualmachines":
            for disk_key, disk in list(self.resources.items()):
                if (disk.get("managedBy") or "").lower() == key:
                    self.unbind(disk_key)
            for nic in self.resources.values():
                if (nic.get("properties", {}).get("virtualMachine") or {}).get(
                    "id", ""
                ).lower() == key:
                    nic["properties"].pop("virtualMachine")

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
            return 200, instance_view(resource["properties"].get("_power", "running")), {}
        raise ArmError("InvalidResourceType", f"azure_arm double: no POST {action}")


def instance_view(power: str) -> dict[str, Any]:
    return {
        "statuses": [
            {
                "code": "ProvisioningState/succeeded",
                "level": "Info",
                "displayStatus": "Provisioning succeeded",
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
            # Retry-After on every answer, so the SDK polls again at once, not in 30 s.
            return 200, STORE.poll_operation(segments(path)[-1]), {"Retry-After": "1"}
        if self.command == "GET":
            status, out = STORE.get(path, query)
            return status, out, {}
        if self.command == "HEAD":
            return (204 if path.rstrip("/").lower() in STORE.resources else 404), None, {}
        if self.command in ("PUT", "PATCH"):
            return STORE.put(path, body or {}, self.command == "PATCH", base)
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
