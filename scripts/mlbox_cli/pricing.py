"""Live prices from the clouds' own pricing APIs. Never a number of our own: a price that
cannot be had is a Price with no amount and the reason (the API's error code, no key, ...).

Sources of the request and answer shapes (the doubles in tests/doubles check the same):
- AWS EC2 DescribeSpotPriceHistory: botocore data/ec2/2016-11-15/service-2.json
  (DescribeSpotPriceHistoryRequest: InstanceTypes, ProductDescriptions, StartTime;
  SpotPriceHistory[].{AvailabilityZone, SpotPrice (a string), Timestamp}).
- AWS Price List GetProducts: botocore data/pricing/2017-10-15/service-2.json (JSON 1.1,
  target AWSPriceListService; endpoint api.pricing.us-east-1; Filters of {Type: TERM_MATCH,
  Field, Value}; PriceList: JSON documents with product.attributes and
  terms.OnDemand.*.priceDimensions.*.{unit, pricePerUnit.USD}).
- Aliyun ECS 2014-05-26 RPC: alibabacloud_ecs20140526.models DescribePriceRequest
  (ResourceType instance|disk, InstanceType, ZoneId, SpotStrategy, PriceUnit,
  DataDisk.1.Category/Size; no snapshot resource type) -> PriceInfo.Price.{TradePrice,
  Currency}; DescribeSpotPriceHistoryRequest (NetworkType and InstanceType required) ->
  SpotPrices.SpotPriceType[].{ZoneId, SpotPrice, Timestamp}, Currency;
  DescribeAvailableResourceRequest (DestinationResource=InstanceType) ->
  AvailableZones.AvailableZone[].AvailableResources.AvailableResource[].SupportedResources.
  SupportedResource[].{Value, Status, StatusCategory}. Signature: the RPC signature v1
  (HMAC-SHA1 over the sorted, percent-encoded query), as aliyunsdkcore signs.
- Azure Retail Prices: https://learn.microsoft.com/rest/api/cost-management/retail-prices/
  azure-retail-prices (GET https://prices.azure.com/api/retail/prices?$filter=..., no auth;
  {Items[], NextPageLink, Count}; items with armSkuName, skuName ("... Spot"), productName
  ("... Windows" for Windows), meterName, retailPrice, unitOfMeasure, currencyCode, type).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

TIMEOUT = 15
AZURE_PRICES_URL = "https://prices.azure.com/api/retail/prices"
AZURE_API_VERSION = "2023-01-01-preview"
# Test hooks: where the Aliyun ECS API and the Azure Retail Prices API are (AWS reads
# AWS_ENDPOINT_URL itself).
ALIYUN_ENDPOINT_ENV = "MLBOX_ALIYUN_ECS_ENDPOINT"
AZURE_PRICES_ENV = "MLBOX_AZURE_PRICES_URL"
DEFAULT_REGION = {"aws": "us-east-1", "aliyun": "cn-hangzhou", "azure": "eastus"}
DEFAULT_TYPE = {"aws": "t3.large", "aliyun": "ecs.g7.large", "azure": "Standard_D2s_v3"}
DEFAULT_DISK = {"aws": "gp3", "aliyun": "cloud_essd", "azure": "StandardSSD_LRS"}


class Unavailable(Exception):
    """Why a price cannot be had, in a few words (shown as 'unavailable (<why>)')."""


@dataclass(frozen=True)
class Price:
    amount: float | None
    unit: str  # hour, month, GB-month
    currency: str = "USD"
    missing: str = ""  # why there is no amount

    @classmethod
    def unavailable(cls, unit: str, why: str) -> Price:
        return cls(None, unit, "", why)

    @property
    def known(self) -> bool:
        return self.amount is not None

    def text(self) -> str:
        if self.amount is None:
            return f"unavailable ({self.missing})"
        if self.amount == 0 and not self.currency:
            return "free"
        amount = f"{self.amount:.6f}".rstrip("0").rstrip(".")
        return f"{amount} {self.currency}/{self.unit}"


FREE_HOUR = Price(0.0, "hour", "")


@dataclass
class Quote:
    """What a workbench of this shape costs, each part from its API or said unavailable."""

    cloud: str
    region: str
    instance_type: str
    disk_gb: int
    spot: Price
    on_demand: Price
    disk: Price  # the data disk, per month
    snapshot: Price  # per GB-month
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        if self.cloud == "local":
            return ["price: free (local: this machine's podman, nothing is billed)"]
        where = f"{self.cloud} {self.region}, {self.instance_type}"
        return [
            f"prices ({where}, live from the cloud's pricing API):",
            f"  spot now:     {self.spot.text()}",
            f"  on-demand:    {self.on_demand.text()}",
            f"  data disk:    {self.disk.text()}  ({self.disk_gb} GB)",
            f"  snapshot:     {self.snapshot.text()}",
            *[f"  {note}" for note in self.notes],
        ]


def guarded(unit: str, lookup: Callable[[], Price]) -> Price:
    """The lookup's price, or unavailable with the reason it gave."""
    try:
        return lookup()
    except Unavailable as why:
        return Price.unavailable(unit, str(why))


