"""A double of the Azure Retail Prices API (public, no auth), for tests.

The documented contract (https://learn.microsoft.com/rest/api/cost-management/retail-prices/
azure-retail-prices): ``GET /api/retail/prices?api-version=2023-01-01-preview&$filter=...``
answers ``{BillingCurrency, CustomerEntityId, CustomerEntityType, Items, NextPageLink, Count}``,
at most 100 items a page, NextPageLink the same query with ``$skip`` (null on the last page);
each item has the documented fields (currencyCode, tierMinimumUnits, retailPrice, unitPrice,
armRegionName, location, effectiveStartDate, meterId, meterName, productId, skuId,
productName, skuName, serviceName, serviceId, serviceFamily, unitOfMeasure, type,
isPrimaryMeterRegion, armSkuName). Filter values are case-sensitive from 2023-01-01-preview
on. The $filter subset served: ``<field> eq '<value>'`` and ``contains(<field>, '<value>')``
joined by ``and``; anything else is refused with 400, as the API refuses a filter it cannot
parse.

The items are the double's price book (test data, not Azure's prices).

Controls: ``POST /_mlbox/refuse {"status": 503}`` answers every query with that status until
``DELETE /_mlbox/refuse``; ``POST /_mlbox/page {"size": n}`` pages by n (default 100);
``GET /_mlbox/requests`` the filters received.

Run: python tests/doubles/azure_prices.py [--port 0]; prints "port=N" once it listens.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

PATH = "/api/retail/prices"
FIELDS = (
    "currencyCode",
    "tierMinimumUnits",
    "retailPrice",
    "unitPrice",
    "armRegionName",
    "location",
    "effectiveStartDate",
    "meterId",
    "meterName",
    "productId",
    "skuId",
    "productName",
    "skuName",
    "serviceName",
    "serviceId",
    "serviceFamily",
    "unitOfMeasure",
    "type",
    "isPrimaryMeterRegion",
    "armSkuName",
)
LOCATIONS = {"eastus": ("US East", 1.0), "westeurope": ("EU West", 1.12)}
# (armSkuName, product series, pay-as-you-go USD/hour)
VM_SIZES = [
    ("Standard_D2s_v3", "Dsv3 Series", "D2s v3", 0.096),
    ("Standard_NC4as_T4_v3", "NCasT4_v3 Series", "NC4as T4 v3", 0.526),
]
DISK_TIERS = {"E4": 2.4, "E6": 4.8, "E10": 9.6, "E15": 19.2, "P4": 5.28, "P6": 10.21}
CLAUSE = re.compile(r"^(?:(\w+) eq '([^']*)'|contains\((\w+),\s*'([^']*)'\))$")


def item(region: str, **fields: Any) -> dict[str, Any]:
    location, _unused = LOCATIONS[region]
    meter = str(uuid.uuid5(uuid.NAMESPACE_URL, json.dumps([region, fields], sort_keys=True)))
    base = {
        "currencyCode": "USD",
        "tierMinimumUnits": 0.0,
        "armRegionName": region,
        "location": location,
        "effectiveStartDate": "2024-01-01T00:00:00Z",
        "meterId": meter,
        "productId": "DZH318Z0" + meter[:4].upper(),
        "skuId": "DZH318Z0" + meter[:4].upper() + "/0001",
        "isPrimaryMeterRegion": True,
        "type": "Consumption",
        "armSkuName": "",
    }
    base.update(fields)
    base["unitPrice"] = base["retailPrice"]
    return {name: base[name] for name in FIELDS}


def price_book() -> list[dict[str, Any]]:
    items = []
    for region, (_unused, factor) in LOCATIONS.items():
        for sku, series, short, usd in VM_SIZES:
            vm = {
                "serviceName": "Virtual Machines",
                "serviceId": "DZH313Z7MMC8",
                "serviceFamily": "Compute",
                "unitOfMeasure": "1 Hour",
                "armSkuName": sku,
            }
            for sku_name, product, price in (
                (short, f"Virtual Machines {series}", usd),
                (f"{short} Spot", f"Virtual Machines {series}", usd * 0.2),
                (f"{short} Low Priority", f"Virtual Machines {series}", usd * 0.2),
                (short, f"Virtual Machines {series} Windows", usd * 1.9),
                (f"{short} Spot", f"Virtual Machines {series} Windows", usd * 0.5),
            ):
                items.append(
                    item(
                        region,
                        **vm,
                        skuName=sku_name,
                        meterName=sku_name,
                        productName=product,
                        retailPrice=round(price * factor, 6),
                    )
                )
            items.append(
                item(
                    region,
                    **vm,
                    skuName=short,
                    meterName=short,
                    productName=f"Virtual Machines {series}",
                    retailPrice=round(usd * factor * 8760 * 0.6, 2),
                    type="Reservation",
                )
            )
        storage = {
            "serviceName": "Storage",
            "serviceId": "DZH317F1HKN0",
            "serviceFamily": "Storage",
        }
        for tier, usd in DISK_TIERS.items():
            product = (
                "Standard SSD Managed Disks" if tier[0] == "E" else "Premium SSD Managed Disks"
            )
            items.append(
                item(
                    region,
                    **storage,
                    skuName=f"{tier} LRS",
                    meterName=f"{tier} LRS Disk",
                    productName=product,
                    unitOfMeasure="1/Month",
                    retailPrice=round(usd * factor, 4),
                )
            )
            items.append(
                item(
                    region,
                    **storage,
                    skuName=f"{tier} LRS",
                    meterName=f"{tier} LRS Disk Mount",
                    productName=product,
                    unitOfMeasure="1/Month",
                    retailPrice=0.0,
                )
            )
        for redundancy, usd in (("LRS", 0.05), ("ZRS", 0.0625)):
            items.append(
                item(
                    region,
                    **storage,
                    skuName=f"Snapshots {redundancy}",
                    meterName=f"{redundancy} Snapshot",
                    productName="Standard HDD Managed Disks",
                    unitOfMeasure="1 GB/Month",
                    retailPrice=round(usd * factor, 4),
                )
            )
    return items


class BadFilter(ValueError):
    pass


def parse_filter(text: str) -> list[tuple[str, str, str]]:
    """'a eq 'x' and contains(b, 'y')' -> [("eq", "a", "x"), ("contains", "b", "y")]."""
    clauses = []
    for part in re.split(r"\s+and\s+", text.strip()) if text.strip() else []:
        match = CLAUSE.match(part.strip())
        if not match:
            raise BadFilter(f"Invalid OData filter clause: {part!r}")
        if match.group(1):
            clauses.append(("eq", match.group(1), match.group(2)))
        else:
            clauses.append(("contains", match.group(3), match.group(4)))
    return clauses


def selected(row: dict[str, Any], clauses: list[tuple[str, str, str]]) -> bool:
    for op, name, value in clauses:
        if name == "priceType":
            name = "type"
        have = str(row.get(name, ""))
        if (op == "eq" and have != value) or (op == "contains" and value not in have):
            return False
    return True


class Prices:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.items = price_book()
        self.refusal = 0
        self.size = 100
        self.requests: list[str] = []

    def answer(self, base: str, query: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        text = (query.get("$filter") or [""])[0]
        with self.lock:
            self.requests.append(text)
            if self.refusal:
                return self.refusal, {"Error": {"Code": "ServiceUnavailable"}}
            try:
                clauses = parse_filter(text)
            except BadFilter as error:
                return 400, {"Error": {"Code": "BadRequest", "Message": str(error)}}
            found = [row for row in self.items if selected(row, clauses)]
            skip = int((query.get("$skip") or ["0"])[0])
            chunk = found[skip : skip + self.size]
            following = None
            if skip + self.size < len(found):
                params = {k: v[0] for k, v in query.items()}
                params["$skip"] = str(skip + self.size)
                following = f"{base}?{urlencode(params)}"
            return 200, {
                "BillingCurrency": "USD",
                "CustomerEntityId": "Default",
                "CustomerEntityType": "Retail",
                "Items": chunk,
                "NextPageLink": following,
                "Count": len(chunk),
            }


PRICES = Prices()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/_mlbox/requests":
            return self.send(200, PRICES.requests)
        if url.path != PATH:
            return self.send(404, {"Error": {"Code": "NotFound"}})
        base = f"http://{self.headers.get('Host')}{PATH}"
        status, body = PRICES.answer(base, parse_qs(url.query, keep_blank_values=True))
        return self.send(status, body)

    def control(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}") if length else {}
        path = urlsplit(self.path).path
        with PRICES.lock:
            if path == "/_mlbox/refuse":
                PRICES.refusal = int(body.get("status", 503)) if self.command == "POST" else 0
                return self.send(200, {"refusal": PRICES.refusal})
            if path == "/_mlbox/page":
                PRICES.size = int(body.get("size", 100)) if self.command == "POST" else 100
                return self.send(200, {"size": PRICES.size})
        return self.send(404, {"error": f"no control {self.command} {path}"})

    do_POST = do_DELETE = control

    def log_message(self, *args: Any) -> None:
        pass


def serve(host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    server = serve(args.host, args.port)
    print(f"port={server.server_address[1]}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    sys.exit(0)


if __name__ == "__main__":
    main()
