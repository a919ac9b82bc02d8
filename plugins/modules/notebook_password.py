#!/usr/bin/python
# Copyright: mlbox.workbench developers
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: notebook_password
short_description: Hash a Jupyter notebook password, keeping the current hash when it still matches
version_added: 0.1.0
description:
  - Turns a plaintext notebook password into the C(argon2:$argon2id$...) string that
    jupyter_server expects in C(IdentityProvider.hashed_password).
  - When O(current_hash) is given and still matches O(password), returns it unchanged with
    C(changed=false), so that re-running a play does not rewrite the notebook configuration
    and restart the server.
  - The password is never returned or logged.
  - Hashing happens on the host that runs the module; the workbench roles run it with
    C(delegate_to) set to C(localhost), so the controller's Python libraries are used.
author:
  - mlbox.workbench developers (!UNKNOWN)
options:
  password:
    description:
      - The plaintext notebook password.
    type: str
    required: true
  current_hash:
    description:
      - The hash currently in the notebook configuration, if any.
      - Verified the way jupyter_server verifies a login (C(argon2:...) through argon2-cffi,
        or the legacy C(algorithm:salt:hexdigest) form such as C(sha1:...)).
      - A hash that does not match, or is malformed, is replaced by a new argon2 hash.
      - Not marked C(no_log) on purpose; Ansible masks every occurrence of a C(no_log)
        value in the result, which would hide the hash this module returns unchanged.
    type: str
  min_length:
    description:
      - The shortest password accepted, in characters. An empty password is always refused.
    type: int
    default: 8
attributes:
  check_mode:
    description: Can run in check mode and return what a real run would change, changing nothing.
    support: full
    details:
      - Hashing has no side effects, so check mode computes the same result as a real run.
  diff_mode:
    description: Returns details on what has changed (or would change in check mode) in diff mode.
    support: none
requirements:
  - passlib (preferred) with an argon2 backend, or argon2-cffi, on the host that runs the module
notes:
  - New hashes use argon2id with argon2-cffi's default cost (the RFC 9106 low-memory
    profile of 3 iterations, 64 MiB and 4 lanes).
  - A legacy C(sha1:...) O(current_hash) that matches is kept as it is; pass no
    O(current_hash) to force an argon2 hash.
seealso:
  - name: jupyter_server password hashing
    description: The C(passwd) and C(passwd_check) functions this module is compatible with.
    link: https://jupyter-server.readthedocs.io/en/latest/operators/public-server.html
"""

EXAMPLES = r"""
- name: Read the current notebook configuration, if there is one
  ansible.builtin.slurp:
    src: /home/notebook/.jupyter/jupyter_server_config.json
  register: __jupyter_config
  failed_when: false

- name: Hash the notebook password, keeping the current hash when it still matches
  mlbox.workbench.notebook_password:
    password: "{{ jupyter_password }}"
    current_hash: >-
      {{ (__jupyter_config.content | default('e30=') | b64decode | from_json)
         .IdentityProvider.hashed_password | default(omit) }}
  delegate_to: localhost
  register: __jupyter_password

- name: Refuse passwords shorter than 12 characters
  mlbox.workbench.notebook_password:
    password: "{{ jupyter_password }}"
    min_length: 12
  delegate_to: localhost
  register: __jupyter_password
"""

RETURN = r"""
hash:
  description:
    - The jupyter_server password hash, C(argon2:) followed by the argon2id PHC string.
    - Equal to O(current_hash) when that still matched O(password).
  returned: success
  type: str
  sample: "argon2:$argon2id$v=19$m=65536,t=3,p=4$i9HamzNmzPm/VwoBAGAM4Q$\
    nC3Vl28m6UZZp75s3SqNWnXQ65C+HtB9F2Aa2Ukk/po"
