# Copyright: mlbox.workbench developers
# Apache License 2.0 (see galaxy.yml)
"""What a host role recorded on the host after its last full run: the digest of its inputs.

A role (tools, data_disk, libs, jupyter, git_keys) computes a digest of everything it was
given (and of its own tasks) on the controller, passes it to its probe module, and writes
it to its state file as the last step of its full path. The probe answers ``current`` only
when the recorded digest is the same AND its own look at the host agrees; then the role
skips the rest. A missing, unreadable or different state file means the full path runs.
"""

from __future__ import annotations

import os

# Where the roles keep their digests on the root disk (one file per role, root's, 0600).
STATE_DIR = "/var/lib/mlbox-workbench"

HOST_STATE_ARGS = {
    "digest": {"type": "str", "default": ""},
    "state_file": {"type": "path", "default": ""},
}


def recorded(path: str) -> str:
    """The digest recorded at path, or "" when there is none (missing, unreadable, empty)."""
    if not path:
        return ""
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read(512).strip()
    except (OSError, UnicodeDecodeError):
        return ""


def digest_matches(path: str, digest: str) -> bool:
    """Whether a digest was given and is the one recorded at path."""
    return bool(digest) and recorded(path) == digest.strip()


def owner_mode(path: str) -> tuple[int, int, int] | None:
    """(uid, gid, permission bits) of path, or None when it does not exist."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_uid, st.st_gid, st.st_mode & 0o7777
