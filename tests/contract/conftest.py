"""Fixtures that run Prism as a mock of ``openapi/scaleapi.yaml`` for contract tests.

Prism (``node_modules/.bin/prism``, installed by ``npm ci``) validates every request it
gets against the spec, the HTTP Basic security scheme included, and answers with the
spec's examples. What it reports, and how the fixtures below turn it into failures:

* A request that breaks the spec (unknown or missing body property, wrong type, query
  value out of range, no or malformed ``Authorization`` header, wrong content type)
  is answered with the operation's 400 (or 401) example and an ``sl-violations``
  header holding a JSON list of ``{"location", "severity", "code", "message"}``.
* When the operation has no response to pick for the problem (a bad path parameter
  of ``GET /task/{task_id}``, say), or no route matches, Prism answers with its own
  ``application/problem+json`` error (422, 404, 405, ...) without that header.
* ``--errors`` makes Prism answer 500 ``problem+json`` when its own response would
  break the spec, so an example that drifts from its schema fails loudly.

``prism_http_client`` raises :class:`PrismViolationError` (an ``AssertionError``) for
both kinds of report; ``prism_violation_hook`` (``prism_async_violation_hook`` for an
``httpx.AsyncClient``) is the same check as an httpx response event hook, for clients
built elsewhere (for example inside the SDK).

Prism serves the spec's paths at the root, not under the server URL's ``/v1``:
``GET {prism_base_url}/task/abc`` is ``getTask``; ``{prism_base_url}/v1/task/abc`` is
a 404 "no path matched".
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SPEC = Path("openapi") / "scaleapi.yaml"
PRISM = Path("node_modules") / ".bin" / "prism"
HOST = "127.0.0.1"
# Seconds to wait for Prism to accept connections; PRISM_STARTUP_TIMEOUT overrides.
STARTUP_TIMEOUT = float(os.environ.get("PRISM_STARTUP_TIMEOUT", "60"))
PRISM_ERROR_TYPE_PREFIX = "https://stoplight.io/prism/errors#"
# A key Prism's Basic check accepts: user name ``test_x``, empty password.
TEST_AUTH = ("test_x", "")


class PrismViolationError(AssertionError):
    """Prism found that a request (or its own mocked response) breaks the spec."""

    def __init__(self, request: httpx.Request, status_code: int, violations: list[Any]) -> None:
        self.violations = violations
        self.status_code = status_code
        lines = [f"{request.method} {request.url} -> {status_code}: the spec is violated:"]
        for v in violations:
            if isinstance(v, dict):
                location = ".".join(str(p) for p in v.get("location", []))
                lines.append(
                    f"  - [{v.get('severity')}] {location}: {v.get('message')} "
                    f"(code {v.get('code')})"
                )
            else:
                lines.append(f"  - {v}")
        super().__init__("\n".join(lines))


def prism_violations(response: httpx.Response) -> list[Any]:
    """Return what Prism reported about ``response``'s exchange; ``[]`` when clean.

    Reads the ``sl-violations`` header, and the body of Prism's own
    ``application/problem+json`` errors (which it sends without that header).
    """
    violations: list[Any] = []
    header = response.headers.get("sl-violations")
    if header is not None:
        try:
            decoded = json.loads(header)
        except ValueError:  # Prism truncates a long list: "Too many violations! [..."
            decoded = [header]
        violations.extend(decoded if isinstance(decoded, list) else [decoded])
    content_type = response.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() == "application/problem+json":
        response.read()
        try:
            problem = response.json()
        except ValueError:
            problem = None
        if isinstance(problem, dict) and str(problem.get("type", "")).startswith(
            PRISM_ERROR_TYPE_PREFIX
        ):
            violations.append(
                {
                    "location": ["prism"],
                    "severity": "Error",
                    "code": problem.get("type", "")[len(PRISM_ERROR_TYPE_PREFIX) :],
                    "message": f"{problem.get('title')}: {problem.get('detail')}",
                }
            )
            nested = problem.get("validation")  # the header's list again, when it was set
            if isinstance(nested, list) and header is None:
                violations.extend(nested)
    return violations


def check_prism_response(response: httpx.Response) -> None:
    """httpx response event hook: raise :class:`PrismViolationError` on any report."""
    violations = prism_violations(response)
    if violations:
        raise PrismViolationError(response.request, response.status_code, violations)


async def acheck_prism_response(response: httpx.Response) -> None:
    """The same check as :func:`check_prism_response`, as an ``httpx.AsyncClient`` hook."""
    if "problem+json" in response.headers.get("content-type", ""):
        await response.aread()
    check_prism_response(response)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _accepts_connections(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="session")
def prism_base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start ``prism mock --errors openapi/scaleapi.yaml`` on 127.0.0.1 and a free port.

    Yields the base URL without ``/v1`` (``http://127.0.0.1:PORT``); stops Prism by
    its PID at the end of the session.
    """
    prism = REPO_ROOT / PRISM
    if not prism.exists():
        pytest.fail(
            f"{PRISM} is missing: run `npm ci` in the repository root to install Prism.",
            pytrace=False,
        )
    port = _free_port()
    log_path = tmp_path_factory.mktemp("prism") / "prism.log"
    env = {**os.environ, "NO_COLOR": "1", "FORCE_COLOR": "0"}
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [str(prism), "mock", "--host", HOST, "--port", str(port), "--errors", str(SPEC)],
            cwd=REPO_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not _accepts_connections(port):
            if proc.poll() is not None:
                pytest.fail(
                    f"Prism exited with code {proc.returncode} before accepting connections "
                    f"on {HOST}:{port}. Its output:\n{_read(log_path)}",
                    pytrace=False,
                )
            if time.monotonic() > deadline:
                pytest.fail(
                    f"Prism did not accept connections on {HOST}:{port} within "
                    f"{STARTUP_TIMEOUT:g} s (PRISM_STARTUP_TIMEOUT). Its output:\n"
                    f"{_read(log_path)}",
                    pytrace=False,
                )
            time.sleep(0.1)
        yield f"http://{HOST}:{port}"
    finally:
        _stop(proc)


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")[-20_000:]
    except OSError as exc:
        return f"(could not read {path}: {exc})"


@pytest.fixture
def prism_http_client(prism_base_url: str) -> Iterator[httpx.Client]:
    """An ``httpx.Client`` on Prism, authenticated as ``test_x:``, that fails on violations.

    Any response carrying ``sl-violations``, or any Prism ``problem+json`` error,
    raises :class:`PrismViolationError` (an ``AssertionError``) from the call.
    """
    with httpx.Client(
        base_url=prism_base_url,
        auth=TEST_AUTH,
        timeout=10.0,
        event_hooks={"response": [check_prism_response]},
    ) as client:
        yield client


@pytest.fixture
def prism_violation_hook() -> Callable[[httpx.Response], None]:
    """The response event hook of ``prism_http_client``, for other httpx clients.

    ``httpx.Client(event_hooks={"response": [prism_violation_hook]})``.
    """
    return check_prism_response


@pytest.fixture
def prism_async_violation_hook() -> Callable[[httpx.Response], Awaitable[None]]:
    """The same check as an ``httpx.AsyncClient`` response event hook."""
    return acheck_prism_response
