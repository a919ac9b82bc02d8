"""status.py: every workbench this controller knows, what runs and what it costs. Reads only.

What the controller knows: the runs the scripts made (<state>/_runs/<name>/artifacts/*/command
holds each run's extra vars: cloud, region), the local provider's disks and snapshots
(<state>/local/<name>/, plugins/module_utils/local_storage.py), and what the clouds hold
under the tag mlbox:workbench (AWS, Aliyun) in the regions those runs used (or --region).

Prices are live (pricing.py): an instance's price per hour now, its cost so far = that price
times the hours since it was launched (an estimate: the price may have moved meanwhile), a
disk's and a snapshot's per month (a snapshot at its full size: an upper bound, clouds bill
the blocks it holds).

Orphans: billable things tagged for a workbench that nothing uses: tagged for a workbench
this controller has no record of; a data disk left detached while its workbench runs on
another one; a local snapshot whose writer died (failed). Each with the command that removes
it; status itself removes nothing.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO

from .credentials import keys_from_environment
from .errors import EXIT_OK
from .playbooks import REPO_ROOT
from .pricing import (
    Price,
    Unavailable,
    aliyun_client,
    aliyun_price,
    aliyun_spot_history,
    aws_config,
    aws_error,
    aws_one_price,
    aws_session,
    aws_spot_prices,
    default_region,
    guarded,
)

TAG = "mlbox:workbench"
DISK_TAG = "mlbox:disk"
CLOUDS = ("local", "aws", "aliyun", "azure")
LOCAL_STORAGE = REPO_ROOT / "plugins" / "module_utils" / "local_storage.py"
Runner = Callable[[list[str]], tuple[int, str, str]]


@dataclass
class Known:
    """A workbench this controller ran (its latest run), by name and cloud."""

    name: str
    cloud: str
    region: str = ""
    last: str = ""  # provision | teardown | ...
    at: str = ""  # when that run began (its ident's stamp)


@dataclass
class Instance:
    workbench: str
    id: str
    state: str
    spot: bool
    since: datetime | None
    kind: str  # instance type
    hourly: Price

    def hours(self, now: datetime) -> float:
        return max((now - self.since).total_seconds() / 3600, 0.0) if self.since else 0.0


@dataclass
class Stored:
    """A data disk or a snapshot."""

    workbench: str
    kind: str  # disk | snapshot
    id: str
    size_gb: int
    status: str
    created: str
    monthly: Price
    attached: bool = False


@dataclass
class Orphan:
    what: str
    id: str
    workbench: str
    why: str
    command: str


@dataclass
class CloudView:
    cloud: str
    region: str
    instances: list[Instance] = field(default_factory=list)
    stored: list[Stored] = field(default_factory=list)
    orphans: list[Orphan] = field(default_factory=list)
    problem: str = ""


# ---------------------------------------------------------------- what the controller knows
def extravars(command: list[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for flag, value in zip(command, command[1:]):
        if flag in ("-e", "--extra-vars"):
            try:
                data = json.loads(value)
            except ValueError:
                continue
            if isinstance(data, dict):
                found.update(data)
    return found


def known_workbenches(state_dir: Path) -> list[Known]:
    """The latest run of each (name, cloud), from the runs' records; local state dirs too."""
    latest: dict[tuple[str, str], Known] = {}
    for record in sorted((state_dir / "_runs").glob("*/artifacts/*/command")):
        try:
            command = json.loads(record.read_text(encoding="utf-8")).get("command") or []
        except (OSError, ValueError):
            continue
        variables = extravars([str(part) for part in command])
        name = str(variables.get("workbench_name") or record.parents[2].name)
        cloud = str(variables.get("cloud") or "local")
        stamp, _unused, rest = record.parent.name.partition("-")
        clock, _unused, rest = rest.partition("-")
        kind = rest.rsplit("-", 1)[0]
        if kind == "disks":
            continue  # a listing changes nothing
        latest[(name, cloud)] = Known(
            name, cloud, str(variables.get("workbench_region") or ""), kind, f"{stamp}-{clock}"
        )
    local = state_dir / "local"
    if local.is_dir():
        for path in sorted(local.iterdir()):
            if path.is_dir() and (path.name, "local") not in latest:
                latest[(path.name, "local")] = Known(path.name, "local")
    return sorted(latest.values(), key=lambda k: (k.cloud, k.name))


