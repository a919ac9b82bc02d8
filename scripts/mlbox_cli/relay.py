#!/usr/bin/env python3
"""Take secrets from the pseudo-terminal, put them into the environment, exec the command.

ansible-runner records the whole environment of the process it starts in
``artifacts/<ident>/command``, so secrets must not be in that environment. Instead the
wrapper starts ``relay.py ansible-playbook ...``; the relay prints PROMPT on its terminal,
ansible-runner answers it (its ``passwords`` mechanism: pattern -> response, kept in memory
only) with the secrets, base64-encoded JSON, and the relay becomes ansible-playbook with
them in its environment. The terminal's echo is off, so the answer never reaches the
stdout artifact either.

Standard library only: it runs under whatever python3 started the wrapper.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import termios

PROMPT = "[mlbox] waiting for the environment from the wrapper:"


def encode(secrets: dict[str, str]) -> str:
    """The answer the wrapper sends: one line of base64 (no terminal control characters)."""
    raw = json.dumps(secrets, sort_keys=True).encode("utf-8")
    return base64.b64encode(raw).decode("ascii")


def decode(line: bytes) -> dict[str, str]:
    data = json.loads(base64.b64decode(line.strip(), validate=True))
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    return {str(key): str(value) for key, value in data.items()}


def read_answer(fd: int) -> bytes:
    """Prompt and read one line with echo and line editing off (no 4 KiB line limit)."""
    saved = termios.tcgetattr(fd)
    quiet = termios.tcgetattr(fd)
    quiet[3] &= ~(termios.ECHO | termios.ICANON)
    quiet[6][termios.VMIN] = 1
    quiet[6][termios.VTIME] = 0
    termios.tcsetattr(fd, termios.TCSANOW, quiet)
    try:
        sys.stdout.write(PROMPT + "\n")
        sys.stdout.flush()
        data = bytearray()
        while not data.endswith(b"\n"):
            chunk = os.read(fd, 65536)
            if not chunk:
                raise EOFError("the terminal closed before the environment arrived")
            data += chunk
        return bytes(data)
    finally:
        termios.tcsetattr(fd, termios.TCSANOW, saved)


def main(argv: list[str]) -> int:
    if not argv:
        sys.stderr.write("usage: relay.py COMMAND [ARGS...]\n")
        return 2
    if not os.isatty(0):
        sys.stderr.write("relay.py: stdin must be the terminal ansible-runner opened\n")
        return 2
    env = dict(os.environ)
    env.update(decode(read_answer(0)))
    os.execvpe(argv[0], argv, env)
    return 127  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
