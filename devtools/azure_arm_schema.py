#!/usr/bin/env python3
"""Write tests/doubles/azure_arm_schema.json: the request bodies ARM takes, from the vendor's SDK.

Run with the Azure SDK's python (make setup-azure):

    .venv-azure/bin/python devtools/azure_arm_schema.py          # rewrite the file
    .venv-azure/bin/python devtools/azure_arm_schema.py --check  # exit 1 when out of date

The ARM double (tests/doubles/azure_arm.py) checks every PUT and PATCH body against this file
and refuses what the real service refuses: a member the definition does not have, a value of
the wrong JSON type, a value outside a documented enum, a required member missing. The
definitions are the autorest-generated models of azure-mgmt-compute, azure-mgmt-network and
azure-mgmt-resource (the versions requirements-azure.txt pins, as azure.azcollection 3.12.0
uses them), at the api-versions azure.azcollection sends: a model's _attribute_map gives its
JSON members and their types, _validation the required ones, and the type hints of its
constructor the enums (autorest's "Known values are ..."). The double itself needs no SDK:
this file is its copy of the definitions, and tests/integration/azure/test_arm_contract.py
fails when it no longer matches the installed SDK.
"""

from __future__ import annotations

import argparse
import enum
import importlib
import importlib.metadata
import inspect
import json
import re
import sys
import typing
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "doubles" / "azure_arm_schema.json"

# Which SDK models module describes each api-version azure.azcollection 3.12.0 sends
# (plugins/module_utils/azure_rm_common.py: compute_client 2024-07-01, disk_client
# 2023-04-02, rm_client 2022-09-01; azure_rm_snapshot's own 2022-03-02; the role's
# azure_rm_resource_info calls name 2024-03-02 and 2024-07-01). azure-mgmt-network 28 has one
# models package, and its operations send their own api-version, 2024-03-01, whatever
# network_client is given.
PACKAGES = {
    "compute@2022-03-02": "azure.mgmt.compute.v2022_03_02.models",
    "compute@2023-04-02": "azure.mgmt.compute.v2023_04_02.models",
    "compute@2024-03-02": "azure.mgmt.compute.v2024_03_02.models",
    "compute@2024-07-01": "azure.mgmt.compute.v2024_07_01.models",
    "network@2024-03-01": "azure.mgmt.network.models",
    "resource@2022-09-01": "azure.mgmt.resource.resources.v2022_09_01.models",
}
# Resource type (lower case) -> api-version -> (package key, PUT model, PATCH model).
BODIES: dict[str, dict[str, tuple[str, str, str]]] = {
    "microsoft.compute/virtualmachines": {
        "2024-07-01": ("compute@2024-07-01", "VirtualMachine", "VirtualMachineUpdate"),
    },
    "microsoft.compute/disks": {
        "2023-04-02": ("compute@2023-04-02", "Disk", "DiskUpdate"),
        "2024-03-02": ("compute@2024-03-02", "Disk", "DiskUpdate"),
    },
    "microsoft.compute/snapshots": {
        "2022-03-02": ("compute@2022-03-02", "Snapshot", "SnapshotUpdate"),
        "2024-03-02": ("compute@2024-03-02", "Snapshot", "SnapshotUpdate"),
    },
    "microsoft.network/virtualnetworks": {
        "2024-03-01": ("network@2024-03-01", "VirtualNetwork", "TagsObject"),
    },
    "microsoft.network/virtualnetworks/subnets": {
        "2024-03-01": ("network@2024-03-01", "Subnet", ""),
    },
    "microsoft.network/networksecuritygroups": {
        "2024-03-01": ("network@2024-03-01", "NetworkSecurityGroup", "TagsObject"),
    },
    "microsoft.network/publicipaddresses": {
        "2024-03-01": ("network@2024-03-01", "PublicIPAddress", "TagsObject"),
    },
    "microsoft.network/networkinterfaces": {
        "2024-03-01": ("network@2024-03-01", "NetworkInterface", "TagsObject"),
    },
    "microsoft.resources/resourcegroups": {
        "2022-09-01": ("resource@2022-09-01", "ResourceGroup", "ResourceGroupPatchable"),
    },
}
# Enums the SDK declares that Azure does not hold requests to. Every autorest enum here is
# "modelAsString" (Union[str, Enum]): the double still refuses a value outside the known ones,
# the stricter choice, except where the vendor itself says the list is not the contract.
NOT_ENFORCED = {
    # "The enum data type is currently deprecated ... The recommended way to get the list of
    # available sizes is using these APIs: List all available virtual machine sizes in an
    # availability set / in a region / for resizing" (VirtualMachine.hardware_profile.vm_size's
    # docstring); sizes newer than the list (Standard_NC4as_T4_v3) are real.
    "VirtualMachineSizeTypes",
}
SDK_DISTRIBUTIONS = ("azure-mgmt-compute", "azure-mgmt-network", "azure-mgmt-resource")
SCALARS = {
    "str": "str",
    "int": "int",
    "long": "int",
    "float": "float",
    "bool": "bool",
    "iso-8601": "date",
    "rfc-1123": "date",
    "date": "date",
    "duration": "str",
    "bytearray": "str",
    "base64": "str",
    "unix-time": "int",
    "object": "any",
}
FORWARD = re.compile(r"_models\.(\w+)")


