"""Smoke tests only: record the shape of every cloud API call a playbook run makes.

The smoke tests (tests/smoke/) put this directory on PYTHONPATH of the playbook runs and set
MLBOX_TRANSCRIPT_DIR; every Python they start (ansible-playbook, each module, the role's
scripts) loads this file and hooks the three SDKs the roles talk through:

- botocore (AWS): the event system; before-parameter-build keeps the call's parameters,
  after-call writes the action, the parameters' shape and the parsed answer's shape;
- aliyunsdkcore (Aliyun, through footmark): AcsClient._implementation_of_do_action, the one
  path every request takes; the action, the query and body parameter names, the JSON answer;
- azure-core (Azure): the requests transport, under every pipeline; the method and the path
  with its names replaced, the JSON bodies.

Each record goes through tests/smoke/sanitize.py (names and types only, no value) and is
checked for the credentials of the environment before it is written, one JSON line per call,
to MLBOX_TRANSCRIPT_DIR/<pid>.jsonl. Without MLBOX_TRANSCRIPT_DIR nothing is hooked. Nothing
here changes a request or an answer; a failure to record is swallowed, never the call's.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
from pathlib import Path
from typing import Any

OUT = os.environ.get("MLBOX_TRANSCRIPT_DIR", "")
SECRET_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "ALICLOUD_ACCESS_KEY",
    "ALICLOUD_SECRET_KEY",
    "ALIYUN_ACCESS_KEY_ID",
    "ALIYUN_ACCESS_KEY_SECRET",
    "AZURE_CLIENT_ID",
    "AZURE_SECRET",
    "AZURE_TENANT",
    "AZURE_SUBSCRIPTION_ID",
)
_lock = threading.Lock()


def _sanitize() -> Any:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import sanitize

    return sanitize


def checked(record: dict[str, Any]) -> str:
    """The record as a JSON line, or a line saying it was dropped when any credential of the
    environment is in it."""
    line = json.dumps(record, sort_keys=True)
    secrets = [os.environ.get(name, "") for name in SECRET_VARIABLES]
    if _sanitize().leaks(line, secrets):
        return json.dumps({"cloud": record.get("cloud"), "dropped": "a credential matched"})
    return line


def to_file(line: str) -> None:
    with _lock, open(Path(OUT) / f"{os.getpid()}.jsonl", "a", encoding="utf-8") as out:
        out.write(line + "\n")


# Where the checked lines go (the shape comparison test collects them in a list instead).
SINK = to_file


def write(record: dict[str, Any]) -> None:
    with contextlib.suppress(Exception):  # recording must never break the call
        SINK(checked(record))


# --- botocore -----------------------------------------------------------------------------


def _before_parameter_build(params: Any, model: Any, context: dict[str, Any], **_: Any) -> None:
    context["mlbox_params"] = _sanitize().shape(params)


def _after_call(
    http_response: Any, parsed: Any, model: Any, context: dict[str, Any], **_: Any
) -> None:
    sanitize = _sanitize()
    parsed = dict(parsed or {})
    parsed.pop("ResponseMetadata", None)
    error = parsed.pop("Error", None) or {}
    write(
        {
            "cloud": "aws",
            "service": sanitize.safe_key(model.service_model.service_name),
            "action": sanitize.safe_key(model.name),
            "params": context.get("mlbox_params", {}),
            "status": getattr(http_response, "status_code", 0),
            "error": sanitize.error_code(error.get("Code")),
            "response": {} if error else sanitize.shape(parsed),
        }
    )


def hook_botocore() -> None:
    import botocore.session

    original = botocore.session.Session.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.register("before-parameter-build", _before_parameter_build)
        self.register("after-call", _after_call)

    botocore.session.Session.__init__ = init  # type: ignore[method-assign]


# --- aliyunsdkcore ------------------------------------------------------------------------


def hook_aliyun() -> None:
    from aliyunsdkcore import client

    original = client.AcsClient._implementation_of_do_action

    def do_action(self: Any, request: Any, signer: Any = None) -> Any:
        result = original(self, request, signer)
        try:
            sanitize = _sanitize()
            status, _headers, body, exception = result
            params = {
                **dict(request.get_query_params() or {}),
                **dict(request.get_body_params() or {}),
            }
            code = exception.get_error_code() if exception is not None else ""
            write(
                {
                    "cloud": "aliyun",
                    "service": sanitize.safe_key(request.get_product()),
                    "action": sanitize.safe_key(request.get_action_name()),
                    "params": sanitize.shape(params),
                    "status": status or 0,
                    "error": sanitize.error_code(code),
                    "response": {} if code else sanitize.json_shape(body),
                }
            )
        except Exception:
            pass
        return result

    client.AcsClient._implementation_of_do_action = do_action  # type: ignore[method-assign]


# --- azure-core ---------------------------------------------------------------------------


def hook_azure() -> None:
    from azure.core.pipeline.transport import _requests_basic

    original = _requests_basic.RequestsTransport.send

    def send(self: Any, request: Any, **kwargs: Any) -> Any:
        response = original(self, request, **kwargs)
        try:
            sanitize = _sanitize()
            operation, query = sanitize.arm_operation(request.method, request.url)
            status = int(getattr(response, "status_code", 0))
            body = response.text() if status < 300 else ""
            error = {}
            if status >= 300:
                parsed = json.loads(response.text() or "{}")
                error = parsed.get("error", parsed) if isinstance(parsed, dict) else {}
            write(
                {
                    "cloud": "azure",
                    "service": "arm",
                    "action": operation,
                    "params": {"query": query, "body": sanitize.json_shape(request.body)},
                    "status": status,
                    "error": sanitize.error_code(error.get("code")),
                    "response": sanitize.json_shape(body),
                }
            )
        except Exception:
            pass
        return response

    _requests_basic.RequestsTransport.send = send  # type: ignore[method-assign]


if OUT:
    for _hook in (hook_botocore, hook_aliyun, hook_azure):
        with contextlib.suppress(ImportError):
            _hook()
