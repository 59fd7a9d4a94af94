"""Who may use `/admin`: this machine's tools, never a web page, and with a token when the
sandbox is reachable beyond loopback."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sandbox_helpers import PAYLOADS, REPO_ROOT, make_client, running

from scaleapi.sandbox import Sandbox, create_app

HOSTILE = [
    # A page on evil.example posting a form (text/plain, no preflight) to the sandbox.
    {"host": "evil.example:8080", "origin": "http://evil.example", "content-type": "text/plain"},
    # DNS rebinding: the page's own name now resolves to 127.0.0.1; no Origin on a GET.
    {"host": "evil.example:8080"},
    # A page elsewhere posting to the sandbox by its address.
    {"origin": "http://evil.example", "content-type": "text/plain"},
    {"origin": "null"},
    {"sec-fetch-site": "cross-site"},
    {"origin": "http://localhost:3000"},  # another local web server's page
]


def refused(answer: httpx.Response, status: int = 403) -> str:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert body["status_code"] == status
    return str(body["error"])


def test_web_pages_cannot_reset_a_database(tmp_path: Path) -> None:
    db = tmp_path / "tasks.sqlite3"
    with running("--db", str(db)) as (process, base_url):
        admin_url = base_url.removesuffix("/v1") + "/admin"
        with make_client(base_url, "live_kept") as client, httpx.Client(trust_env=False) as raw:
            task_id = client.post("/task/categorization", json=PAYLOADS["categorization"]).json()[
                "task_id"
            ]
            for headers in HOSTILE:
                for route in ("/reset", "/config"):
                    body = b'{"fault_rate": 1}'
                    refused(raw.post(admin_url + route, content=body, headers=headers))
                refused(raw.get(admin_url + "/stats", headers=headers))
            # This machine's tools: no Origin, a loopback Host.
            assert raw.get(admin_url + "/config").json()["fault_rate"] == 0.0
            assert raw.get(admin_url + "/stats").json()["tasks"] == 1
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    with (
        running("--db", str(db)) as (process, base_url),  # the file still has the task
        make_client(base_url, "live_kept") as client,
    ):
        assert client.get(f"/task/{task_id}").status_code == 200


def test_loopback_names_and_the_same_origin_are_served(scale_sandbox: Sandbox) -> None:
    port = scale_sandbox.url.rsplit(":", 1)[1]
    with httpx.Client(trust_env=False) as raw:
        for host in (f"127.0.0.1:{port}", f"localhost:{port}", "127.0.0.1", "LOCALHOST"):
            answer = raw.get(scale_sandbox.admin_url + "/health", headers={"host": host})
            assert answer.status_code == 200, host
        same = {"origin": f"http://127.0.0.1:{port}", "sec-fetch-site": "same-origin"}
        assert raw.get(scale_sandbox.admin_url + "/stats", headers=same).status_code == 200


def test_the_api_is_not_guarded(client: httpx.Client) -> None:
    # Browsers may call /v1 (with a key) from anywhere; the guard is for /admin only.
    answer = client.get("/tasks", headers={"origin": "http://evil.example"})
    assert answer.status_code == 200


def test_a_token_is_needed_to_listen_beyond_loopback() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    # Refused before binding anything.
    result = subprocess.run(
        [sys.executable, "-m", "scaleapi.sandbox", "--host", "0.0.0.0", "--port", "0"],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
    )
    assert result.returncode == 2
    assert "--admin-token" in result.stderr and "0.0.0.0" in result.stderr
    with pytest.raises(ValueError, match="admin_token"):
        Sandbox(host="0.0.0.0")
    with pytest.raises(ValueError, match="admin_token"):
        Sandbox(host="::")


def test_with_a_token_every_admin_route_but_health_needs_it() -> None:
    with Sandbox(admin_token="s3cret-token") as sandbox, httpx.Client(trust_env=False) as raw:
        url = sandbox.admin_url
        assert raw.get(url + "/health").status_code == 200
        for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": "s3cret-token"}):
            answer = raw.post(url + "/reset", headers=headers)
            assert "admin token" in refused(answer, 401)
            assert answer.headers["www-authenticate"].startswith("Bearer")
        good = {"authorization": "Bearer s3cret-token"}
        assert raw.post(url + "/config", json={"latency_ms": 1}, headers=good).status_code == 200
        # A web page cannot use it either, token or not.
        assert refused(raw.post(url + "/reset", headers={**good, "origin": "http://evil.example"}))
        # The Sandbox object sends its token itself.
        assert sandbox.configure(latency_ms=0)["latency_ms"] == 0
        assert repr(sandbox).count("s3cret") == 0


def test_token_explicitly_off_still_refuses_web_pages_and_dns_names() -> None:
    with Sandbox(admin_token="off") as sandbox, httpx.Client(trust_env=False) as raw:
        url = sandbox.admin_url
        assert raw.get(url + "/stats").status_code == 200
        assert raw.get(url + "/stats", headers={"host": "192.0.2.7:1"}).status_code == 200
        assert "by address" in refused(raw.get(url + "/stats", headers={"host": "evil.example"}))
        assert refused(raw.post(url + "/reset", headers={"origin": "http://evil.example"}))
        assert sandbox.stats()["requests"] == 0


def test_without_a_token_a_request_on_a_non_loopback_address_is_refused() -> None:
    # Mounted in another server that listens on every address: the connection's local
    # address (scope["server"], here from the URL) is what tells.
    async def main() -> tuple[httpx.Response, httpx.Response]:
        transport = httpx.ASGITransport(app=create_app())
        async with httpx.AsyncClient(transport=transport) as client:
            remote = await client.get("http://192.0.2.1/admin/stats", headers={"host": "127.0.0.1"})
            local = await client.get("http://127.0.0.1/admin/stats")
        return remote, local

    remote, local = asyncio.run(main())
    assert "--admin-token" in refused(remote)
    assert local.status_code == 200
