"""Serving the app with uvicorn: in a background thread (`Sandbox`) or in the foreground."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import socket
import threading
import time
from collections.abc import Generator
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, Unpack
from urllib.parse import quote

from ._config import SandboxOptions, Settings, check_exposure

if TYPE_CHECKING:
    import uvicorn
    from starlette.applications import Starlette

__all__ = ["Sandbox", "create_app", "make_server"]

DEFAULT_HOST = "127.0.0.1"
START_TIMEOUT = 20.0
"""Seconds `Sandbox.start()` waits for the server to accept connections."""
STOP_TIMEOUT = 10.0


def create_app(**options: Unpack[SandboxOptions]) -> Starlette:
    """The sandbox as an ASGI (Starlette) app, to mount or serve as you like.

    Served by another server than the sandbox's own, the `drop` fault answers 503
    instead of dropping the connection.
    """
    from ._app import build_app

    return build_app(Settings.from_options(options))


class _CoalescingTransport:
    """A transport whose writes made in one event-loop step leave in one `send`.

    uvicorn's h11 protocol writes an answer's head and body separately: two system calls
    and two TCP segments per answer. Joining them takes a good share of the server's
    time per request off. Everything but writing is the wrapped transport's.
    """

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append(bytes(data))

    def writelines(self, chunks: Any) -> None:
        for chunk in chunks:
            self.write(chunk)

    def _flush(self) -> None:
        if self._pending:
            data = b"".join(self._pending)
            self._pending.clear()
            if not self._transport.is_closing():
                self._transport.write(data)

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(map(len, self._pending))

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def abort(self) -> None:
        self._pending.clear()
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def _protocol_class() -> type[asyncio.Protocol]:
    """uvicorn's h11 protocol, handing the app its transport (for the `drop` fault)."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    from ._app import TRANSPORT_SCOPE_KEY

    class SandboxH11Protocol(H11Protocol):
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            raw = transport.get_extra_info("socket")
            if raw is not None and raw.family in (socket.AF_INET, socket.AF_INET6):
                # Headers and body leave in two writes: without this, Nagle's algorithm and
                # the client's delayed ACK add 40 ms to every answer.
                with contextlib.suppress(OSError):
                    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            coalescing = _CoalescingTransport(transport, self.loop)
            self.transport = coalescing  # type: ignore[assignment]
            inner = self.app

            async def app(scope: Any, receive: Any, send: Any) -> None:
                scope.setdefault("extensions", {})[TRANSPORT_SCOPE_KEY] = coalescing
                await inner(scope, receive, send)

            self.app = app

    return SandboxH11Protocol


def make_server(
    app: Starlette, *, log_level: str = "warning", access_log: bool = False
) -> uvicorn.Server:
    """A uvicorn server for the app that leaves signal handling to its caller."""
    import uvicorn

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Generator[None, None, None]:
            yield

    # uvicorn's own logging set-up, with the access log on stderr too: stdout carries
    # nothing but the base URL.
    from uvicorn.config import LOGGING_CONFIG

    log_config = copy.deepcopy(LOGGING_CONFIG)
    log_config["handlers"]["access"]["stream"] = "ext://sys.stderr"
    config = uvicorn.Config(
        app,
        log_config=log_config,
        http=_protocol_class(),
        lifespan="on",
        log_level=log_level,
        access_log=access_log,
        timeout_graceful_shutdown=3,
        timeout_keep_alive=30,
    )
    return Server(config)


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket; port 0 picks a free one."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on sockets that say so.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


