#!/usr/bin/python
# Copyright: mlbox.workbench developers
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: aliyun_key_pair
short_description: Import (or delete) an SSH public key as an Alibaba Cloud ECS key pair
version_added: "0.1.0"
description:
  - Imports an OpenSSH public key as an ECS key pair under O(name); a key pair of that name
    with the same key (by its MD5 fingerprint, as ECS computes it) is left alone, so a re-run
    changes nothing.
  - A key pair of that name with another key fails, unless O(force) replaces it.
  - alibaba.alicloud has no key-pair module; this one calls the ECS RPC API through
    aliyunsdkcore, and honours C(HTTP_PROXY) like the rest of the Alibaba SDK.
options:
  name:
    description: The key pair's name.
    type: str
    required: true
  public_key:
    description:
      - The OpenSSH public key (C(ssh-ed25519 AAAA... comment)).
      - Needed for O(state=present).
    type: str
  state:
    description: V(present) imports, V(absent) deletes.
    type: str
    choices: [present, absent]
    default: present
  force:
    description: Replace a key pair of the same name that holds another key.
    type: bool
    default: false
  tags:
    description: Tags of a newly imported key pair.
    type: dict
notes:
  - Supports check mode.
requirements:
  - aliyun-python-sdk-core
author:
  - mlbox.workbench developers (!UNKNOWN)
extends_documentation_fragment:
  - mlbox.workbench.aliyun_auth
"""

EXAMPLES = r"""
- name: Import the workbench's public key
  mlbox.workbench.aliyun_key_pair:
    name: workbench-mlbox
    public_key: "{{ lookup('ansible.builtin.file', '~/.config/mlbox/mlbox/id_ed25519.pub') }}"
    tags:
      mlbox:workbench: mlbox

- name: Delete it
  mlbox.workbench.aliyun_key_pair:
    name: workbench-mlbox
    state: absent
"""

RETURN = r"""
key_pair:
  description: The key pair imported, found or deleted (empty when there was none).
  returned: always
  type: dict
  contains:
    name:
      description: Name.
      type: str
      sample: workbench-mlbox
    fingerprint:
      description: The fingerprint ECS holds.
      type: str
    created:
      description: Creation time.
      type: str
    tags:
      description: Tags.
      type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.mlbox.workbench.plugins.module_utils.aliyun import (
    AliyunError,
    aliyun_argument_spec,
    connect,
    fail,
    key_fingerprint,
    tags_dict,
)

fingerprint = key_fingerprint


def find(ecs, name):
    for pair in ecs.pages("DescribeKeyPairs", "KeyPairs", "KeyPair", KeyPairName=name):
        if pair.get("KeyPairName") == name:
            return {
                "name": name,
                "fingerprint": pair.get("KeyPairFingerPrint", ""),
                "created": pair.get("CreationTime", ""),
                "tags": tags_dict(pair),
            }
    return None


def main():
    spec = aliyun_argument_spec()
    spec.update(
        name=dict(type="str", required=True),
        public_key=dict(type="str", no_log=False),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        force=dict(type="bool", default=False),
        tags=dict(type="dict"),
    )
    module = AnsibleModule(
        argument_spec=spec,
        required_if=[("state", "present", ["public_key"])],
        supports_check_mode=True,
    )
    params = module.params
    ecs = connect(module)
    try:
        existing = find(ecs, params["name"])
        if params["state"] == "absent":
            if existing and not module.check_mode:
                ecs.call("DeleteKeyPairs", KeyPairNames=[params["name"]])
            module.exit_json(changed=existing is not None, key_pair=existing or {})

        public_key = params["public_key"].strip()
        wanted = fingerprint(public_key)
        if wanted is None:
            module.fail_json(
                msg="public_key is not an OpenSSH public key ('<type> <base64> [comment]')"
            )
        if existing and existing["fingerprint"].replace(":", "").lower() == wanted:
            module.exit_json(changed=False, key_pair=existing)
        if existing and not params["force"]:
            module.fail_json(
                msg="Key pair {} exists with another key (fingerprint {}, this key's is {}); "
                "set force to replace it".format(params["name"], existing["fingerprint"], wanted),
                key_pair=existing,
            )
        if module.check_mode:
            module.exit_json(
                changed=True, key_pair={"name": params["name"], "fingerprint": wanted, "tags": {}}
            )
        if existing:
            ecs.call("DeleteKeyPairs", KeyPairNames=[params["name"]])
        ecs.call(
            "ImportKeyPair",
            KeyPairName=params["name"],
            PublicKeyBody=public_key,
            Tags=params["tags"] or None,
        )
        module.exit_json(
            changed=True, key_pair=find(ecs, params["name"]) or {"name": params["name"]}
        )
    except AliyunError as e:
        fail(module, e)


if __name__ == "__main__":
    main()
