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


def test_other_launch_errors_do_not_fall_back(moto: Moto, workbench: Workbench) -> None:
    moto.inject(spot="Unsupported")
    run = workbench.up()
    assert run.rc != 0
    assert "Unsupported" in run.failure(), run.failure()
    assert len(run_instances(moto)) == 1
    assert live_instances(moto) == []


def test_on_demand_when_spot_is_off(moto: Moto, workbench: Workbench) -> None:
    run = workbench.up(workbench_spot=False)
    assert run.rc == 0, run.explain()
    assert run.fact("workbench_instance")["spot"] is False
    launches = run_instances(moto)
    assert len(launches) == 1
    assert "LaunchTemplate.LaunchTemplateName" not in launches[0]
    assert "CreateLaunchTemplate" not in moto.actions()