def root_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class Sandbox:
    """A sandbox server on a free port, in a background thread.

    ```python
    with Sandbox() as sandbox:
        client = ScaleClient(api_key="test_anything", base_url=sandbox.base_url)
    ```

    Options are those of `create_app()`; `host` and `port` say where to listen (a free
    port on 127.0.0.1 by default). `stop()` ends the server; a later `start()` serves a
    new, empty sandbox (or the same tasks again, with `db`).
    """

    def __init__(
        self,
        *,
        host: str = DEFAULT_HOST,
        port: int = 0,
        log_level: str = "warning",
        **options: Unpack[SandboxOptions],
    ) -> None:
        self._settings = Settings.from_options(options)
        check_exposure(host, self._settings)
        self.host = host
        self.port = port
        self.log_level = log_level
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._url: str | None = None
        self._failure: BaseException | None = None
        self._base_path = "/v1"

    # -- addresses ------------------------------------------------------------------
    @property
    def url(self) -> str:
        """`http://127.0.0.1:<port>`: the server's root."""
        if self._url is None:
            raise RuntimeError("the sandbox is not running; call start() or use `with`")
        return self._url

    @property
    def base_url(self) -> str:
        """The API's base URL, ending in `/v1`: give it to the client."""
        return self.url + self._base_path

    @property
    def admin_url(self) -> str:
        """The root of the admin routes, `.../admin`."""
        return self.url + "/admin"

    @property
    def callback_auth_key(self) -> str:
        """The `scale-callback-auth` header value sent with every callback."""
        return self._settings.callback_auth_key

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- life -----------------------------------------------------------------------
    def start(self) -> Self:
        """Start serving; returns once the server accepts connections."""
        if self.running:
            return self
        from ._app import build_app

        sock = bind_socket(self.host, self.port)
        try:
            app = build_app(self._settings)
            server = make_server(app, log_level=self.log_level)
        except BaseException:
            sock.close()
            raise
        self._base_path = app.state.engine.spec.base_path
        self._failure = None

        def serve() -> None:
            try:
                asyncio.run(server.serve(sockets=[sock]))
            except BaseException as exc:  # reported by start()
                self._failure = exc
            finally:
                sock.close()
                app.state.engine.store.close()

        thread = threading.Thread(target=serve, name="scaleapi-sandbox", daemon=True)
        thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError(f"the sandbox failed to start: {self._failure!r}")
            if time.monotonic() > deadline:
                server.should_exit = True
                raise RuntimeError("the sandbox did not start in time")
            time.sleep(0.005)
        self._server, self._thread, self._url = server, thread, root_url(sock)
        return self

    def stop(self) -> None:
        """Stop serving (waits for requests in flight to finish)."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.should_exit = True
        thread.join(STOP_TIMEOUT)
        if thread.is_alive():
            server.force_exit = True
            thread.join(STOP_TIMEOUT)
        self._server = self._thread = None
        self._url = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self._url or "not running"
        return f"<Sandbox {where}>"

    # -- the admin routes, from Python ----------------------------------------------
    def _admin(self, method: str, path: str, body: object = None) -> Any:
        import httpx

        content = None if body is None else json.dumps(body).encode()
        headers = {"content-type": "application/json"}
        token = self._settings.admin_token_required
        if token is not None:
            headers["authorization"] = f"Bearer {token}"
        with httpx.Client(trust_env=False, timeout=30) as client:
            answer = client.request(method, self.admin_url + path, content=content, headers=headers)
        if answer.status_code >= 400:
            raise SandboxError(answer.status_code, answer.json().get("error", answer.text))
        return answer.json()

    def complete_task(self, task_id: str, response: dict[str, Any] | None = None) -> dict[str, Any]:
        """Complete a pending task, with `response` or a placeholder; the task."""
        body = {} if response is None else {"response": response}
        result: dict[str, Any] = self._admin(
            "POST", f"/tasks/{quote(task_id, safe='')}/complete", body
        )
        return result

    def fail_task(self, task_id: str) -> dict[str, Any]:
        """Put a pending task in status `error`; the task."""
        result: dict[str, Any] = self._admin("POST", f"/tasks/{quote(task_id, safe='')}/fail")
        return result

    def callbacks(self, task_id: str | None = None) -> list[dict[str, Any]]:
        """The callback deliveries so far (of one task when `task_id` is given)."""
        query = "" if task_id is None else f"?task_id={quote(task_id, safe='')}"
        result: list[dict[str, Any]] = self._admin("GET", f"/callbacks{query}")["deliveries"]
        return result

    def stats(self) -> dict[str, Any]:
        """Requests served, faults injected by kind, tasks created."""
        result: dict[str, Any] = self._admin("GET", "/stats")
        return result

    def configure(self, **changes: Any) -> dict[str, Any]:
        """Change run-time settings (`GET /admin/config` lists them); the new ones."""
        result: dict[str, Any] = self._admin("POST", "/config", changes)
        return result

    def reset(self) -> None:
        """Forget all tasks, deliveries and counters; restart the fault sequence."""
        self._admin("POST", "/reset")


class SandboxError(Exception):
    """An admin request the sandbox refused."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(f"{status_code}: {message}")
        self.status_code = status_code
        self.message = message