def gathered(*lookups: tuple[str, Callable[[], Price]]) -> list[Price]:
    """Each (unit, lookup) guarded, all at once: four API round trips cost one."""
    with ThreadPoolExecutor(max_workers=len(lookups)) as pool:
        futures = [pool.submit(guarded, unit, lookup) for unit, lookup in lookups]
        return [future.result() for future in futures]


# ---------------------------------------------------------------- AWS
def aws_error(error: Exception, action: str) -> Unavailable:
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code") or type(error).__name__
        return Unavailable(f"{code} for {action}")
    name = type(error).__name__
    if name in ("NoCredentialsError", "PartialCredentialsError"):
        return Unavailable(f"no AWS credentials for {action}")
    return Unavailable(f"{action}: {name}: {error}")


def aws_session(secrets: Mapping[str, str]) -> Any:
    import boto3

    keys = {}
    if secrets.get("AWS_ACCESS_KEY_ID") and secrets.get("AWS_SECRET_ACCESS_KEY"):
        keys = {
            "aws_access_key_id": secrets["AWS_ACCESS_KEY_ID"],
            "aws_secret_access_key": secrets["AWS_SECRET_ACCESS_KEY"],
            "aws_session_token": secrets.get("AWS_SESSION_TOKEN") or None,
        }
    return boto3.session.Session(**keys)


def aws_config() -> Any:
    from botocore.config import Config

    return Config(
        connect_timeout=5, read_timeout=TIMEOUT, retries={"mode": "standard", "max_attempts": 2}
    )


