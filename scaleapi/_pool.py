"""Who holds the ``httpx`` client a ``ScaleClient`` sends with: safe across ``fork()`` and,
for the async client, across event loops.

* **Fork.** Pooled connections are sockets; a child made by ``fork()`` inherits them, and
  if parent and child both send on one, each may read the other's answer. The holder
  remembers the process id and, in a new process, drops the inherited ``httpx`` client
  without touching its sockets (closing could block on a lock another thread held at
  fork time, or write to a connection the parent still uses) and makes a fresh one. The
  check is one ``os.getpid()`` compare per call.
* **Event loops.** An ``httpx.AsyncClient``'s connections belong to the loop that opened
  them. :class:`AsyncPool` keeps one client per running loop, so one
  ``AsyncScaleClient`` works from two ``asyncio.run`` calls, or from loops in several
  threads at once; the client of a loop that was garbage-collected goes with it.
* **A caller's own** ``http_client`` cannot be copied: it is used as given, in the one
  process (and, async, the one loop) it is first used in. Used from another process or
  loop after that, it raises a :class:`~scaleapi.ScaleException` that says so, rather
  than risk a crossed answer.

Clients made here also keep loopback traffic (a local sandbox) away from proxies set in
the environment, and turn a proxy variable httpx cannot use into an error naming it.
"""

from __future__ import annotations

import os
import ssl
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, overload

import httpcore
import httpx

from ._exceptions import ScaleException
from ._transport import ATTEMPT_DEADLINE

if TYPE_CHECKING:
    import asyncio

PROXY_VARIABLES = ("https_proxy", "http_proxy", "all_proxy")
"""The proxy variables httpx reads (in either case)."""

PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")

LOOPBACK_MOUNTS: Mapping[str, None] = {
    "all://127.0.0.1": None,
    "all://localhost": None,
    "all://[::1]": None,
}
"""Routes that take no proxy from the environment: a local sandbox is reached directly."""

_NO_PROCESS = -1


def check_proxy_environment(environ: Mapping[str, str] = os.environ) -> None:
    """Raise a ScaleException naming a proxy variable httpx would fail on."""
    used: dict[str, str] = {}  # as urllib reads them: the lower-case name wins
    for name in sorted(environ, key=lambda n: n.islower()):
        if name.lower() in PROXY_VARIABLES and environ[name]:
            used[name.lower()] = name
    for name in used.values():
        value = environ[name]
        scheme = value.split("://", 1)[0].lower() if "://" in value else "http"
        if scheme not in PROXY_SCHEMES:
            raise ScaleException(
                f"The environment variable {name} names a proxy with the scheme "
                f"{scheme!r}; use http://, https:// or socks5://, or unset it."
            )
        if scheme.startswith("socks"):
            try:
                import socksio  # type: ignore[import-not-found, unused-ignore]  # noqa: F401  # pyright: ignore[reportMissingImports, reportUnusedImport]
            except ImportError:
                raise ScaleException(
                    f"The environment variable {name} names a SOCKS proxy, which needs "
                    "`pip install 'httpx[socks]'`; install it or unset the variable."
                ) from None


def client_options(
    limits: httpx.Limits, proxy: str | httpx.Proxy | None, trust_env: bool = True
) -> dict[str, Any]:
    """What the SDK passes to ``httpx.Client`` / ``httpx.AsyncClient`` it makes itself."""
    options: dict[str, Any] = {"limits": limits, "proxy": proxy}
    if proxy is None and trust_env:
        check_proxy_environment()
        options["mounts"] = LOOPBACK_MOUNTS
    return options


CERTIFICATE_VARIABLES = ("SSL_CERT_FILE", "SSL_CERT_DIR")
"""Where httpx looks for CA certificates when told by the environment."""


def _default_context() -> ssl.SSLContext:
    from ._drivers import default_ssl_context

    try:
        return default_ssl_context()
    except OSError as exc:  # ssl.SSLError too: certificates that cannot be loaded
        raise _certificate_error(exc) from None


def _certificate_error(exc: OSError) -> ScaleException:
    named = [f"{n}={os.environ[n]!r}" for n in CERTIFICATE_VARIABLES if os.environ.get(n)]
    where = f" (check {', '.join(named)})" if named else ""
    return ScaleException(f"Cannot load the TLS certificates{where}: {type(exc).__name__}: {exc}")


