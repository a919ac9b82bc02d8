"""The jupyter_probe module: the password hash, and whether the jupyter role's last run holds."""

from __future__ import annotations

import http.server
import os
import ssl
import threading
from pathlib import Path

import pytest
from ansible_collections.mlbox.workbench.plugins.modules import jupyter_probe, tls_ensure

SANS = ["DNS:localhost", "IP:127.0.0.1"]


@pytest.fixture
def host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    """Everything the role's full run leaves behind, as files under tmp_path."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin/jupyter").write_text("#!/bin/sh\n")
    (venv / "bin/jupyter").chmod(0o755)
    config = tmp_path / "jupyter_server_config.py"
    config.write_text('c.PasswordIdentityProvider.hashed_password = "argon2:$argon2id$x"\n')
    for name in ("cookie", "unit"):
        (tmp_path / name).write_text("x\n")
    uid, gid = os.getuid(), os.getgid()
    key, crt = tmp_path / "jupyter.key", tmp_path / "jupyter.crt"
    tls_ensure.ensure(str(key), str(crt), uid, gid, 30, "wb", SANS)
    (tmp_path / "jupyter.digest").write_text("d1\n")
    answers = {"is-enabled": "enabled", "is-active": "active"}
    monkeypatch.setattr(jupyter_probe, "systemctl", lambda verb, _name: answers[verb])
    monkeypatch.setattr(jupyter_probe, "login_answers", lambda _url: "")
    params = {
        "user": "me", "venv": str(venv), "config_file": str(config),
        "cookie_secret_file": str(tmp_path / "cookie"), "unit_file": str(tmp_path / "unit"),
        "service": "jupyter", "key_path": str(key), "cert_path": str(crt), "common_name": "wb",
        "subject_alt_names": SANS, "url": "https://127.0.0.1:1/login",
        "state_file": str(tmp_path / "jupyter.digest"), "digest": "d1",
    }  # fmt: skip
    return {"params": params, "user": {"exists": True, "uid": uid, "gid": gid}, "answers": answers}


def test_the_last_run_holds_when_everything_agrees(host: dict) -> None:
    assert jupyter_probe.still_current(host["params"], host["user"]) == ""


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"digest": "d2"}, "digest differs"),
        ({"subject_alt_names": [*SANS, "IP:192.0.2.10"]}, "the certificate names"),
        ({"common_name": "other"}, "subject"),
        ({"unit_file": "/nonexistent/unit"}, "is missing"),
        ({"venv": "/nonexistent"}, "bin/jupyter is missing"),
    ],
)
def test_the_full_path_runs_when_something_differs(host: dict, change: dict, why: str) -> None:
    assert why in jupyter_probe.still_current({**host["params"], **change}, host["user"])


def test_a_stopped_service_or_a_wrong_mode_is_not_current(host: dict) -> None:
    host["answers"]["is-active"] = "inactive"
    assert "not active" in jupyter_probe.still_current(host["params"], host["user"])
    host["answers"]["is-active"] = "active"
    os.chmod(host["params"]["key_path"], 0o644)
    assert "0600" in jupyter_probe.still_current(host["params"], host["user"])


def test_the_hash_is_read_from_the_configuration(host: dict, tmp_path: Path) -> None:
    regex = r'^c\.PasswordIdentityProvider\.hashed_password = "([^"]*)"$'
    assert jupyter_probe.read_hash(host["params"]["config_file"], regex) == "argon2:$argon2id$x"
    assert jupyter_probe.read_hash(str(tmp_path / "none"), regex) == ""


def test_the_login_page_is_asked_over_tls_without_checking_the_certificate(tmp_path: Path):
    key, crt = tmp_path / "k", tmp_path / "c"
    tls_ensure.ensure(str(key), str(crt), os.getuid(), os.getgid(), 30, "wb", SANS)

    class Login(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/login" else 404)
            self.end_headers()

        def log_message(self, *_args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Login)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(crt), str(key))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        assert jupyter_probe.login_answers(f"https://127.0.0.1:{port}/login") == ""
        assert "HTTP 404" in jupyter_probe.login_answers(f"https://127.0.0.1:{port}/other")
    finally:
        server.shutdown()
    assert "does not answer" in jupyter_probe.login_answers(f"https://127.0.0.1:{port}/login", 1)