def aws_spot_prices(ec2: Any, instance_type: str) -> dict[str, float]:
    """The latest Linux spot price per zone (DescribeSpotPriceHistory from now)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        history = ec2.describe_spot_price_history(
            InstanceTypes=[instance_type],
            ProductDescriptions=["Linux/UNIX"],
            StartTime=datetime.now(timezone.utc),
        )["SpotPriceHistory"]
    except (ClientError, BotoCoreError) as error:
        raise aws_error(error, "ec2:DescribeSpotPriceHistory") from None
    latest: dict[str, tuple[Any, float]] = {}
    for row in history:
        zone, stamp = row.get("AvailabilityZone", ""), row.get("Timestamp")
        if zone not in latest or (stamp and latest[zone][0] and stamp > latest[zone][0]):
            latest[zone] = (stamp, float(row["SpotPrice"]))
    return {zone: price for zone, (_unused, price) in latest.items()}


def aws_products(pricing: Any, filters: dict[str, str]) -> list[dict[str, Any]]:
    from botocore.exceptions import BotoCoreError, ClientError

    request = [{"Type": "TERM_MATCH", "Field": k, "Value": v} for k, v in filters.items()]
    items: list[dict[str, Any]] = []
    token = ""
    try:
        for _unused in range(10):
            extra = {"NextToken": token} if token else {}
            page = pricing.get_products(
                ServiceCode="AmazonEC2", Filters=request, FormatVersion="aws_v1", **extra
            )
            for item in page.get("PriceList", []):
                items.append(json.loads(item) if isinstance(item, str) else item)
            token = page.get("NextToken", "")
            if not token:
                break
    except (ClientError, BotoCoreError) as error:
        raise aws_error(error, "pricing:GetProducts") from None
    return items


def on_demand_usd(item: dict[str, Any]) -> tuple[float, str] | None:
    for term in (item.get("terms", {}).get("OnDemand") or {}).values():
        for dimension in (term.get("priceDimensions") or {}).values():
            usd = (dimension.get("pricePerUnit") or {}).get("USD")
            if usd not in (None, ""):
                return float(usd), str(dimension.get("unit", ""))
    return None


def aws_one_price(pricing: Any, filters: dict[str, str], pick: Callable[[dict], bool]) -> float:
    found = [on_demand_usd(i) for i in aws_products(pricing, filters) if pick(i)]
    prices = [p for p in found if p is not None and p[0] > 0]
    if not prices:
        raise Unavailable("the Price List API lists no price for it")
    return min(p[0] for p in prices)


def aws_quote(region: str, instance_type: str, disk_gb: int, secrets: Mapping[str, str]) -> Quote:
    try:
        session = aws_session(secrets)
        config = aws_config()
        ec2 = session.client("ec2", region_name=region, config=config)
        # The Price List API answers only at a few endpoints; us-east-1's serves every region.
        pricing = session.client("pricing", region_name="us-east-1", config=config)
    except Exception as error:  # a missing profile, no boto3: no price, never a failed start
        missing = Price.unavailable("hour", f"no AWS client: {type(error).__name__}: {error}")
        return Quote("aws", region, instance_type, disk_gb, missing, missing, missing, missing)

    def spot() -> Price:
        zones = aws_spot_prices(ec2, instance_type)
        if not zones:
            raise Unavailable(f"no spot price history for {instance_type} in {region}")
        return Price(min(zones.values()), "hour")

    def on_demand() -> Price:
        filters = {
            "instanceType": instance_type,
            "regionCode": region,
            "operatingSystem": "Linux",
            "tenancy": "Shared",
            "preInstalledSw": "NA",
            "capacitystatus": "Used",
        }
        return Price(aws_one_price(pricing, filters, lambda item: True), "hour")

    def disk() -> Price:
        filters = {"productFamily": "Storage", "volumeApiName": "gp3", "regionCode": region}
        return Price(aws_one_price(pricing, filters, lambda item: True) * disk_gb, "month")

    def snapshot() -> Price:
        filters = {"productFamily": "Storage Snapshot", "regionCode": region}

        def standard(item: dict[str, Any]) -> bool:  # not the archive tier
            usage = item.get("product", {}).get("attributes", {}).get("usagetype", "")
            return usage.endswith("EBS:SnapshotUsage")

        return Price(aws_one_price(pricing, filters, standard), "GB-month")

    prices = gathered(("hour", spot), ("hour", on_demand), ("month", disk), ("GB-month", snapshot))
    return Quote("aws", region, instance_type, disk_gb, *prices)


# ---------------------------------------------------------------- Aliyun
def percent(text: str) -> str:
    return urllib.parse.quote(text, safe="~")


class AliyunEcs:
    """Signed ECS RPC calls (API version 2014-05-26) over HTTPS, JSON answers."""

    VERSION = "2014-05-26"

    def __init__(self, region: str, key_id: str, secret: str, token: str = "") -> None:
        self.region, self.key_id, self.secret, self.token = region, key_id, secret, token
        self.endpoint = os.environ.get(ALIYUN_ENDPOINT_ENV) or f"https://ecs.{region}.aliyuncs.com"

    def signed_query(self, action: str, params: dict[str, str]) -> str:
        query = {
            "Action": action,
            "Version": self.VERSION,
            "Format": "JSON",
            "RegionId": self.region,
            "AccessKeyId": self.key_id,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureVersion": "1.0",
            "SignatureNonce": uuid.uuid4().hex,
            "Timestamp": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            **params,
        }
        if self.token:
            query["SecurityToken"] = self.token
        canonical = "&".join(f"{percent(k)}={percent(v)}" for k, v in sorted(query.items()))
        to_sign = "GET&%2F&" + percent(canonical)
        digest = hmac.new((self.secret + "&").encode(), to_sign.encode(), hashlib.sha1).digest()
        query["Signature"] = base64.b64encode(digest).decode()
        return urllib.parse.urlencode(query, quote_via=urllib.parse.quote)

    def call(self, action: str, **params: str) -> dict[str, Any]:
        url = f"{self.endpoint}/?{self.signed_query(action, params)}"
        try:
            with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            try:
                code = json.loads(error.read()).get("Code") or f"HTTP {error.code}"
            except ValueError:
                code = f"HTTP {error.code}"
            raise Unavailable(f"{code} for ecs:{action}") from None
        except (urllib.error.URLError, OSError, ValueError) as error:
            raise Unavailable(f"ecs:{action} unreachable: {error}") from None


def aliyun_client(region: str, secrets: Mapping[str, str]) -> AliyunEcs:
    key_id = secrets.get("ALICLOUD_ACCESS_KEY", "")
    secret = secrets.get("ALICLOUD_SECRET_KEY", "")
    if not (key_id and secret):
        raise Unavailable("no Aliyun access key in the environment")
    return AliyunEcs(region, key_id, secret, secrets.get("ALICLOUD_SECURITY_TOKEN", ""))


def aliyun_price(answer: dict[str, Any], unit: str) -> Price:
    price = answer.get("PriceInfo", {}).get("Price", {})
    if price.get("TradePrice") is None:
        raise Unavailable("DescribePrice answered no TradePrice")
    return Price(float(price["TradePrice"]), unit, str(price.get("Currency") or "CNY"))


def aliyun_spot_history(ecs: AliyunEcs, instance_type: str) -> tuple[dict[str, float], str]:
    """The latest spot price per zone, and the currency."""
    answer = ecs.call(
        "DescribeSpotPriceHistory", NetworkType="vpc", InstanceType=instance_type, OSType="linux"
    )
    latest: dict[str, tuple[str, float]] = {}
    for row in answer.get("SpotPrices", {}).get("SpotPriceType", []):
        zone, stamp = row.get("ZoneId", ""), str(row.get("Timestamp", ""))
        if zone not in latest or stamp > latest[zone][0]:
            latest[zone] = (stamp, float(row["SpotPrice"]))
    return {z: p for z, (_unused, p) in latest.items()}, str(answer.get("Currency") or "CNY")


def aliyun_stock(ecs: AliyunEcs, instance_type: str, spot: bool) -> dict[str, str]:
    """Zone -> the instance type's StatusCategory (WithStock, ClosedWithStock, WithoutStock)."""
    answer = ecs.call(
        "DescribeAvailableResource",
        DestinationResource="InstanceType",
        InstanceType=instance_type,
        InstanceChargeType="PostPaid",
        SpotStrategy="SpotAsPriceGo" if spot else "NoSpot",
    )
    stock: dict[str, str] = {}
    for zone in answer.get("AvailableZones", {}).get("AvailableZone", []):
        resources = zone.get("AvailableResources", {}).get("AvailableResource", [])
        for resource in resources:
            for supported in resource.get("SupportedResources", {}).get("SupportedResource", []):
                if supported.get("Value") == instance_type:
                    stock[zone.get("ZoneId", "")] = str(supported.get("StatusCategory", ""))
    return stock


