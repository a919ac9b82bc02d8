"""Turn what a cloud answered into its shape: field names and types, never values.

A transcript (tests/doubles/transcripts/<cloud>.json) holds, per API action, the shape of the
parameters sent and of the answer, and the error codes seen. It must never hold an id, an
address, a name, a secret or anything else of the account's; the only way in is shape()
below, which keeps no value at all (a value becomes its type's name) and keeps a field name
only when it looks like a name from the vendor's API model: a word, not an id, address,
number, path, or a long token. Map fields whose keys are the user's data (tags, metadata)
lose their keys entirely. tests/unit/smoke/test_sanitize.py holds it to that.

Imported by the recorder (tests/smoke/recorder/sitecustomize.py), inside the playbook runs of
the smoke tests, and by the shape comparison (tests/doubles/shapes.py).
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

# A field name of an API model: starts with a letter, then letters, digits, '_', '.', '-',
# '@' ('@odata.type'), at most 64 characters.
_NAME = re.compile(r"^@?[A-Za-z][A-Za-z0-9_.\-]{0,63}$")
# What a name must not look like even when it matches _NAME.
_NOT_A_NAME = (
    re.compile(r"^[a-z]{1,8}-[0-9a-f]{8,}$"),  # EC2 ids: i-0abc..., vol-..., snap-...
    re.compile(r"^(AKIA|ASIA|LTAI)[A-Za-z0-9]{8,}$"),  # access key ids
    re.compile(r"[0-9]{6,}"),  # account numbers, timestamps
    re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-"),  # GUIDs (Azure subscription, tenant)
    re.compile(r"^(?=(?:.*[0-9]){3})[A-Za-z0-9_.\-]{16,}$"),  # tokens: long, with digits
    re.compile(r"[0-9]+\.[0-9]+\.[0-9]+"),  # addresses and versions
)
# Fields whose keys are the user's data, not the vendor's names.
USER_MAPS = {"tags", "Tags", "metadata", "userAssignedIdentities", "labels", "Labels"}
KEY = "<key>"


def safe_key(key: Any) -> str:
    """The key itself when it is a model's field name, else a placeholder."""
    if not isinstance(key, str) or not _NAME.match(key):
        return KEY
    if any(pattern.search(key) for pattern in _NOT_A_NAME):
        return KEY
    return key


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, (datetime.datetime, datetime.date)):
        return "timestamp"
    if isinstance(value, (bytes, bytearray)):
        return "blob"
    return "string"


def shape(value: Any, depth: int = 0) -> Any:
    """{field: shape} for a mapping, [shape of the elements merged] for a list, a type name
    for anything else. Values never survive."""
    if depth > 32:
        return "deep"
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            name = safe_key(key)
            if name in USER_MAPS and isinstance(item, dict):
                sub = {KEY: merge_all(shape(v, depth + 2) for v in item.values())} if item else {}
                out[name] = merge(out.get(name), sub)
            else:
                out[name] = merge(out.get(name), shape(item, depth + 1))
        return out
    if isinstance(value, (list, tuple)):
        return [merge_all(shape(item, depth + 1) for item in value)] if value else []
    return type_name(value)


def merge(a: Any, b: Any) -> Any:
    """One shape that both a and b fit: fields united, differing types joined with '|'."""
    if a is None or a == []:
        return b if b is not None else a
    if b is None or b == []:
        return a
    if isinstance(a, dict) and isinstance(b, dict):
        return {k: merge(a.get(k), b.get(k)) for k in {**a, **b}}
    if isinstance(a, list) and isinstance(b, list):
        return [merge(a[0], b[0])]
    if a == b:
        return a
    names = set(str(a).split("|")) | set(str(b).split("|"))
    if any(isinstance(x, (dict, list)) for x in (a, b)):
        return "mixed"
    return "|".join(sorted(names))


def merge_all(shapes: Iterable[Any]) -> Any:
    out: Any = None
    for item in shapes:
        out = merge(out, item)
    return out if out is not None else "null"


_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9.]{0,80}$")


def error_code(code: Any) -> str:
    """A vendor's error code (e.g. InvalidVolume.NotFound), or '' when it is anything else."""
    return code if isinstance(code, str) and _CODE.match(code) and safe_key(code) != KEY else ""


def arm_operation(method: str, url: str) -> tuple[str, dict[str, Any]]:
    """An Azure Resource Manager request as "METHOD /collection/{}/..." and its query's
    shape: the names between the collections (subscription, group, resource names) become {}.
    api-version, a constant of the vendor, is kept as the one value."""
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    out = []
    for i, segment in enumerate(segments):
        after_providers = i > 0 and segments[i - 1].lower() == "providers"
        out.append(segment if i % 2 == 0 or after_providers else "{}")
    out = [s if s == "{}" or safe_key(s) != KEY else "{}" for s in out]
    query: dict[str, Any] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        name = safe_key(key)
        api_version = name == "api-version" and re.match(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}", value)
        query[name] = value if api_version else type_name(value)
    return f"{method.upper()} /{'/'.join(out)}", query


def json_shape(body: Any) -> Any:
    """The shape of a JSON body (bytes or text); "unparsed" when it is not JSON."""
    if body in (None, b"", ""):
        return None
    try:
        return shape(json.loads(body))
    except (TypeError, ValueError):
        return "unparsed"


def leaks(text: str, secrets: Iterable[str]) -> list[str]:
    """Which of the secrets (credentials, account id, ...) appear in text (by position, so
    the secret itself is never printed)."""
    return [f"secret #{i}" for i, s in enumerate(secrets) if s and len(s) >= 4 and s in text]
