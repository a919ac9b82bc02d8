"""End-to-end checks of a running workbench Jupyter server, from outside its host.

The server is named by the environment, never by the command line (which other users see):

    JUPYTER_URL=https://127.0.0.1:18888 JUPYTER_PASSWORD=... pytest tests/e2e

JUPYTER_CA_FILE, when set, is the server's self-signed certificate: requests and the
websocket then verify the server against it instead of skipping verification. Without
JUPYTER_URL every test is skipped. The browser test saves a screenshot to tests/output/.
"""

from __future__ import annotations

import json
import os
import re
import socket
import ssl
import time
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import urllib3
import websocket

VERSIONS_CODE = (
    "import numpy, pandas, sklearn; "
    "print(numpy.__version__, pandas.__version__, sklearn.__version__)"
)
# "2.2.6 2.3.3 1.7.2": three versions printed by the kernel, nothing else.
VERSIONS_RE = re.compile(r"^\d+\.\d+\S* \d+\.\d+\S* \d+\.\d+\S*$")
OUTPUT_DIR = Path(__file__).resolve().parents[1] / "output"
CHROMIUM = os.environ.get("JUPYTER_E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
TIMEOUT = 30


@dataclass(frozen=True)
class Server:
    url: str
    password: str
    ca_file: str | None

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or "127.0.0.1"

    @property
    def port(self) -> int:
        return urlsplit(self.url).port or 443

    @property
    def verify(self) -> bool | str:
        return self.ca_file or False


@pytest.fixture(scope="session")
def server() -> Server:
    url = os.environ.get("JUPYTER_URL", "").rstrip("/")
    if not url:
        pytest.skip("JUPYTER_URL is not set: these tests need a running workbench server")
    if not url.startswith("https://"):
        pytest.fail(f"JUPYTER_URL must be an https:// URL, got {url!r}")
    password = os.environ.get("JUPYTER_PASSWORD", "")
    if not password:
        pytest.fail("JUPYTER_PASSWORD is not set")
    ca_file = os.environ.get("JUPYTER_CA_FILE") or None
    if ca_file is None:
        urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    return Server(url=url, password=password, ca_file=ca_file)


def new_session(server: Server) -> requests.Session:
    """A session that ignores the environment: REQUESTS_CA_BUNDLE would override verify."""
    session = requests.Session()
    session.trust_env = False
    session.verify = server.verify
    return session


def login(server: Server, password: str) -> tuple[requests.Session, requests.Response]:
    """Post the login form the way a browser does: the form's _xsrf cookie and field first."""
    session = new_session(server)
    page = session.get(f"{server.url}/login", timeout=TIMEOUT)
    assert page.status_code == 200, page.status_code
    xsrf = session.cookies.get("_xsrf")
    assert xsrf, "the login page set no _xsrf cookie"
    response = session.post(
        f"{server.url}/login",
        data={"password": password, "_xsrf": xsrf},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    return session, response


def login_cookies(session: requests.Session) -> list[str]:
    return [name for name in session.cookies.keys() if name.startswith("username-")]  # noqa: SIM118


@pytest.fixture(scope="session")
def session(server: Server) -> requests.Session:
    session, response = login(server, server.password)
    assert response.status_code == 302, response.status_code
    assert login_cookies(session), session.cookies.keys()
    return session


def xsrf_headers(session: requests.Session) -> dict[str, str]:
    return {"X-XSRFToken": session.cookies.get("_xsrf") or ""}


def page_config(html: str) -> dict[str, Any]:
    match = re.search(
        r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', html, re.S
    )
    assert match, "the page carries no jupyter-config-data"
    return json.loads(match.group(1))


def test_plain_http_is_not_answered(server: Server) -> None:
    with socket.create_connection((server.host, server.port), timeout=TIMEOUT) as sock:
        sock.sendall(f"GET /login HTTP/1.1\r\nHost: {server.host}\r\n\r\n".encode())
        try:
            reply = sock.recv(1024)
        except (ConnectionResetError, TimeoutError):
            reply = b""
    assert not reply.startswith(b"HTTP/"), reply[:80]


def tls_context(maximum: ssl.TLSVersion) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.maximum_version = maximum
    # Security level 0 lets this client really offer TLS 1.0/1.1 and their ciphers, so a
    # failed handshake is the server's refusal, not the client's own policy.
    context.set_ciphers("ALL:@SECLEVEL=0")
    return context


def handshake(server: Server, context: ssl.SSLContext) -> str | None:
    with socket.create_connection((server.host, server.port), timeout=TIMEOUT) as sock:  # noqa: SIM117
        with context.wrap_socket(sock, server_hostname=server.host) as tls:
            return tls.version()


@pytest.mark.parametrize(
    "maximum", [ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1], ids=["TLSv1.0", "TLSv1.1"]
)
def test_tls_below_1_2_is_refused(server: Server, maximum: ssl.TLSVersion) -> None:
    with pytest.raises(ssl.SSLError) as refused:
        handshake(server, tls_context(maximum))
    # An alert is the server's answer; a client that refused to offer the version would
    # fail with NO_PROTOCOLS_AVAILABLE or UNSUPPORTED_PROTOCOL instead.
    assert "ALERT" in (refused.value.reason or ""), refused.value


@pytest.mark.parametrize(
    ("maximum", "expected"),
    [(ssl.TLSVersion.TLSv1_2, "TLSv1.2"), (ssl.TLSVersion.TLSv1_3, "TLSv1.3")],
    ids=["TLSv1.2", "TLSv1.3"],
)
def test_tls_1_2_and_1_3_are_accepted(
    server: Server, maximum: ssl.TLSVersion, expected: str
) -> None:
    assert handshake(server, tls_context(maximum)) == expected


def test_anonymous_api_is_forbidden(server: Server) -> None:
    anonymous = new_session(server)
    for path in ("/api/kernels", "/api/contents", "/api/kernels?token="):
        response = anonymous.get(f"{server.url}{path}", timeout=TIMEOUT)
        assert response.status_code == 403, (path, response.status_code)


def test_wrong_password_is_refused(server: Server) -> None:
    session, response = login(server, server.password + "-wrong")
    assert response.status_code == 401, response.status_code
    assert not login_cookies(session)


def test_login_page_asks_for_a_password_not_a_token(server: Server) -> None:
    page = new_session(server).get(f"{server.url}/login", timeout=TIMEOUT)
    assert "Password:" in page.text
    assert "Password or token" not in page.text


def test_right_password_sets_a_session_cookie(session: requests.Session) -> None:
    assert login_cookies(session)


def test_lab_and_notebook_7_are_served(server: Server, session: requests.Session) -> None:
    root = session.get(f"{server.url}/", allow_redirects=False, timeout=TIMEOUT)
    assert root.status_code == 302, root.status_code
    assert urlsplit(root.headers["Location"]).path == "/lab", root.headers["Location"]
    lab = page_config(session.get(f"{server.url}/lab", timeout=TIMEOUT).text)
    assert lab["appName"] == "JupyterLab" and lab["appVersion"].startswith("4."), lab
    tree = page_config(session.get(f"{server.url}/tree", timeout=TIMEOUT).text)
    assert tree["appVersion"].startswith("7."), tree


def test_contents_api_round_trip(server: Server, session: requests.Session) -> None:
    name = f"e2e-{uuid.uuid4().hex[:8]}.txt"
    url = f"{server.url}/api/contents/{name}"
    body = {"type": "file", "format": "text", "content": "written over HTTPS\n"}
    created = session.put(url, json=body, headers=xsrf_headers(session), timeout=TIMEOUT)
    assert created.status_code == 201, created.text
    try:
        read = session.get(url, params={"content": "1"}, timeout=TIMEOUT)
        assert read.json()["content"] == "written over HTTPS\n"
    finally:
        deleted = session.delete(url, headers=xsrf_headers(session), timeout=TIMEOUT)
        assert deleted.status_code == 204, deleted.status_code


def execute(channel: websocket.WebSocket, code: str) -> tuple[str, list[dict[str, Any]]]:
    """Send an execute_request and collect its stdout until the kernel is idle again."""
    msg_id = uuid.uuid4().hex
    channel.send(
        json.dumps(
            {
                "header": {
                    "msg_id": msg_id,
                    "msg_type": "execute_request",
                    "username": "e2e",
                    "session": uuid.uuid4().hex,
                    "date": datetime.now(timezone.utc).isoformat(),
                    "version": "5.3",
                },
                "parent_header": {},
                "metadata": {},
                "content": {
                    "code": code,
                    "silent": False,
                    "store_history": False,
                    "user_expressions": {},
                    "allow_stdin": False,
                    "stop_on_error": True,
                },
                "channel": "shell",
                "buffers": [],
            }
        )
    )
    stdout, errors = "", []
    while True:
        message = json.loads(channel.recv())
        if message.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind, content = message["msg_type"], message["content"]
        if kind == "stream" and content["name"] == "stdout":
            stdout += content["text"]
        elif kind == "error":
            errors.append(content)
        elif kind == "status" and content["execution_state"] == "idle":
            return stdout, errors


def test_state_changing_requests_need_the_xsrf_token(
    server: Server, session: requests.Session
) -> None:
    """Logged in, but without the X-XSRFToken header: the server refuses to act."""
    kernel = session.post(f"{server.url}/api/kernels", json={}, timeout=TIMEOUT)
    assert kernel.status_code == 403, (kernel.status_code, kernel.text[:300])
    put = session.put(
        f"{server.url}/api/contents/xsrf-probe.txt",
        json={"type": "file", "format": "text", "content": "x"},
        timeout=TIMEOUT,
    )
    assert put.status_code == 403, (put.status_code, put.text[:300])
    listed = session.get(f"{server.url}/api/contents", timeout=TIMEOUT)
    assert "xsrf-probe.txt" not in listed.text


def test_kernel_runs_the_data_science_stack(server: Server, session: requests.Session) -> None:
    started = session.post(
        f"{server.url}/api/kernels", json={}, headers=xsrf_headers(session), timeout=TIMEOUT
    )
    assert started.status_code == 201, started.text
    kernel_id = started.json()["id"]
    try:
        ws_url = f"wss://{server.host}:{server.port}/api/kernels/{kernel_id}/channels"
        cookie = "; ".join(f"{name}={value}" for name, value in session.cookies.items())
        sslopt: dict[str, Any] = (
            {"ca_certs": server.ca_file, "check_hostname": False}
            if server.ca_file
            else {"cert_reqs": ssl.CERT_NONE, "check_hostname": False}
        )
        channel = websocket.create_connection(
            f"{ws_url}?session_id={uuid.uuid4().hex}",
            header=[f"X-XSRFToken: {session.cookies.get('_xsrf')}"],
            cookie=cookie,
            sslopt=sslopt,
            timeout=120,
        )
        try:
            stdout, errors = execute(channel, VERSIONS_CODE)
            whoami, whoami_errors = execute(channel, "import os; print(os.geteuid(), os.getegid())")
        finally:
            channel.close()
        assert not errors, errors
        assert VERSIONS_RE.match(stdout.strip()), stdout
        # The server and its kernels run as the notebook user, never as root.
        assert not whoami_errors, whoami_errors
        uid, gid = (int(part) for part in whoami.split())
        assert uid != 0 and gid != 0, whoami
    finally:
        session.delete(
            f"{server.url}/api/kernels/{kernel_id}", headers=xsrf_headers(session), timeout=TIMEOUT
        )


@pytest.fixture()
def browser_page(server: Server) -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(
                ignore_https_errors=True, viewport={"width": 1280, "height": 800}
            )
            context.set_default_timeout(60_000)
            yield context.new_page()
        finally:
            browser.close()


def remove_notebook(server: Server, page: Any, path: str) -> None:
    """Shut the notebook's kernel down and delete the file, with the browser's own login."""
    xsrf = next(c["value"] for c in page.context.cookies() if c["name"] == "_xsrf")
    headers = {"X-XSRFToken": xsrf}
    for item in page.request.get(f"{server.url}/api/sessions").json():
        if item["path"] == path:
            page.request.delete(f"{server.url}/api/sessions/{item['id']}", headers=headers)
    page.request.delete(f"{server.url}/api/contents/{path}", headers=headers)


def watch_kernel_frames(page: Any) -> list[str]:
    """Collect what the page's kernel websockets receive, from the moment they open."""
    frames: list[str] = []

    def on_frame(payload: str | bytes) -> None:
        frames.append(payload if isinstance(payload, str) else payload.decode("utf-8", "replace"))

    def on_websocket(socket_: Any) -> None:
        if "/api/kernels/" in socket_.url:
            socket_.on("framereceived", on_frame)

    page.on("websocket", on_websocket)
    return frames


def wait_for_kernel(page: Any, frames: list[str], timeout_s: float = 90) -> None:
    """Wait until the notebook's kernel connection got its kernel_info_reply.

    Only then does JupyterLab send a cell to the kernel: a run request made while the
    connection is still settling is dropped (the prompt stays "[ ]:").
    """
    deadline = time.monotonic() + timeout_s
    while not any("kernel_info_reply" in frame for frame in frames):
        assert time.monotonic() < deadline, "the notebook's kernel never answered"
        page.wait_for_timeout(100)


def test_browser_logs_in_and_runs_a_notebook_cell(server: Server, browser_page: Any) -> None:
    page = browser_page
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    frames = watch_kernel_frames(page)
    page.goto(f"{server.url}/lab")
    page.wait_for_url(re.compile(r"/login"))
    page.fill("#password_input", server.password)
    page.click("#login_submit")
    page.wait_for_url(re.compile(r"/lab"))

    page.locator('.jp-LauncherCard[data-category="Notebook"]').first.click()
    page.wait_for_url(re.compile(r"/lab/tree/.+\.ipynb"))
    path = urlsplit(page.url).path.split("/lab/tree/", 1)[1]
    try:
        wait_for_kernel(page, frames)
        cell = page.locator(".jp-NotebookPanel .jp-CodeCell").first
        editor = cell.locator(".cm-content")
        editor.click()
        editor.fill(VERSIONS_CODE)
        assert editor.inner_text().strip() == VERSIONS_CODE
        page.keyboard.press("Control+Enter")
        output = cell.locator(".jp-OutputArea-output")
        output.wait_for(timeout=60_000)
        assert VERSIONS_RE.match(output.inner_text().strip()), output.inner_text()
        page.screenshot(path=str(OUTPUT_DIR / "jupyter-notebook.png"), full_page=True)
    except Exception:
        page.screenshot(path=str(OUTPUT_DIR / "jupyter-notebook-failure.png"), full_page=True)
        raise
    finally:
        remove_notebook(server, page, path)
