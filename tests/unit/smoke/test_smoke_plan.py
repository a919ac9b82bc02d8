"""The smoke tests start only when asked and with credentials, and say what they cost."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tests" / "smoke"))
import smoke_plan  # noqa: E402

CREDENTIAL_VARIABLES = [
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI", "ALICLOUD_ACCESS_KEY", "ALICLOUD_ACCESS_KEY_ID",
    "ALIYUN_ACCESS_KEY_ID", "ALICLOUD_SECRET_KEY", "ALIYUN_ACCESS_KEY_SECRET",
    "ALICLOUD_PROFILE", "ALICLOUD_ECS_ROLE_NAME", "AZURE_CLIENT_ID", "AZURE_SECRET",
    "AZURE_TENANT", "AZURE_SUBSCRIPTION_ID", "AZURE_PROFILE", "MLBOX_SMOKE",
    "MLBOX_SMOKE_INSTANCE_TYPE", "MLBOX_SMOKE_REGION",
]  # fmt: skip


@pytest.fixture
def bare(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in CREDENTIAL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.parametrize("cloud", ["aws", "aliyun", "azure"])
def test_no_smoke_without_being_asked_or_without_credentials(
    bare: pytest.MonkeyPatch, cloud: str
) -> None:
    with pytest.raises(pytest.skip.Exception, match=f"make smoke-{cloud}"):
        smoke_plan.skip_unless_asked(cloud)
    bare.setenv("MLBOX_SMOKE", cloud)
    with pytest.raises(pytest.skip.Exception, match=r"no .* credentials"):
        smoke_plan.skip_unless_asked(cloud)


def test_credentials_count_only_when_complete_or_a_profile(bare: pytest.MonkeyPatch) -> None:
    bare.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    assert not smoke_plan.credentials_present("aws")
    bare.setenv("AWS_SECRET_ACCESS_KEY", "example")
    assert smoke_plan.credentials_present("aws")
    bare.setenv("ALIYUN_ACCESS_KEY_ID", "LTAIEXAMPLE")
    bare.setenv("ALIYUN_ACCESS_KEY_SECRET", "example")
    assert smoke_plan.credentials_present("aliyun")
    assert not smoke_plan.credentials_present("azure")
    bare.setenv("AZURE_PROFILE", "default")
    assert smoke_plan.credentials_present("azure")


def test_the_estimate_cites_its_prices_or_says_unknown(bare: pytest.MonkeyPatch) -> None:
    aws = smoke_plan.PLANS["aws"].estimate()
    assert "ESTIMATE" in aws and "https://aws.amazon.com/ec2/pricing/on-demand/" in aws
    assert "total: about $" in aws
    assert "unknown" in smoke_plan.PLANS["aliyun"].estimate()
    # Another type than the one whose price is cited: no made-up number.
    bare.setenv("MLBOX_SMOKE_INSTANCE_TYPE", "g4dn.xlarge")
    other = smoke_plan.PLANS["aws"].estimate()
    assert "instance: unknown" in other and "total: unknown" in other
