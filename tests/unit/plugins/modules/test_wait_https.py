"""wait_https: backoff, timeout, statuses; through the real module against a real TLS server."""

from __future__ import annotations

import http.server
import json
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from ansible.module_utils.six.moves.urllib.error import HTTPError
from ansible.module_utils.testing import patch_module_args
from ansible_collections.mlbox.workbench.plugins.module_utils import backoff
from ansible_collections.mlbox.workbench.plugins.modules import wait_https as module


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 4))
        self.now += seconds


def test_pauses_grow_by_half_and_stop_at_the_cap() -> None:
    gen = backoff.pauses(0.1, 1.0)
    got = [round(next(gen), 4) for _step in range(9)]
    assert got == [0.1, 0.15, 0.225, 0.3375, 0.5063, 0.7594, 1.0, 1.0, 1.0]


def test_returns_on_the_first_good_status_without_sleeping() -> None:
    t = FakeTime()
    result = module.wait(lambda: 200, {200}, 60, 0.1, 1.0, clock=t.clock, sleep=t.sleep)
    assert result == {"ok": True, "status": 200, "attempts": 1, "elapsed": 0.0}
    assert t.slept == []


def test_retries_refusals_with_backoff_until_the_server_answers() -> None:
    t = FakeTime()
    answers = iter([ConnectionRefusedError(111, "refused")] * 3 + [200])

    def request() -> int:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    result = module.wait(request, {200}, 60, 0.1, 1.0, clock=t.clock, sleep=t.sleep)
    assert result["ok"] is True and result["attempts"] == 4
    assert t.slept == [0.1, 0.15, 0.225]


def test_an_unexpected_status_is_retried_and_reported() -> None:
    t = FakeTime()

    def request() -> int:
        raise HTTPError("https://h/login", 503, "Service Unavailable", {}, None)  # type: ignore[arg-type]

    result = module.wait(request, {200}, 2, 0.5, 1.0, clock=t.clock, sleep=t.sleep)
    assert result["ok"] is False
    assert result["last"] == "status 503, expected [200]"
    # 0.5 + 0.75, then only what is left of the 2 s: the timeout is kept, not overrun.
    assert t.slept == [0.5, 0.75, 0.75]
    assert result["elapsed"] == 2.0


def test_gives_up_after_the_timeout_with_the_last_error() -> None:
    t = FakeTime()

    def request() -> int:
        raise ConnectionRefusedError(111, "Connection refused")

    result = module.wait(request, {200}, 5, 0.1, 1.0, clock=t.clock, sleep=t.sleep)
    assert result["ok"] is False
    assert "ConnectionRefusedError" in result["last"]
    assert sum(t.slept) == pytest.approx(5.0, abs=1e-3)


# --- the real module, the real urllib/TLS stack, a server that starts late -----------------


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    where = tmp_path_factory.mktemp("tls")
    cert, key = where / "cert.pem", where / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=localhost"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Login(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def late_server(tls_files: tuple[Path, Path]) -> Iterator[tuple[int, type[Login]]]:
    """An HTTPS server on a free port that starts listening only after 0.6 s."""
    port = free_port()
    handler = type("Handler", (Login,), {})
    servers: list[http.server.HTTPServer] = []
    listening = threading.Event()

    def start() -> None:
        time.sleep(0.6)
        server = http.server.HTTPServer(("127.0.0.1", port), handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*map(str, tls_files))
        server.socket = context.wrap_socket(server.socket, server_side=True)
        servers.append(server)
        listening.set()
        server.serve_forever(poll_interval=0.05)

    thread = threading.Thread(target=start, daemon=True)
    thread.start()
    yield port, handler
    listening.wait(timeout=5)  # a test that ended early: let the server start, then stop it
    for server in servers:
        server.shutdown()
        server.server_close()


def run_module(args: dict[str, object], capsys: pytest.CaptureFixture[str]) -> dict:
    with patch_module_args(args), pytest.raises(SystemExit):
        module.main()
    return json.loads(capsys.readouterr().out)


def test_waits_for_a_late_tls_server_with_a_self_signed_certificate(
    late_server: tuple[int, type[Login]], capsys: pytest.CaptureFixture[str]
) -> None:
    port, _login = late_server
    out = run_module(
        {"url": f"https://127.0.0.1:{port}/login", "validate_certs": False, "timeout": 20},
        capsys,
    )
    assert out.get("failed") is not True, out
    assert out["status"] == 200 and out["changed"] is False
    assert out["attempts"] > 1
    # Seen within a backoff step of its start (0.6 s), not a fixed second later.
    assert out["elapsed"] < 3


def test_a_self_signed_certificate_is_refused_when_certificates_are_checked(
    late_server: tuple[int, type[Login]], capsys: pytest.CaptureFixture[str]
) -> None:
    port, _login = late_server
    out = run_module({"url": f"https://127.0.0.1:{port}/login", "timeout": 1.5}, capsys)
    assert out["failed"] is True
    assert f"https://127.0.0.1:{port}/login did not answer with [200] within 1.5 s" in out["msg"]
    assert out["attempts"] > 1


def test_a_redirect_counts_only_when_it_is_asked_for(
    late_server: tuple[int, type[Login]], capsys: pytest.CaptureFixture[str]
) -> None:
    port, handler = late_server
    handler.status = 302
    url = f"https://127.0.0.1:{port}/"
    out = run_module({"url": url, "validate_certs": False, "timeout": 1.5}, capsys)
    assert out["failed"] is True and "last: status 302, expected [200]" in out["msg"]
    out = run_module(
        {"url": url, "validate_certs": False, "timeout": 5, "status_code": [200, 302]}, capsys
    )
    assert out["status"] == 302


def test_nothing_listening_fails_naming_the_refusal(capsys: pytest.CaptureFixture[str]) -> None:
    out = run_module(
        {"url": f"https://127.0.0.1:{free_port()}/", "timeout": 0.5, "validate_certs": False},
        capsys,
    )
    assert out["failed"] is True
    assert "refused" in out["msg"].lower()


def test_a_zero_timeout_is_refused_before_any_request(capsys: pytest.CaptureFixture[str]) -> None:
    out = run_module({"url": "https://127.0.0.1:1/", "timeout": 0}, capsys)
    assert out["failed"] is True and out["msg"] == "timeout must be more than 0 seconds, not 0.0"