def _build(cls: Callable[..., Any], options: Mapping[str, Any]) -> Any:
    try:
        return cls(**options)
    except (ValueError, ImportError) as exc:  # a proxy httpx cannot use, say
        raise ScaleException(f"Cannot set up the HTTP client: {exc}") from None
    except OSError as exc:  # ssl.SSLError too: certificates that cannot be loaded
        raise _certificate_error(exc) from None


def _within_deadline(timeout: float | None) -> float | None:
    at = ATTEMPT_DEADLINE.at
    if at is None:
        return timeout
    remaining = at - time.monotonic()
    if remaining <= 0:
        raise httpcore.ReadTimeout("the call's deadline passed")
    return remaining if timeout is None else min(timeout, remaining)


class DeadlineStream(httpcore.NetworkStream):
    """A socket stream whose every read and write ends by the call's deadline, so that a
    server dripping its headers a byte at a time cannot hold a sync call past it."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _within_deadline(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _within_deadline(timeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        tls = self._stream.start_tls(ssl_context, server_hostname, _within_deadline(timeout))
        return DeadlineStream(tls)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self, backend: httpcore.NetworkBackend) -> None:
        self._backend = backend

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._backend.connect_tcp(
            host, port, _within_deadline(timeout), local_address, socket_options
        )
        return DeadlineStream(stream)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        stream = self._backend.connect_unix_socket(path, _within_deadline(timeout), socket_options)
        return DeadlineStream(stream)

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def bound_by_deadline(client: httpx.Client) -> httpx.Client:
    """Give the direct route of a client the SDK made deadline-bound sockets.

    httpx has no public hook for its network backend, so this reaches into the transport;
    if a future httpx moves it, nothing breaks: reads are then bounded per chunk of the
    body only (the deadline tests say so loudly)."""
    pool = getattr(getattr(client, "_transport", None), "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if isinstance(backend, httpcore.NetworkBackend) and not isinstance(backend, DeadlineBackend):
        pool._network_backend = DeadlineBackend(backend)  # type: ignore[union-attr]
    return client


class SyncPool:
    """The ``httpx.Client`` of a ``ScaleClient``; see the module docstring."""

    __slots__ = ("_factory", "_given", "_state")

    def __init__(self, given: httpx.Client | None, factory: Callable[[], httpx.Client]) -> None:
        self._given = given
        self._factory = factory
        # (process id, client) as one value, so a thread never sees half an update.
        # A given client starts unbound: its first use binds it to that process.
        self._state: tuple[int, httpx.Client] = (
            (_NO_PROCESS, given) if given is not None else (os.getpid(), factory())
        )

    @property
    def owned(self) -> bool:
        return self._given is None

    def get(self) -> httpx.Client:
        state = self._state
        if state[0] == os.getpid():
            return state[1]
        return self._for_new_process(state[0])

    def _for_new_process(self, old_pid: int) -> httpx.Client:
        pid = os.getpid()
        given = self._given
        if given is None:
            client = self._factory()  # the parent's connections are left untouched
        elif old_pid == _NO_PROCESS:
            client = given
        else:
            raise ScaleException(
                f"This ScaleClient's http_client was used in process {old_pid} and this is "
                f"process {pid} (after a fork): its pooled connections may be shared with "
                "the other process. Create the ScaleClient (and the http_client you pass "
                "it) in each process, or let the client make its own."
            )
        self._state = (pid, client)
        return client

    def close(self) -> None:
        """Close the client if this holder made it (and in the process that made it)."""
        pid, client = self._state
        if self._given is None and pid == os.getpid():
            client.close()

    def __repr__(self) -> str:
        return f"SyncPool(owned={self.owned})"


class AsyncPool:
    """The ``httpx.AsyncClient`` of an ``AsyncScaleClient``, one per event loop."""

    __slots__ = (
        "_bound",
        "_clients",
        "_factory",
        "_given",
        "_lock",
        "_pid",
        "_running_loop",
        "_spare",
        "_state",
    )

    def __init__(
        self, given: httpx.AsyncClient | None, factory: Callable[[], httpx.AsyncClient]
    ) -> None:
        import asyncio  # loaded with the async client only

        self._running_loop = asyncio.get_running_loop
        self._given = given
        self._factory = factory
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient]
        self._clients = weakref.WeakKeyDictionary()
        # The last (loop, process id, client) used: the fast path of get().
        self._state: tuple[object, int, httpx.AsyncClient] | None = None
        # A given client: the (process id, loop) it was first used in.
        self._bound: tuple[int, weakref.ref[asyncio.AbstractEventLoop]] | None = None
        # Made now, so that a proxy httpx cannot use fails here; the first loop uses it.
        self._spare = factory() if given is None else None

    @property
    def owned(self) -> bool:
        return self._given is None

    def get(self) -> httpx.AsyncClient:
        loop = self._running_loop()
        state = self._state
        if state is not None and state[0] is loop and state[1] == os.getpid():
            return state[2]
        return self._for_loop(loop)

    def _for_loop(self, loop: asyncio.AbstractEventLoop) -> httpx.AsyncClient:
        pid = os.getpid()
        given = self._given
        if given is not None:
            bound = self._bound
            if bound is None:
                self._bound = (pid, weakref.ref(loop))
            elif bound[0] != pid or bound[1]() is not loop:
                raise ScaleException(
                    "This AsyncScaleClient's http_client is bound to the event loop (and "
                    "process) it was first used in, and this is another one: its "
                    "connections cannot be used from here. Create the AsyncScaleClient "
                    "inside the loop that uses it, or let it make its own http_client "
                    "(then each event loop gets connections of its own)."
                )
            client = given
        else:
            if pid != self._pid:  # forked: nothing of the parent's is used again
                self._lock = threading.Lock()  # the parent's may be held for ever
                self._clients = weakref.WeakKeyDictionary()
                self._spare = None
                self._pid = pid
            with self._lock:
                found = self._clients.get(loop)
                if found is None:
                    found, self._spare = self._spare or self._factory(), None
                    self._clients[loop] = found
            client = found
        self._state = (loop, pid, client)
        return client

    async def aclose(self) -> None:
        """Close the clients this holder made: the running loop's now; the others, which
        belong to loops that are closed or running elsewhere, are dropped."""
        if self._given is not None or os.getpid() != self._pid:
            return
        loop = self._running_loop()
        with self._lock:
            clients = dict(self._clients)
            self._clients = weakref.WeakKeyDictionary()
            self._state = None
        for owner, client in clients.items():
            if owner is loop:
                await client.aclose()
            elif owner.is_running() and not owner.is_closed():
                import asyncio

                asyncio.run_coroutine_threadsafe(client.aclose(), owner)

    def __repr__(self) -> str:
        return f"AsyncPool(owned={self.owned}, loops={len(self._clients)})"


@overload
def make_pool(
    given: httpx.AsyncClient | None,
    cls: type[httpx.AsyncClient],
    *,
    limits: httpx.Limits,
    proxy: str | httpx.Proxy | None,
    verify: bool | ssl.SSLContext | None = None,
) -> AsyncPool: ...
@overload
def make_pool(
    given: httpx.Client | None,
    cls: type[httpx.Client],
    *,
    limits: httpx.Limits,
    proxy: str | httpx.Proxy | None,
    verify: bool | ssl.SSLContext | None = None,
) -> SyncPool: ...
def make_pool(
    given: httpx.Client | httpx.AsyncClient | None,
    cls: type[httpx.Client] | type[httpx.AsyncClient],
    *,
    limits: httpx.Limits,
    proxy: str | httpx.Proxy | None,
    verify: bool | ssl.SSLContext | None = None,
) -> SyncPool | AsyncPool:
    """The holder of a client's ``httpx`` client: ``given`` if the caller passed one, else
    one made of ``cls`` (and made again after a fork, or per loop). ``verify`` is the TLS
    check of the 2.x options (``verify=``, ``cert=``); httpx's default when None."""
    options = client_options(limits, proxy) if given is None else {}
    if given is None:
        # The 2.x TLS options, or the one default context every client of this process
        # shares (loading a certificate store takes tens of milliseconds).
        options["verify"] = verify if verify is not None else _default_context()

    if issubclass(cls, httpx.AsyncClient):

        def new_async() -> httpx.AsyncClient:
            return _build(cls, options)  # type: ignore[no-any-return]

        assert given is None or isinstance(given, httpx.AsyncClient)
        return AsyncPool(given, new_async)

    def new_sync() -> httpx.Client:
        return bound_by_deadline(_build(cls, options))

    assert given is None or isinstance(given, httpx.Client)
    return SyncPool(given, new_sync)