# ---------------------------------------------------------------- local
def local_storage_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("mlbox_local_storage", LOCAL_STORAGE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_command(argv: list[str]) -> tuple[int, str, str]:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        return 127, "", str(error)
    return done.returncode, done.stdout, done.stderr


def local_view(state_dir: Path, names: list[str], runner: Runner) -> CloudView:
    view = CloudView("local", "")
    storage = local_storage_module()
    free = Price(0.0, "month", "")
    for name in names:
        rc, out, _unused = runner(["podman", "container", "inspect", f"mlbox-{name}"])
        if rc == 0:
            data = (json.loads(out) or [{}])[0]
            state = data.get("State", {})
            since = parse_time(state.get("StartedAt") or data.get("Created"))
            view.instances.append(
                Instance(
                    name,
                    f"mlbox-{name}",
                    str(state.get("Status", "?")),
                    False,
                    since,
                    "podman",
                    Price(0.0, "hour", ""),
                )
            )
        store = storage.Store(str(state_dir), name, runner=runner)
        for disk in store.disks():
            view.stored.append(
                Stored(
                    name,
                    "disk",
                    disk["id"],
                    int(disk.get("size_gb", 0)),
                    disk.get("status", ""),
                    str(disk.get("created", "")),
                    free,
                    bool(disk.get("devices")),
                )
            )
        for snap in store.snapshots():
            view.stored.append(
                Stored(
                    name,
                    "snapshot",
                    snap["id"],
                    int(snap.get("size_gb", 0)),
                    snap.get("status", ""),
                    str(snap.get("created", "")),
                    free,
                )
            )
            if snap.get("status") == "failed":
                base = Path(store.snapshots_dir) / snap["id"]
                view.orphans.append(
                    Orphan(
                        "snapshot",
                        snap["id"],
                        name,
                        "a snapshot whose writer died (failed): it holds no usable data",
                        f"rm -f {base}.json {base}.tar.zst",
                    )
                )
    return view


# ---------------------------------------------------------------- AWS
def aws_view(region: str, known: set[str], secrets: Mapping[str, str]) -> CloudView:
    from botocore.exceptions import BotoCoreError, ClientError

    view = CloudView("aws", region)
    session = aws_session(secrets)
    ec2 = session.client("ec2", region_name=region, config=aws_config())
    pricing = session.client("pricing", region_name="us-east-1", config=aws_config())
    tag_filter = [{"Name": "tag-key", "Values": [TAG]}]
    try:
        reservations = ec2.describe_instances(
            Filters=[
                *tag_filter,
                {
                    "Name": "instance-state-name",
                    "Values": ["pending", "running", "stopping", "stopped"],
                },
            ]
        )["Reservations"]
        volumes = ec2.describe_volumes(Filters=tag_filter)["Volumes"]
        snapshots = ec2.describe_snapshots(OwnerIds=["self"], Filters=tag_filter)["Snapshots"]
    except (ClientError, BotoCoreError) as error:
        view.problem = str(aws_error(error, "ec2:Describe*"))
        return view

    def hourly(instance_type: str, zone: str, spot: bool) -> Price:
        if spot:

            def now() -> Price:
                prices = aws_spot_prices(ec2, instance_type)
                if zone not in prices:
                    raise Unavailable(f"no spot price for {zone}")
                return Price(prices[zone], "hour")

            return guarded("hour", now)
        filters = {
            "instanceType": instance_type,
            "regionCode": region,
            "operatingSystem": "Linux",
            "tenancy": "Shared",
            "preInstalledSw": "NA",
            "capacitystatus": "Used",
        }
        return guarded("hour", lambda: Price(aws_one_price(pricing, filters, bool), "hour"))

    per_gb = {
        "disk": guarded(
            "month",
            lambda: Price(
                aws_one_price(
                    pricing,
                    {"productFamily": "Storage", "volumeApiName": "gp3", "regionCode": region},
                    bool,
                ),
                "month",
            ),
        ),
        "snapshot": guarded(
            "month",
            lambda: Price(
                aws_one_price(
                    pricing,
                    {"productFamily": "Storage Snapshot", "regionCode": region},
                    lambda i: (
                        i["product"]["attributes"]
                        .get("usagetype", "")
                        .endswith("EBS:SnapshotUsage")
                    ),
                ),
                "month",
            ),
        ),
    }
    for reservation in reservations:
        for item in reservation.get("Instances", []):
            tags = {t["Key"]: t["Value"] for t in item.get("Tags", [])}
            spot = item.get("InstanceLifecycle") == "spot"
            zone = item.get("Placement", {}).get("AvailabilityZone", "")
            view.instances.append(
                Instance(
                    tags[TAG],
                    item["InstanceId"],
                    item.get("State", {}).get("Name", "?"),
                    spot,
                    item.get("LaunchTime"),
                    item.get("InstanceType", "?"),
                    hourly(item.get("InstanceType", ""), zone, spot),
                )
            )
    for volume in volumes:
        tags = {t["Key"]: t["Value"] for t in volume.get("Tags", [])}
        if tags.get(DISK_TAG) != "data":
            continue  # a root volume goes with its instance
        view.stored.append(
            Stored(
                tags[TAG],
                "disk",
                volume["VolumeId"],
                int(volume.get("Size", 0)),
                volume.get("State", ""),
                iso(volume.get("CreateTime")),
                times(per_gb["disk"], int(volume.get("Size", 0))),
                bool(volume.get("Attachments")),
            )
        )
    for snap in snapshots:
        tags = {t["Key"]: t["Value"] for t in snap.get("Tags", [])}
        view.stored.append(
            Stored(
                tags[TAG],
                "snapshot",
                snap["SnapshotId"],
                int(snap.get("VolumeSize", 0)),
                snap.get("State", ""),
                iso(snap.get("StartTime")),
                times(per_gb["snapshot"], int(snap.get("VolumeSize", 0))),
            )
        )
    commands = {
        "instance": f"aws ec2 terminate-instances --region {region} --instance-ids {{}}",
        "disk": f"aws ec2 delete-volume --region {region} --volume-id {{}}",
        "snapshot": f"aws ec2 delete-snapshot --region {region} --snapshot-id {{}}",
    }
    view.orphans += find_orphans(view, known, commands)
    return view


# ---------------------------------------------------------------- Aliyun
def aliyun_view(region: str, known: set[str], secrets: Mapping[str, str]) -> CloudView:
    view = CloudView("aliyun", region)
    try:
        ecs = aliyun_client(region, secrets)
        tag = {"Tag.1.Key": TAG, "PageSize": "100"}
        instances = ecs.call("DescribeInstances", **tag)["Instances"]["Instance"]
        disks = ecs.call("DescribeDisks", **tag)["Disks"]["Disk"]
        snapshots = ecs.call("DescribeSnapshots", **tag)["Snapshots"]["Snapshot"]
    except (Unavailable, KeyError) as why:
        view.problem = str(why)
        return view

    def tags_of(item: dict[str, Any]) -> dict[str, str]:
        return {t["TagKey"]: t["TagValue"] for t in item.get("Tags", {}).get("Tag", [])}

    def hourly(instance_type: str, zone: str, spot: bool) -> Price:
        def now() -> Price:
            if spot:
                prices, currency = aliyun_spot_history(ecs, instance_type)
                if zone in prices:
                    return Price(prices[zone], "hour", currency)
            answer = ecs.call(
                "DescribePrice",
                ResourceType="instance",
                InstanceType=instance_type,
                ZoneId=zone,
                **({"SpotStrategy": "SpotAsPriceGo"} if spot else {}),
            )
            return aliyun_price(answer, "hour")

        return guarded("hour", now)

    def disk_monthly(category: str, size: int) -> Price:
        return guarded(
            "month",
            lambda: aliyun_price(
                ecs.call(
                    "DescribePrice",
                    ResourceType="disk",
                    PriceUnit="Month",
                    **{"DataDisk.1.Category": category, "DataDisk.1.Size": str(size)},
                ),
                "month",
            ),
        )

    for item in instances:
        spot = item.get("SpotStrategy", "NoSpot") != "NoSpot"
        view.instances.append(
            Instance(
                tags_of(item)[TAG],
                item["InstanceId"],
                item.get("Status", "?"),
                spot,
                parse_time(item.get("StartTime") or item.get("CreationTime")),
                item.get("InstanceType", "?"),
                hourly(item.get("InstanceType", ""), item.get("ZoneId", ""), spot),
            )
        )
    for disk in disks:
        tags = tags_of(disk)
        if tags.get(DISK_TAG) != "data":
            continue
        size = int(disk.get("Size", 0))
        view.stored.append(
            Stored(
                tags[TAG],
                "disk",
                disk["DiskId"],
                size,
                disk.get("Status", ""),
                str(disk.get("CreationTime", "")),
                disk_monthly(disk.get("Category", "cloud_essd"), size),
                bool(disk.get("InstanceId")),
            )
        )
    no_price = Price.unavailable("month", "the ECS API has no snapshot price")
    for snap in snapshots:
        view.stored.append(
            Stored(
                tags_of(snap)[TAG],
                "snapshot",
                snap["SnapshotId"],
                int(snap.get("SourceDiskSize") or 0),
                snap.get("Status", ""),
                str(snap.get("CreationTime", "")),
                no_price,
            )
        )
    commands = {
        "instance": f"aliyun ecs DeleteInstance --RegionId {region} --Force true --InstanceId {{}}",
        "disk": f"aliyun ecs DeleteDisk --RegionId {region} --DiskId {{}}",
        "snapshot": f"aliyun ecs DeleteSnapshot --RegionId {region} --SnapshotId {{}}",
    }
    view.orphans += find_orphans(view, known, commands)
    return view


# ---------------------------------------------------------------- shared
def find_orphans(view: CloudView, known: set[str], commands: dict[str, str]) -> list[Orphan]:
    out = []
    live = {i.workbench for i in view.instances if i.state.lower() not in ("terminated", "deleted")}
    things = [("instance", i.id, i.workbench, False) for i in view.instances]
    things += [(s.kind, s.id, s.workbench, s.attached) for s in view.stored]
    for what, ident, workbench, attached in things:
        if workbench not in known:
            why = f"tagged for the workbench '{workbench}', which this controller has no record of"
        elif what == "disk" and not attached and workbench in live:
            why = "a data disk left detached while its workbench runs on another"
        else:
            continue
        out.append(Orphan(what, ident, workbench, why, commands[what].format(ident)))
    return out


def times(price: Price, size_gb: int) -> Price:
    if price.amount is None:
        return price
    return Price(price.amount * size_gb, "month", price.currency)


def parse_time(value: Any) -> datetime | None:
    """An API's or podman's time (ISO 8601, Z or an offset, up to nanoseconds) in UTC."""
    if isinstance(value, datetime):
        return value
    text = str(value or "").strip().replace("Z", "+00:00")
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)  # podman: nanoseconds
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value or "")


