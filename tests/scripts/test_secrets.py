"""No secret lands in any file under ansible-runner's private data dir, yet the playbook's
process has every one of them in its environment."""

from __future__ import annotations

import base64
import hashlib
import io
import json
from pathlib import Path

import pytest
from conftest import STUB_PROJECT, StubEnv
from mlbox_cli import relay
from mlbox_cli.errors import PlaybookError
from mlbox_cli.playbooks import Playbooks, Redactor, is_sensitive
from mlbox_cli.progress import Output

SECRETS = {
    "WORKBENCH_NOTEBOOK_PASSWORD": "nb-pass-7f3c9e1d",
    "ALICLOUD_ACCESS_KEY": "LTAI-id-a81b2c3d",
    "ALICLOUD_SECRET_KEY": "ali-secret-c4d5e6f7",
}
# Already in the caller's environment: ansible-runner would copy them into `command`.
CALLER_SECRETS = {
    "AWS_SECRET_ACCESS_KEY": "aws-secret-0a1b2c3d",
    "AWS_SESSION_TOKEN": "aws-token-4e5f6a7b" * 40,
    "GITHUB_TOKEN": "ghp-token-8c9d0e1f",
}


def all_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]


def forms(value: str) -> list[bytes]:
    """The value as it could be written: plain, JSON-escaped, base64 (at any alignment)."""
    raw = value.encode()
    found = [raw, json.dumps(value).encode()]
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw)[4 if shift else 0 :]
        found.append(encoded[:-4])  # drop the padding-dependent tail
    return [item for item in found if len(item) >= 8]


def assert_no_secret_under(root: Path, values: list[str]) -> None:
    files = all_files(root)
    assert files, f"nothing was written under {root}"
    for path in files:
        content = path.read_bytes()
        for value in values:
            for form in forms(value):
                assert form not in content, f"a secret is in {path}"


def test_sensitive_names() -> None:
    for name in [*SECRETS, *CALLER_SECRETS, "AZURE_SECRET", "AZURE_CLIENT_ID", "AZURE_TENANT"]:
        assert is_sensitive(name), name
    for name in ("PATH", "HOME", "AWS_PROFILE", "AWS_REGION", "ANSIBLE_CONFIG", "TERM"):
        assert not is_sensitive(name), name


def test_private_data_dir_holds_no_secret(stub: StubEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in CALLER_SECRETS.items():
        monkeypatch.setenv(name, value)
    data_dir = stub.tmp / "runner"
    playbooks = Playbooks(STUB_PROJECT, data_dir, output=Output(stream=io.StringIO()))
    result = playbooks.run(
        "provision.yml",
        {"cloud": "aliyun", "workbench_name": "mlbox", "workbench_disk_source": "new"},
        dict(SECRETS),
    )
    assert result.status == "successful"

    # The child had every secret, the passed ones and the caller's.
    hashes = stub.recorded("provision")["env_sha256"]
    for name, value in {**SECRETS, **CALLER_SECRETS}.items():
        assert hashes[name] == hashlib.sha256(value.encode()).hexdigest(), name

    # ...and none of them is in any file ansible-runner wrote.
    assert_no_secret_under(data_dir, [*SECRETS.values(), *CALLER_SECRETS.values()])
    payload = relay.encode({**CALLER_SECRETS, **SECRETS}).encode()
    assert not any(payload[:40] in path.read_bytes() for path in all_files(data_dir))

    command = json.loads((result.artifact_dir / "command").read_text())
    assert not [name for name in command["env"] if is_sensitive(name)]
    assert command["command"][1].endswith("relay.py")
    assert not (data_dir / "env").exists()  # no env/envvars, env/extravars, env/passwords


def test_a_failure_names_the_task_and_the_log(
    stub: StubEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUB_FAIL", "provision")
    playbooks = Playbooks(STUB_PROJECT, stub.tmp / "runner", output=Output(stream=io.StringIO()))
    with pytest.raises(PlaybookError) as raised:
        playbooks.run(
            "provision.yml",
            {"cloud": "local", "workbench_name": "mlbox", "workbench_disk_source": "new"},
            {"WORKBENCH_NOTEBOOK_PASSWORD": "nb-pass-7f3c9e1d"},
        )
    text = str(raised.value)
    assert "task 'Fail as the test asked' failed on localhost" in text
    assert "QuotaExceeded: the stub was told to fail" in text
    log = Path(text.rsplit("full log: ", 1)[1].strip())
    assert log.is_file() and "QuotaExceeded" in log.read_text()
    assert raised.value.exit_code == 4
    assert_no_secret_under(stub.tmp / "runner", ["nb-pass-7f3c9e1d"])


def test_careless_playbooks_are_scrubbed_before_anything_is_written(
    stub: StubEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = stub.tmp / "runner"
    playbooks = Playbooks(STUB_PROJECT, data_dir, verbosity=1, output=Output(io.StringIO()))
    result = playbooks.run("careless.yml", {}, dict(SECRETS))
    assert result.status == "successful"
    assert_no_secret_under(data_dir, list(SECRETS.values()))
    stdout = result.log.read_text()
    assert "the password is ********" in stdout
    assert not (result.artifact_dir / "fact_cache").exists() or not any(
        (result.artifact_dir / "fact_cache").iterdir()
    )


def test_redactor_scrubs_nested_values_in_place() -> None:
    event = {"stdout": "key=abcd1234", "res": {"list": ["x abcd1234 y", 3], "ok": "fine"}}
    same = Redactor(["abcd1234", "no"]).scrub(event)
    assert same is event
    assert event == {"stdout": "key=********", "res": {"list": ["x ******** y", 3], "ok": "fine"}}


def test_relay_round_trip() -> None:
    secrets = {"A": "x" * 5000, "B": "üñí\n\t\"'"}
    assert relay.decode(relay.encode(secrets).encode() + b"\n") == secrets
