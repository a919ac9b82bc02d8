"""Spot first; on-demand only when spot capacity is refused and the fallback is allowed."""

from __future__ import annotations

import pytest
from aws_helpers import Moto, Workbench

pytestmark = pytest.mark.aws


def run_instances(moto: Moto) -> list[dict[str, str]]:
    return [c["params"] for c in moto.requests() if c["action"] == "RunInstances"]


def live_instances(moto: Moto) -> list[dict]:
    return [
        i
        for r in moto.ec2.describe_instances()["Reservations"]
        for i in r["Instances"]
        if i["State"]["Name"] != "terminated"
    ]


# Two of the refusals of spot alone (tests/unit/roles/test_cloud_aws_run_instance.py covers
# every code of the catalogue): a server error (HTTP 500) and a spot quota.
@pytest.mark.parametrize("code", ["InsufficientInstanceCapacity", "MaxSpotInstanceCountExceeded"])
def test_on_demand_fallback_when_spot_is_refused(
    moto: Moto, workbench: Workbench, code: str
) -> None:
    moto.inject(spot=code)
    run = workbench.up()
    assert run.rc == 0, run.explain()
    facts = run.fact("workbench_instance")
    assert facts["spot"] is False

    # Spot was asked for first (through the launch template), then the same launch without it.
    launches = run_instances(moto)
    assert len(launches) == 2, launches
    assert launches[0].get("LaunchTemplate.LaunchTemplateName") == f"workbench-{workbench.name}"
    assert "LaunchTemplate.LaunchTemplateName" not in launches[1]
    assert launches[0]["InstanceType"] == launches[1]["InstanceType"]
    assert launches[0]["ImageId"] == launches[1]["ImageId"]

    instances = live_instances(moto)
    assert [i["InstanceId"] for i in instances] == [facts["id"]]
    assert instances[0].get("InstanceLifecycle") != "spot"
    assert {"Key": "mlbox:market", "Value": "on-demand"} in instances[0]["Tags"]

    down = workbench.down(workbench_delete_disk=True)
    assert down.rc == 0, down.explain()
    assert live_instances(moto) == []


def test_spot_refusal_fails_clearly_without_fallback(moto: Moto, workbench: Workbench) -> None:
    moto.inject(spot="InsufficientInstanceCapacity")
    run = workbench.up(workbench_spot_fallback=False)
    assert run.rc != 0
    message = run.failure()
    assert "InsufficientInstanceCapacity" in message, message
    assert "workbench_spot_fallback" in message, message
    assert len(run_instances(moto)) == 1
    assert live_instances(moto) == []
    # Nothing billable was made; teardown removes the group, key and template it left.
    flt = [{"Name": "tag:mlbox:workbench", "Values": [workbench.name]}]
    assert moto.ec2.describe_volumes(Filters=flt)["Volumes"] == []
    down = workbench.down()
    assert down.rc == 0, down.explain()
    assert moto.ec2.describe_security_groups(Filters=flt)["SecurityGroups"] == []
    assert moto.ec2.describe_key_pairs(Filters=flt)["KeyPairs"] == []
    assert moto.ec2.describe_launch_templates(Filters=flt)["LaunchTemplates"] == []


def assert_nothing_launched(moto: Moto, name: str) -> None:
    assert live_instances(moto) == []
    flt = [{"Name": "tag:mlbox:workbench", "Values": [name]}]
    assert moto.ec2.describe_volumes(Filters=flt)["Volumes"] == []


def test_refusals_that_another_market_cannot_help_stop_with_the_fix(
    moto: Moto, workbench: Workbench
) -> None:
    """An instance type the zone does not take: no on-demand fallback, the zones named."""
    moto.inject(spot="Unsupported")
    run = workbench.up()
    assert run.rc != 0
    message = run.failure()
    assert "Unsupported" in message and "workbench_zone" in message, message
    assert "us-east-1b" in message, message  # EC2's message names the zones that take it
    assert len(run_instances(moto)) == 1
    assert_nothing_launched(moto, workbench.name)

    # Spot refused, then the on-demand quota: the fallback stops, naming the quota.
    moto.forget_requests()
    moto.inject(spot="InsufficientInstanceCapacity", on_demand="VcpuLimitExceeded")
    run = workbench.up()
    assert run.rc != 0
    message = run.failure()
    assert "InsufficientInstanceCapacity" in message and "VcpuLimitExceeded" in message
    assert "quota" in message and "workbench_instance_type" in message, message
    assert len(run_instances(moto)) == 2
    assert_nothing_launched(moto, workbench.name)


def test_on_demand_when_spot_is_off(moto: Moto, workbench: Workbench) -> None:
    run = workbench.up(workbench_spot=False)
    assert run.rc == 0, run.explain()
    assert run.fact("workbench_instance")["spot"] is False
    launches = run_instances(moto)
    assert len(launches) == 1
    assert "LaunchTemplate.LaunchTemplateName" not in launches[0]
    assert "CreateLaunchTemplate" not in moto.actions()
