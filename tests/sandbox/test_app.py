"""`create_app()`: the sandbox as an ASGI app, served by plain uvicorn or mounted in
another Starlette app."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from sandbox_helpers import PAYLOADS, make_client
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.types import ASGIApp

from scaleapi.sandbox import create_app


@contextmanager
def served(app: ASGIApp) -> Iterator[str]:
    """`app` under a stock uvicorn server on 127.0.0.1; yields its root URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on", http="h11"))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    while not server.started:
        assert thread.is_alive()
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)


def test_plain_uvicorn_drops_become_503(scale_test_key: str) -> None:
    app = create_app(fault_rate=1.0, faults=["drop"])
    with served(app) as root, make_client(root + "/v1", scale_test_key) as client:
        answer = client.post("/task/categorization", json=PAYLOADS["categorization"])
        assert answer.status_code == 503
        assert answer.json()["error"] == "Connection dropped (injected fault)."
        assert client.get("/tasks").json()["total"] == 1  # committed all the same


def test_mounted_under_a_prefix(scale_test_key: str) -> None:
    host = Starlette(routes=[Mount("/scale", app=create_app())])
    with served(host) as root:
        with make_client(root + "/scale/v1", scale_test_key) as client:
            task_id = client.post("/task/annotation", json=PAYLOADS["annotation"]).json()["task_id"]
            assert client.get(f"/task/{task_id}").json()["status"] == "completed"
            assert client.get("/task/annotation").status_code == 405
        with make_client(root + "/scale/admin", None) as admin:
            assert admin.get("/stats").json()["tasks_created"] == 1
