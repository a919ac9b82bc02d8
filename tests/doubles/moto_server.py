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
- moto never runs out of spot capacity. ``POST /_mlbox/faults`` with
  ``{"spot": "InsufficientInstanceCapacity"}`` makes every spot RunInstances fail with that
  EC2 error code until ``DELETE /_mlbox/faults``; on-demand launches are unaffected.
- moto's snapshots are complete at once. ``{"snapshot": "error"}`` (or ``"pending"``) in the
  faults makes every new snapshot end in that state instead: failed, or stuck forever.
- ``GET /_mlbox/requests`` lists the EC2/STS calls received (``[{"action", "params"}]``),
  ``DELETE /_mlbox/requests`` forgets them: tests assert on what was asked, and that a run
  which had to stop early asked for nothing that creates.

Everything else is plain moto, including ``POST /moto-api/reset``.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from moto.ec2.exceptions import EC2ClientError
from moto.ec2.models import elastic_block_store, instances, launch_templates
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

CONTROL_PREFIX = "/_mlbox/"
StartResponse = Callable[..., Any]


class Faults:
    """Errors to inject, shared between the control endpoint and the patched backend."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: dict[str, str] = {}

    def set(self, faults: dict[str, str]) -> None:
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


FAULTS = Faults()
JOURNAL = Journal()


def patch_volumes() -> None:
    original = elastic_block_store.Volume.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        if self.snapshot_id is None:
            self.snapshot_id = ""
        if getattr(self, "multi_attach_enabled", None) is None:
            self.multi_attach_enabled = False

    elastic_block_store.Volume.__init__ = init  # type: ignore[method-assign]


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


def patch_run_instances() -> None:
    original = instances.InstanceBackend.run_instances

    def run_instances(self: Any, image_id: str, count: int, *args: Any, **kwargs: Any) -> Any:
        market = kwargs.get("instance_market_options") or template_market_type(
            self, kwargs.get("launch_template") or {}
        )
        if market == "spot":
            code = FAULTS.get("spot")
            if code:
                raise EC2ClientError(code, f"Injected by the test double: {code} for spot.")
            kwargs["instance_market_options"] = "spot"
        return original(self, image_id, count, *args, **kwargs)

    instances.InstanceBackend.run_instances = run_instances  # type: ignore[method-assign]


def patch_snapshots() -> None:
    """CreateSnapshot: the state the faults ask for, instead of moto's instant completion."""
    original = elastic_block_store.EBSBackend.create_snapshot

    def create_snapshot(self: Any, *args: Any, **kwargs: Any) -> Any:
        snapshot = original(self, *args, **kwargs)
        state = FAULTS.get("snapshot")
        if state:
            snapshot.status = state
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
            FAULTS.set(json.loads(read_body(environ) or b"{}"))
        elif method == "DELETE":
            FAULTS.set({})
        return answer(start_response, "200 OK", FAULTS.snapshot())
    if path == "requests":
        if method == "DELETE":
            JOURNAL.clear()
        return answer(start_response, "200 OK", JOURNAL.calls())
    return answer(start_response, "404 Not Found", {"error": f"unknown control path {path}"})


class Application:
    """moto's WSGI application behind the test controls and the request journal."""

    def __init__(self) -> None:
        self.moto = DomainDispatcherApplication(create_backend_app)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Any:
        if environ.get("PATH_INFO", "").startswith(CONTROL_PREFIX):
            return control(environ, start_response)
        if environ.get("REQUEST_METHOD") == "POST":
            JOURNAL.add(query_params(environ, read_body(environ)))
        return self.moto(environ, start_response)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args(argv)

    patch_volumes()
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
