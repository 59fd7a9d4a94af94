"""A third driver of :func:`~scaleapi._transport.exchange`: aiohttp, for many concurrent calls.

``exchange`` describes a call with ``httpx`` values (it yields an ``httpx.Request`` and
wants an ``httpx.Response`` or an ``httpx.HTTPError`` back); this driver sends each
request with an ``aiohttp.ClientSession`` and hands back the same values, so retries,
error messages and the rest are the very code the httpx drivers run. What it maps:

- errors: a connection that could not be made (refused, DNS, TLS, proxy unreachable,
  connect timeout) is an ``httpx.ConnectError`` / ``ConnectTimeout`` (not sent); no
  answer in time is an ``httpx.ReadTimeout``; anything after the request left
  (disconnect, reset, a malformed or cut-short answer) a ``RemoteProtocolError`` or
  ``ReadError`` (dropped), as httpx would say;
- the size cap: an answer announcing more than the client's ``max_response_bytes`` is
  refused before its body is read, and one that grows past it while streaming (chunked
  or compressed) is refused as soon as it does;
- the deadline: each attempt, body included, runs under the call's remaining deadline;
- redirects are never followed; cookies are kept per client, as ``httpx.AsyncClient``
  does;
- TLS: the very context the httpx clients use (:func:`~scaleapi._drivers.default_ssl_context`:
  certifi, or ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``);
- proxies: ``proxy=`` (``http://`` or ``https://``, credentials in the URL or in
  ``httpx.Proxy`` headers) and ``HTTP(S)_PROXY`` / ``ALL_PROXY`` / ``NO_PROXY`` from the
  environment, read once when the driver is made, as httpx does. A SOCKS proxy is
  refused with an error that says to use the httpx transport. ``~/.netrc`` is not read.

aiohttp is imported when this module is, and this module only when a client first needs
it: ``import scaleapi`` stays light.
"""

from __future__ import annotations

import asyncio
import functools
import os
import urllib.request
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any, TypeVar, cast

import aiohttp
import httpx
from yarl import URL

from ._constants import DEFAULT_LIMITS
from ._drivers import default_ssl_context
from ._exceptions import ScaleBadResponse, ScaleException
from ._transport import (
    Answer,
    Call,
    Exchange,
    Outcome,
    Outgoing,
    Send,
    Settings,
    build_request,
    drive_async,
    header_items,
    json_body,
)

T = TypeVar("T")

_READ_CHUNK = 64 * 1024
# h11 (httpx) accepts a response head of up to 16 KiB; aiohttp's default is 8 KiB a line.
_MAX_HEAD_LINE = 16 * 1024
# Left to aiohttp: it computes these, or (Accept-Encoding) says what it can decode.
_DROPPED = frozenset({"host", "accept-encoding", "connection", "content-length"})
_PROXY_SCHEMES = ("http://", "https://")
_MAX_CACHED = 64  # timeouts and proxy choices remembered, at most


