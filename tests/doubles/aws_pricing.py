"""A double of the AWS Price List Query API (service "pricing", 2017-10-15), which moto lacks.

The contract is botocore's own model (data/pricing/2017-10-15/service-2.json): JSON 1.1
protocol, POST / with ``X-Amz-Target: AWSPriceListService.<Operation>``; GetProducts takes
ServiceCode (required), Filters (<= 50 of {Type: TERM_MATCH|EQUALS|CONTAINS|ANY_OF|NONE_OF,
Field, Value}, all required), FormatVersion, NextToken, MaxResults (1..100) and answers
{FormatVersion, PriceList: [JSON document as a string], NextToken}. Every request is checked
against the model's input shape (an unknown member or a missing required one is a
ValidationException, a wrong enum an InvalidParameterException), every answer against the
output shape (a member the model lacks is the double's bug: 500). Errors are the model's
shapes, sent as JSON 1.1 errors ({"__type": code, "message": ...}).

The products are the double's price book (test data, not AWS's prices), in the documented
aws_v1 product format: product.{productFamily, attributes{...}} and
terms.OnDemand.<offer>.priceDimensions.<rate>.{unit, pricePerUnit.USD}.

``refuse(code)`` makes every call fail with that error of the model (AccessDeniedException,
403, as a user without pricing:GetProducts gets) until ``refuse(None)``.
"""

from __future__ import annotations

import gzip
import json
import threading
import zlib
from pathlib import Path
from typing import Any

import botocore

MODEL_FILE = (
    Path(botocore.__file__).parent / "data" / "pricing" / "2017-10-15" / "service-2.json.gz"
)
TARGET = "AWSPriceListService."
# The model's error shapes carry no HTTP status; AWS answers AccessDenied with 403, its own
# failures with 500, the rest with 400 (botocore reads the code from __type either way).
ERROR_STATUS = {
    "AccessDeniedException": 403,
    "InvalidParameterException": 400,
    "NotFoundException": 400,
    "ThrottlingException": 400,
    "InternalErrorException": 500,
}

# (productFamily, attributes, USD per unit, unit) for us-east-1 and eu-west-1.
REGIONS = {"us-east-1": ("US East (N. Virginia)", ""), "eu-west-1": ("EU (Ireland)", "EU-")}
INSTANCES = {"t3.large": 0.0832, "g4dn.xlarge": 0.526, "m5.large": 0.096}


def load_model() -> dict[str, Any]:
    with gzip.open(MODEL_FILE) as handle:
        return json.load(handle)


MODEL = load_model()


def products() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for region, (location, prefix) in REGIONS.items():
        factor = 1.0 if region == "us-east-1" else 1.1
        for instance_type, usd in INSTANCES.items():
            for capacity in ("Used", "Reservation"):
                out.append(
                    product(
                        "Compute Instance",
                        {
                            "instanceType": instance_type,
                            "regionCode": region,
                            "location": location,
                            "operatingSystem": "Linux",
                            "tenancy": "Shared",
                            "preInstalledSw": "NA",
                            "capacitystatus": capacity,
                            "usagetype": f"{prefix}BoxUsage:{instance_type}",
                        },
                        round(usd * factor, 4) if capacity == "Used" else 0.0,
                        "Hrs",
                    )
                )
        out.append(
            product(
                "Storage",
                {"volumeApiName": "gp3", "regionCode": region, "location": location},
                round(0.08 * factor, 4),
                "GB-Mo",
            )
        )
        for usage, usd in (("EBS:SnapshotUsage", 0.05), ("EBS:SnapshotArchiveStorage", 0.0125)):
            out.append(
                product(
                    "Storage Snapshot",
                    {"regionCode": region, "location": location, "usagetype": prefix + usage},
                    round(usd * factor, 4),
                    "GB-Mo",
                )
            )
    return out


def product(family: str, attributes: dict[str, str], usd: float, unit: str) -> dict[str, Any]:
    sku = f"SKU{zlib.crc32(json.dumps([family, attributes], sort_keys=True).encode()):010d}"
    return {
        "product": {"productFamily": family, "attributes": attributes, "sku": sku},
        "serviceCode": "AmazonEC2",
        "terms": {
            "OnDemand": {
                f"{sku}.JRTCKXETXF": {
                    "offerTermCode": "JRTCKXETXF",
                    "sku": sku,
                    "priceDimensions": {
                        f"{sku}.JRTCKXETXF.6YS6EN2CT7": {
                            "unit": unit,
                            "pricePerUnit": {"USD": f"{usd:.10f}"},
                            "description": f"{usd} USD per {unit}",
                        }
                    },
                }
            }
        },
        "version": "20260101000000",
        "publicationDate": "2026-01-01T00:00:00Z",
    }


