"""Spot first; pay-as-you-go (NoSpot) only when the spot market refuses and fallback is on.

The spot parameters of a normal launch (SpotAsPriceGo, SpotWithPriceLimit + SpotPriceLimit)
are asserted in the lifecycle test; these are the refusals.
"""

from __future__ import annotations

import pytest
from aliyun_helpers import Double, Workbench, tags_of

pytestmark = pytest.mark.aliyun

NO_STOCK = {
    "action": "RunInstances",
    "code": "OperationDenied.NoStock",
    "message": "The resource is out of stock in the specified zone.",
    "match": {"SpotStrategy": "SpotAsPriceGo"},
    "times": -1,
}


def test_no_spot_stock_fails_without_fallback_and_falls_back_with_it(
    double: Double, workbench: Workbench
) -> None:
    double.inject(NO_STOCK)

    # 1. Without the fallback: a clear failure naming the variable, nothing billable left.
    refused = workbench.up(workbench_spot_fallback=False)
    assert refused.rc != 0
    message = refused.failure()
    assert "OperationDenied.NoStock" in message, message
    assert "workbench_spot_fallback" in message, message
    assert len(double.calls("RunInstances")) == 1
    assert double.state()["inst"] == {}
    assert double.tagged("disk", workbench.name) == []
    assert "CreateDisk" not in double.actions()

    # 2. The same with the fallback (the default): spot is asked for and refused, then the
    #    same launch without spot; the network made by the first run is reused.
    double.forget_requests()
    run = workbench.up()
    assert run.rc == 0, run.explain()
    facts = run.fact("workbench_instance")
    assert facts["spot"] is False
    launches = [c for c in double.requests() if c["action"] == "RunInstances"]
    assert [(c["params"]["SpotStrategy"], c["code"]) for c in launches] == [
        ("SpotAsPriceGo", "OperationDenied.NoStock"),
        ("NoSpot", ""),
    ]
    first, second = (c["params"] for c in launches)
    for key in ("InstanceType", "ImageId", "VSwitchId", "SecurityGroupId", "KeyPairName"):
        assert first[key] == second[key], key
    assert not {"CreateVpc", "CreateVSwitch", "CreateSecurityGroup"} & set(double.actions())

    [instance] = double.tagged("inst", workbench.name)
    assert instance["InstanceId"] == facts["id"]
    assert instance["SpotStrategy"] == "NoSpot"
    assert tags_of(instance)["mlbox:market"] == "NoSpot"
    # The rest of up went on as usual: the data disk is attached.
    assert double.state()["disk"][facts["disk_id"]]["InstanceId"] == facts["id"]


def test_other_refusals_fall_back_or_name_the_fix(double: Double, workbench: Workbench) -> None:
    """ResourceNotAvailable (a stock refusal) falls back like NoStock; a vCPU quota refusal of
    every launch fails naming the Quota Center, with no instance or disk left behind"""
    double.inject(
        {
            "action": "RunInstances",
            "code": "QuotaExceed.ElasticQuota",
            "match": {"SpotStrategy": "SpotAsPriceGo"},
        }
    )
    refused = workbench.up()
    assert refused.rc != 0
    message = refused.failure()
    assert "QuotaExceed.ElasticQuota" in message and "Quota Center" in message, message
    assert double.state()["inst"] == {} and double.tagged("disk", workbench.name) == []
    assert len(double.calls("RunInstances")) == 1  # a quota is no reason to try NoSpot

    double.clear_faults()
    double.inject({**NO_STOCK, "code": "ResourceNotAvailable", "message": ""})
    double.forget_requests()
    run = workbench.up()
    assert run.rc == 0, run.explain()
    assert run.fact("workbench_instance")["spot"] is False
    launches = [c for c in double.requests() if c["action"] == "RunInstances"]
    assert [(c["params"]["SpotStrategy"], c["code"]) for c in launches] == [
        ("SpotAsPriceGo", "ResourceNotAvailable"),
        ("NoSpot", ""),
    ]