def money(amount: float, currency: str) -> str:
    return f"{amount:.2f} {currency}".strip() if currency else "free"


# ---------------------------------------------------------------- the report
def report(views: list[CloudView], known: list[Known], now: datetime) -> list[str]:
    lines: list[str] = []
    if not known and not any(v.instances or v.stored or v.problem for v in views):
        return ["no workbench known to this controller, and none found tagged in the clouds read"]
    for view in views:
        where = f"{view.cloud} {view.region}".strip()
        lines.append(f"{where}:")
        if view.problem:
            lines.append(f"  could not read it: {view.problem}")
            continue
        names = sorted(
            {i.workbench for i in view.instances}
            | {s.workbench for s in view.stored}
            | {k.name for k in known if k.cloud == view.cloud and k.region in ("", view.region)}
        )
        for name in names:
            record = next((k for k in known if k.name == name and k.cloud == view.cloud), None)
            last = f" (last run: {record.last} {record.at})" if record and record.at else ""
            lines.append(f"  workbench {name}{last}")
            running = [i for i in view.instances if i.workbench == name]
            if not running:
                lines.append("    instance: none")
            for i in running:
                since = i.since.strftime("%Y-%m-%d %H:%M UTC") if i.since else "?"
                hours = i.hours(now)
                market = "spot" if i.spot else "on-demand"
                cost = (
                    f"so far ~{money(i.hourly.amount * hours, i.hourly.currency)}"
                    if i.hourly.amount is not None
                    else "so far: unknown"
                )
                lines.append(
                    f"    instance {i.id}: {i.state}, {market}, {i.kind}, since {since} "
                    f"({hours:.1f} h), {i.hourly.text()}, {cost}"
                )
            for s in (s for s in view.stored if s.workbench == name):
                use = ", attached" if s.attached else ""
                lines.append(
                    f"    {s.kind} {s.id}: {s.size_gb} GB, {s.status}{use}, "
                    f"created {s.created or '?'}, {s.monthly.text()}"
                )
    orphans = [(v, o) for v in views for o in v.orphans]
    lines.append("orphans:" if orphans else "orphans: none")
    for view, o in orphans:
        lines.append(f"  {o.what} {o.id} ({view.cloud} {view.region}".rstrip() + f"): {o.why}")
        lines.append(f"    remove: {o.command}")
    return lines


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="status.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--cloud", action="append", choices=CLOUDS, help="only this cloud")
    parser.add_argument("--region", action="append", help="read this region too (repeatable)")
    parser.add_argument(
        "--state-dir", type=Path, metavar="DIR", help="default ~/.local/share/mlbox"
    )
    return parser