"""

import hashlib
import hmac
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

try:
    import argon2
    import argon2.exceptions
except ImportError:
    argon2 = None
    ARGON2_IMPORT_ERROR = traceback.format_exc()
else:
    ARGON2_IMPORT_ERROR = None

try:
    from passlib.hash import argon2 as passlib_argon2
except ImportError:
    passlib_argon2 = None
    PASSLIB_IMPORT_ERROR = traceback.format_exc()
else:
    PASSLIB_IMPORT_ERROR = None

ARGON2_PREFIX = "argon2:"
# argon2-cffi's defaults, spelled out so passlib (whatever its backend) produces the same cost.
TIME_COST = 3
MEMORY_COST_KIB = 65536
PARALLELISM = 4

PASSWORD_FIX = "set jupyter_password (or WORKBENCH_NOTEBOOK_PASSWORD)"


class NotebookPasswordError(Exception):
    """A password or hash this module refuses; main() turns it into fail_json."""


def passlib_usable() -> bool:
    if passlib_argon2 is None:
        return False
    try:
        return passlib_argon2.has_backend()
    except Exception:
        # passlib 1.7.4 is unmaintained and reads argon2.__version__, which argon2-cffi
        # deprecated; if its backend breaks, argon2-cffi is used directly instead.
        return False


def argon2_cffi_usable() -> bool:
    return argon2 is not None


def check_length(password: str, min_length: int) -> None:
    if not password:
        raise NotebookPasswordError(f"notebook password is empty; {PASSWORD_FIX}")
    if len(password) < min_length:
        raise NotebookPasswordError(
            f"notebook password must be at least {min_length} characters; "
            f"{PASSWORD_FIX} to a longer one"
        )


def argon2_matches(phc: str, password: str) -> bool:
    if argon2_cffi_usable():
        try:
            return argon2.PasswordHasher().verify(phc, password)
        except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
            return False
    if passlib_usable():
        try:
            return passlib_argon2.verify(password, phc)
        except ValueError:
            return False
    return False


def legacy_matches(current_hash: str, password: str) -> bool:
    """jupyter_server's `algorithm:salt:hexdigest` form, digest of password + salt."""
    try:
        algorithm, salt, digest = current_hash.split(":", 2)
        hasher = hashlib.new(algorithm)
        hasher.update(password.encode("utf-8") + salt.encode("ascii"))
        computed = hasher.hexdigest()
    except (ValueError, TypeError, UnicodeEncodeError):
        # Malformed, unknown algorithm, variable-length digest, non-ASCII salt.
        return False
    return bool(digest) and hmac.compare_digest(computed, digest)


def hash_matches(current_hash: str, password: str) -> bool:
    if current_hash.startswith(ARGON2_PREFIX):
        return argon2_matches(current_hash[len(ARGON2_PREFIX) :], password)
    return legacy_matches(current_hash, password)


def new_hash(password: str) -> str:
    if passlib_usable():
        hasher = passlib_argon2.using(
            type="ID", rounds=TIME_COST, memory_cost=MEMORY_COST_KIB, parallelism=PARALLELISM
        )
        return ARGON2_PREFIX + hasher.hash(password)
    if argon2_cffi_usable():
        hasher = argon2.PasswordHasher(
            time_cost=TIME_COST,
            memory_cost=MEMORY_COST_KIB,
            parallelism=PARALLELISM,
            type=argon2.Type.ID,
        )
        return ARGON2_PREFIX + hasher.hash(password)
    raise NotebookPasswordError("neither passlib (with an argon2 backend) nor argon2-cffi works")


def choose_hash(password: str, current_hash: str | None, min_length: int) -> tuple[str, bool]:
    """Return (hash, changed): the current hash if it still matches, else a new one."""
    check_length(password, min_length)
    if current_hash and hash_matches(current_hash, password):
        result, changed = current_hash, False
    else:
        result, changed = new_hash(password), True
    if password in result:
        # Ansible masks no_log values wherever they occur in the result, so the hash
        # would come back mangled (e.g. the password 'argon2id').
        raise NotebookPasswordError(
            "notebook password is part of the hash format itself, so Ansible would mask "
            f"the hash; {PASSWORD_FIX} to another one"
        )
    return result, changed


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "password": {"type": "str", "required": True, "no_log": True},
            "current_hash": {"type": "str", "no_log": False},
            "min_length": {"type": "int", "default": 8},
        },
        supports_check_mode=True,
    )
    if not (passlib_usable() or argon2_cffi_usable()):
        module.fail_json(
            msg=missing_required_lib(
                "passlib argon2-cffi",
                reason="to hash the notebook password (pip install passlib argon2-cffi "
                "on the host that runs this module; the roles delegate it to localhost)",
            ),
            exception=ARGON2_IMPORT_ERROR or PASSLIB_IMPORT_ERROR,
        )
    try:
        result, changed = choose_hash(
            module.params["password"], module.params["current_hash"], module.params["min_length"]
        )
    except NotebookPasswordError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=changed, hash=result)


if __name__ == "__main__":
    main()
