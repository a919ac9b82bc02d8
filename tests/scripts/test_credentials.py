"""Cloud credentials: environment names mapped, profiles accepted, prompts hidden."""

from __future__ import annotations

from pathlib import Path

import pytest
from mlbox_cli.credentials import cloud_credentials, keys_from_environment
from mlbox_cli.errors import EXIT_CREDENTIALS, CredentialsError
from mlbox_cli.terminal import Terminal


class FakeTerminal(Terminal):
    """Answers hidden prompts from a list and records the prompts."""

    def __init__(self, interactive: bool, answers: list[str] | None = None) -> None:
        self.prompts: list[str] = []
        answers = list(answers or [])

        def hidden(prompt: str) -> str:
            self.prompts.append(prompt)
            return answers.pop(0)

        def visible(prompt: str) -> str:
            raise AssertionError(f"a visible prompt for a credential: {prompt}")

        super().__init__(interactive, out=_Sink(), ask=visible, ask_hidden=hidden)


class _Sink:
    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def test_local_needs_nothing(tmp_path: Path) -> None:
    assert cloud_credentials("local", {}, FakeTerminal(False), tmp_path) == ({}, "none needed")


def test_aliyun_seed_names_are_mapped_to_the_collection_names(tmp_path: Path) -> None:
    environ = {"ALIYUN_ACCESS_KEY_ID": "LTAIid", "ALIYUN_ACCESS_KEY_SECRET": "s3cret"}
    env, source = cloud_credentials("aliyun", environ, FakeTerminal(False), tmp_path)
    assert env == {"ALICLOUD_ACCESS_KEY": "LTAIid", "ALICLOUD_SECRET_KEY": "s3cret"}
    assert source == "environment"


def test_aliyun_collection_names_are_accepted_and_win(tmp_path: Path) -> None:
    environ = {
        "ALICLOUD_ACCESS_KEY": "direct-id",
        "ALICLOUD_SECRET_KEY": "direct-secret",
        "ALIYUN_ACCESS_KEY_ID": "seed-id",
        "ALIYUN_ACCESS_KEY_SECRET": "seed-secret",
    }
    assert keys_from_environment("aliyun", environ) == {
        "ALICLOUD_ACCESS_KEY": "direct-id",
        "ALICLOUD_SECRET_KEY": "direct-secret",
    }


def test_aliyun_missing_secret_is_asked_hidden(tmp_path: Path) -> None:
    terminal = FakeTerminal(True, ["typed-secret"])
    env, source = cloud_credentials(
        "aliyun", {"ALIYUN_ACCESS_KEY_ID": "LTAIid"}, terminal, tmp_path
    )
    assert env == {"ALICLOUD_ACCESS_KEY": "LTAIid", "ALICLOUD_SECRET_KEY": "typed-secret"}
    assert source == "typed"
    assert terminal.prompts == ["  Aliyun AccessKey secret: "]


def test_all_keys_asked_when_none_set(tmp_path: Path) -> None:
    terminal = FakeTerminal(True, ["AKIA", "secret"])
    env, _secrets = cloud_credentials("aws", {}, terminal, tmp_path)
    assert env == {"AWS_ACCESS_KEY_ID": "AKIA", "AWS_SECRET_ACCESS_KEY": "secret"}
    assert len(terminal.prompts) == 2


@pytest.mark.parametrize("cloud", ["aws", "aliyun", "azure"])
def test_missing_without_terminal_is_exit_3_naming_the_variables(
    cloud: str, tmp_path: Path
) -> None:
    with pytest.raises(CredentialsError) as raised:
        cloud_credentials(cloud, {}, FakeTerminal(False), tmp_path)
    assert raised.value.exit_code == EXIT_CREDENTIALS == 3
    expected = {"aws": "AWS_ACCESS_KEY_ID", "aliyun": "ALIYUN_ACCESS_KEY_ID", "azure": "AZURE_"}
    assert expected[cloud] in str(raised.value)


def test_aws_profile_or_credentials_file_asks_nothing(tmp_path: Path) -> None:
    terminal = FakeTerminal(True, [])
    profile = cloud_credentials("aws", {"AWS_PROFILE": "ml"}, terminal, tmp_path)
    assert profile == ({}, "AWS_PROFILE")
    credentials = tmp_path / ".aws" / "credentials"
    credentials.parent.mkdir()
    credentials.write_text("[default]\n")
    assert cloud_credentials("aws", {}, terminal, tmp_path) == ({}, str(credentials))
    assert terminal.prompts == []


def test_aws_session_keys_from_environment(tmp_path: Path) -> None:
    environ = {"AWS_ACCESS_KEY_ID": "AKIA", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "t"}
    env, source = cloud_credentials("aws", environ, FakeTerminal(False), tmp_path)
    # The session token is relayed with every other sensitive variable (playbooks.py).
    assert env == {"AWS_ACCESS_KEY_ID": "AKIA", "AWS_SECRET_ACCESS_KEY": "s"}
    assert source == "environment"


def test_azure_cli_login_asks_nothing(tmp_path: Path) -> None:
    profile = tmp_path / ".azure" / "azureProfile.json"
    profile.parent.mkdir()
    profile.write_text("{}")
    assert cloud_credentials("azure", {}, FakeTerminal(True), tmp_path) == ({}, str(profile))


def test_azure_service_principal_from_environment(tmp_path: Path) -> None:
    environ = {
        "AZURE_CLIENT_ID": "c",
        "AZURE_SECRET": "s",
        "AZURE_TENANT": "t",
        "AZURE_SUBSCRIPTION_ID": "sub",
    }
    env, _secrets = cloud_credentials("azure", environ, FakeTerminal(False), tmp_path)
    assert env == environ


def test_an_empty_typed_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CredentialsError):
        cloud_credentials("aws", {}, FakeTerminal(True, ["", ""]), tmp_path)
