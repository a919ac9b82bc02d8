"""The provider contract's plan, on recorded lookups: every decision and every refusal,
before anything exists."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from ansible_collections.mlbox.workbench.plugins.module_utils.workbench_contract import (
    Attachment,
    Disk,
    Instance,
    LiveInstance,
    Lookups,
    PlanError,
    PlanInputs,
    Snapshot,
    plan,
)

ZONES = ["us-east-1a", "us-east-1b", "us-east-1c"]


def inputs(**changes: Any) -> PlanInputs:
    base = PlanInputs(
        cloud="aws",
        name="wb",
        region="us-east-1",
        instance_type="t3.large",
        max_disk_size_gb=65536,
        disk_kind="gp3 volume",
        data_device="/dev/sdf",
        network_var="workbench_aws_subnet_id",
        tag="mlbox:workbench",
        snapshot_scope="only completed snapshots tagged mlbox:workbench=wb count",
    )
    return dataclasses.replace(base, **changes)


def lookups(**changes: Any) -> Lookups:
    base = Lookups(type_zones=list(ZONES), type_usage=["on-demand", "spot"], network_zones=ZONES)
    return dataclasses.replace(base, **changes)


def disk(id_: str = "vol-1", zone: str = "us-east-1b", **changes: Any) -> Disk:
    base = Disk(
        id=id_, name="wb-data", size_gb=30, created="2026-01-01T00:00:00Z",
        status="available", zone=zone, owner="wb",
    )  # fmt: skip
    return dataclasses.replace(base, **changes)


def snap(id_: str, created: str, status: str = "completed", size: int = 50) -> Snapshot:
    return Snapshot(id=id_, name=id_, size_gb=size, created=created, status=status, disk_id="vol-1")


def refused(given: PlanInputs, found: Lookups, *words: str) -> str:
    with pytest.raises(PlanError) as caught:
        plan(given, found)
    message = str(caught.value)
    for word in words:
        assert word in message, message
    return message


# --- a fresh workbench ----------------------------------------------------------------------


def test_a_fresh_workbench_creates_an_instance_and_a_disk_in_the_first_zone() -> None:
    result = plan(inputs(), lookups())
    assert result.to_dict() == {
        "zone": "us-east-1a",
        "instance_id": "",
        "disk_action": "create",
        "disk_id": "",
        "disk_size_gb": 20,
        "snapshot": {},
        "creates": ["instance", "data disk"],
    }


def test_workbench_zone_is_taken_when_the_type_and_network_offer_it() -> None:
    assert plan(inputs(zone="us-east-1c"), lookups()).zone == "us-east-1c"


def test_the_zone_is_where_type_and_network_meet() -> None:
    found = lookups(type_zones=["us-east-1b", "us-east-1c"], network_zones=["us-east-1c"])
    assert plan(inputs(), found).zone == "us-east-1c"


def test_no_network_constraint_leaves_the_type_zones() -> None:
    assert plan(inputs(), lookups(network_zones=None, type_zones=["z-2", "z-1"])).zone == "z-1"


def test_a_given_subnet_pins_its_zone() -> None:
    found = lookups(network_zone="us-east-1b", network_zones=["us-east-1b"])
    assert plan(inputs(network_id="subnet-1"), found).zone == "us-east-1b"


# --- instance type --------------------------------------------------------------------------


def test_unknown_instance_type_lists_the_family() -> None:
    refused(
        inputs(instance_type="t3.gigantic"),
        lookups(type_zones=None, type_suggestions=["t3.large", "t3.micro"]),
        "t3.gigantic", "workbench_instance_type", "t3.large, t3.micro", "us-east-1",
    )  # fmt: skip


def test_a_type_in_no_zone_is_refused_as_not_offered() -> None:
    refused(inputs(), lookups(type_zones=[]), "not offered", "none")


def test_spot_asked_for_a_type_not_sold_as_spot() -> None:
    refused(inputs(), lookups(type_usage=["on-demand"]), "not sold as spot", "workbench_spot=false")


def test_on_demand_does_not_need_spot() -> None:
    assert plan(inputs(spot=False), lookups(type_usage=["on-demand"])).zone == "us-east-1a"


def test_no_zone_offers_the_type_with_the_network() -> None:
    refused(
        inputs(),
        lookups(type_zones=["us-east-1d"]),
        "No zone offers t3.large with a default network", "us-east-1d",
    )  # fmt: skip


def test_no_zone_names_the_given_subnet() -> None:
    refused(
        inputs(network_id="subnet-9"),
        lookups(network_zone="us-east-1a", network_zones=["us-east-1a"], type_zones=["us-east-1b"]),
        "No zone us-east-1a offers", "workbench_aws_subnet_id subnet-9",
    )  # fmt: skip


def test_workbench_zone_that_does_not_offer_the_type() -> None:
    refused(inputs(zone="us-east-1d"), lookups(), "No zone us-east-1d", "us-east-1a, us-east-1b")


# --- inputs -----------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 65537])
def test_disk_size_out_of_the_cloud_range(size: int) -> None:
    refused(inputs(disk_size_gb=size), lookups(), "workbench_disk_size_gb", "65536", "gp3 volume")


def test_unknown_disk_source() -> None:
    refused(inputs(disk_source="borrowed"), lookups(), "workbench_disk_source", "borrowed")


def test_existing_without_an_id_names_the_listing() -> None:
    refused(
        inputs(disk_source="existing"), lookups(),
        "workbench_disk_id", "playbooks/disks.yml -e cloud=aws -e workbench_name=wb",
    )  # fmt: skip


# --- reuse ----------------------------------------------------------------------------------


def test_a_rerun_reuses_the_instance_and_its_bound_disk_whatever_the_source_says() -> None:
    found = lookups(
        instances=[LiveInstance("i-1", "us-east-1b")],
        bound_disks=[disk("vol-7")],
    )
    result = plan(inputs(disk_source="snapshot"), found)
    assert (result.zone, result.instance_id, result.disk_action, result.disk_id) == (
        "us-east-1b", "i-1", "reuse", "vol-7",
    )  # fmt: skip
    assert result.creates == ()
    assert result.snapshot is None


def test_an_instance_without_its_disk_gets_a_new_one_in_its_zone() -> None:
    result = plan(inputs(), lookups(instances=[LiveInstance("i-1", "us-east-1c")]))
    assert (result.zone, result.disk_action, result.creates) == (
        "us-east-1c", "create", ("data disk",),
    )  # fmt: skip


def test_two_instances_are_refused() -> None:
    found = lookups(
        instances=[LiveInstance("i-1", "us-east-1a"), LiveInstance("i-2", "us-east-1a")]
    )
    refused(inputs(), found, "has 2 instances", "i-1, i-2", "teardown.yml")


def test_instance_in_one_zone_and_workbench_zone_another() -> None:
    found = lookups(instances=[LiveInstance("i-1", "us-east-1a")])
    refused(inputs(zone="us-east-1b"), found, "different zones", "us-east-1a, us-east-1b")


# --- existing disk --------------------------------------------------------------------------


def existing(**changes: Any) -> Lookups:
    return lookups(existing_disk=disk(**changes), disks=[disk()])


def test_an_existing_disk_pins_its_zone_and_is_attached() -> None:
    result = plan(inputs(disk_source="existing", disk_id="vol-1"), existing())
    assert (result.zone, result.disk_action, result.disk_id, result.disk_size_gb) == (
        "us-east-1b", "attach", "vol-1", 30,
    )  # fmt: skip
    assert result.creates == ("instance",)


def test_unknown_existing_disk_lists_the_workbench_disks() -> None:
    refused(
        inputs(disk_source="existing", disk_id="vol-9"), lookups(disks=[disk()]),
        "Disk 'vol-9'", "no such gp3 volume there", "data disks: vol-1",
    )  # fmt: skip


def test_existing_disk_of_another_owner() -> None:
    refused(
        inputs(disk_source="existing", disk_id="vol-1"), existing(owner="other"),
        "not tagged mlbox:workbench=wb",
    )  # fmt: skip


def test_existing_disk_that_is_being_deleted() -> None:
    refused(
        inputs(disk_source="existing", disk_id="vol-1"),
        existing(status="deleting"),
        "it is deleting",
    )


def test_existing_disk_attached_to_another_instance() -> None:
    found = existing(status="in-use", attachments=(Attachment("i-9", "/dev/sdg"),))
    refused(inputs(disk_source="existing", disk_id="vol-1"), found, "attached to i-9", "detach it")


def test_existing_disk_that_is_the_instance_root_volume() -> None:
    found = dataclasses.replace(
        existing(status="in-use", attachments=(Attachment("i-1", "/dev/sda1"),)),
        instances=[LiveInstance("i-1", "us-east-1b")],
    )
    refused(inputs(disk_source="existing", disk_id="vol-1"), found, "root volume")


def test_existing_disk_already_attached_to_the_running_instance_is_reused() -> None:
    attached = disk(status="in-use", attachments=(Attachment("i-1", "/dev/sdf"),))
    found = lookups(
        existing_disk=attached,
        bound_disks=[attached],
        instances=[LiveInstance("i-1", "us-east-1b")],
    )
    result = plan(inputs(disk_source="existing", disk_id="vol-1"), found)
    assert (result.disk_action, result.disk_id, result.creates) == ("reuse", "vol-1", ())


def test_existing_disk_while_the_instance_uses_another() -> None:
    found = dataclasses.replace(
        existing(),
        instances=[LiveInstance("i-1", "us-east-1b")],
        bound_disks=[disk("vol-2", status="in-use")],
    )
    refused(inputs(disk_source="existing", disk_id="vol-1"), found, "running instance uses vol-2")


def test_existing_disk_in_another_zone_than_the_subnet() -> None:
    found = dataclasses.replace(existing(), network_zone="us-east-1a")
    refused(
        inputs(disk_source="existing", disk_id="vol-1", network_id="subnet-1"), found,
        "different zones (us-east-1a, us-east-1b)", "restore a snapshot",
    )  # fmt: skip


def test_existing_disk_in_a_zone_without_the_type() -> None:
    found = dataclasses.replace(existing(), type_zones=["us-east-1a"])
    refused(inputs(disk_source="existing", disk_id="vol-1"), found, "No zone us-east-1b")


# --- snapshots ------------------------------------------------------------------------------


SNAPS = [
    snap("snap-old", "2026-01-01T00:00:00Z", size=10),
    snap("snap-new", "2026-02-01T00:00:00.1234567+00:00", size=50),
    snap("snap-running", "2026-03-01T00:00:00Z", status="pending"),
]


def test_latest_completed_snapshot_is_restored_at_least_its_size() -> None:
    result = plan(inputs(disk_source="snapshot"), lookups(snapshots=SNAPS))
    assert (result.disk_action, result.snapshot and result.snapshot.id) == ("restore", "snap-new")
    assert result.disk_size_gb == 50
    assert result.to_dict()["snapshot"]["id"] == "snap-new"


def test_a_bigger_size_than_the_snapshot_wins() -> None:
    result = plan(inputs(disk_source="snapshot", disk_size_gb=80), lookups(snapshots=SNAPS))
    assert result.disk_size_gb == 80


def test_snapshot_by_name() -> None:
    result = plan(
        inputs(disk_source="snapshot", snapshot_choice="snap-old"), lookups(snapshots=SNAPS)
    )
    assert result.snapshot is not None and result.snapshot.id == "snap-old"


def test_unknown_snapshot_names_the_scope() -> None:
    refused(
        inputs(disk_source="snapshot", snapshot_choice="snap-0123"), lookups(snapshots=SNAPS),
        "snap-0123", "not found", "workbench_snapshot_id", "tagged mlbox:workbench=wb",
    )  # fmt: skip


def test_no_completed_snapshot() -> None:
    refused(inputs(disk_source="snapshot"), lookups(snapshots=SNAPS[2:]), "no completed snapshot")


def test_a_pending_snapshot_is_refused() -> None:
    refused(
        inputs(disk_source="snapshot", snapshot_choice="snap-running"), lookups(snapshots=SNAPS),
        "pending", "not completed",
    )  # fmt: skip


def test_snapshot_none_is_refused() -> None:
    refused(
        inputs(disk_source="snapshot", snapshot_choice="none"),
        lookups(),
        "workbench_disk_source=new",
    )


# --- shapes ---------------------------------------------------------------------------------


def test_disk_and_snapshot_dicts_are_the_contract_shape() -> None:
    attached = disk(attachments=(Attachment("i-1", "/dev/sdf"),))
    assert attached.to_dict() == {
        "id": "vol-1", "name": "wb-data", "size_gb": 30, "created": "2026-01-01T00:00:00Z",
        "status": "available", "zone": "us-east-1b", "attached_to": "i-1",
    }  # fmt: skip
    assert Disk(id="vol-2").to_dict()["name"] == "vol-2"
    assert Snapshot.from_dict(SNAPS[0].to_dict()) == SNAPS[0]


INSTANCE = {
    "cloud": "aws", "id": "i-1", "name": "wb", "public_ip": "198.51.100.7", "ssh_user": "ubuntu",
    "ssh_port": "22", "ssh_key_path": "/k/id", "notebook_port": "8888", "disk_id": "vol-1",
    "disk_device_hint": {"volume_id": "vol-1", "serial": ""}, "spot": "True",
    "region": "us-east-1", "zone": "us-east-1a", "resource_group": "rg",
}  # fmt: skip


def test_instance_shape_is_typed_and_keeps_what_a_cloud_adds() -> None:
    out = Instance.from_dict(INSTANCE).to_dict()
    assert out["ssh_port"] == 22 and out["notebook_port"] == 8888 and out["spot"] is True
    assert out["disk_device_hint"] == {"volume_id": "vol-1"}
    assert out["resource_group"] == "rg"
    assert Instance.from_dict({**INSTANCE, "spot": "False"}).spot is False


@pytest.mark.parametrize(
    ("change", "word"),
    [
        ({"id": ""}, "lacks id"),
        ({"ssh_user": None}, "lacks ssh_user"),
        ({"disk_device_hint": {"device": ""}}, "disk_device_hint"),
        ({"ssh_port": "twenty-two"}, "wrong type"),
    ],
)
def test_instance_shape_refuses_what_configure_could_not_use(change: dict, word: str) -> None:
    with pytest.raises(PlanError, match=word):
        Instance.from_dict({**INSTANCE, **change})
