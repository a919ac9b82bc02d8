#!/usr/bin/env python
"""A moto server that answers EC2 the way the cloud_aws role needs, for integration tests.

Run: ``python tests/doubles/moto_server.py --host 127.0.0.1 --port 0``; it prints
``port=<n>`` on its first line once it listens. Point ``AWS_ENDPOINT_URL`` at it.

What it changes in moto (5.x), and why:

- DescribeVolumes: real EC2 always returns ``SnapshotId`` ("" when none) and
  ``MultiAttachEnabled``; moto leaves them out and ``amazon.aws.ec2_vol`` /
  ``ec2_vol_info`` fail with KeyError.
- RunInstances from a launch template: moto ignores the template's
  ``InstanceMarketOptions``, so an instance asked for as spot comes up on-demand. Here it
  comes up as spot (``InstanceLifecycle: spot``), as on EC2.
- CreateLaunchTemplate: moto copies the template's own tags (resource type launch-template)
  into its LaunchTemplateData, so the data read back differs from what was sent and
  ``amazon.aws.ec2_launch_template`` adds a new version on every run. Here they stay tags.
- moto never runs out of capacity nor quota. ``POST /_mlbox/faults`` with
  ``{"spot": "InsufficientInstanceCapacity"}`` makes every spot RunInstances fail with that
  EC2 error code, ``{"on-demand": "VcpuLimitExceeded"}`` every on-demand one, until
  ``DELETE /_mlbox/faults``. The codes, their HTTP status (InsufficientInstanceCapacity is a
  server error, 500) and message are the real ones, from ec2_contract.REFUSALS.
- moto's resources are ready at once; real ones settle. A new instance is ``pending``, a new
  volume ``creating``, a new attachment ``attaching`` and a new snapshot ``pending`` for
  ec2_contract.SETTLE_POLLS reads of their Describe call (``--settle-polls``, or
  ``POST /_mlbox/settle {"polls": n}`` or per kind ``{"snapshots": n}``; 1 is the first read,
  0 at once; ``DELETE`` restores the default), then ``running``,
  ``available``, ``attached``, ``completed``. Counted in reads, never in seconds.
  ``GET /_mlbox/settling`` says how many of each kind have not settled yet.
- ``{"snapshot": "error"}`` (or ``"pending"``) in the faults makes every new snapshot end in
  that state instead: failed, or stuck forever.
- The EBS rules of ec2_contract.RULES moto does not check: gp3 size, IOPS and throughput
  ranges, a restored volume at least the snapshot's size and from a completed snapshot, and
  AttachVolume only of an available volume to a running (or stopped) instance.
- ``GET /_mlbox/requests`` lists the EC2/STS calls received (``[{"action", "params"}]``),
  ``DELETE /_mlbox/requests`` forgets them: tests assert on what was asked, and that a run
  which had to stop early asked for nothing that creates.

- moto has no Price List API (service "pricing"): calls with ``X-Amz-Target:
  AWSPriceListService.*`` go to aws_pricing.py, checked against botocore's model;
  ``POST /_mlbox/pricing {"refuse": "AccessDeniedException"}`` refuses them (``DELETE``:
  answer again).

Everything else is plain moto, including ``POST /moto-api/reset``.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from moto.ec2.exceptions import EC2ClientError
from moto.ec2.models import elastic_block_store, instances, launch_templates
from moto.ec2.models.instances import InstanceState
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

sys.path.insert(0, str(Path(__file__).resolve().parent))
import aws_pricing
import ec2_contract

CONTROL_PREFIX = "/_mlbox/"
StartResponse = Callable[..., Any]


class Faults:
    """Errors to inject, shared between the control endpoint and the patched backend."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: dict[str, str] = {}

    def set(self, faults: dict[str, str]) -> None:
        unknown = {v for k, v in faults.items() if k in ("spot", "on-demand")} - set(
            ec2_contract.REFUSALS
        )
        if unknown:
            raise ValueError(f"no such refusal in ec2_contract.REFUSALS: {sorted(unknown)}")
        with self._lock:
            self._faults = dict(faults)

    def get(self, name: str) -> str | None:
        with self._lock:
            return self._faults.get(name)

    def snapshot(self) -> dict[str, str]:
        with self._lock:
            return dict(self._faults)


