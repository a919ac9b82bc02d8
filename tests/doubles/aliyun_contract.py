"""The ECS and VPC API contract, read from the vendor's own SDK models.

Alibaba Cloud generates its Python SDKs from the APIs' metadata: `alibabacloud_ecs20140526`
(ECS, API version 2014-05-26) and `alibabacloud_vpc20160428` (VPC, 2016-04-28). Each action
has a `<Action>Request` model (its parameters: names as `to_map` spells them, Python types, and
"This parameter is required." in the generated comments) and a `<Action>ResponseBody` model
(the answer's fields). The ECS/VPC double (aliyun_ecs.py) checks every request and every
answer against them:

- request_problem(): a parameter the model does not have, a value of the wrong type, or a
  required one missing. RPC requests flatten the model: nested objects as `A.B`, lists as
  `A.1`, `A.2`, ... (aliyunsdkcore and the Tea OpenAPI client both do so).
- answer_problem(): an answer that does not come back unchanged from
  `ResponseBody().from_map(answer).to_map()` (a field the model does not know, or a list the
  model always carries and the answer left out), or a value of another type than the
  model's.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import re
import typing
from typing import Any

PRODUCTS = {"ecs": "alibabacloud_ecs20140526", "vpc": "alibabacloud_vpc20160428"}
VERSIONS = {"2014-05-26": "ecs", "2016-04-28": "vpc"}
# The RPC protocol's own parameters, on every request (signature, format, client
# bookkeeping): not the action's.
COMMON = {
    "Action",
    "Version",
    "Format",
    "AccessKeyId",
    "SecurityToken",
    "Signature",
    "SignatureMethod",
    "SignatureVersion",
    "SignatureNonce",
    "SignatureType",
    "Timestamp",
    "RegionId",
}
# Sent by footmark (under every alibaba.alicloud module) on every call: its make_request_new
# hands each key without a setter to add_query_param(k[4:]), so {"Action": ...} becomes
# on=<Action>. That the real API accepts it (every alibaba.alicloud user sends it) shows the
# API ignores a parameter it does not know; the double is stricter and refuses any other, so
# a misspelt parameter, which the API would silently drop, fails a test instead.
TOLERATED = {"on"}
MARK = "\x00mark:"
REQUIRED = re.compile(r"#\s*This parameter is required\.\s*\n\s*self\.(\w+) = ")
INDEX = re.compile(r"(?<=\.)\d+(?=\.|$)")


def models(product: str) -> Any:
    return importlib.import_module(PRODUCTS[product] + ".models")


def hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls.__init__, vars(inspect.getmodule(cls)))


def is_model(tp: Any) -> bool:
    return inspect.isclass(tp) and hasattr(tp, "from_map") and hasattr(tp, "to_map")


def list_of(tp: Any) -> Any:
    return typing.get_args(tp)[0] if typing.get_origin(tp) in (list, list) else None


def sample(cls: type) -> Any:
    """An instance of cls with every field set: primitives to a marker naming the field."""
    values = {}
    for name, tp in hints(cls).items():
        item = list_of(tp)
        if is_model(tp):
            values[name] = sample(tp)
        elif item is not None:
            values[name] = [sample(item) if is_model(item) else MARK + name]
        elif typing.get_origin(tp) in (dict, dict):
            values[name] = {MARK + name: MARK + name}
        else:
            values[name] = MARK + name
    return cls(**values)


def leaf_type(tp: Any) -> str:
    item = list_of(tp)
    base = item if item is not None else tp
    if typing.get_origin(base) in (dict, dict):
        return "dict"
    return {str: "str", int: "int", bool: "bool", float: "float"}.get(base, "any")


def flatten(cls: type, value: Any, prefix: str, out: dict[str, str]) -> None:
    """Wire names (lists as .N) -> the leaf's type, from a sample's to_map."""
    types = hints(cls)
    for key, item in value.items():
        name = prefix + key
        if isinstance(item, dict) and not any(str(k).startswith(MARK) for k in item):
            sub = next(t for a, t in types.items() if to_key(cls, a) == key)
            flatten(sub, item, name + ".", out)
        elif isinstance(item, list) and item and isinstance(item[0], dict):
            sub = list_of(next(t for a, t in types.items() if to_key(cls, a) == key))
            flatten(sub, item[0], name + ".N.", out)
        elif isinstance(item, list):
            out[name + ".N"] = leaf_type(types[item[0][len(MARK) :]])
        elif isinstance(item, dict):
            out[name + ".*"] = "str"
        else:
            out[name] = leaf_type(types[item[len(MARK) :]])


TO_MAP = re.compile(
    r"if self\.(\w+) is not None:\s*\n\s*result\['([^']+)'\]"
    r"|result\['([^']+)'\] = (?:\[\]|dict\(\))\s*\n\s*if self\.(\w+) is not None"
)


@functools.cache
def keys_of(cls: type) -> dict[str, str]:
    """Python attribute -> the key to_map writes for it (read from the generated to_map)."""
    out = {}
    for attr, key, key2, attr2 in TO_MAP.findall(inspect.getsource(cls.to_map)):
        out[attr or attr2] = key or key2
    return out


def to_key(cls: type, attr: str) -> str:
    return keys_of(cls).get(attr, "")


@functools.cache
def request_spec(product: str, action: str) -> tuple[dict[str, str], frozenset[str]] | None:
    """(wire name pattern -> type, the required names) of an action; None if there is none."""
    cls = getattr(models(product), action + "Request", None)
    if cls is None:
        return None
    out: dict[str, str] = {}
    flatten(cls, sample(cls).to_map(), "", out)
    source = inspect.getsource(cls.__init__)
    required = frozenset(to_key(cls, a) for a in REQUIRED.findall(source) if to_key(cls, a))
    return out, required


def pattern(name: str) -> str:
    return INDEX.sub("N", name)


def value_ok(kind: str, value: str) -> bool:
    if kind == "int":
        return re.fullmatch(r"-?\d+", value) is not None
    if kind == "float":
        try:
            float(value)
        except ValueError:
            return False
        return True
    if kind == "bool":
        return value.lower() in ("true", "false")
    return True


def request_problem(product: str, action: str, params: dict[str, str]) -> tuple[str, str] | None:
    """(error code, message) the API answers to parameters its model lacks or mistypes."""
    spec = request_spec(product, action)
    if spec is None:
        return ("InvalidAction.NotFound", f"Specified api {action} is not found.")
    types, required = spec
    for name, value in params.items():
        if name in COMMON or name in TOLERATED:
            continue
        kind = types.get(pattern(name)) or types.get(name.rsplit(".", 1)[0] + ".*")
        if kind is None:
            return ("InvalidParameter", f'The parameter "{name}" is not a parameter of {action}.')
        if not value_ok(kind, value):
            return ("InvalidParameter", f'The specified parameter "{name}" is not valid.')
    for name in sorted(required):
        wanted = name if name in types else None
        present = (
            name in params if wanted else any(pattern(p).startswith(name + ".") for p in params)
        )
        if not present:
            return (
                "MissingParameter",
                f"The input parameter {name} that is mandatory for processing this request"
                " is not supplied.",
            )
    return None


def check_types(cls: type, value: dict[str, Any], path: str) -> str | None:
    types = hints(cls)
    by_key = {to_key(cls, a): t for a, t in types.items()}
    for key, item in value.items():
        tp = by_key.get(key)
        where = f"{path}.{key}" if path else key
        if tp is None or item is None:
            continue
        item_type = list_of(tp)
        if is_model(tp):
            if not isinstance(item, dict):
                return f"{where}: {type(item).__name__}, the model says an object"
            problem = check_types(tp, item, where)
        elif item_type is not None:
            if not isinstance(item, list):
                return f"{where}: {type(item).__name__}, the model says a list"
            for n, element in enumerate(item):
                if is_model(item_type):
                    problem = check_types(item_type, element, f"{where}[{n}]")
                else:
                    problem = primitive(item_type, element, f"{where}[{n}]")
                if problem:
                    return problem
            problem = None
        else:
            problem = primitive(tp, item, where)
        if problem:
            return problem
    return None


def primitive(tp: Any, value: Any, where: str) -> str | None:
    expected = {str: (str,), int: (int,), float: (int, float), bool: (bool,)}.get(tp)
    if expected is None:
        return None
    if isinstance(value, bool) and tp is not bool:
        return f"{where}: bool, the model says {tp.__name__}"
    if not isinstance(value, expected):
        return f"{where}: {type(value).__name__} {value!r}, the model says {tp.__name__}"
    return None


def answer_problem(product: str, action: str, answer: dict[str, Any]) -> str | None:
    """Why an answer is not one the vendor's response model holds unchanged; None if it is."""
    cls = getattr(models(product), action + "ResponseBody", None)
    if cls is None:
        return f"the SDK has no {action}ResponseBody"
    again = cls().from_map(answer).to_map()
    if again != answer:
        lost = sorted(set(answer) - set(again))
        added = sorted(set(again) - set(answer))
        changed = sorted(k for k in set(answer) & set(again) if answer[k] != again[k])
        return f"not held by {cls.__name__}: unknown {lost}, missing {added}, differing {changed}"
    return check_types(cls, answer, "")
