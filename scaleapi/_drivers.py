"""Which driver sends a client's calls: httpx (always there) or aiohttp (the extra).

A driver takes an :func:`~scaleapi._transport.exchange` and does its I/O. The sync and
async httpx drivers are :func:`~scaleapi._transport.run_sync` and ``run_async``; an
async client made without ``http_client`` uses :class:`~scaleapi._aiohttp.AiohttpDriver`
instead when aiohttp is installed (``pip install 'scaleapi-typed[aiohttp]'``), because it
spends about half the CPU per call (see BENCHMARKS.md). ``$SCALE_ASYNC_TRANSPORT`` says
otherwise: ``httpx`` always uses httpx, ``aiohttp`` requires aiohttp, ``auto`` (the
default) picks aiohttp when it is installed. This module imports neither aiohttp nor
asyncio: ``import scaleapi`` stays light.
"""

from __future__ import annotations

import functools
import importlib.util
import os
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from ._constants import ASYNC_TRANSPORT_ENV
from ._exceptions import ScaleException

if TYPE_CHECKING:
    import ssl

    import httpx

    from ._transport import Call, Exchange, Request, Settings

T = TypeVar("T")

TRANSPORTS = ("auto", "aiohttp", "httpx")


class AsyncDriver(Protocol):
    """Sends the requests of an exchange, async: what ``AiohttpDriver`` is. ``build``
    makes the requests of the exchanges it is given (see ``exchange``)."""

    def run(self, steps: Exchange[T]) -> Awaitable[T]: ...

    def build(self, settings: Settings, call: Call[Any]) -> Request: ...

    async def aclose(self) -> None: ...

    def reserve(self, concurrency: int) -> None:
        """Allow a connection for each of ``concurrency`` calls at once, from now on."""


class SyncDriver(Protocol):
    """The sync counterpart of :class:`AsyncDriver` (none but httpx's exists today)."""

    def run(self, steps: Exchange[T]) -> T: ...

    def build(self, settings: Settings, call: Call[Any]) -> Request: ...

    def close(self) -> None: ...

    def reserve(self, concurrency: int) -> None: ...


def async_transport() -> str:
    """``$SCALE_ASYNC_TRANSPORT``, checked: ``auto``, ``aiohttp`` or ``httpx``."""
    value = os.environ.get(ASYNC_TRANSPORT_ENV, "").strip().lower() or "auto"
    if value not in TRANSPORTS:
        raise ScaleException(
            f"{ASYNC_TRANSPORT_ENV}={value!r} is not one of {', '.join(TRANSPORTS)}"
        )
    return value


def fast_async_driver(
    http_client: object | None, limits: httpx.Limits, proxy: str | httpx.Proxy | None
) -> AsyncDriver | None:
    """The aiohttp driver for a client made without ``http_client``, when aiohttp is
    installed and not turned off; ``None``: the client's ``httpx.AsyncClient`` sends."""
    if http_client is not None:
        return None
    transport = async_transport()
    if transport == "httpx":
        return None
    if importlib.util.find_spec("aiohttp") is None:
        if transport == "aiohttp":
            raise ScaleException(
                f"{ASYNC_TRANSPORT_ENV}=aiohttp, but aiohttp is not installed: "
                "pip install 'scaleapi-typed[aiohttp]'"
            )
        return None
    from ._aiohttp import AiohttpDriver, supports_proxy

    if transport == "auto" and not supports_proxy(proxy):
        return None  # a SOCKS proxy, say: httpx speaks it, aiohttp does not
    return AiohttpDriver(limits=limits, proxy=proxy)


def fast_sync_driver(
    http_client: object | None, limits: httpx.Limits, proxy: str | httpx.Proxy | None
) -> SyncDriver | None:
    """What ``ScaleClient`` (made from the async client's code) asks for: nothing faster
    than its ``httpx.Client`` exists, so always ``None``."""
    return None


def default_ssl_context(trust_env: bool = True) -> ssl.SSLContext:
    """httpx's default TLS context (certifi, or ``$SSL_CERT_FILE`` / ``$SSL_CERT_DIR``),
    made once per process and shared by every client and driver: loading a certificate
    store takes tens of milliseconds, and one context serves any number of connections."""
    if not trust_env:
        return _ssl_context(False, None, None)
    return _ssl_context(True, os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))


@functools.lru_cache(maxsize=4)
def _ssl_context(trust_env: bool, cafile: str | None, capath: str | None) -> ssl.SSLContext:
    import httpx

    return httpx.create_ssl_context(trust_env=trust_env)
