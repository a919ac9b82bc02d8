"""Questions on the terminal; every one of them has a flag that answers it instead."""

from __future__ import annotations

import getpass
import sys
from typing import Callable, TextIO

from .errors import UsageError


class Terminal:
    """Asks questions when `interactive` (stdin is a terminal and no --yes)."""

    def __init__(
        self,
        interactive: bool,
        out: TextIO | None = None,
        ask: Callable[[str], str] = input,
        ask_hidden: Callable[[str], str] = getpass.getpass,
    ) -> None:
        self.interactive = interactive
        self.out = out or sys.stdout
        self._ask = ask
        self._ask_hidden = ask_hidden

    @classmethod
    def detect(cls, assume_yes: bool) -> Terminal:
        return cls(interactive=sys.stdin.isatty() and not assume_yes)

    def say(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def _require(self, flag: str) -> None:
        if not self.interactive:
            raise UsageError(f"{flag} is needed: there is no terminal to ask on (or --yes)")

    def choose(self, question: str, options: dict[str, str], flag: str) -> str:
        """One of `options` (key -> label) by its first letter or whole word."""
        self._require(flag)
        by_answer = {}
        for key, label in options.items():
            by_answer[key] = key
            by_answer[key[0]] = key
            by_answer[label.lower()] = key
        while True:
            answer = self._ask(f"{question} ").strip().lower()
            if answer in by_answer:
                return by_answer[answer]
            self.say(f"  please answer one of: {', '.join(options)}")

    def yes_no(self, question: str, default: bool, flag: str) -> bool:
        self._require(flag)
        hint = "[Y/n]" if default else "[y/N]"
        while True:
            answer = self._ask(f"{question} {hint} ").strip().lower()
            if not answer:
                return default
            if answer in ("y", "yes"):
                return True
            if answer in ("n", "no"):
                return False
            self.say("  please answer y or n")

    def pick(self, title: str, rows: list[str], flag: str, default: int | None = None) -> int:
        """Index of the row picked by its number (1-based on screen)."""
        self._require(flag)
        self.say(title)
        for number, row in enumerate(rows, start=1):
            self.say(f"  {number:>2}) {row}")
        hint = f" [{default + 1}]" if default is not None else ""
        while True:
            answer = self._ask(f"number (1-{len(rows)}){hint}: ").strip()
            if not answer and default is not None:
                return default
            if answer.isdigit() and 1 <= int(answer) <= len(rows):
                return int(answer) - 1
            self.say(f"  please type a number from 1 to {len(rows)}")

    def text(self, question: str, flag: str, default: str = "") -> str:
        self._require(flag)
        answer = self._ask(f"{question} ").strip()
        return answer or default

    def confirm_typed(self, question: str, accepted: list[str], flag: str) -> bool:
        """True when the answer is exactly one of `accepted` (an id, or 'yes')."""
        self._require(flag)
        answer = self._ask(f"{question} ").strip()
        return answer in accepted

    def hidden(self, prompt: str, flag: str) -> str:
        self._require(flag)
        return self._ask_hidden(prompt)
