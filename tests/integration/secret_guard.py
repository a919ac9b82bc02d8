"""Where secrets must never show up, watched while a provider test runs at -vvv.

The guard knows the test's secrets (cloud keys, the notebook password) and learns the
private keys the run makes (any file under its roots that holds PEM or OpenSSH private-key
material). It fails the test when one of them appears:
- in Ansible's output at verbosity 3 (ANSIBLE_VERBOSITY=3, written to ANSIBLE_LOG_PATH,
  which gets everything the callbacks display, the JSON report included);
- on the command line of any process on this machine while the test runs (/proc/*/cmdline,
  sampled every 50 ms; a process shorter than that can be missed);
- in any file under the test's directories (HOME, state, ansible-runner artifacts) that is
  not mode 0600-or-stricter and owned by this user.
"""

from __future__ import annotations

import base64
import os
import re
import stat
import threading
from collections.abc import Iterable
from pathlib import Path

# How often the process table is read, in seconds (20 ms cost ~12% of a core, 50 ms ~5%).
SAMPLE_EVERY = 0.05
# Files larger than this are disk images or snapshots: data, not configuration.
MAX_FILE = 8 * 1024 * 1024
PRIVATE_KEY = re.compile(
    rb"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----\s+(.+?)-----END (?:[A-Z]+ )?PRIVATE KEY-----",
    re.DOTALL,
)


def key_fragments(pem: bytes) -> list[bytes]:
    """Distinctive pieces of a private key: its base64 lines, and its bytes decoded.

    An OpenSSH key's first base64 line is the same for every key ("b3BlbnNzaC1rZXktdjE...");
    the lines after it are the key's own.
    """
    fragments = []
    for match in PRIVATE_KEY.finditer(pem):
        lines = [line.strip() for line in match.group(1).splitlines() if line.strip()]
        fragments += [line for line in lines[1:] if len(line) >= 40]
        try:
            raw = base64.b64decode(b"".join(lines))
        except ValueError:
            continue
        if len(raw) > 64:
            fragments.append(raw[-48:])
    return fragments


class SecretGuard:
    def __init__(self, workdir: Path, roots: Iterable[Path] = ()) -> None:
        self.log = workdir / "ansible-vvv.log"
        self.roots = [workdir, *roots]
        self.secrets: dict[bytes, str] = {}
        self.findings: list[str] = []
        self.processes_seen = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def add(self, label: str, value: str | bytes) -> None:
        raw = value.encode() if isinstance(value, str) else value
        if len(raw) < 8:
            raise ValueError(f"{label}: a test secret must be distinctive (8+ characters)")
        with self._lock:
            self.secrets[raw] = label

    def env(self, env: dict[str, str]) -> dict[str, str]:
        """The environment for ansible-playbook / the scripts: -vvv, logged to self.log."""
        return {**env, "ANSIBLE_VERBOSITY": "3", "ANSIBLE_LOG_PATH": str(self.log)}

    def start(self) -> None:
        self._thread.start()

    # --- watching -------------------------------------------------------------------

    def _known(self) -> dict[bytes, str]:
        with self._lock:
            return dict(self.secrets)

    def _sample(self) -> None:
        me = os.getpid()
        while not self._stop.wait(SAMPLE_EVERY):
            secrets = self._known()
            for entry in os.scandir("/proc"):
                if not entry.name.isdigit() or int(entry.name) == me:
                    continue
                try:
                    with open(f"/proc/{entry.name}/cmdline", "rb") as handle:
                        cmdline = handle.read()
                except OSError:
                    continue
                self.processes_seen += 1
                for value, label in secrets.items():
                    if value in cmdline:
                        shown = cmdline.replace(value, f"<{label}>".encode()).replace(b"\0", b" ")
                        text = shown[:300].decode(errors="replace")
                        self._found(f"{label} on the command line of pid {entry.name}: {text}")

    def _found(self, finding: str) -> None:
        with self._lock:
            if finding not in self.findings:
                self.findings.append(finding)

    def _files(self) -> Iterable[Path]:
        for root in self.roots:
            if root.exists():
                yield from (p for p in root.rglob("*") if p.is_file() and not p.is_symlink())

    def learn_private_keys(self) -> None:
        for path in self._files():
            try:
                if path.stat().st_size > 64 * 1024:
                    continue
                data = path.read_bytes()
            except OSError:
                continue
            for fragment in key_fragments(data):
                self.add(f"private key material of {path.name}", fragment)

    # --- the verdict ----------------------------------------------------------------

    def finish(self) -> list[str]:
        """Stop watching; scan the log and the files; return every finding."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        self.learn_private_keys()
        secrets = self._known()
        uid = os.getuid()
        for path in self._files():
            try:
                info = path.stat()
                if info.st_size > MAX_FILE:
                    continue
                data = path.read_bytes()
            except OSError:
                continue
            for value, label in secrets.items():
                if value not in data:
                    continue
                if path == self.log:
                    self._found(f"{label} in the -vvv output ({path})")
                elif info.st_mode & (stat.S_IRWXG | stat.S_IRWXO) or info.st_uid != uid:
                    self._found(
                        f"{label} in {path} (mode {stat.S_IMODE(info.st_mode):04o}, "
                        f"uid {info.st_uid}): not private to its owner"
                    )
        return list(self.findings)
