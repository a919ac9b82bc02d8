"""The notebook password: environment, the stored file, a prompt, or generated."""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import UsageError
from .terminal import Terminal

PASSWORD_ENV = "WORKBENCH_NOTEBOOK_PASSWORD"
MIN_LENGTH = 8


@dataclass(frozen=True)
class NotebookPassword:
    value: str
    source: str  # environment | file | typed | generated
    path: Path | None = None

    def where(self) -> str:
        """For the summary: where the user finds the password again."""
        if self.path:
            return str(self.path)
        if self.source == "environment":
            return f"the one in ${PASSWORD_ENV}"
        return "the one you typed"

    def __repr__(self) -> str:  # never print the value by accident
        return f"NotebookPassword(source={self.source!r}, path={self.path!r})"


def config_home(environ: Mapping[str, str]) -> Path:
    base = environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "mlbox"


def password_path(name: str, environ: Mapping[str, str]) -> Path:
    return config_home(environ) / name / "notebook-password"


def check_length(value: str, origin: str) -> str:
    if len(value) < MIN_LENGTH:
        raise UsageError(f"{origin}: the notebook password needs at least {MIN_LENGTH} characters")
    return value


def read_stored(path: Path) -> str:
    """The stored password; the file is made 0600 again if someone loosened it."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        path.chmod(0o600)
    value = path.read_text(encoding="utf-8").strip()
    return check_length(value, str(path))


def store_new(path: Path) -> str:
    """Generate a password and write it 0600 (directory 0700); refuses to overwrite."""
    for directory in (path.parent.parent, path.parent):
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        directory.chmod(0o700)
    value = secrets.token_urlsafe(18)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(value + "\n")
    return value


def ask_twice(terminal: Terminal) -> str:
    while True:
        first = terminal.hidden("notebook password (8+ characters): ", flag=PASSWORD_ENV)
        if len(first) < MIN_LENGTH:
            terminal.say(f"  too short: at least {MIN_LENGTH} characters")
            continue
        second = terminal.hidden("the same again: ", flag=PASSWORD_ENV)
        if first == second:
            return first
        terminal.say("  the two did not match; again")


def notebook_password(
    name: str,
    cloud: str,
    terminal: Terminal,
    generate: bool,
    environ: Mapping[str, str],
) -> NotebookPassword:
    """The environment wins; then the stored (earlier generated) one; then ask or generate."""
    from_env = environ.get(PASSWORD_ENV, "")
    if from_env:
        return NotebookPassword(check_length(from_env, PASSWORD_ENV), "environment")
    path = password_path(name, environ)
    if path.exists():
        return NotebookPassword(read_stored(path), "file", path)
    if generate or (cloud == "local" and not terminal.interactive):
        return NotebookPassword(store_new(path), "generated", path)
    if terminal.interactive:
        return NotebookPassword(ask_twice(terminal), "typed")
    raise UsageError(
        f"the notebook password is missing: set {PASSWORD_ENV}, or pass --generate-password "
        f"(stored 0600 in {path}), or run on a terminal to be asked"
    )
