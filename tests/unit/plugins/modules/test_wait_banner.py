"""wait_banner: a late server is seen within a backoff step; silence and wrong banners fail."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.mlbox.workbench.plugins.modules import wait_banner as module


def run_module(args: dict[str, object], capsys: pytest.CaptureFixture[str]) -> dict:
    with patch_module_args(args), pytest.raises(SystemExit):
        module.main()
    return json.loads(capsys.readouterr().out)


class Server:
    """Listens on a free port after `delay` s; each connection gets `banner` (b"": closed)."""

    def __init__(self, banner: bytes, delay: float = 0.0) -> None:
        self.banner = banner
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.serve, args=(delay,), daemon=True)
        self.thread.start()

    def serve(self, delay: float) -> None:
        time.sleep(delay)
        self.sock.listen()
        self.sock.settimeout(0.05)
        while not self.stop.is_set():
            try:
                conn, _peer = self.sock.accept()
            except TimeoutError:
                continue
            with conn:
                if self.banner:
                    conn.sendall(self.banner)

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self.sock.close()


@pytest.fixture
def server() -> Iterator[Callable[..., Server]]:
    made: list[Server] = []

    def make(banner: bytes, delay: float = 0.0) -> Server:
        made.append(Server(banner, delay))
        return made[-1]

    yield make
    for one in made:
        one.close()


def test_a_late_ssh_server_is_seen_soon_after_it_listens(server, capsys) -> None:
    ssh = server(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n", delay=0.5)
    out = run_module({"port": ssh.port, "search_regex": "OpenSSH", "timeout": 20}, capsys)
    assert out.get("failed") is not True, out
    assert out["banner"] == "SSH-2.0-OpenSSH_9.2p1 Debian-2"
    assert out["attempts"] > 1 and out["elapsed"] < 2.5
    assert out["changed"] is False


def test_a_port_that_accepts_and_closes_is_not_an_answer(server, capsys) -> None:
    silent = server(b"")
    out = run_module({"port": silent.port, "timeout": 0.6}, capsys)
    assert out["failed"] is True
    assert f"127.0.0.1:{silent.port} sent no banner matching '^SSH-' within 0.6 s" in out["msg"]
    assert "accepted and closed without a banner" in out["msg"]


def test_a_banner_that_does_not_match_fails_naming_it(server, capsys) -> None:
    smtp = server(b"220 mail.example ESMTP\r\n")
    out = run_module({"port": smtp.port, "timeout": 0.5}, capsys)
    assert out["failed"] is True
    assert "banner '220 mail.example ESMTP\\r\\n' does not match '^SSH-'" in out["msg"]


def test_nothing_listening_fails_with_the_refusal(capsys) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = run_module({"port": port, "timeout": 0.4}, capsys)
    assert out["failed"] is True and "ConnectionRefusedError" in out["msg"]
    assert out["attempts"] >= 2


def test_a_broken_regex_is_refused_before_connecting(capsys) -> None:
    out = run_module({"port": 1, "search_regex": "SSH-("}, capsys)
    assert out["failed"] is True and "is no regular expression" in out["msg"]
