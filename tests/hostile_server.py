"""A small HTTP/1.1 server on 127.0.0.1 that answers however a test tells it to: with a
body that never ends, a gzip bomb, headers dripped a byte at a time, a task that is not
one. Real sockets, so the client's real transport (httpx, httpcore, h11) reads it."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import attrs

TASK: dict[str, Any] = {
    "task_id": "5774cc78b01249ab09f089dd",
    "type": "categorization",
    "status": "completed",
    "created_at": "2016-06-30T07:38:32.368Z",
    "params": {"attachment_type": "text", "attachment": "x", "categories": ["a", "b"]},
    "response": {"category": "a"},
    "metadata": {},
}


@attrs.define
class Request:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes
    peer_port: int


Handler = Callable[[Request, "Connection"], None]


@attrs.define
class Connection:
    sock: socket.socket
    stopping: threading.Event
    notes: list[Any]  # what handlers want the test to know (the server's `notes`)

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def answer(
        self,
        status: int = 200,
        body: bytes | Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """A complete answer with Content-Length; a non-bytes body is sent as JSON."""
        raw = (
            body if isinstance(body, bytes) else json.dumps(TASK if body is None else body).encode()
        )
        head = {"content-type": "application/json", "content-length": str(len(raw))}
        head.update(headers or {})
        self.send(head_bytes(status, head) + raw)

    def drip(self, data: bytes, every: float) -> None:
        """Send ``data`` a byte at a time, one each ``every`` seconds, until told to stop
        or the client hangs up; notes "dripped all" if every byte went out."""
        for byte in data:
            if self.stopping.wait(every):
                return
            try:
                self.sock.sendall(bytes([byte]))
            except OSError:
                self.notes.append("client hung up")
                return
        self.notes.append("dripped all")


def head_bytes(status: int, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} X"] + [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def json_answer(task: Any = None, **headers: str) -> Handler:
    return lambda request, conn: conn.answer(200, task, headers)


class HostileServer:
    """Serves ``handler`` for every request on every connection, until closed."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[Request] = []
        self.notes: list[Any] = []
        self.stopping = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)  # so that the accept loop sees `stopping`
        self.port: int = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self._threads: list[threading.Thread] = []
        self._socks: list[socket.socket] = []
        accept = threading.Thread(target=self._accept, daemon=True)
        accept.start()
        self._threads.append(accept)

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            sock.settimeout(None)
            self._socks.append(sock)
            worker = threading.Thread(target=self._serve, args=(sock,), daemon=True)
            worker.start()
            self._threads.append(worker)

    def _serve(self, sock: socket.socket) -> None:
        conn = Connection(sock, self.stopping, self.notes)
        buffer = b""
        try:
            while not self.stopping.is_set():
                while b"\r\n\r\n" not in buffer:
                    data = sock.recv(65536)
                    if not data:
                        return
                    buffer += data
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0"))
                while len(buffer) < length:
                    data = sock.recv(65536)
                    if not data:
                        return
                    buffer += data
                body, buffer = buffer[:length], buffer[length:]
                request = Request(method, target, headers, body, sock.getpeername()[1])
                self.requests.append(request)
                self.handler(request, conn)
        except OSError:
            return
        finally:
            sock.close()

    def wait_for_note(self, within: float = 60.0) -> Any:
        """The first note a handler made, once there is one."""
        deadline = time.monotonic() + within
        while not self.notes and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.notes[0] if self.notes else None

    def close(self) -> None:
        self.stopping.set()
        self._listener.close()
        for sock in self._socks:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join(5)

    def __enter__(self) -> HostileServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def serving(handler: Handler) -> Iterator[HostileServer]:
    with HostileServer(handler) as server:
        yield server
