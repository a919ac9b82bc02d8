"""Cloud credentials: from the environment, a profile, or a hidden prompt.

They are returned as environment variables for the ansible-playbook child only (the
names the cloud collections read); nothing here writes them anywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import CredentialsError
from .terminal import Terminal


@dataclass(frozen=True)
class Key:
    env: str  # the variable the cloud collection reads
    label: str  # how the prompt calls it
    aliases: tuple[str, ...] = ()  # other variables accepted for it, in order


KEYS: dict[str, tuple[Key, ...]] = {
    "local": (),
    "aws": (
        Key("AWS_ACCESS_KEY_ID", "AWS access key ID"),
        Key("AWS_SECRET_ACCESS_KEY", "AWS secret access key"),
    ),
    # alibaba.alicloud reads ALICLOUD_ACCESS_KEY / ALICLOUD_SECRET_KEY; the original
    # scripts documented ALIYUN_ACCESS_KEY_ID / ALIYUN_ACCESS_KEY_SECRET.
    "aliyun": (
        Key(
            "ALICLOUD_ACCESS_KEY",
            "Aliyun AccessKey ID",
            ("ALICLOUD_ACCESS_KEY_ID", "ALIYUN_ACCESS_KEY_ID"),
        ),
        Key("ALICLOUD_SECRET_KEY", "Aliyun AccessKey secret", ("ALIYUN_ACCESS_KEY_SECRET",)),
    ),
    "azure": (
        Key("AZURE_CLIENT_ID", "Azure service principal client ID"),
        Key("AZURE_SECRET", "Azure service principal secret"),
        Key("AZURE_TENANT", "Azure tenant ID"),
        Key("AZURE_SUBSCRIPTION_ID", "Azure subscription ID"),
    ),
}

# Variables that, when set, name a profile or identity the cloud's SDK uses by itself.
PROFILE_VARIABLES: dict[str, tuple[str, ...]] = {
    "aws": (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ),
    "aliyun": ("ALICLOUD_PROFILE", "ALICLOUD_ECS_ROLE_NAME"),
    "azure": ("AZURE_PROFILE",),
}

HELP = {
    "aws": "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN), "
    "or AWS_PROFILE / ~/.aws/credentials",
    "aliyun": "ALIYUN_ACCESS_KEY_ID and ALIYUN_ACCESS_KEY_SECRET "
    "(or ALICLOUD_ACCESS_KEY and ALICLOUD_SECRET_KEY), or ALICLOUD_PROFILE",
    "azure": "AZURE_CLIENT_ID, AZURE_SECRET, AZURE_TENANT and AZURE_SUBSCRIPTION_ID, "
    "or AZURE_PROFILE / `az login`",
}


def profile_source(cloud: str, environ: Mapping[str, str], home: Path) -> str | None:
    """What configures the cloud without keys in the environment, if anything."""
    for name in PROFILE_VARIABLES.get(cloud, ()):
        if environ.get(name):
            return name
    for path in _profile_files(cloud, environ, home):
        if path.is_file():
            return str(path)
    return None


def _profile_files(cloud: str, environ: Mapping[str, str], home: Path) -> list[Path]:
    if cloud == "aws":
        return [
            Path(environ.get("AWS_SHARED_CREDENTIALS_FILE", home / ".aws" / "credentials")),
            Path(environ.get("AWS_CONFIG_FILE", home / ".aws" / "config")),
        ]
    if cloud == "azure":
        config_dir = Path(environ.get("AZURE_CONFIG_DIR", home / ".azure"))
        # ~/.azure/credentials: the azure.azcollection profile file; azureProfile.json
        # with subscriptions: an `az login`.
        return [home / ".azure" / "credentials", config_dir / "azureProfile.json"]
    return []


def keys_from_environment(cloud: str, environ: Mapping[str, str]) -> dict[str, str]:
    """The cloud's keys found in the environment, under the names the collection reads."""
    found = {}
    for key in KEYS[cloud]:
        for name in (key.env, *key.aliases):
            value = environ.get(name, "").strip()
            if value:
                found[key.env] = value
                break
    return found


def cloud_credentials(
    cloud: str, environ: Mapping[str, str], terminal: Terminal, home: Path | None = None
) -> tuple[dict[str, str], str]:
    """(environment for the playbook child, where the credentials came from)."""
    if cloud == "local":
        return {}, "none needed"
    found = keys_from_environment(cloud, environ)
    missing = [key for key in KEYS[cloud] if key.env not in found]
    if not missing:
        return found, "environment"
    if not found:
        source = profile_source(cloud, environ, home or Path.home())
        if source:
            return {}, source
    if not terminal.interactive:
        raise CredentialsError(
            f"{cloud} credentials missing: set {HELP[cloud]}, or run on a terminal to be asked"
        )
    terminal.say(f"{cloud} credentials (not echoed, not stored):")
    for key in missing:
        value = terminal.hidden(f"  {key.label}: ", flag=key.env).strip()
        if not value:
            raise CredentialsError(f"no {key.label} given")
        found[key.env] = value
    return found, "typed"
