"""Callback receivers that misbehave on purpose: the sandbox reads a bounded part of any
reply, and gives every try a deadline that no slow receiver can stretch."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from hostile_server import Connection, HostileServer, Request
from sandbox_helpers import PAYLOADS, make_client, wait_until

from scaleapi.sandbox import Sandbox

ENDLESS_CAP = 64 * 1024 * 1024
"""The endless receiver gives up after this much (an unbounded reader would take it all)."""


@dataclass
class Hostile:
    """A receiver on 127.0.0.1 that answers every connection with `behaviour`."""

    url: str
    sent: list[int] = field(default_factory=list)
    """Bytes of reply sent on each connection before the sandbox hung up."""


def endless_body(conn: socket.socket) -> int:
    conn.sendall(
        b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n"
    )
    chunk = b"%x\r\n%s\r\n" % (65536, b"x" * 65536)
    sent = 0
    while sent < ENDLESS_CAP:
        conn.sendall(chunk)
        sent += len(chunk)
    return sent


def drip(conn: socket.socket) -> int:
    sent = 0
    for byte in b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n":  # one byte every 0.3 s
        conn.sendall(bytes([byte]))
        sent += 1
        time.sleep(0.3)
    return sent


@pytest.fixture
def hostile(request: pytest.FixtureRequest) -> Iterator[Hostile]:
    behaviour: Callable[[socket.socket], int] = request.param
    sent: list[int] = []

    def handler(callback: Request, conn: Connection) -> None:
        try:
            sent.append(behaviour(conn.sock))
        except OSError:  # the sandbox hung up: how far did we get?
            sent.append(-1)

    with HostileServer(handler) as server:
        yield Hostile(url=f"http://127.0.0.1:{server.port}/callback", sent=sent)


@pytest.fixture
def quick() -> Iterator[Sandbox]:
    """A sandbox whose callbacks get one try of one second."""
    with Sandbox(callback_attempts=1, callback_timeout=1.0) as sandbox:
        yield sandbox


def _deliver(sandbox: Sandbox, url: str) -> str:
    with make_client(sandbox.base_url, "test_hostile") as client:
        body = {**PAYLOADS["datacollection"], "callback_url": url}
        task_id: str = client.post("/task/datacollection", json=body).json()["task_id"]
    return task_id


@pytest.mark.parametrize("hostile", [endless_body], indirect=True)
def test_an_endless_reply_is_cut_short(quick: Sandbox, hostile: Hostile) -> None:
    task_id = _deliver(quick, hostile.url)
    wait_until(lambda: quick.callbacks(task_id)[0]["status"] != "pending", timeout=20)
    (record,) = quick.callbacks(task_id)
    assert (record["status"], record["last_status_code"]) == ("delivered", 200)
    wait_until(lambda: len(hostile.sent) == 1, timeout=20)
    assert hostile.sent == [-1]  # the sandbox hung up long before the cap
    # and is still answering.
    with httpx.Client(trust_env=False) as raw:
        assert raw.get(quick.admin_url + "/health").status_code == 200


@pytest.mark.parametrize("hostile", [drip], indirect=True)
def test_a_dripping_receiver_cannot_stretch_a_try(quick: Sandbox, hostile: Hostile) -> None:
    task_id = _deliver(quick, hostile.url)
    # The drip would take 12 s to finish; a one-second try ends long before.
    wait_until(lambda: quick.callbacks(task_id)[0]["status"] != "pending", timeout=6)
    (record,) = quick.callbacks(task_id)
    assert record["status"] == "failed"
    assert record["last_error"] == "no answer within 1 s"
    assert record["last_status_code"] is None
    wait_until(lambda: len(hostile.sent) == 1, timeout=20)
    assert hostile.sent == [-1]  # the connection was closed under the drip
