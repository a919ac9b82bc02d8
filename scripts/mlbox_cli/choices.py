"""Parsing and checking what the user chose on the command line (argparse types)."""

from __future__ import annotations

import argparse
import ipaddress
import re
from dataclasses import dataclass
from typing import Any

CLOUDS = ("local", "aws", "aliyun", "azure")
DISK_SOURCES = ("new", "existing", "snapshot")
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,30}$")
# Cloud ids: i-/d-/vol-/snap- ids, names, and Azure resource ids (with slashes).
ID_PATTERN = re.compile(r"^[A-Za-z0-9/][A-Za-z0-9._:/@+-]*$")


@dataclass(frozen=True)
class DiskChoice:
    """Where the data disk comes from; ident None means "pick from the list"."""

    source: str
    ident: str | None = None

    @property
    def complete(self) -> bool:
        return self.source == "new" or bool(self.ident)

    def extravars(self) -> dict[str, Any]:
        variables: dict[str, Any] = {"workbench_disk_source": self.source}
        if self.source == "existing" and self.ident:
            variables["workbench_disk_id"] = self.ident
        if self.source == "snapshot" and self.ident:
            variables["workbench_snapshot_id"] = self.ident
        return variables

    def __str__(self) -> str:
        return f"{self.source}:{self.ident}" if self.ident else self.source


def parse_disk(text: str) -> DiskChoice:
    """new | existing[:ID] | snapshot[:ID|latest]."""
    source, _colon, ident = text.strip().partition(":")
    source = source.lower()
    if source not in DISK_SOURCES:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected new, existing:ID, snapshot:ID or snapshot:latest"
        )
    if source == "new":
        if ident:
            raise argparse.ArgumentTypeError(f"{text!r}: 'new' takes no id")
        return DiskChoice("new")
    if not ident:
        return DiskChoice(source)
    if ident == "latest" and source == "existing":
        raise argparse.ArgumentTypeError("'latest' is for snapshots: use snapshot:latest")
    if not ID_PATTERN.match(ident):
        raise argparse.ArgumentTypeError(f"{ident!r} does not look like a disk or snapshot id")
    return DiskChoice(source, ident)


def parse_name(text: str) -> str:
    if not NAME_PATTERN.match(text):
        raise argparse.ArgumentTypeError(
            f"{text!r}: a workbench name is a lower-case letter, then 1-30 of a-z, 0-9, '-'"
        )
    return text


def parse_cidr(text: str) -> str:
    try:
        network = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{text!r} is not an address or CIDR: {error}") from None
    return str(network)


def positive_int(text: str) -> int:
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: must be 1 or more")
    return value


def non_negative_int(text: str) -> int:
    value = _int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: must be 0 or more")
    return value


def port(text: str) -> int:
    value = _int(text)
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r}: not a TCP port")
    return value


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def is_world(cidr: str) -> bool:
    return ipaddress.ip_network(cidr).prefixlen == 0