class ApiError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def check_shape(shape_name: str, value: Any, where: str) -> None:
    """The value against the model's shape: members, required ones, enums, list bounds."""
    shape = MODEL["shapes"][shape_name]
    kind = shape["type"]
    if kind == "structure":
        if not isinstance(value, dict):
            raise ApiError("ValidationException", f"{where}: expected an object")
        for name in shape.get("required", []):
            if name not in value:
                raise ApiError("ValidationException", f"{where}: {name} is required")
        for name, item in value.items():
            member = shape["members"].get(name)
            if member is None:
                raise ApiError("ValidationException", f"{where}: unknown member {name}")
            check_shape(member["shape"], item, f"{where}.{name}")
    elif kind == "list":
        if not isinstance(value, list):
            raise ApiError("ValidationException", f"{where}: expected a list")
        if len(value) > shape.get("max", len(value)) or len(value) < shape.get("min", 0):
            raise ApiError("ValidationException", f"{where}: {len(value)} items out of bounds")
        for n, item in enumerate(value):
            check_shape(shape["member"]["shape"], item, f"{where}[{n}]")
    elif kind == "string":
        if not isinstance(value, str):
            raise ApiError("ValidationException", f"{where}: expected a string")
        if "enum" in shape and value not in shape["enum"]:
            raise ApiError(
                "InvalidParameterException", f"{where}: {value!r} not in {shape['enum']}"
            )
    elif kind == "integer" and not (
        isinstance(value, int) and shape.get("min", value) <= value <= shape.get("max", value)
    ):
        raise ApiError("ValidationException", f"{where}: {value!r} is not a valid integer")


def matches(item: dict[str, Any], filters: list[dict[str, str]]) -> bool:
    attributes = {
        **item["product"]["attributes"],
        "productFamily": item["product"]["productFamily"],
    }
    for f in filters:
        have = attributes.get(f["Field"])
        values = f["Value"].split(",")
        ok = {
            "TERM_MATCH": have == f["Value"],
            "EQUALS": have == f["Value"],
            "CONTAINS": have is not None and f["Value"] in have,
            "ANY_OF": have in values,
            "NONE_OF": have not in values,
        }[f["Type"]]
        if not ok:
            return False
    return True


class PriceList:
    """The service's state: the refusal to answer with, and the calls received."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.refusal: str | None = None
        self.calls: list[dict[str, Any]] = []
        self.page_size = 100

    def refuse(self, code: str | None) -> None:
        if code is not None and code not in ERROR_STATUS:
            raise ValueError(f"{code} is no error of GetProducts in the model")
        self.refusal = code

    def get_products(self, request: dict[str, Any]) -> dict[str, Any]:
        check_shape(MODEL["operations"]["GetProducts"]["input"]["shape"], request, "GetProducts")
        if request["ServiceCode"] != "AmazonEC2":
            raise ApiError("NotFoundException", f"Service {request['ServiceCode']} not found")
        found = [i for i in products() if matches(i, request.get("Filters", []))]
        start = int(request.get("NextToken") or 0)
        size = int(request.get("MaxResults") or self.page_size)
        chunk = found[start : start + size]
        answer: dict[str, Any] = {
            "FormatVersion": "aws_v1",
            "PriceList": [json.dumps(i) for i in chunk],
        }
        if start + size < len(found):
            answer["NextToken"] = str(start + size)
        output = MODEL["operations"]["GetProducts"]["output"]["shape"]
        try:
            check_shape(output, answer, "GetProductsResponse")
        except ApiError as wrong:
            raise ApiError("InternalErrorException", f"double answer: {wrong.message}") from None
        return answer

    def handle(self, target: str, body: bytes) -> tuple[int, dict[str, Any]]:
        operation = target[len(TARGET) :]
        with self.lock:
            self.calls.append({"operation": operation})
            try:
                if self.refusal:
                    raise ApiError(
                        self.refusal,
                        "User is not authorized to perform: pricing:GetProducts"
                        if self.refusal == "AccessDeniedException"
                        else self.refusal,
                    )
                if operation != "GetProducts":
                    raise ApiError("UnknownOperationException", f"{operation} is not served")
                return 200, self.get_products(json.loads(body or b"{}"))
            except ApiError as error:
                status = ERROR_STATUS.get(error.code, 400)
                return status, {"__type": error.code, "message": error.message}


PRICE_LIST = PriceList()


def wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """The service as a WSGI app (moto_server.py routes AWSPriceListService.* here)."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    status, payload = PRICE_LIST.handle(environ.get("HTTP_X_AMZ_TARGET", ""), body)
    data = json.dumps(payload).encode()
    reason = {200: "OK", 400: "Bad Request", 403: "Forbidden", 500: "Internal Server Error"}
    start_response(
        f"{status} {reason.get(status, 'Error')}",
        [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(data)))],
    )
    return [data]