def aliyun_quote(
    region: str, instance_type: str, disk_gb: int, secrets: Mapping[str, str], zone: str = ""
) -> Quote:
    try:
        ecs = aliyun_client(region, secrets)
    except Unavailable as why:
        missing = Price.unavailable("hour", str(why))
        return Quote("aliyun", region, instance_type, disk_gb, missing, missing, missing, missing)
    where = {"ZoneId": zone} if zone else {}

    def spot() -> Price:
        zones, currency = aliyun_spot_history(ecs, instance_type)
        if zone:
            zones = {z: p for z, p in zones.items() if z == zone}
        if zones:
            return Price(min(zones.values()), "hour", currency)
        # No history yet: DescribePrice prices a spot instance too (SpotAsPriceGo).
        answer = ecs.call(
            "DescribePrice",
            ResourceType="instance",
            InstanceType=instance_type,
            SpotStrategy="SpotAsPriceGo",
            **where,
        )
        return aliyun_price(answer, "hour")

    def on_demand() -> Price:
        answer = ecs.call(
            "DescribePrice",
            ResourceType="instance",
            InstanceType=instance_type,
            PriceUnit="Hour",
            **where,
        )
        return aliyun_price(answer, "hour")

    def disk() -> Price:
        answer = ecs.call(
            "DescribePrice",
            ResourceType="disk",
            PriceUnit="Month",
            **{"DataDisk.1.Category": DEFAULT_DISK["aliyun"], "DataDisk.1.Size": str(disk_gb)},
            **where,
        )
        return aliyun_price(answer, "month")

    # DescribePrice's ResourceType has no snapshot (sdk:DescribePriceRequest.resource_type),
    # and no other ECS action prices one.
    snapshot = Price.unavailable("GB-month", "the ECS API has no snapshot price")
    prices = gathered(("hour", spot), ("hour", on_demand), ("month", disk))
    return Quote("aliyun", region, instance_type, disk_gb, *prices, snapshot)