def collect(
    args: argparse.Namespace, environ: Mapping[str, str], runner: Runner
) -> tuple[list[CloudView], list[Known]]:
    base = environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    state_dir = (args.state_dir or Path(base) / "mlbox").expanduser()
    known = known_workbenches(state_dir)
    clouds = args.cloud or sorted({k.cloud for k in known}, key=CLOUDS.index)
    views: list[CloudView] = []
    for cloud in clouds:
        names = {k.name for k in known if k.cloud == cloud}
        if cloud == "local":
            views.append(local_view(state_dir, sorted(names), runner))
            continue
        if cloud == "azure":
            view = CloudView("azure", "")
            view.problem = (
                "status does not read Azure yet (see the portal's resource groups mlbox-*)"
            )
            views.append(view)
            continue
        regions = set(args.region or []) | {
            k.region for k in known if k.cloud == cloud and k.region
        }
        secrets = keys_from_environment(cloud, environ)
        reader = aws_view if cloud == "aws" else aliyun_view
        for region in sorted(regions or {default_region(cloud, environ)}):
            try:
                views.append(reader(region, names, secrets))
            except Unavailable as why:
                views.append(CloudView(cloud, region, problem=str(why)))
    return views, known


def main(
    argv: list[str] | None = None, out: TextIO = sys.stdout, runner: Runner = run_command
) -> int:
    args = build_parser().parse_args(argv)
    views, known = collect(args, os.environ, runner)
    for line in report(views, known, datetime.now(timezone.utc)):
        out.write(line + "\n")
    return EXIT_OK
