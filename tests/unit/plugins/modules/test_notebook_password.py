"""notebook_password: hashes jupyter_server accepts, idempotence, refusals, no leaked secret."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.mlbox.workbench.plugins.modules import notebook_password as module
from ansible_collections.mlbox.workbench.plugins.modules.notebook_password import (
    NotebookPasswordError,
    check_length,
    choose_hash,
    hash_matches,
    new_hash,
)
from jupyter_server.auth.security import passwd, passwd_check

PASSWORD = "correct-horse-battery"
# From jupyter_server's own passwd_check docstring: sha1 of "mypassword" + salt.
LEGACY_SHA1 = "sha1:0e112c3ddfce:a68df677475c2b47b6e86d0467eec97ac5f4b85a"


@pytest.fixture(scope="module")
def argon2_hash() -> str:
    return new_hash(PASSWORD)


def test_new_hash_is_argon2id_and_jupyter_accepts_it(argon2_hash: str) -> None:
    assert argon2_hash.startswith("argon2:$argon2id$v=19$m=65536,t=3,p=4$")
    assert passwd_check(argon2_hash, PASSWORD) is True
    assert passwd_check(argon2_hash, PASSWORD + "x") is False


def test_new_hash_is_salted() -> None:
    assert new_hash(PASSWORD) != new_hash(PASSWORD)


def test_new_hash_without_passlib_uses_argon2_cffi(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(module, "passlib_argon2", None)
    produced = new_hash(PASSWORD)
    assert produced.startswith("argon2:$argon2id$")
    assert passwd_check(produced, PASSWORD) is True
    assert passwd_check(produced, "wrong-password") is False


def test_a_broken_passlib_backend_falls_back_to_argon2_cffi(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken_backend() -> bool:
        raise AttributeError("module 'argon2' has no attribute '__version__'")

    monkeypatch.setattr(module.passlib_argon2, "has_backend", broken_backend)
    produced = new_hash(PASSWORD)
    assert passwd_check(produced, PASSWORD) is True


def test_new_hash_and_verify_without_argon2_cffi_use_passlib(
    monkeypatch: pytest.MonkeyPatch, argon2_hash: str
) -> None:
    monkeypatch.setattr(module, "argon2", None)
    produced = new_hash(PASSWORD)
    assert passwd_check(produced, PASSWORD) is True
    assert hash_matches(argon2_hash, PASSWORD) is True
    assert hash_matches(argon2_hash, "wrong-password") is False


@pytest.mark.parametrize(
    ("current", "password", "expected"),
    [
        (LEGACY_SHA1, "mypassword", True),
        (LEGACY_SHA1, "otherpassword", False),
        (passwd("jupyter-made-it", "sha256"), "jupyter-made-it", True),
        (passwd("jupyter-made-it"), "jupyter-made-it", True),
        (passwd("jupyter-made-it"), "jupyter-made-it!", False),
        ("argon2:not-a-phc-string", PASSWORD, False),
        ("sha1:salt:", PASSWORD, False),
        ("nosuchalgo:salt:abcdef", PASSWORD, False),
        ("shake_128:salt:abcdef", PASSWORD, False),
        ("sha1:sält:abcdef", PASSWORD, False),
        ("plain-text-not-a-hash", PASSWORD, False),
    ],
    # Stable ids: a salted hash in the id would differ between pytest-xdist's workers.
    ids=lambda value: value.split(":", 1)[0] if isinstance(value, str) else str(value),
)
def test_hash_matches_like_jupyter(current: str, password: str, expected: bool) -> None:
    assert hash_matches(current, password) is expected


def test_matching_current_hash_is_kept(argon2_hash: str) -> None:
    assert choose_hash(PASSWORD, argon2_hash, 8) == (argon2_hash, False)


def test_matching_legacy_hash_is_kept() -> None:
    assert choose_hash("mypassword", LEGACY_SHA1, 8) == (LEGACY_SHA1, False)


def test_stale_current_hash_is_replaced(argon2_hash: str) -> None:
    produced, changed = choose_hash("a-new-password", argon2_hash, 8)
    assert changed is True
    assert produced != argon2_hash
    assert passwd_check(produced, "a-new-password") is True
    assert passwd_check(produced, PASSWORD) is False


@pytest.mark.parametrize("current", [None, ""])
def test_no_current_hash_hashes_anew(current: str | None) -> None:
    produced, changed = choose_hash(PASSWORD, current, 8)
    assert changed is True
    assert passwd_check(produced, PASSWORD) is True


@pytest.mark.parametrize(
    ("password", "min_length", "words"),
    [
        ("", 8, "notebook password is empty; set jupyter_password"),
        ("", 0, "notebook password is empty"),
        ("seven77", 8, "must be at least 8 characters; set jupyter_password"),
        ("eleven-char", 12, "must be at least 12 characters"),
    ],
)
def test_short_passwords_are_refused(password: str, min_length: int, words: str) -> None:
    with pytest.raises(NotebookPasswordError, match=words) as refused:
        check_length(password, min_length)
    assert "WORKBENCH_NOTEBOOK_PASSWORD" in str(refused.value)


def test_exactly_min_length_is_accepted() -> None:
    check_length("eight888", 8)


def test_password_inside_the_hash_format_is_refused() -> None:
    # Ansible's no_log would mask 'argon2id' inside the returned hash.
    with pytest.raises(NotebookPasswordError, match="part of the hash format"):
        choose_hash("argon2id", None, 8)


def test_main_returns_a_hash_jupyter_accepts(run_module) -> None:
    exited = run_module(module.main, {"password": PASSWORD})
    assert exited.failed is False
    assert exited.result["changed"] is True
    assert passwd_check(exited.result["hash"], PASSWORD) is True
    assert passwd_check(exited.result["hash"], "wrong-password") is False


def test_main_is_idempotent_with_current_hash(run_module, argon2_hash: str) -> None:
    exited = run_module(module.main, {"password": PASSWORD, "current_hash": argon2_hash})
    assert exited.result == {"changed": False, "hash": argon2_hash}


def test_main_in_check_mode_computes_the_same(run_module, argon2_hash: str) -> None:
    args = {"password": PASSWORD, "current_hash": argon2_hash, "_ansible_check_mode": True}
    assert run_module(module.main, args).result == {"changed": False, "hash": argon2_hash}
    args["password"] = "a-new-password"
    exited = run_module(module.main, args)
    assert exited.result["changed"] is True
    assert passwd_check(exited.result["hash"], "a-new-password") is True


@pytest.mark.parametrize(
    "args",
    [
        {"password": PASSWORD},
        {"password": PASSWORD, "current_hash": LEGACY_SHA1},
        {"password": PASSWORD[:5]},
        {"password": PASSWORD, "min_length": 40},
    ],
)
def test_main_never_returns_the_password(run_module, args: dict) -> None:
    exited = run_module(module.main, args)
    assert args["password"] not in json.dumps(exited.result)


def test_main_refuses_a_short_password(run_module) -> None:
    exited = run_module(module.main, {"password": "short"})
    assert exited.failed is True
    assert "at least 8 characters" in exited.result["msg"]
    assert "hash" not in exited.result


def test_main_names_the_libraries_when_none_is_installed(
    run_module, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(module, "argon2", None)
    monkeypatch.setattr(module, "passlib_argon2", None)
    exited = run_module(module.main, {"password": PASSWORD})
    assert exited.failed is True
    assert "passlib argon2-cffi" in exited.result["msg"]
    assert "pip install" in exited.result["msg"]


def test_real_module_output_keeps_the_hash_unmasked(
    capsys: pytest.CaptureFixture[str], argon2_hash: str
) -> None:
    """Through the real exit_json, with Ansible's no_log masking: the hash comes back intact."""
    args = {"password": PASSWORD, "current_hash": argon2_hash}
    with patch_module_args(args), pytest.raises(SystemExit) as exited:
        module.main()
    assert exited.value.code == 0
    output = json.loads(capsys.readouterr().out)
    assert output["hash"] == argon2_hash
    assert PASSWORD not in json.dumps(output)