# ---------------------------------------------------------------- Azure
def azure_items(odata_filter: str, pages: int = 10) -> list[dict[str, Any]]:
    """Every item the Retail Prices API answers to the filter, following NextPageLink."""
    base = os.environ.get(AZURE_PRICES_ENV) or AZURE_PRICES_URL
    query = urllib.parse.urlencode(
        {"api-version": AZURE_API_VERSION, "$filter": odata_filter}, quote_via=urllib.parse.quote
    )
    url: str | None = f"{base}?{query}"
    items: list[dict[str, Any]] = []
    for _unused in range(pages):
        if not url:
            break
        try:
            with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
                page = json.loads(response.read())
        except urllib.error.HTTPError as error:
            raise Unavailable(f"HTTP {error.code} from the Retail Prices API") from None
        except (urllib.error.URLError, OSError, ValueError) as error:
            raise Unavailable(f"the Retail Prices API is unreachable: {error}") from None
        items += page.get("Items") or []
        url = page.get("NextPageLink") or None
    return items


# Managed disk tiers (GiB) by SKU: a disk is billed as the smallest tier that holds it.
# https://learn.microsoft.com/azure/virtual-machines/disks-types (disk size tables).
AZURE_TIERS = {
    "StandardSSD_LRS": ("E", (4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384)),
    "Premium_LRS": ("P", (4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384)),
    "Standard_LRS": ("S", (32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384)),
}
TIER_NUMBERS = {
    4: "1",
    8: "2",
    16: "3",
    32: "4",
    64: "6",
    128: "10",
    256: "15",
    512: "20",
    1024: "30",
    2048: "40",
    4096: "50",
    8192: "60",
    16384: "70",
}


def azure_tier(sku: str, size_gb: int) -> str:
    letter, sizes = AZURE_TIERS[sku]
    fits = [s for s in sizes if s >= size_gb]
    if not fits:
        raise Unavailable(f"{size_gb} GB is beyond the {sku} tiers")
    return f"{letter}{TIER_NUMBERS[fits[0]]}"


def linux_consumption(item: dict[str, Any]) -> bool:
    return item.get("type") == "Consumption" and "Windows" not in item.get("productName", "")


