# Copyright: mlbox.workbench developers
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""ECS RPC calls for the aliyun_* modules, on aliyunsdkcore alone.

alibaba.alicloud has no snapshot and no key-pair module; these modules talk to the ECS API
through aliyunsdkcore's CommonRequest (the SDK every Alibaba collection sits on), so they
honour the same environment: HTTP_PROXY, and the credentials under both the names Aliyun's
console and CLI users know (ALIYUN_ACCESS_KEY_ID / ALIYUN_ACCESS_KEY_SECRET) and the ones
alibaba.alicloud reads (ALICLOUD_ACCESS_KEY / ALICLOUD_SECRET_KEY).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import time

from ansible.module_utils.basic import env_fallback

try:
    from aliyunsdkcore.acs_exception.exceptions import ClientException, ServerException
    from aliyunsdkcore.client import AcsClient
    from aliyunsdkcore.request import CommonRequest

    HAS_SDK = True
    SDK_IMPORT_ERROR = None
except ImportError as e:  # pragma: no cover - reported by the module
    HAS_SDK = False
    SDK_IMPORT_ERROR = e

ECS_VERSION = "2014-05-26"
# The RPC products these modules speak: endpoint and API version. VPCs and vSwitches belong
# to the VPC API, everything else here to ECS.
APIS = {
    "ecs": ("ecs.{region}.aliyuncs.com", ECS_VERSION),
    "vpc": ("vpc.{region}.aliyuncs.com", "2016-04-28"),
}
# Errors worth asking again after a pause: the API is busy, not the request wrong.
RETRYABLE = (
    "Throttling",
    "ServiceUnavailable",
    "InternalError",
    "IncorrectDiskStatus.Initializing",
)


def aliyun_argument_spec():
    return dict(
        access_key=dict(
            type="str",
            no_log=True,
            aliases=["alicloud_access_key"],
            fallback=(
                env_fallback,
                ["ALIYUN_ACCESS_KEY_ID", "ALICLOUD_ACCESS_KEY", "ALICLOUD_ACCESS_KEY_ID"],
            ),
        ),
        secret_key=dict(
            type="str",
            no_log=True,
            aliases=["alicloud_secret_key"],
            fallback=(
                env_fallback,
                ["ALIYUN_ACCESS_KEY_SECRET", "ALICLOUD_SECRET_KEY", "ALICLOUD_ACCESS_KEY_SECRET"],
            ),
        ),
        security_token=dict(
            type="str",
            no_log=True,
            aliases=["alicloud_security_token"],
            fallback=(env_fallback, ["ALIYUN_SECURITY_TOKEN", "ALICLOUD_SECURITY_TOKEN"]),
        ),
        region=dict(
            type="str",
            aliases=["alicloud_region", "region_id"],
            fallback=(env_fallback, ["ALIYUN_REGION", "ALICLOUD_REGION", "ALICLOUD_REGION_ID"]),
        ),
        api_timeout=dict(type="int", default=30),
    )


class AliyunError(Exception):
    """An error answer of the API: its Code, Message and RequestId."""

    def __init__(self, code, message, request_id=""):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.request_id = request_id


class EcsClient:
    """ECS RPC calls: call("DescribeDisks", DiskIds=[...]) -> the JSON answer as a dict.

    Lists are sent as JSON arrays and a tags dict as Tag.N.Key / Tag.N.Value, as the API wants.
    """

    def __init__(
        self, access_key, secret_key, region, security_token=None, timeout=30, sleep=time.sleep
    ):
        self.region = region
        self.sleep = sleep
        if security_token:
            from aliyunsdkcore.auth.credentials import StsTokenCredential

            credential = StsTokenCredential(access_key, secret_key, security_token)
            self.client = AcsClient(
                region_id=region, credential=credential, timeout=timeout, auto_retry=False
            )
        else:
            self.client = AcsClient(
                access_key, secret_key, region, timeout=timeout, auto_retry=False
            )

    @staticmethod
    def encode(params):
        out = {}
        for key, value in params.items():
            if value is None:
                continue
            if key == "Tags":
                for n, (tag_key, tag_value) in enumerate(sorted(value.items()), 1):
                    out[f"Tag.{n}.Key"] = tag_key
                    out[f"Tag.{n}.Value"] = "" if tag_value is None else str(tag_value)
            elif isinstance(value, (list, tuple)):
                out[key] = json.dumps(list(value))
            elif isinstance(value, bool):
                out[key] = "true" if value else "false"
            else:
                out[key] = str(value)
        return out

    def call(self, action, retries=4, api="ecs", **params):
        domain, version = APIS[api]
        request = CommonRequest(
            domain=domain.format(region=self.region), version=version, action_name=action
        )
        request.set_method("POST")
        request.set_accept_format("json")
        request.add_query_param("RegionId", self.region)
        for key, value in self.encode(params).items():
            request.add_query_param(key, value)
        delay = 1.0
        for attempt in range(retries + 1):
            try:
                body = self.client.do_action_with_exception(request)
                return json.loads(body)
            except ServerException as e:
                code = e.get_error_code()
                if attempt < retries and code in RETRYABLE:
                    self.sleep(delay)
                    delay = min(delay * 2, 20)
                    continue
                raise AliyunError(code, e.get_error_msg(), e.get_request_id() or "") from e
            except ClientException as e:
                raise AliyunError(e.get_error_code(), e.get_error_msg()) from e
        raise AliyunError("RetriesExhausted", action)  # pragma: no cover

    def pages(self, action, key, sub, api="ecs", page_size=100, **params):
        """Every item of a paged Describe* answer."""
        items, number = [], 1
        while True:
            answer = self.call(action, api=api, PageSize=page_size, PageNumber=number, **params)
            chunk = (answer.get(key) or {}).get(sub) or []
            items.extend(chunk)
            if not chunk or len(items) >= int(answer.get("TotalCount") or 0):
                return items
            number += 1


