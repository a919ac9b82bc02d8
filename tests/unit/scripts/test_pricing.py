"""Each cloud's price lookup against its double, and the refusal that makes a price
'unavailable' instead of a number."""

from __future__ import annotations

import pytest
from conftest import control
from mlbox_cli import pricing

ALIYUN_KEYS = {"ALICLOUD_ACCESS_KEY": "LTAI-test", "ALICLOUD_SECRET_KEY": "secret-test"}
AWS_KEYS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@pytest.fixture
def aliyun(aliyun_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(pricing.ALIYUN_ENDPOINT_ENV, aliyun_url)
    control(aliyun_url, "POST", "/_mlbox/reset")
    return aliyun_url


@pytest.fixture
def aws(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    control(moto_url, "DELETE", "/_mlbox/pricing")
    return moto_url


@pytest.fixture
def azure(azure_prices_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(pricing.AZURE_PRICES_ENV, azure_prices_url + "/api/retail/prices")
    control(azure_prices_url, "DELETE", "/_mlbox/refuse")
    control(azure_prices_url, "DELETE", "/_mlbox/page")
    return azure_prices_url


def test_local_is_free() -> None:
    quote = pricing.quote("local", None, None, 20, {})
    assert quote.lines() == ["price: free (local: this machine's podman, nothing is billed)"]


def test_aliyun_prices_come_from_describe_price_and_the_spot_history(aliyun: str) -> None:
    quote = pricing.quote("aliyun", "cn-hangzhou", "ecs.gn6i-c4g1.xlarge", 40, ALIYUN_KEYS)
    # The double's book: 8.9 CNY/h pay-as-you-go; spot the cheapest zone's latest (x0.2);
    # cloud_essd 1 CNY per GiB-month.
    assert (quote.on_demand.amount, quote.on_demand.currency) == (8.9, "CNY")
    assert quote.spot.amount == pytest.approx(1.78)
    assert quote.disk.amount == pytest.approx(40.0) and quote.disk.unit == "month"
    assert not quote.snapshot.known and "no snapshot price" in quote.snapshot.missing
    journal = control(aliyun, "GET", "/_mlbox/requests")
    assert {e["action"] for e in journal} == {"DescribeSpotPriceHistory", "DescribePrice"}
    assert all(e["status"] == 200 for e in journal), journal
    disk = next(e for e in journal if e["params"].get("ResourceType") == "disk")
    assert disk["params"]["DataDisk.1.Category"] == "cloud_essd"
    assert disk["params"]["DataDisk.1.Size"] == "40"


def test_aliyun_zone_asked_prices_that_zone(aliyun: str) -> None:
    quote = pricing.quote("aliyun", "cn-hangzhou", "ecs.g7.large", 20, ALIYUN_KEYS, "cn-hangzhou-h")
    assert quote.spot.amount == pytest.approx(0.207)  # cn-hangzhou-h: the 0.3 factor


def test_aliyun_refused_says_unavailable_with_the_code(aliyun: str) -> None:
    control(
        aliyun, "POST", "/_mlbox/faults", [{"action": "DescribePrice", "code": "Forbidden.RAM"}]
    )
    control(
        aliyun,
        "POST",
        "/_mlbox/faults",
        [{"action": "DescribeSpotPriceHistory", "code": "Forbidden.RAM"}],
    )
    quote = pricing.quote("aliyun", "cn-hangzhou", "ecs.g7.large", 20, ALIYUN_KEYS)
    assert quote.spot.text() == "unavailable (Forbidden.RAM for ecs:DescribeSpotPriceHistory)"
    assert quote.on_demand.amount is None
    text = "\n".join(quote.lines())
    assert "Forbidden.RAM for ecs:DescribePrice" in text


def test_aliyun_without_keys_says_so() -> None:
    quote = pricing.quote("aliyun", "cn-hangzhou", "ecs.g7.large", 20, {})
    assert quote.on_demand.text() == "unavailable (no Aliyun access key in the environment)"


def test_aliyun_stock_by_zone(aliyun: str) -> None:
    ecs = pricing.aliyun_client("cn-beijing", ALIYUN_KEYS)
    stock = pricing.aliyun_stock(ecs, "ecs.gn6i-c4g1.xlarge", spot=True)
    assert stock == {"cn-beijing-g": "WithStock", "cn-beijing-h": "WithoutStock"}


def test_aws_spot_from_ec2_and_on_demand_disk_snapshot_from_the_price_list(aws: str) -> None:
    quote = pricing.quote("aws", "us-east-1", "t3.large", 20, AWS_KEYS)
    assert quote.spot.known and quote.spot.unit == "hour"  # moto's own spot history
    assert quote.on_demand.amount == pytest.approx(0.0832)  # not the 0.0 Reservation row
    assert quote.disk.amount == pytest.approx(0.08 * 20)
    assert quote.snapshot.amount == pytest.approx(0.05)  # not the archive tier


def test_aws_price_list_refused_is_unavailable(aws: str) -> None:
    control(aws, "POST", "/_mlbox/pricing", {"refuse": "AccessDeniedException"})
    quote = pricing.quote("aws", "eu-west-1", "t3.large", 20, AWS_KEYS)
    assert quote.spot.known  # EC2 still answers
    assert quote.on_demand.text() == ("unavailable (AccessDeniedException for pricing:GetProducts)")
    assert not quote.disk.known and not quote.snapshot.known


def test_aws_price_list_double_holds_to_the_botocore_model(aws: str) -> None:
    import boto3
    from botocore.exceptions import ClientError

    client = boto3.client(
        "pricing",
        region_name="us-east-1",
        **{"aws_access_key_id": "testing", "aws_secret_access_key": "testing"},
    )
    with pytest.raises(ClientError) as refused:
        client.get_products(
            ServiceCode="AmazonEC2", Filters=[{"Type": "FUZZY", "Field": "a", "Value": "b"}]
        )
    assert refused.value.response["Error"]["Code"] == "InvalidParameterException"
    page = client.get_products(ServiceCode="AmazonEC2", MaxResults=2)
    assert len(page["PriceList"]) == 2 and page["NextToken"]


def test_azure_prices_from_the_retail_api_linux_only(azure: str) -> None:
    quote = pricing.quote("azure", "eastus", "Standard_NC4as_T4_v3", 20, {})
    assert quote.on_demand.amount == pytest.approx(0.526)  # not Windows, not a reservation
    assert quote.spot.amount == pytest.approx(0.1052)  # Linux spot, not low priority
    assert quote.disk.amount == pytest.approx(2.4)  # 20 GB -> an E4 (32 GiB) disk
    assert quote.snapshot.amount == pytest.approx(0.05)  # LRS, not ZRS


def test_azure_follows_next_page_link(azure: str) -> None:
    control(azure, "POST", "/_mlbox/page", {"size": 1})
    quote = pricing.quote("azure", "westeurope", "Standard_D2s_v3", 100, {})
    assert quote.on_demand.amount == pytest.approx(0.096 * 1.12)
    assert quote.disk.amount == pytest.approx(9.6 * 1.12)  # 100 GB -> E10


def test_azure_api_down_is_unavailable(azure: str) -> None:
    control(azure, "POST", "/_mlbox/refuse", {"status": 503})
    quote = pricing.quote("azure", "eastus", "Standard_D2s_v3", 20, {})
    for price in (quote.spot, quote.on_demand, quote.disk, quote.snapshot):
        assert price.text() == "unavailable (HTTP 503 from the Retail Prices API)"


def test_price_table_aliyun_cheapest_first_with_stock(
    aliyun: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from mlbox_cli import price

    for name, value in ALIYUN_KEYS.items():
        monkeypatch.setenv(name, value)
    out = io.StringIO()
    code = price.main(["--cloud", "aliyun", "--instance-type", "ecs.gn6i-c4g1.xlarge"], out)
    assert code == 0
    lines = out.getvalue().splitlines()
    assert lines[0] == "aliyun ecs.gn6i-c4g1.xlarge, cheapest spot first (Linux):"
    assert lines[1].split() == ["region", "zone", "spot", "/hour", "on-demand", "/hour", "stock"]
    rows = [line.split() for line in lines[2:]]
    # Every zone of every region DescribeRegions lists, spot ascending.
    assert len(rows) == 9
    spots = [float(r[2]) for r in rows]
    assert spots == sorted(spots) and spots[0] == pytest.approx(1.78)
    by_zone = {r[1]: r for r in rows}
    assert by_zone["cn-beijing-h"][-1] == "WithoutStock"
    assert by_zone["cn-hangzhou-h"][4:6] == ["8.9", "CNY/hour"]


def test_price_table_says_why_a_region_has_no_price(
    aliyun: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from mlbox_cli import price

    for name, value in ALIYUN_KEYS.items():
        monkeypatch.setenv(name, value)
    control(
        aliyun,
        "POST",
        "/_mlbox/faults",
        [
            {
                "action": "DescribeSpotPriceHistory",
                "code": "Forbidden.RAM",
                "match": {"RegionId": "cn-beijing"},
            }
        ],
    )
    out = io.StringIO()
    assert (
        price.main(
            [
                "--cloud",
                "aliyun",
                "--instance-type",
                "ecs.g7.large",
                "--region",
                "cn-beijing",
                "--region",
                "cn-shanghai",
            ],
            out,
        )
        == 0
    )
    text = out.getvalue()
    assert "unavailable (Forbidden.RAM for ecs:DescribeSpotPriceHistory)" in text
    last = text.splitlines()[-1]
    assert last.startswith("cn-beijing")  # no spot price: after every priced row


def test_price_table_aws_and_azure(aws: str, azure: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from mlbox_cli import price

    for name, value in AWS_KEYS.items():
        monkeypatch.setenv(name, value)
    out = io.StringIO()
    assert (
        price.main(["--cloud", "aws", "--instance-type", "t3.large", "--region", "eu-west-1"], out)
        == 0
    )
    rows = out.getvalue().splitlines()[2:]
    assert rows and all(r.startswith("eu-west-1") and "0.0915 USD/hour" in r for r in rows)
    out = io.StringIO()
    assert price.main(["--cloud", "azure", "--instance-type", "Standard_D2s_v3"], out) == 0
    rows = [r.split() for r in out.getvalue().splitlines()[2:]]
    assert [r[0] for r in rows] == ["eastus", "westeurope"]
    assert rows[0][2:4] == ["0.0192", "USD/hour"]


def test_azure_double_refuses_a_filter_it_cannot_parse(azure: str) -> None:
    import urllib.error
    import urllib.parse
    import urllib.request

    query = urllib.parse.urlencode({"$filter": "serviceName ne 'Storage'"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{azure}/api/retail/prices?{query}", timeout=10)
    assert refused.value.code == 400
