"""price.py: one instance type's spot and on-demand prices by region and zone, cheapest first,
with stock where the API tells it. Reads only; live from the cloud's pricing API."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TextIO

from .credentials import keys_from_environment
from .errors import EXIT_OK, EXIT_UNEXPECTED, CliError, UsageError
from .pricing import (
    DEFAULT_TYPE,
    Price,
    Unavailable,
    aliyun_client,
    aliyun_price,
    aliyun_spot_history,
    aliyun_stock,
    aws_config,
    aws_error,
    aws_one_price,
    aws_session,
    aws_spot_prices,
    azure_items,
    default_region,
    guarded,
    linux_consumption,
)

DESCRIPTION = """\
Spot and on-demand prices of one instance type by region and zone, cheapest first, live
from the cloud's own pricing API (AWS: EC2 DescribeSpotPriceHistory + the Price List API;
Aliyun: DescribeSpotPriceHistory, DescribePrice, and DescribeAvailableResource for stock;
Azure: the Retail Prices API). A price the API does not give is shown as unavailable, with
the reason. Without --region: every region the cloud lists (Aliyun DescribeRegions, AWS
DescribeRegions, Azure: all regions of the Retail Prices answer)."""


@dataclass
class Row:
    region: str
    zone: str
    spot: Price
    on_demand: Price
    stock: str = ""

    def key(self) -> tuple[float, float, str, str]:
        inf = float("inf")
        spot = self.spot.amount if self.spot.amount is not None else inf
        demand = self.on_demand.amount if self.on_demand.amount is not None else inf
        return (spot, demand, self.region, self.zone)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="price.py",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--cloud", choices=("aws", "aliyun", "azure"), required=True)
    parser.add_argument(
        "--instance-type", help="the instance type / VM size (default: the provider's)"
    )
    parser.add_argument(
        "--region", action="append", help="only this region (repeatable; default: every one)"
    )
    parser.add_argument("--limit", type=int, default=0, help="show only the N cheapest rows")
    return parser


# ---------------------------------------------------------------- Aliyun
def aliyun_regions(secrets: Mapping[str, str]) -> list[str]:
    ecs = aliyun_client(default_region("aliyun", os.environ), secrets)
    answer = ecs.call("DescribeRegions")
    return [r["RegionId"] for r in answer.get("Regions", {}).get("Region", [])]


def aliyun_rows(region: str, instance_type: str, secrets: Mapping[str, str]) -> list[Row]:
    ecs = aliyun_client(region, secrets)
    try:
        answer = ecs.call(
            "DescribePrice", ResourceType="instance", InstanceType=instance_type, PriceUnit="Hour"
        )
        on_demand = aliyun_price(answer, "hour")
    except Unavailable as why:
        on_demand = Price.unavailable("hour", str(why))
    try:
        spot, currency = aliyun_spot_history(ecs, instance_type)
    except Unavailable as why:
        spot, currency = {}, ""
        spot_missing = str(why)
    else:
        spot_missing = "no spot price history in this zone"
    try:
        stock = aliyun_stock(ecs, instance_type, spot=True)
    except Unavailable as why:
        stock = {}
        stock_missing = f"unknown ({why})"
    else:
        stock_missing = "not sold here"
    zones = sorted(set(spot) | set(stock))
    if not zones:
        missing = Price.unavailable("hour", spot_missing)
        return [Row(region, "-", missing, on_demand, stock_missing if stock else "")]
    return [
        Row(
            region,
            zone,
            Price(spot[zone], "hour", currency)
            if zone in spot
            else Price.unavailable("hour", spot_missing),
            on_demand,
            stock.get(zone, stock_missing),
        )
        for zone in zones
    ]


# ---------------------------------------------------------------- AWS
def aws_regions(secrets: Mapping[str, str]) -> list[str]:
    from botocore.exceptions import BotoCoreError, ClientError

    ec2 = aws_session(secrets).client(
        "ec2", region_name=default_region("aws", os.environ), config=aws_config()
    )
    try:
        return sorted(r["RegionName"] for r in ec2.describe_regions()["Regions"])
    except (ClientError, BotoCoreError) as error:
        raise aws_error(error, "ec2:DescribeRegions") from None


def aws_rows(region: str, instance_type: str, secrets: Mapping[str, str]) -> list[Row]:
    session = aws_session(secrets)
    ec2 = session.client("ec2", region_name=region, config=aws_config())
    pricing = session.client("pricing", region_name="us-east-1", config=aws_config())
    filters = {
        "instanceType": instance_type,
        "regionCode": region,
        "operatingSystem": "Linux",
        "tenancy": "Shared",
        "preInstalledSw": "NA",
        "capacitystatus": "Used",
    }
    on_demand = guarded("hour", lambda: Price(aws_one_price(pricing, filters, bool), "hour"))
    try:
        zones = aws_spot_prices(ec2, instance_type)
    except Unavailable as why:
        return [Row(region, "-", Price.unavailable("hour", str(why)), on_demand)]
    if not zones:
        missing = Price.unavailable("hour", "no spot price history")
        return [Row(region, "-", missing, on_demand)]
    return [Row(region, z, Price(p, "hour"), on_demand) for z, p in sorted(zones.items())]


# ---------------------------------------------------------------- Azure
def azure_rows(regions: list[str] | None, size: str) -> list[Row]:
    odata = (
        f"serviceName eq 'Virtual Machines' and armSkuName eq '{size}'"
        " and priceType eq 'Consumption'"
    )
    if regions and len(regions) == 1:
        odata += f" and armRegionName eq '{regions[0]}'"
    items = [i for i in azure_items(odata, pages=50) if linux_consumption(i)]
    by_region: dict[str, dict[str, Price]] = {}
    for item in items:
        region, sku = item.get("armRegionName", ""), item.get("skuName", "")
        if (regions and region not in regions) or "Low Priority" in sku:
            continue
        kind = "spot" if sku.endswith(" Spot") else "on_demand"
        price = Price(float(item["retailPrice"]), "hour", str(item.get("currencyCode", "USD")))
        held = by_region.setdefault(region, {}).get(kind)
        if held is None or (held.amount or 0) > (price.amount or 0):
            by_region[region][kind] = price
    if not by_region:
        raise Unavailable(f"the Retail Prices API lists no Linux price for {size}")
    none = Price.unavailable("hour", "not offered")
    return [
        Row(region, "-", prices.get("spot", none), prices.get("on_demand", none))
        for region, prices in by_region.items()
    ]


# ---------------------------------------------------------------- the table
def collect(
    cloud: str, instance_type: str, regions: list[str] | None, environ: Mapping[str, str]
) -> list[Row]:
    secrets = keys_from_environment(cloud, environ) if cloud != "azure" else {}
    if cloud == "azure":
        return azure_rows(regions, instance_type)
    listed = regions or (aliyun_regions(secrets) if cloud == "aliyun" else aws_regions(secrets))
    lookup = aliyun_rows if cloud == "aliyun" else aws_rows

    def one(region: str) -> list[Row]:
        try:
            return lookup(region, instance_type, secrets)
        except Unavailable as why:
            missing = Price.unavailable("hour", str(why))
            return [Row(region, "-", missing, missing)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        return [row for rows in pool.map(one, listed) for row in rows]


def table(rows: list[Row], with_stock: bool) -> list[str]:
    header = ["region", "zone", "spot /hour", "on-demand /hour"] + (["stock"] if with_stock else [])
    cells = [header]
    for row in sorted(rows, key=Row.key):
        line = [row.region, row.zone, row.spot.text(), row.on_demand.text()]
        cells.append(line + ([row.stock] if with_stock else []))
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]


def main(argv: list[str] | None = None, out: TextIO = sys.stdout) -> int:
    args = build_parser().parse_args(argv)
    instance_type = args.instance_type or DEFAULT_TYPE[args.cloud]
    try:
        if args.limit < 0:
            raise UsageError("--limit takes a positive number")
        rows = collect(args.cloud, instance_type, args.region, os.environ)
    except Unavailable as why:
        sys.stderr.write(f"error: prices unavailable: {why}\n")
        return EXIT_UNEXPECTED
    except CliError as error:
        sys.stderr.write(f"error: {error}\n")
        return error.exit_code
    rows = sorted(rows, key=Row.key)[: args.limit or None]
    out.write(f"{args.cloud} {instance_type}, cheapest spot first (Linux):\n")
    for line in table(rows, with_stock=args.cloud == "aliyun"):
        out.write(line + "\n")
    return EXIT_OK