def connect(module):
    """An EcsClient from the module's credentials, or fail_json with the fix."""
    if not HAS_SDK:
        module.fail_json(
            msg=f"aliyunsdkcore is needed (requirements-aliyun.txt): {SDK_IMPORT_ERROR}"
        )
    params = module.params
    missing = [
        name
        for name, env in (
            ("access_key", "ALIYUN_ACCESS_KEY_ID"),
            ("secret_key", "ALIYUN_ACCESS_KEY_SECRET"),
            ("region", "ALIYUN_REGION"),
        )
        if not params.get(name)
    ]
    if missing:
        module.fail_json(
            msg="Aliyun credentials or region missing: {} (set {}, or the ALICLOUD_* names)".format(
                ", ".join(missing),
                ", ".join(
                    {
                        "access_key": "ALIYUN_ACCESS_KEY_ID",
                        "secret_key": "ALIYUN_ACCESS_KEY_SECRET",
                        "region": "ALIYUN_REGION",
                    }[m]
                    for m in missing
                ),
            )
        )
    return EcsClient(
        params["access_key"],
        params["secret_key"],
        params["region"],
        security_token=params.get("security_token"),
        timeout=params.get("api_timeout") or 30,
    )


def describe_region(ecs):
    """(every region id ECS offers, the zones of ecs.region with what each one sells)."""
    answer = ecs.call("DescribeRegions")
    regions = [r["RegionId"] for r in (answer.get("Regions") or {}).get("Region") or []]
    zones = []
    if ecs.region in regions:
        for zone in (ecs.call("DescribeZones").get("Zones") or {}).get("Zone") or []:
            types = (zone.get("AvailableInstanceTypes") or {}).get("InstanceTypes") or []
            disks = (zone.get("AvailableDiskCategories") or {}).get("DiskCategories") or []
            zones.append({"id": zone["ZoneId"], "instance_types": types, "disk_categories": disks})
    return regions, zones


def key_fingerprint(public_key):
    """MD5 of the key blob in hex, as ECS reports an imported key's KeyPairFingerPrint."""
    parts = public_key.split()
    if len(parts) < 2:
        return None
    try:
        blob = base64.b64decode(parts[1].encode(), validate=True)
    except (binascii.Error, ValueError):
        return None
    return hashlib.md5(blob).hexdigest()


def tags_dict(resource):
    """{key: value} of an answer's Tags.Tag list (ECS says TagKey/TagValue, VPC Key/Value)."""
    return {
        t.get("TagKey", t.get("Key")): t.get("TagValue", t.get("Value", ""))
        for t in ((resource.get("Tags") or {}).get("Tag") or [])
    }


def fail(module, error, **extra):
    module.fail_json(msg=str(error), code=error.code, request_id=error.request_id, **extra)


# Ubuntu's long-term-support releases are the April ones of even years (20.04, 22.04, 24.04);
# Aliyun's public images spell them ubuntu_<yy>_04_x64_<size>_alibase_<build date>.vhd.
UBUNTU_LTS = re.compile(r"^ubuntu_(\d{2})_04_x64_")


def image_view(item):
    return {
        "id": item.get("ImageId", ""),
        "name": item.get("ImageName", ""),
        "os_name": item.get("OSNameEn") or item.get("OSName", ""),
        "architecture": item.get("Architecture", ""),
        "size_gb": int(item.get("Size") or 0),
        "created": item.get("CreationTime", ""),
    }


def newest_ubuntu_lts(images):
    """The newest build of the newest Ubuntu LTS release among DescribeImages' images."""
    candidates = []
    for item in images:
        match = UBUNTU_LTS.match(item.get("ImageId", ""))
        if not match or int(match.group(1)) % 2:
            continue
        if item.get("Architecture", "x86_64") != "x86_64" or item.get("Status") != "Available":
            continue
        candidates.append((int(match.group(1)), item.get("CreationTime", ""), item))
    if not candidates:
        return None
    return image_view(max(candidates, key=lambda c: (c[0], c[1]))[2])
