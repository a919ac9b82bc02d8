"""What each cloud's smoke test runs, what it costs, and how it cleans up after itself.

A smoke test is the one test that talks to a real account (and bills it): ``make smoke-aws``,
``make smoke-aliyun``, ``make smoke-azure``. Each runs the workbench's own playbooks with the
smallest instance we know to work and a 20 GB data disk: provision (new disk) -> teardown with
a snapshot, deleting the disk -> provision restoring that snapshot -> teardown, deleting the
disk; then, in a ``finally``, a teardown again and the deletion of whatever the workbench
left (its snapshots; Azure: its two resource groups), and a check that nothing tagged for it
remains. Nothing outside the smoke workbench's own, randomly named, resources is touched.

The estimate printed first is a list price times the time a run takes, from the providers'
published prices cited here (the live price lookup is issue 27's); where no published price
is cited, it says "unknown".
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
from mlbox_cli.credentials import KEYS, PROFILE_VARIABLES, keys_from_environment  # noqa: E402

# About how long the instance runs in a smoke test (two provisions, no configuration), and how
# long the disks and snapshot exist; generous, so the estimate is an upper bound.
INSTANCE_HOURS = 0.5
STORAGE_HOURS = 1.0
HOURS_PER_MONTH = 730


@dataclass(frozen=True)
class Price:
    usd: float
    unit: str  # "hour" or "GB-month"
    what: str
    source: str


@dataclass(frozen=True)
class Plan:
    cloud: str
    instance_type: str
    region: str
    # The variables of the playbook runs beyond the lifecycle's own.
    extra: dict[str, object] = field(default_factory=dict)
    instance_price: Price | None = None
    disk_prices: tuple[Price, ...] = ()
    disk_gb: int = 20
    root_gb: int = 30
    note: str = ""

    def chosen_type(self) -> str:
        return os.environ.get("MLBOX_SMOKE_INSTANCE_TYPE") or self.instance_type

    def chosen_region(self) -> str:
        return os.environ.get("MLBOX_SMOKE_REGION") or self.region

    def estimate(self) -> str:
        """The expected cost, as printed before anything is created."""
        lines = [
            f"Smoke test on a real {self.cloud} account: {self.chosen_type()} in "
            f"{self.chosen_region()}, a {self.disk_gb} GB data disk, one snapshot of it.",
            "Expected cost (an ESTIMATE from published list prices, not a live price lookup):",
        ]
        same = self.chosen_type() == self.instance_type and self.chosen_region() == self.region
        total = 0.0
        known = same and self.instance_price is not None
        if known and self.instance_price is not None:
            cost = self.instance_price.usd * INSTANCE_HOURS
            total += cost
            lines.append(
                f"  instance: ${self.instance_price.usd}/h on-demand ({self.instance_price.what};"
                f" spot is usually less) x {INSTANCE_HOURS} h = ${cost:.4f}"
                f"  [{self.instance_price.source}]"
            )
        else:
            lines.append(
                f"  instance: unknown (no published price cited here for {self.chosen_type()}"
                f" in {self.chosen_region()})"
            )
        for price in self.disk_prices if same else ():
            gb = self.root_gb + self.disk_gb if "volume" in price.what else self.disk_gb
            cost = price.usd * gb * STORAGE_HOURS / HOURS_PER_MONTH
            total += cost
            lines.append(
                f"  {price.what}: ${price.usd}/GB-month x {gb} GB x {STORAGE_HOURS} h = "
                f"${cost:.4f}  [{price.source}]"
            )
        if known:
            lines.append(f"  total: about ${total:.2f} (upper bound for a run of ~30 minutes)")
        else:
            lines.append("  total: unknown")
        if self.note:
            lines.append(f"  note: {self.note}")
        return "\n".join(lines)


AWS_PRICING = "https://aws.amazon.com/ec2/pricing/on-demand/"
EBS_PRICING = "https://aws.amazon.com/ebs/pricing/"
AZURE_PRICING = "https://azure.microsoft.com/pricing/details/virtual-machines/linux/"

PLANS: dict[str, Plan] = {
    "aws": Plan(
        cloud="aws",
        # The smallest current burstable type with the 1 GiB Ubuntu needs; offered as spot.
        instance_type="t3.micro",
        region="us-east-1",
        extra={"workbench_aws_root_size_gb": 30},
        instance_price=Price(0.0104, "hour", "t3.micro Linux, us-east-1", AWS_PRICING),
        disk_prices=(
            Price(0.08, "GB-month", "gp3 volumes (root + data), us-east-1", EBS_PRICING),
            Price(0.05, "GB-month", "standard snapshot storage, us-east-1", EBS_PRICING),
        ),
    ),
    "aliyun": Plan(
        cloud="aliyun",
        # Burstable, 2 vCPU / 1 GiB; set MLBOX_SMOKE_INSTANCE_TYPE if the region lacks it.
        instance_type="ecs.t6-c1m1.large",
        region="cn-hangzhou",
        root_gb=20,
        note="no published Aliyun price is cited here; see https://www.alibabacloud.com/"
        "product/ecs/pricing for the region's",
    ),
    "azure": Plan(
        cloud="azure",
        # The smallest general size (1 vCPU / 1 GiB).
        instance_type="Standard_B1s",
        region="eastus",
        instance_price=Price(0.0104, "hour", "B1s Linux pay-as-you-go, East US", AZURE_PRICING),
        note="managed disk and snapshot prices are not included (not cited here)",
    ),
}


def credentials_present(cloud: str) -> bool:
    """The cloud's keys, all of them, or a profile variable: in the environment only (a
    credentials file lying around never starts a billed run by itself)."""
    if len(keys_from_environment(cloud, os.environ)) == len(KEYS[cloud]):
        return True
    return any(os.environ.get(name) for name in PROFILE_VARIABLES.get(cloud, ()))


def skip_unless_asked(cloud: str) -> None:
    if os.environ.get("MLBOX_SMOKE") != cloud:
        pytest.skip(f"a smoke test bills a real account: run it with make smoke-{cloud}")
    if not credentials_present(cloud):
        pytest.skip(f"no {cloud} credentials in the environment")