class AiohttpDriver:
    """Drives exchanges over one ``aiohttp.ClientSession``, made on first use.

    ``limits.max_connections`` bounds the connections (``None``: no bound) and
    ``limits.keepalive_expiry`` how long an idle one is kept. The session belongs to
    the event loop and the process it was made in: used from another loop or after a
    ``fork``, the driver leaves it behind and opens a new one.
    """

    def __init__(
        self,
        *,
        limits: httpx.Limits = DEFAULT_LIMITS,
        proxy: str | httpx.Proxy | None = None,
        trust_env: bool = True,
    ) -> None:
        self._limits = limits
        self._trust_env = trust_env
        self._proxy: httpx.Proxy | None = _check_proxy(proxy) if proxy is not None else None
        self._env_proxies = _environment_proxies() if trust_env and proxy is None else {}
        self._proxy_for: dict[tuple[str, str], tuple[URL | None, Mapping[str, str] | None]] = {}
        self._timeouts: dict[tuple[float | None, ...], aiohttp.ClientTimeout] = {}
        self._session: aiohttp.ClientSession | None = None
        self._retired: list[aiohttp.ClientSession] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pid = 0

    # -- the driver -------------------------------------------------------------------

    def run(
        self,
        steps: Exchange[T],
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> Coroutine[Any, Any, T]:
        """Drive ``steps`` to its end: the call's result, or its ``ScaleException``.

        Returns the driving coroutine itself rather than awaiting it in one of its own:
        every coroutine between a create and the socket is resumed each time the create
        waits, about 1.5 us a wait for each (measured), and a create waits many times."""
        return drive_async(steps, functools.partial(self._send, self._current_session()), sleep)

    @staticmethod
    def build(settings: Settings, call: Call[Any]) -> Outgoing:
        """The request of ``call`` for this driver: what ``build_request`` makes for
        httpx, the same bytes on the wire. A JSON call with neither query nor headers of
        its own (every create, get and cancel) is put together here, its URL and headers
        taken from caches; the rest go through ``build_request``."""
        if call.files is not None or call.params is not None or call.headers:
            return _from_httpx(build_request(settings, call))
        json = call.body is not None
        return Outgoing(
            call.method,
            _full_url(settings.base_url + call.path),
            _headers(header_items(settings), json),
            json_body(call.body) if json else b"",
            {"timeout": settings.timeout.as_dict()},
        )

    def reserve(self, concurrency: int) -> None:
        """Allow ``concurrency`` connections from now on (a bulk create asks for one per
        create in flight). aiohttp fixes a session's limit when it is made, so a session
        with too few is retired: calls already on it finish there, new calls open a new
        one, and ``aclose`` closes both."""
        most = self._limits.max_connections
        if most is None or most >= concurrency:
            return
        self._limits = httpx.Limits(
            max_connections=concurrency,
            max_keepalive_connections=concurrency,
            keepalive_expiry=self._limits.keepalive_expiry,
        )
        if self._session is not None:
            self._retired.append(self._session)
            self._session = None

    async def aclose(self) -> None:
        """Close the sessions' connections; a later call opens a new session."""
        sessions = [*self._retired, *([self._session] if self._session else [])]
        self._session, self._retired = None, []
        if self._loop is asyncio.get_running_loop():
            for session in sessions:
                await session.close()

    # -- sending ----------------------------------------------------------------------

    async def _send(self, session: aiohttp.ClientSession, step: Send) -> Outcome:
        request = step.request
        if not isinstance(request, Outgoing):  # made by build_request: take it as is
            request = _from_httpx(request)
        limit = step.max_bytes
        url = _yarl_url(request.url)
        proxy, proxy_headers = self._proxy_of(url)
        try:
            async with session.request(
                request.method,
                url,
                data=request.content or None,
                headers=request.headers,
                allow_redirects=False,
                timeout=self._timeout(request.extensions.get("timeout")),
                proxy=proxy,
                proxy_headers=proxy_headers,
            ) as answer:
                length = answer.content_length
                if length is not None and length > limit:
                    raise ScaleBadResponse(
                        f"the answer announces {length} bytes, over the {limit} byte limit",
                        answer.status,
                        request_id=answer.headers.get("x-request-id"),
                    )
                if length is not None and "Content-Encoding" not in answer.headers:
                    content = await answer.read()  # exactly the announced length, no more
                else:  # chunked or compressed: counted as it is decoded
                    content = await _read_capped(answer, limit)
                return Answer(answer.status, answer.headers, content, answer.reason or "")
        except aiohttp.ClientError as error:
            return _as_httpx_error(error)
        except TimeoutError:  # a timeout aiohttp did not wrap (it says ServerTimeoutError)
            return httpx.ReadTimeout("timed out")

    def _timeout(self, given: Any) -> aiohttp.ClientTimeout:
        """httpx's four timeouts as aiohttp's: ``connect`` (a connection from the pool,
        waiting included) and ``sock_connect``, ``sock_read`` (between two reads; it
        runs while the body is written, so it also stands for ``write``)."""
        values: Mapping[str, float | None] = (
            cast("Mapping[str, float | None]", given) if isinstance(given, dict) else {}
        )
        connect, read, pool = values.get("connect"), values.get("read"), values.get("pool")
        key = (connect, read, pool)
        timeout = self._timeouts.get(key)
        if timeout is None:
            acquire = None if pool is None or connect is None else pool + connect
            timeout = aiohttp.ClientTimeout(
                total=None, connect=acquire, sock_connect=connect, sock_read=read
            )
            if len(self._timeouts) >= _MAX_CACHED:  # per-call timeouts: keep it bounded
                self._timeouts.clear()
            self._timeouts[key] = timeout
        return timeout

    def _proxy_of(self, url: URL) -> tuple[URL | None, Mapping[str, str] | None]:
        key = (url.scheme, url.host or "")
        found = self._proxy_for.get(key)
        if found is None:
            proxy = self._proxy or _environment_proxy_for(self._env_proxies, *key)
            found = (None, None) if proxy is None else (URL(str(proxy.url)), dict(proxy.headers))
            if len(self._proxy_for) >= _MAX_CACHED:
                self._proxy_for.clear()
            self._proxy_for[key] = found
        return found

    def _current_session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        session = self._session
        if session is not None and self._loop is loop and self._pid == os.getpid():
            return session
        # A session of another loop or process cannot be used here, nor closed: forget it.
        if session is not None:
            self._retired.clear()
        self._session = session = self._open()
        self._loop, self._pid = loop, os.getpid()
        return session

    def _open(self) -> aiohttp.ClientSession:
        limits = self._limits
        connector = aiohttp.TCPConnector(
            limit=limits.max_connections or 0,
            keepalive_timeout=limits.keepalive_expiry,
            ssl=default_ssl_context(self._trust_env),
        )
        return aiohttp.ClientSession(
            connector=connector,
            trust_env=False,  # proxies are resolved here; .netrc is not read
            auto_decompress=True,
            max_line_size=_MAX_HEAD_LINE,
            max_field_size=_MAX_HEAD_LINE,
            raise_for_status=False,
        )


async def _read_capped(answer: aiohttp.ClientResponse, limit: int) -> bytes:
    """The (decompressed) body, refused as soon as it passes ``limit`` bytes."""
    body = bytearray()
    stream = answer.content
    while chunk := await stream.read(_READ_CHUNK):
        body += chunk
        if len(body) > limit:
            raise ScaleBadResponse(
                f"the answer's body is over the {limit} byte limit (counted after "
                "decompression); it was not read further",
                answer.status,
                request_id=answer.headers.get("x-request-id"),
            )
    return bytes(body)


def _from_httpx(request: httpx.Request) -> Outgoing:
    headers = [
        (name, value) for name, value in request.headers.multi_items() if name not in _DROPPED
    ]
    return Outgoing(
        request.method, str(request.url), headers, request.content, dict(request.extensions)
    )


@functools.lru_cache(maxsize=256)
def _full_url(url: str) -> str:
    """``url`` as httpx sends it (percent-encoded where it must be)."""
    return str(httpx.URL(url))


@functools.lru_cache(maxsize=256)
def _yarl_url(url: str) -> URL:
    return URL(url, encoded=True)


@functools.lru_cache(maxsize=64)
def _headers(items: tuple[tuple[str, str], ...], json: bool) -> tuple[tuple[str, str], ...]:
    """The client's headers as this driver sends them (see ``build_request``): the JSON
    content type when there is a JSON body and no other type was given; not what
    aiohttp sets itself."""
    kept = tuple((name, value) for name, value in items if name.lower() not in _DROPPED)
    if json and not any(name.lower() == "content-type" for name, _ in kept):
        kept += (("Content-Type", "application/json"),)
    return kept


def _as_httpx_error(error: aiohttp.ClientError) -> httpx.HTTPError:
    """The ``httpx`` error that httpx itself raises for the same failure, so that
    ``exchange`` classifies it the same way (not sent, timed out, dropped)."""
    detail = _describe(error)
    if isinstance(error, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(detail)
    if isinstance(error, aiohttp.ServerTimeoutError):
        return httpx.ReadTimeout(detail)
    if isinstance(error, aiohttp.ClientConnectorError):
        return httpx.ConnectError(detail)
    if isinstance(error, aiohttp.ClientHttpProxyError):
        return httpx.ProxyError(detail)
    if isinstance(error, aiohttp.InvalidURL | aiohttp.NonHttpUrlClientError):
        return httpx.UnsupportedProtocol(detail)
    if isinstance(error, aiohttp.ClientOSError):
        return httpx.ReadError(detail)
    return httpx.RemoteProtocolError(detail)


def _describe(error: aiohttp.ClientError) -> str:
    """What went wrong, without the request's headers (``ClientResponseError`` carries
    them, and with them the key)."""
    if isinstance(error, aiohttp.ClientResponseError):
        return f"{type(error).__name__}: {error.status}, {error.message}"
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def supports_proxy(proxy: str | httpx.Proxy | None) -> bool:
    """Whether this driver can send through ``proxy`` (and the environment's proxies)."""
    try:
        if proxy is not None:
            _check_proxy(proxy)
        else:
            proxies = _environment_proxies()
            for scheme in ("http", "https", "all"):
                if scheme in proxies:
                    _check_proxy(_with_scheme(proxies[scheme]))
    except ScaleException:
        return False
    return True


def _with_scheme(proxy: str) -> str:
    return proxy if "://" in proxy else f"http://{proxy}"


def _check_proxy(proxy: str | httpx.Proxy) -> httpx.Proxy:
    value = proxy if isinstance(proxy, httpx.Proxy) else httpx.Proxy(proxy)
    if not str(value.url).startswith(_PROXY_SCHEMES):
        raise ScaleException(
            f"the aiohttp transport speaks to HTTP(S) proxies only, not {value.url.scheme}://; "
            "use the httpx transport (SCALE_ASYNC_TRANSPORT=httpx) for a SOCKS proxy"
        )
    if value.ssl_context is not None:
        raise ScaleException(
            "the aiohttp transport does not take a proxy's ssl_context; use the httpx "
            "transport (SCALE_ASYNC_TRANSPORT=httpx)"
        )
    return value


def _environment_proxies() -> dict[str, str]:
    """``HTTP_PROXY``, ``HTTPS_PROXY``, ``ALL_PROXY`` and ``NO_PROXY``, as httpx reads them."""
    found = urllib.request.getproxies()
    return {scheme: found[scheme] for scheme in ("http", "https", "all", "no") if found.get(scheme)}


def _environment_proxy_for(
    proxies: Mapping[str, str], scheme: str, host: str
) -> httpx.Proxy | None:
    proxy = proxies.get(scheme) or proxies.get("all")
    if proxy is None or _bypassed(proxies.get("no", ""), host):
        return None
    return _check_proxy(_with_scheme(proxy))


def _bypassed(no_proxy: str, host: str) -> bool:
    """Whether ``NO_PROXY`` names ``host``: ``*``, the host itself, or a domain it is in."""
    for entry in (e.strip().lower() for e in no_proxy.split(",")):
        if not entry:
            continue
        if entry == "*":
            return True
        entry = entry.split("://", 1)[-1].strip("[]").lstrip(".")
        if host == entry or host.endswith("." + entry):
            return True
    return False
