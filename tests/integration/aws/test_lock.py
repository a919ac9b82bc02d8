"""Two provisions of one AWS workbench at once (playbooks/provision.yml against the moto
server): the second says at once who holds the workbench's lock, a third waits for it with
workbench_lock_wait; one volume and one instance result. The allowed address is given bare
and reaches the security group as /32."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from aws_helpers import ROOT, Moto, Workbench
from playbook_run import Run, run_playbook

pytestmark = pytest.mark.aws

PROVISION = ROOT / "playbooks" / "provision.yml"


def test_two_concurrent_provisions_make_one_volume_and_one_instance(
    moto: Moto, workbench: Workbench, tmp_path: Path
) -> None:
    env = dict(workbench.env, XDG_STATE_HOME=str(tmp_path / "state-home"))
    holder_file = tmp_path / "state-home" / "mlbox" / "locks" / f"aws-{workbench.name}.holder.json"
    variables = {**workbench.base_vars, "workbench_allowed_cidr": "203.0.113.7"}
    runs: dict[str, Run] = {}

    def provision(key: str, **extra: object) -> threading.Thread:
        def target() -> None:
            runs[key] = run_playbook(PROVISION, {**variables, **extra}, env)

        thread = threading.Thread(target=target)
        thread.start()
        return thread

    first = provision("first")
    deadline = time.monotonic() + 300
    while not holder_file.exists():
        assert first.is_alive() and time.monotonic() < deadline, runs
        time.sleep(0.05)
    held_by = json.loads(holder_file.read_text())
    waiting = provision("waiting", workbench_lock_wait=True)
    busy = run_playbook(PROVISION, variables, env)
    first.join(900)
    waiting.join(900)

    assert busy.rc != 0
    said = " ".join(busy.failure().split())
    assert f"Workbench '{workbench.name}' (cloud=aws) is busy" in said, said
    assert f"pid {held_by['pid']} (ansible-playbook -e" in said, said
    assert runs["first"].rc == 0, runs["first"].explain()
    assert runs["waiting"].rc == 0, runs["waiting"].explain()
    flt = [{"Name": "tag:mlbox:workbench", "Values": [workbench.name]}]
    # The data disks (the instance's root volume carries the workbench tag too).
    volumes = [
        v
        for v in moto.ec2.describe_volumes(Filters=flt)["Volumes"]
        if {t["Key"]: t["Value"] for t in v.get("Tags", [])}.get("mlbox:disk") == "data"
    ]
    instances = [
        i["InstanceId"]
        for r in moto.ec2.describe_instances(Filters=flt)["Reservations"]
        for i in r["Instances"]
        if i["State"]["Name"] != "terminated"
    ]
    assert len(volumes) == 1 and len(instances) == 1, (volumes, instances)
    groups = moto.ec2.describe_security_groups(Filters=flt)["SecurityGroups"]
    cidrs = {r["CidrIp"] for g in groups for p in g["IpPermissions"] for r in p["IpRanges"]}
    assert cidrs == {"203.0.113.7/32"}