class Journal:
    """The AWS query-protocol calls the server received, in order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: list[dict[str, Any]] = []

    def add(self, params: dict[str, str]) -> None:
        action = params.get("Action")
        if not action:
            return
        with self._lock:
            self._calls.append({"action": action, "params": params})

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()

    def calls(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._calls)


class Settling:
    """Resources on their way to their settled state, counted down by reads.

    add() registers one with what to do once settled; every read (a Describe call of its kind,
    ec2_contract.SETTLE_READS) counts it down; the read that reaches zero settles it before
    moto answers, so with 3 polls the third read is the first to see it settled. The number
    of polls is one for every kind, or set per kind.
    """

    def __init__(self, polls: int) -> None:
        self._lock = threading.Lock()
        self.polls: dict[str, int] = dict.fromkeys(ec2_contract.SETTLE_READS, polls)
        self._pending: dict[str, list[list[Any]]] = {kind: [] for kind in ec2_contract.SETTLE_READS}

    def configure(self, polls: dict[str, int]) -> None:
        """{"polls": n} for every kind, and/or {"<kind>": n} for one."""
        unknown = set(polls) - {"polls", *self.polls}
        if unknown:
            raise ValueError(f"unknown kinds {sorted(unknown)}; known: {sorted(self.polls)}")
        with self._lock:
            if "polls" in polls:
                self.polls = dict.fromkeys(self.polls, int(polls["polls"]))
            self.polls.update({k: int(v) for k, v in polls.items() if k != "polls"})

    def add(self, kind: str, settle: Callable[[], None]) -> bool:
        """Register a resource; False (and nothing registered) when its kind settles at once."""
        with self._lock:
            if self.polls[kind] <= 0:
                return False
            self._pending[kind].append([self.polls[kind], settle])
        return True

    def read(self, action: str) -> None:
        due = []
        with self._lock:
            for kind, reads in ec2_contract.SETTLE_READS.items():
                if action not in reads:
                    continue
                for entry in self._pending[kind]:
                    entry[0] -= 1
                due += [entry[1] for entry in self._pending[kind] if entry[0] <= 0]
                self._pending[kind] = [entry for entry in self._pending[kind] if entry[0] > 0]
        for settle in due:
            settle()

    def pending(self) -> dict[str, int]:
        """How many resources of each kind have not settled yet (reading this settles none)."""
        with self._lock:
            return {kind: len(entries) for kind, entries in self._pending.items()}

    def clear(self) -> None:
        with self._lock:
            for kind in self._pending:
                self._pending[kind] = []


FAULTS = Faults()
JOURNAL = Journal()
SETTLING = Settling(ec2_contract.SETTLE_POLLS)
# Per request thread: the action being served (the patches act on API calls only, not on
# moto's own use of the same methods, e.g. the root volume RunInstances makes), and an HTTP
# status that replaces moto's 400 for a server error.
CURRENT = threading.local()


def current_action() -> str:
    return getattr(CURRENT, "action", "")


class ServerError(EC2ClientError):
    """An EC2 error that comes with a 500-series status (errors-overview: server errors)."""

    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(code, message)
        CURRENT.status = status


def refuse(rule: str, message: str) -> EC2ClientError:
    return EC2ClientError(ec2_contract.RULES[rule].code, message)


def patch_volumes() -> None:
    """SnapshotId / MultiAttachEnabled always present; creating until settled; EBS rules."""
    original_init = elastic_block_store.Volume.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        if self.snapshot_id is None:
            self.snapshot_id = ""
        if getattr(self, "multi_attach_enabled", None) is None:
            self.multi_attach_enabled = False

    elastic_block_store.Volume.__init__ = init  # type: ignore[method-assign]

    original_status = elastic_block_store.Volume.status

    def status(self: Any) -> str:
        return getattr(self, "mlbox_state", None) or original_status.fget(self)

    elastic_block_store.Volume.status = property(status)  # type: ignore[assignment,method-assign]

    original_create = elastic_block_store.EBSBackend.create_volume

    def create_volume(self: Any, size: Any, zone_name: str, *args: Any, **kwargs: Any) -> Any:
        if current_action() != "CreateVolume":
            return original_create(self, size, zone_name, *args, **kwargs)
        check_volume(self, size, *args, **kwargs)
        volume = original_create(self, size, zone_name, *args, **kwargs)
        volume.mlbox_state = "creating"

        def settle() -> None:
            volume.mlbox_state = None

        if not SETTLING.add("volumes", settle):
            volume.mlbox_state = None
        return volume

    elastic_block_store.EBSBackend.create_volume = create_volume  # type: ignore[method-assign]


def check_volume(
    backend: Any,
    size: Any,
    snapshot_id: str | None = None,
    encrypted: bool = False,
    kms_key_id: str | None = None,
    volume_type: str | None = None,
    iops: int | None = None,
    throughput: int | None = None,
    *args: Any,
    **kwargs: Any,
) -> None:
    """The CreateVolume rules of ec2_contract.RULES that moto does not check."""
    snapshot = backend.get_snapshot(snapshot_id) if snapshot_id else None
    if snapshot is not None and snapshot.status != "completed":
        raise refuse(
            "restore from a completed snapshot",
            f"Snapshot {snapshot_id} is in invalid state - {snapshot.status}",
        )
    if snapshot is not None and size is not None and int(size) < int(snapshot.volume.size):
        raise refuse(
            "restored size",
            f"Volume of {size}GiB is too small; minimum is {snapshot.volume.size}GiB.",
        )
    if (volume_type or "gp2") != "gp3":
        return
    low, high = ec2_contract.GP3_SIZE_GIB
    if size is not None and not low <= int(size) <= high:
        raise refuse("gp3 size", f"Volume of size {size}GiB is outside {low}-{high}GiB for gp3.")
    low, high = ec2_contract.GP3_IOPS
    if iops is not None and not low <= int(iops) <= high:
        raise refuse("gp3 iops", f"IOPS {iops} is outside {low}-{high} for gp3.")
    low, high = ec2_contract.GP3_THROUGHPUT_MIBS
    if throughput is not None and not low <= int(throughput) <= high:
        raise refuse(
            "gp3 throughput", f"Throughput {throughput} is outside {low}-{high} MiB/s for gp3."
        )


def patch_attachments() -> None:
    """AttachVolume: only an available volume, only to a running or stopped instance; the
    attachment is attaching until settled."""
    original = elastic_block_store.EBSBackend.attach_volume

    def attach_volume(
        self: Any, volume_id: str, instance_id: str, *args: Any, **kwargs: Any
    ) -> Any:
        if current_action() != "AttachVolume":
            return original(self, volume_id, instance_id, *args, **kwargs)
        volume = self.get_volume(volume_id)
        instance = self.get_instance(instance_id)
        if volume.status != "available":
            raise refuse(
                "attach an available volume",
                f"{volume_id} is not 'available'; it is {volume.status}.",
            )
        if instance.state not in ("running", "stopped"):
            raise refuse(
                "attach to a running or stopped instance",
                f"The instance '{instance_id}' is not 'running' or 'stopped'; it is "
                f"'{instance.state}'.",
            )
        attachment = original(self, volume_id, instance_id, *args, **kwargs)
        if attachment is not None:
            attachment.status = "attaching"

            def settle() -> None:
                if attachment.status == "attaching":
                    attachment.status = "attached"

            if not SETTLING.add("attachments", settle):
                attachment.status = "attached"
        return attachment

    elastic_block_store.EBSBackend.attach_volume = attach_volume  # type: ignore[method-assign]


def patch_launch_templates() -> None:
    original = launch_templates.LaunchTemplateBackend.create_launch_template

    def create_launch_template(
        self: Any, name: str, description: str, data: dict[str, Any], tag_spec: dict[str, Any]
    ) -> Any:
        specs = [
            spec
            for spec in data.get("TagSpecifications", [])
            if spec.get("ResourceType") != "launch-template"
        ]
        data = {k: v for k, v in data.items() if k != "TagSpecifications"}
        if specs:
            data["TagSpecifications"] = specs
        return original(self, name, description, data, tag_spec)

    launch_templates.LaunchTemplateBackend.create_launch_template = create_launch_template  # type: ignore[method-assign]


def template_market_type(backend: Any, launch_template: dict[str, Any]) -> str:
    if not launch_template:
        return ""
    version = backend._get_template_from_args(launch_template)
    options = version.data.get("InstanceMarketOptions") or {}
    return str(options.get("MarketType") or "")


def refusal(backend: Any, code: str, market: str, kwargs: dict[str, Any]) -> ServerError:
    """The error EC2 answers with for an injected refusal, its message filled in."""
    row = ec2_contract.REFUSALS[code]
    subnet_id = kwargs.get("subnet_id") or next(
        (n.get("SubnetId") for n in kwargs.get("nics") or [] if n.get("SubnetId")), ""
    )
    zone = kwargs.get("placement") or ""
    if subnet_id and not zone:
        zone = backend.get_subnet(subnet_id).availability_zone
    zones = sorted(z.name for z in backend.describe_availability_zones())
    message = row.message.format(
        type=kwargs.get("instance_type") or "m1.small",
        zone=zone,
        subnet=subnet_id,
        others=", ".join(z for z in zones if z != zone),
    )
    if row.status >= 500:
        return ServerError(code, message, row.status)
    return EC2ClientError(code, message)  # type: ignore[return-value]


def patch_run_instances() -> None:
    """Spot from the template; injected refusals; pending until settled."""
    original = instances.InstanceBackend.run_instances

    def run_instances(self: Any, image_id: str, count: int, *args: Any, **kwargs: Any) -> Any:
        market = kwargs.get("instance_market_options") or template_market_type(
            self, kwargs.get("launch_template") or {}
        )
        code = FAULTS.get("spot" if market == "spot" else "on-demand")
        if code:
            raise refusal(self, code, market, kwargs)
        if market == "spot":
            kwargs["instance_market_options"] = "spot"
        reservation = original(self, image_id, count, *args, **kwargs)
        for instance in reservation.instances:
            instance._state = InstanceState("pending", 0)

            def settle(instance: Any = instance) -> None:
                if instance._state.name == "pending":
                    instance._state = InstanceState("running", 16)

            if not SETTLING.add("instances", settle):
                settle()
        return reservation

    instances.InstanceBackend.run_instances = run_instances  # type: ignore[method-assign]


def patch_snapshots() -> None:
    """CreateSnapshot: pending until settled, then completed, or the state the faults ask for."""
    original = elastic_block_store.EBSBackend.create_snapshot

    def create_snapshot(self: Any, *args: Any, **kwargs: Any) -> Any:
        snapshot = original(self, *args, **kwargs)
        if current_action() != "CreateSnapshot":
            return snapshot
        final = FAULTS.get("snapshot") or "completed"
        snapshot.status = "pending"
        if final == "pending":
            return snapshot

        def settle() -> None:
            snapshot.status = final

        if not SETTLING.add("snapshots", settle):
            settle()
        return snapshot

    elastic_block_store.EBSBackend.create_snapshot = create_snapshot  # type: ignore[method-assign]


def read_body(environ: dict[str, Any]) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    # Give moto an unread copy of what was consumed here.
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    return body


def query_params(environ: dict[str, Any], body: bytes) -> dict[str, str]:
    params = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
    if "x-www-form-urlencoded" in environ.get("CONTENT_TYPE", ""):
        form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        params.update({k: v[-1] for k, v in form.items()})
    return params


def answer(start_response: StartResponse, status: str, payload: Any) -> Iterable[bytes]:
    body = json.dumps(payload).encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]


def control(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    path = environ.get("PATH_INFO", "")[len(CONTROL_PREFIX) :].strip("/")
    method = environ.get("REQUEST_METHOD", "GET")
    if path == "faults":
        if method == "POST":
            try:
                FAULTS.set(json.loads(read_body(environ) or b"{}"))
            except ValueError as exc:
                return answer(start_response, "400 Bad Request", {"error": str(exc)})
        elif method == "DELETE":
            FAULTS.set({})
        return answer(start_response, "200 OK", FAULTS.snapshot())
    if path == "settle":
        if method == "POST":
            try:
                SETTLING.configure(json.loads(read_body(environ) or b"{}"))
            except ValueError as exc:
                return answer(start_response, "400 Bad Request", {"error": str(exc)})
        elif method == "DELETE":
            SETTLING.configure({"polls": ec2_contract.SETTLE_POLLS})
        return answer(start_response, "200 OK", SETTLING.polls)
    if path == "settling":
        return answer(start_response, "200 OK", SETTLING.pending())
    if path == "pricing":  # {"refuse": "AccessDeniedException"} or {"refuse": null}
        if method == "POST":
            try:
                aws_pricing.PRICE_LIST.refuse(json.loads(read_body(environ) or b"{}").get("refuse"))
            except ValueError as exc:
                return answer(start_response, "400 Bad Request", {"error": str(exc)})
        elif method == "DELETE":
            aws_pricing.PRICE_LIST.refuse(None)
        return answer(start_response, "200 OK", {"refuse": aws_pricing.PRICE_LIST.refusal})
    if path == "requests":
        if method == "DELETE":
            JOURNAL.clear()
        return answer(start_response, "200 OK", JOURNAL.calls())
    return answer(start_response, "404 Not Found", {"error": f"unknown control path {path}"})


class Application:
    """moto's WSGI application behind the test controls, the request journal, the reads that
    settle resources and the HTTP status of server errors."""

    def __init__(self) -> None:
        self.moto = DomainDispatcherApplication(create_backend_app)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Any:
        path = environ.get("PATH_INFO", "")
        if path.startswith(CONTROL_PREFIX):
            return control(environ, start_response)
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith(aws_pricing.TARGET):
            return aws_pricing.wsgi(environ, start_response)  # moto has no Price List API
        if path.startswith("/moto-api/reset"):
            SETTLING.clear()
            aws_pricing.PRICE_LIST.refuse(None)
        action = ""
        if environ.get("REQUEST_METHOD") == "POST":
            params = query_params(environ, read_body(environ))
            JOURNAL.add(params)
            action = params.get("Action", "")
            SETTLING.read(action)
        CURRENT.action = action
        CURRENT.status = 0

        def respond(status: str, headers: list[Any], *rest: Any) -> Any:
            if CURRENT.status:
                status = f"{CURRENT.status} Internal Server Error"
            return start_response(status, headers, *rest)

        try:
            return self.moto(environ, respond)
        finally:
            CURRENT.action = ""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument(
        "--settle-polls",
        type=int,
        default=ec2_contract.SETTLE_POLLS,
        help="reads a new resource takes to settle (0: at once)",
    )
    args = parser.parse_args(argv)

    SETTLING.configure({"polls": args.settle_polls})
    patch_volumes()
    patch_attachments()
    patch_launch_templates()
    patch_run_instances()
    patch_snapshots()
    server = make_server(
        args.host, args.port, Application(), threaded=True, request_handler=MotoRequestHandler
    )
    print(f"port={server.server_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    sys.exit(0)


if __name__ == "__main__":
    main()
