"""Fixtures of the sandbox tests: real servers on 127.0.0.1, real HTTP, no mocks."""

from __future__ import annotations

import http.server
import importlib.resources
import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import jsonschema
import pytest
import yaml
from sandbox_helpers import PAYLOADS, Receiver, make_client, wait_until

# The plugin's fixtures, as users get them with `pytest_plugins = [...]` (which only a
# top-level conftest may declare): scale_sandbox, scale_sandbox_url, scale_test_key, ...
from scaleapi.sandbox.pytest_plugin import (
    scale_live_key,
    scale_sandbox,
    scale_sandbox_url,
    scale_test_key,
)

__all__ = ["scale_live_key", "scale_sandbox", "scale_sandbox_url", "scale_test_key"]


# -- the session sandbox -------------------------------------------------------------
@pytest.fixture(scope="session")
def scale_sandbox_options() -> dict[str, Any]:
    # Short callback retries so the retry tests finish quickly.
    return {"callback_backoff": 0.05, "callback_attempts": 3, "callback_timeout": 2.0}


@pytest.fixture
def payloads() -> dict[str, dict[str, Any]]:
    copied: dict[str, dict[str, Any]] = json.loads(json.dumps(PAYLOADS))  # a deep copy
    return copied


@pytest.fixture
def client(scale_sandbox_url: str, scale_test_key: str) -> Iterator[httpx.Client]:
    """A client of the session sandbox, with a test key of its own."""
    with make_client(scale_sandbox_url, scale_test_key) as c:
        yield c


@pytest.fixture
def live_client(scale_sandbox_url: str, scale_live_key: str) -> Iterator[httpx.Client]:
    """A client of the session sandbox, with a live key of its own."""
    with make_client(scale_sandbox_url, scale_live_key) as c:
        yield c


@pytest.fixture
def admin(scale_sandbox: Any) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=scale_sandbox.admin_url, trust_env=False, timeout=30) as c:
        yield c


# -- the spec, to check answers against ------------------------------------------------
@pytest.fixture(scope="session")
def spec() -> dict[str, Any]:
    text = importlib.resources.files("scaleapi").joinpath("openapi.yaml").read_text()
    document: dict[str, Any] = yaml.safe_load(text)
    return document


@pytest.fixture(scope="session")
def conforms(spec: dict[str, Any]) -> Callable[[str, Any], None]:
    """`conforms("Task", value)` asserts that value is valid against a schema of the spec."""
    validators: dict[str, jsonschema.Draft202012Validator] = {}

    def check(name: str, value: Any) -> None:
        if name not in validators:
            schema = {"$ref": f"#/components/schemas/{name}", "components": spec["components"]}
            validators[name] = jsonschema.Draft202012Validator(
                schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
            )
        errors = sorted(validators[name].iter_errors(value), key=str)
        assert not errors, f"not a valid {name}: {errors[0].message} at {list(errors[0].path)}"

    return check


# -- a callback receiver ----------------------------------------------------------------
@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state: dict[str, Receiver] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length)
            me = state["receiver"]
            me.calls.append(
                {
                    "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "json": json.loads(body),
                }
            )
            failing = me.always_fail or len(me.calls) <= me.fail_first
            self.send_response(500 if failing else 200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = server.server_address[1]
    state["receiver"] = Receiver(url=f"http://127.0.0.1:{port}/callback", port=port)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state["receiver"]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def eventually() -> Callable[..., None]:
    return wait_until
