#!/usr/bin/python
# Copyright: mlbox.workbench developers
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: aliyun_region_info
short_description: The Alibaba Cloud ECS regions, and the zones of one with their instance types
version_added: "0.1.0"
description:
  - Lists the regions ECS offers to the account, and the zones of O(region) with the instance
    types and disk categories each one sells, so that inputs can be checked before anything is
    created.
  - An unknown region is not an error here; it yields RV(region_known=false) and no zones.
notes:
  - Supports check mode; changes nothing.
requirements:
  - aliyun-python-sdk-core
author:
  - mlbox.workbench developers (!UNKNOWN)
extends_documentation_fragment:
  - mlbox.workbench.aliyun_auth
"""

EXAMPLES = r"""
- name: Look at the region
  mlbox.workbench.aliyun_region_info:
    region: cn-hangzhou
  register: where
"""

RETURN = r"""
regions:
  description: Every region id ECS offers.
  returned: always
  type: list
  elements: str
region_known:
  description: Whether O(region) is one of them.
  returned: always
  type: bool
zones:
  description: The zones of O(region).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Zone id.
      type: str
      sample: cn-hangzhou-i
    instance_types:
      description: Instance types sold there.
      type: list
      elements: str
    disk_categories:
      description: Disk categories sold there.
      type: list
      elements: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.mlbox.workbench.plugins.module_utils.aliyun import (
    AliyunError,
    aliyun_argument_spec,
    connect,
    describe_region,
    fail,
)


def main():
    module = AnsibleModule(argument_spec=aliyun_argument_spec(), supports_check_mode=True)
    ecs = connect(module)
    try:
        regions, zones = describe_region(ecs)
    except AliyunError as e:
        fail(module, e)
    known = ecs.region in regions
    module.exit_json(changed=False, regions=regions, region_known=known, zones=zones)


if __name__ == "__main__":
    main()
