# Copyright: mlbox.workbench developers
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The credential and region options every aliyun_* module shares."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  access_key:
    description:
      - Access key id; defaults to E(ALIYUN_ACCESS_KEY_ID), then E(ALICLOUD_ACCESS_KEY), then
        E(ALICLOUD_ACCESS_KEY_ID).
    type: str
    aliases: [alicloud_access_key]
  secret_key:
    description:
      - Access key secret; defaults to E(ALIYUN_ACCESS_KEY_SECRET), then E(ALICLOUD_SECRET_KEY),
        then E(ALICLOUD_ACCESS_KEY_SECRET).
      - Never logged nor returned.
    type: str
    aliases: [alicloud_secret_key]
  security_token:
    description:
      - STS token for temporary keys.
      - Defaults to E(ALIYUN_SECURITY_TOKEN), then E(ALICLOUD_SECURITY_TOKEN).
    type: str
    aliases: [alicloud_security_token]
  region:
    description:
      - Region id; defaults to E(ALIYUN_REGION), then E(ALICLOUD_REGION),
        then E(ALICLOUD_REGION_ID).
    type: str
    aliases: [alicloud_region, region_id]
  api_timeout:
    description: Seconds to wait for one API answer.
    type: int
    default: 30
"""