def azure_quote(region: str, size: str, disk_gb: int) -> Quote:
    # One query for both VM prices (spot and pay-as-you-go are items of the same size).
    try:
        vm_items: list[dict[str, Any]] | Unavailable = azure_items(
            f"serviceName eq 'Virtual Machines' and armRegionName eq '{region}' "
            f"and armSkuName eq '{size}' and priceType eq 'Consumption'"
        )
    except Unavailable as why:
        vm_items = why

    def vms() -> list[dict[str, Any]]:
        if isinstance(vm_items, Unavailable):
            raise vm_items
        return vm_items

    def vm_price(spot: bool) -> Price:
        rows = [
            i
            for i in vms()
            if linux_consumption(i)
            and i.get("skuName", "").endswith(" Spot") == spot
            and "Low Priority" not in i.get("skuName", "")
        ]
        if not rows:
            kind = "spot" if spot else "pay-as-you-go"
            raise Unavailable(f"the Retail Prices API lists no Linux {kind} price for {size}")
        best = min(rows, key=lambda i: float(i["retailPrice"]))
        return Price(float(best["retailPrice"]), "hour", str(best.get("currencyCode", "USD")))

    def disk() -> Price:
        tier = azure_tier(DEFAULT_DISK["azure"], disk_gb)
        rows = azure_items(
            f"serviceName eq 'Storage' and armRegionName eq '{region}' "
            f"and skuName eq '{tier} LRS' and priceType eq 'Consumption'"
        )
        rows = [r for r in rows if r.get("meterName") == f"{tier} LRS Disk"]
        if not rows:
            raise Unavailable(f"the Retail Prices API lists no {tier} LRS disk")
        return Price(float(rows[0]["retailPrice"]), "month", str(rows[0].get("currencyCode")))

    def snapshot() -> Price:
        # azure_rm_snapshot keeps snapshots as Standard_LRS: "Standard HDD Managed Disks",
        # meter "LRS Snapshot", per 1 GB/Month.
        rows = azure_items(
            f"serviceName eq 'Storage' and armRegionName eq '{region}' "
            "and productName eq 'Standard HDD Managed Disks' and contains(meterName, 'Snapshot')"
            " and priceType eq 'Consumption'"
        )
        rows = [r for r in rows if r.get("meterName", "").startswith("LRS Snapshot")]
        if not rows:
            raise Unavailable("the Retail Prices API lists no LRS snapshot price")
        return Price(float(rows[0]["retailPrice"]), "GB-month", str(rows[0].get("currencyCode")))

    prices = gathered(
        ("hour", lambda: vm_price(True)),
        ("hour", lambda: vm_price(False)),
        ("month", disk),
        ("GB-month", snapshot),
    )
    return Quote("azure", region, size, disk_gb, *prices)


# ---------------------------------------------------------------- any cloud
def quote(
    cloud: str,
    region: str | None,
    instance_type: str | None,
    disk_gb: int,
    secrets: Mapping[str, str],
    zone: str = "",
) -> Quote:
    if cloud == "local":
        free = Price(0.0, "hour", "")
        return Quote("local", "", "", disk_gb, free, free, free, free)
    region = region or DEFAULT_REGION[cloud]
    instance_type = instance_type or DEFAULT_TYPE[cloud]
    if cloud == "aws":
        return aws_quote(region, instance_type, disk_gb, secrets)
    if cloud == "aliyun":
        return aliyun_quote(region, instance_type, disk_gb, secrets, zone)
    return azure_quote(region, instance_type, disk_gb)


def aws_default_region(environ: Mapping[str, str]) -> str:
    """cloud_aws's own order: AWS_REGION, AWS_DEFAULT_REGION, us-east-1."""
    return environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def default_region(cloud: str, environ: Mapping[str, str]) -> str:
    if cloud == "aws":
        return aws_default_region(environ)
    if cloud == "aliyun":  # cloud_aliyun's order
        return environ.get("ALIYUN_REGION") or environ.get("ALICLOUD_REGION") or "cn-hangzhou"
    return DEFAULT_REGION.get(cloud, "")