def enum_values(package: Any, cls: type, attribute: str) -> list[str] | None:
    """The known values of an attribute typed Union[str, "_models.SomeEnum"] in __init__."""
    try:
        parameter = inspect.signature(cls.__init__).parameters.get(attribute)
    except (TypeError, ValueError):
        return None
    if parameter is None or parameter.annotation is inspect.Parameter.empty:
        return None
    found = FORWARD.findall(str(parameter.annotation))
    for name in found:
        if name in NOT_ENFORCED:
            return None
        candidate = getattr(package, name, None)
        if isinstance(candidate, type) and issubclass(candidate, enum.Enum):
            return sorted(str(member.value) for member in candidate)
    return None


class Builder:
    def __init__(self) -> None:
        self.models: dict[str, dict[str, Any]] = {}

    def model(self, key: str, name: str) -> str:
        """Describe model `name` of package `key` (and every model it reaches); its id."""
        ident = f"{key}:{name}"
        if ident in self.models:
            return ident
        package = importlib.import_module(PACKAGES[key])
        cls = getattr(package, name)
        self.models[ident] = {}  # reserved first: models refer to themselves
        node: dict[str, Any] = {"name": name, "members": {}, "required": [], "readonly": []}
        validation = getattr(cls, "_validation", {}) or {}
        for attribute, spec in cls._attribute_map.items():
            path = [p.replace("\\.", ".") for p in re.split(r"(?<!\\)\.", spec["key"])]
            if path == [""]:  # additional_properties: anything goes at this level
                node["open"] = True
                continue
            member = self.type_node(key, package, spec["type"])
            if member.get("t") == "str":
                values = enum_values(package, cls, attribute)
                if values:
                    member["enum"] = values
            target = node
            for part in path[:-1]:  # flattened: properties.x lives in an object "properties"
                inner = target["members"].setdefault(
                    part,
                    {"t": "obj", "name": f"{name}{part[:1].upper()}{part[1:]}", "members": {}},
                )
                inner.setdefault("required", [])
                inner.setdefault("readonly", [])
                target = inner
            target["members"][path[-1]] = member
            rules = validation.get(attribute, {})
            if rules.get("required"):
                target["required"].append(path[-1])
            if rules.get("readonly"):
                target["readonly"].append(path[-1])
            constraints = {
                k: v
                for k, v in rules.items()
                if k in ("max_length", "min_length", "pattern", "maximum", "minimum", "max_items")
            }
            if constraints:
                member["constraints"] = constraints
        for obj in walk(node):
            obj["required"] = sorted(obj.get("required", []))
            obj["readonly"] = sorted(obj.get("readonly", []))
        self.models[ident] = node
        return ident

    def type_node(self, key: str, package: Any, kind: str) -> dict[str, Any]:
        if kind.startswith("[") and kind.endswith("]"):
            return {"t": "list", "of": self.type_node(key, package, kind[1:-1])}
        if kind.startswith("{") and kind.endswith("}"):
            return {"t": "map", "of": self.type_node(key, package, kind[1:-1])}
        if kind in SCALARS:
            return {"t": SCALARS[kind]}
        candidate = getattr(package, kind, None)
        if isinstance(candidate, type) and issubclass(candidate, enum.Enum):
            if kind in NOT_ENFORCED:
                return {"t": "str"}
            return {"t": "str", "enum": sorted(str(m.value) for m in candidate)}
        if candidate is None:
            raise SystemExit(f"{PACKAGES[key]} has no model {kind}")
        return {"t": "ref", "model": self.model(key, kind)}


def walk(node: dict[str, Any]) -> typing.Iterator[dict[str, Any]]:
    yield node
    for member in node.get("members", {}).values():
        if member.get("t") == "obj":
            yield from walk(member)


def build() -> dict[str, Any]:
    builder = Builder()
    bodies: dict[str, dict[str, dict[str, str]]] = {}
    for kind, versions in BODIES.items():
        for version, (key, put, patch) in versions.items():
            entry = {"PUT": builder.model(key, put)}
            if patch:
                entry["PATCH"] = builder.model(key, patch)
            bodies.setdefault(kind, {})[version] = entry
    return {
        "generated_by": "devtools/azure_arm_schema.py (run with .venv-azure/bin/python)",
        "sdk": {d: importlib.metadata.version(d) for d in SDK_DISTRIBUTIONS},
        "packages": PACKAGES,
        "bodies": bodies,
        "models": dict(sorted(builder.models.items())),
    }


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=1, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the file is stale")
    parser.add_argument("--output", type=Path, default=OUT)
    args = parser.parse_args(argv)
    text = render(build())
    if args.check:
        if not args.output.exists() or args.output.read_text() != text:
            print(f"{args.output} is out of date: run {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    args.output.write_text(text)
    print(f"wrote {args.output} ({len(text) // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
