"""The notebook password: environment, stored file (0600 in a 0700 dir), prompt, generated."""

from __future__ import annotations

import io
import stat
from pathlib import Path

import pytest
from mlbox_cli.errors import UsageError
from mlbox_cli.password import notebook_password, password_path
from mlbox_cli.terminal import Terminal


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


class Answers(Terminal):
    def __init__(self, interactive: bool, answers: list[str]) -> None:
        self.asked = 0
        queue = list(answers)

        def hidden(prompt: str) -> str:
            self.asked += 1
            return queue.pop(0)

        super().__init__(interactive, out=io.StringIO(), ask_hidden=hidden)


@pytest.fixture
def environ(tmp_path: Path) -> dict[str, str]:
    return {"XDG_CONFIG_HOME": str(tmp_path / "config")}


def test_environment_wins(environ: dict[str, str]) -> None:
    environ["WORKBENCH_NOTEBOOK_PASSWORD"] = "from-the-env"
    password = notebook_password("mlbox", "aws", Answers(True, []), False, environ)
    assert (password.value, password.source, password.path) == ("from-the-env", "environment", None)
    assert not password_path("mlbox", environ).exists()


def test_too_short_from_environment_is_refused(environ: dict[str, str]) -> None:
    environ["WORKBENCH_NOTEBOOK_PASSWORD"] = "short"
    with pytest.raises(UsageError, match="8 characters"):
        notebook_password("mlbox", "local", Answers(False, []), False, environ)


def test_local_without_terminal_generates_and_stores_0600(environ: dict[str, str]) -> None:
    password = notebook_password("mlbox", "local", Answers(False, []), False, environ)
    path = password_path("mlbox", environ)
    assert password.source == "generated" and password.path == path
    assert path == Path(environ["XDG_CONFIG_HOME"]) / "mlbox" / "mlbox" / "notebook-password"
    assert path.read_text().strip() == password.value
    assert len(password.value) >= 16
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700
    assert mode(path.parent.parent) == 0o700
    assert password.value not in repr(password)


def test_a_rerun_reuses_the_stored_password(environ: dict[str, str]) -> None:
    first = notebook_password("mlbox", "local", Answers(False, []), False, environ)
    again = notebook_password("mlbox", "local", Answers(False, []), True, environ)
    asked = Answers(True, [])
    on_terminal = notebook_password("mlbox", "aws", asked, False, environ)
    assert first.value == again.value == on_terminal.value
    assert again.source == on_terminal.source == "file"
    assert asked.asked == 0


def test_a_loosened_file_is_made_0600_again(environ: dict[str, str]) -> None:
    notebook_password("mlbox", "local", Answers(False, []), False, environ)
    path = password_path("mlbox", environ)
    path.chmod(0o644)
    notebook_password("mlbox", "local", Answers(False, []), False, environ)
    assert mode(path) == 0o600


def test_names_have_their_own_passwords(environ: dict[str, str]) -> None:
    one = notebook_password("one", "local", Answers(False, []), False, environ)
    two = notebook_password("two", "local", Answers(False, []), False, environ)
    assert one.value != two.value


def test_generate_password_flag_on_a_cloud(environ: dict[str, str]) -> None:
    password = notebook_password("mlbox", "aws", Answers(True, []), True, environ)
    assert password.source == "generated"


def test_typed_twice_must_match_and_be_long_enough(environ: dict[str, str]) -> None:
    terminal = Answers(
        True, ["short", "long-enough-1", "different-1", "long-enough-2", "long-enough-2"]
    )
    password = notebook_password("mlbox", "aws", terminal, False, environ)
    assert (password.value, password.source) == ("long-enough-2", "typed")
    assert terminal.asked == 5
    assert not password_path("mlbox", environ).exists()  # typed passwords are not stored


def test_cloud_without_terminal_names_the_ways_out(environ: dict[str, str]) -> None:
    with pytest.raises(UsageError) as raised:
        notebook_password("mlbox", "aliyun", Answers(False, []), False, environ)
    assert "WORKBENCH_NOTEBOOK_PASSWORD" in str(raised.value)
    assert "--generate-password" in str(raised.value)
    assert raised.value.exit_code == 2
