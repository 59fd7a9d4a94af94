"""A minimal HTTP/1.1 server that answers every request with one fixed, valid task.

``python -m benchmarks.fixed_server --port 0`` prints its base URL (``.../v1``) on one
line once it accepts connections, and serves until SIGTERM or Ctrl-C. With
``--latency-ms N`` every answer leaves N ms after its request arrived: a stand-in for a
remote API, whose own CPU stays far below the client's, so that a bulk benchmark against
it measures the client up to the latency limit (concurrency ÷ latency). It costs the
client nothing that a real server would not (keep-alive, ``Content-Length``, one write
per answer), and costs the server as little as possible: the per-call overhead of a
client is then most of what a benchmark against it measures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
from collections.abc import Sequence

TASK: dict[str, object] = {
    "task_id": "5774cc78b01249ab09f089dd",
    "type": "categorization",
    "status": "completed",
    "created_at": "2016-06-30T07:38:32.000Z",
    "completed_at": "2016-06-30T07:40:56.000Z",
    "instruction": "Is this company public or private?",
    "urgency": "day",
    "params": {
        "attachment_type": "website",
        "attachment": "http://www.google.com/",
        "categories": ["public", "private"],
        "allow_multiple": False,
    },
    "metadata": {},
    "response": {"category": "public"},
    "callback_succeeded": False,
    "is_test": True,
}
"""The task every request gets: a completed categorization task, as the sandbox sends it."""

TASK_ID = str(TASK["task_id"])
_BODY = json.dumps(TASK, separators=(",", ":")).encode()
_HEAD = (
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: application/json\r\n"
    f"Content-Length: {len(_BODY)}\r\n"
    "Server: fixed\r\n"
)
_KEEP_ALIVE = (_HEAD + "\r\n").encode() + _BODY
_CLOSE = (_HEAD + "Connection: close\r\n\r\n").encode() + _BODY
_MAX_HEAD = 64 * 1024


class _Protocol(asyncio.Protocol):
    """Reads requests (a head, and a body when ``Content-Length`` says so) and answers."""

    def __init__(self, latency: float = 0.0) -> None:
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None
        self._latency = latency

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        transport = self._transport
        assert transport is not None
        self._buffer += data
        while True:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self._buffer) > _MAX_HEAD:
                    transport.close()
                return
            head = bytes(self._buffer[:end]).lower()
            length = 0
            close = b"\r\nconnection: close" in head
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip() == b"content-length":
                    length = int(value.strip() or b"0")
            total = end + 4 + length
            if len(self._buffer) < total:
                return
            del self._buffer[:total]
            if self._latency:
                # Answers on one connection keep their order: each waits the same delay.
                loop = asyncio.get_running_loop()
                loop.call_later(self._latency, self._answer, transport, close)
            else:
                self._answer(transport, close)
            if close:
                return

    @staticmethod
    def _answer(transport: asyncio.Transport, close: bool) -> None:
        if transport.is_closing():
            return
        if close:
            transport.write(_CLOSE)
            transport.close()
        else:
            transport.write(_KEEP_ALIVE)


async def _serve(host: str, port: int, latency_ms: float) -> None:
    loop = asyncio.get_running_loop()
    latency = latency_ms / 1000
    server = await loop.create_server(lambda: _Protocol(latency), host, port, backlog=1024)
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    sockname = server.sockets[0].getsockname()
    print(f"http://{sockname[0]}:{sockname[1]}/v1", flush=True)
    async with server:
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="delay every answer by this much"
    )
    arguments = parser.parse_args(argv)
    asyncio.run(_serve(arguments.host, arguments.port, arguments.latency_ms))


if __name__ == "__main__":
    main()
