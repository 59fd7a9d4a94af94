"""Sending a call: one sans-I/O description of the exchange, driven by a sync and an
async driver, so that retries, logging and error handling are written once.

:func:`exchange` is a generator: it yields :class:`Send` (send this request, give me the
response or the ``httpx`` error) and :class:`Sleep` (wait this long), and returns the
parsed result or raises a :class:`~scaleapi.ScaleException`. The drivers do the I/O.

Two bounds hold for every call. The *deadline* (``Settings.deadline``) covers the whole
call: the exchange passes each attempt the time left (``Send.timeout``), clips the
per-phase timeouts to it, and makes no retry whose wait would outlast it; the drivers
end an attempt that runs out (async: ``asyncio.timeout``; sync: deadline-bound sockets
for the clients the SDK makes, see ``_pool``, and a clock check after each chunk of a
body). The *size cap* (``Settings.max_response_bytes``) counts an answer's bytes after
decompression, as they stream in; a bigger ``Content-Length`` is refused unread.
:func:`exchange_raw` returns the parsed value with the answer it came from (:class:`Raw`).
"""

from __future__ import annotations

import functools
import json
import logging
import os
import random
import re
import threading
import time
from collections.abc import Awaitable, Callable, Generator, Mapping, Sequence
from typing import Any, Generic, TypeAlias, TypeVar, cast

import attrs
import httpx

from ._constants import (
    BODY_EXCERPT_CHARS,
    DEFAULT_DEADLINE,
    LOG_ENV,
    MAX_RESPONSE_BYTES,
    MAX_UPLOAD_BYTES,
)
from ._exceptions import (
    ScaleBadResponse,
    ScaleConnectionError,
    ScaleException,
    ScaleInvalidRequest,
    ScaleOutcomeUnknown,
    ScaleTimeoutError,
    ScaleTooManyRequests,
    exception_for_status,
)
from ._retry import CallKind, Failure, RetryPolicy, retry_after
from ._types import as_json_object

T = TypeVar("T")

logger = logging.getLogger("scaleapi")

UNIQUE_ID_HINT = (
    "Pass unique_id=... (or create the client with auto_unique_id=True) to make creates "
    "safe to retry: the server then rejects a repeat, and the client returns the task the "
    "first attempt created."
)


def _setup_logging_from_env() -> None:
    level = os.environ.get(LOG_ENV, "").strip().lower()
    if level not in ("debug", "info") or logger.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if level == "debug" else logging.INFO)


_setup_logging_from_env()


def _redact_headers(headers: Mapping[str, str] | None) -> str:
    """A headers repr that never shows a credential."""
    if headers is None:
        return "None"
    return repr({k: "[hidden]" if k.lower() in SECRET_HEADERS else v for k, v in headers.items()})


SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key"})


@attrs.frozen
class Call(Generic[T]):
    """One logical API call: what to send, and how to read a successful answer.

    ``body`` is any JSON value (an object, or a list for the tag operations), sent as
    JSON; ``None`` sends no body at all. ``files`` (with ``form`` for the other fields)
    sends a multipart body instead, as ``httpx`` takes them. ``headers`` are merged over
    the client's own for this call.
    """

    name: str
    method: str
    path: str
    parse: Callable[[Any], T]
    kind: CallKind = CallKind.READ
    params: Mapping[str, Any] | None = None
    body: Any = attrs.field(default=None, repr=False)
    """The JSON body: any JSON value, or None for no body at all."""
    # For a create with unique_id: the call that finds the task an earlier attempt made.
    recover: Callable[[], Call[T]] | None = None
    headers: Mapping[str, str] | None = attrs.field(default=None, repr=_redact_headers)
    """Extra headers of this call, over the client's."""
    files: Mapping[str, Any] | None = attrs.field(default=None, repr=False)
    """Multipart file parts (with ``form`` as the text fields), instead of a JSON body."""
    form: Mapping[str, Any] | None = attrs.field(default=None, repr=False)


class Outgoing:
    """A request as a driver other than httpx's takes it: what :func:`build_request`
    makes for httpx, without building an ``httpx.Request`` (a quarter of a bulk create's
    CPU in the SDK's own code). ``url`` is the full, encoded URL; ``headers`` leave out
    what the driver computes itself (``Host``, ``Content-Length``, ...)."""

    __slots__ = ("content", "extensions", "headers", "method", "url")

    def __init__(
        self,
        method: str,
        url: str,
        headers: Sequence[tuple[str, str]],
        content: bytes,
        extensions: dict[str, Any],
    ) -> None:
        self.method = method
        self.url = url
        self.headers = headers
        self.content = content
        self.extensions = extensions

    def __repr__(self) -> str:  # never the headers: they hold the key
        return f"<Outgoing {self.method} {self.url}>"


class Answer:
    """An answer as a driver other than httpx's hands it back, its body read (and
    decompressed): what :func:`exchange` reads of an ``httpx.Response``, without the
    cost of building one. ``headers`` is a case-insensitive mapping whose body headers
    (``Content-Encoding``, ``Content-Length``) describe the body as it came over the
    wire; :meth:`as_httpx` gives the ``httpx.Response`` the httpx drivers would have,
    for :class:`Raw`."""

    __slots__ = ("content", "headers", "reason_phrase", "status_code")

    def __init__(
        self, status_code: int, headers: Mapping[str, str], content: bytes, reason_phrase: str
    ) -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content
        self.reason_phrase = reason_phrase

    def as_httpx(self) -> httpx.Response:
        return httpx.Response(
            self.status_code,
            # The body is decompressed already: its length and encoding are new.
            headers=[
                (name, value)
                for name, value in self.headers.items()
                if name.lower() not in ("content-encoding", "content-length")
            ],
            content=self.content,
            extensions={"reason_phrase": self.reason_phrase.encode("latin-1", "replace")},
        )

    def __repr__(self) -> str:
        return f"<Answer [{self.status_code} {self.reason_phrase}]>"


Request: TypeAlias = "httpx.Request | Outgoing"
Response: TypeAlias = "httpx.Response | Answer"


@attrs.frozen
class Send:
    """Send ``request``; the whole attempt (answer and body) must end within ``timeout``
    seconds (``None``: no limit but the per-phase ones) and the body must not decode to
    more than ``max_bytes``."""

    request: Request
    timeout: float | None = None
    max_bytes: int = MAX_RESPONSE_BYTES


@attrs.frozen
class Sleep:
    seconds: float


@attrs.frozen
class Raw(Generic[T]):
    """A result with the answer it came from: for debugging, and for what the parsed
    value does not carry (headers, the request id)."""

    parsed: T
    status_code: int
    request_id: str | None
    retries: int
    """How many times the call was sent again before this answer."""
    _answer: Response = attrs.field(repr=False, alias="answer")

    @property
    def headers(self) -> httpx.Headers:
        return self.http_response.headers

    @property
    def http_response(self) -> httpx.Response:
        """The answer as an ``httpx.Response``, its body already read (``.content``,
        ``.json()``), whichever driver received it."""
        answer = self._answer
        return answer if isinstance(answer, httpx.Response) else answer.as_httpx()


class DeadlineExceeded(httpx.TimeoutException):
    """The driver's report that an attempt ran into the call's deadline."""


class AttemptDeadline(threading.local):
    """The ``time.monotonic()`` by which this thread's attempt in flight must end, for the
    network streams of the clients the SDK makes (see ``_pool``); ``None``: no attempt."""

    at: float | None = None


ATTEMPT_DEADLINE = AttemptDeadline()


Step: TypeAlias = Send | Sleep
Outcome: TypeAlias = "Response | httpx.HTTPError | None"
Exchange: TypeAlias = Generator[Step, Outcome, T]


@attrs.frozen
class Settings:
    """What a client (or a ``with_options`` copy of it) sends every call with.

    ``deadline`` bounds a whole call, every retry and wait included, in seconds (``None``:
    only the per-phase ``timeout`` and the retry policy bound it). ``max_response_bytes``
    bounds an answer's body, counted after decompression.
    """

    base_url: str
    headers: Mapping[str, str] = attrs.field(repr=_redact_headers)
    timeout: httpx.Timeout
    policy: RetryPolicy
    clock: Callable[[], float] = attrs.field(default=time.monotonic, repr=False)
    wall_clock: Callable[[], float] = attrs.field(default=time.time, repr=False)
    rand: Callable[[], float] = attrs.field(default=random.random, repr=False)
    deadline: float | None = DEFAULT_DEADLINE
    max_response_bytes: int = MAX_RESPONSE_BYTES


_HEADER_ITEMS: dict[int, tuple[Mapping[str, str], tuple[tuple[str, str], ...]]] = {}


def header_items(settings: Settings) -> tuple[tuple[str, str], ...]:
    """``settings.headers`` as a tuple of pairs, the key of the caches of ready headers;
    remembered for the last few settings (by identity), so that a call does not walk
    them. Kept out of ``Settings``: nothing reachable from a client may show the key."""
    headers = settings.headers
    found = _HEADER_ITEMS.get(id(headers))
    if found is not None and found[0] is headers:
        return found[1]
    items = tuple(headers.items())
    if len(_HEADER_ITEMS) >= 64:
        _HEADER_ITEMS.clear()
    _HEADER_ITEMS[id(headers)] = (headers, items)
    return items


def _classify(error: httpx.HTTPError) -> Failure:
    if isinstance(error, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return Failure.NOT_SENT
    if isinstance(error, httpx.TimeoutException):
        return Failure.TIMEOUT
    return Failure.DROPPED


def excerpt(response: Response) -> str:
    """A short, printable start of a body, for error messages."""
    text = response.content[: BODY_EXCERPT_CHARS * 4].decode("utf-8", "replace")
    text = " ".join(text.split())
    if len(text) > BODY_EXCERPT_CHARS:
        text = text[:BODY_EXCERPT_CHARS] + "..."
    return text or "(empty body)"


def _decode(response: Response) -> Any:
    return json.loads(response.content)


def error_from_response(call: Call[Any], response: Response) -> ScaleException:
    """The exception for an error answer, with the server's message when it sent one."""
    status = response.status_code
    message: str | None = None
    try:
        data = _decode(response)
    except (ValueError, RecursionError):
        data = None
    obj = as_json_object(data)
    if obj is not None:
        for key in ("error", "message", "detail"):
            value = obj.get(key)
            if isinstance(value, str) and value:
                message = value
                break
    if message is None:
        reason = response.reason_phrase or "error"
        message = f"{call.name}: {reason}; body: {excerpt(response)}"
    cls = exception_for_status(status)
    error = cls(message, status, request_id=response.headers.get("x-request-id"))
    if isinstance(error, ScaleTooManyRequests):
        wait = retry_after(response.headers)
        error.retry_after = wait if wait is not None and wait != float("inf") else None
    return error


def _parse_success(call: Call[T], response: Response) -> T:
    try:
        return call.parse(_decode(response))
    except (ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError) as exc:
        problem = (
            "is not JSON"
            if isinstance(exc, ValueError) and not _is_json(response)
            else (f"does not fit the API's schema ({type(exc).__name__}: {str(exc)[:100]})")
        )
        raise ScaleBadResponse(
            f"{call.name}: the answer {problem}; body: {excerpt(response)}",
            response.status_code,
            request_id=response.headers.get("x-request-id"),
        ) from None


def _is_json(response: Response) -> bool:
    try:
        _decode(response)
    except (ValueError, RecursionError):
        return False
    return True


def _error_from_failure(
    call: Call[Any], failure: Failure, error: httpx.HTTPError
) -> ScaleException:
    detail = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    if call.kind is CallKind.CREATE and failure is not Failure.NOT_SENT:
        return ScaleOutcomeUnknown(
            f"{call.name}: {failure.value} after the request was sent ({detail}); the task "
            f"may or may not have been created. {UNIQUE_ID_HINT}"
        )
    if failure is Failure.TIMEOUT:
        return ScaleTimeoutError(f"{call.name}: no answer in time ({detail})")
    return ScaleConnectionError(f"{call.name}: {failure.value} ({detail})")


@functools.lru_cache(maxsize=256)
def _parsed_url(url: str) -> httpx.URL:
    return httpx.URL(url)


def build_request(settings: Settings, call: Call[Any]) -> httpx.Request:
    """The request of ``call``: for a JSON body or none, the same request as
    ``httpx.Request(..., json=call.body)`` at a third of the CPU: URLs and headers are
    parsed once, not on every call, and the body is handed over as a ready stream."""
    headers = settings.headers
    if call.headers:
        check_headers(call.headers)
        headers = httpx.Headers(headers)
        headers.update(call.headers)
    extensions = {"timeout": settings.timeout.as_dict()}
    if call.files is not None:
        return httpx.Request(
            call.method,
            settings.base_url + call.path,
            params=call.params,
            data={k: _form_value(v) for k, v in (call.form or {}).items()},
            files={k: _file_part(v) for k, v in call.files.items()},
            headers=headers,
            extensions=extensions,
        )
    url = _parsed_url(settings.base_url + call.path)
    if call.params is not None:
        url = httpx.URL(url, params=call.params)
    content = b"" if call.body is None else json_body(call.body)
    items = tuple(headers.items()) if call.headers else header_items(settings)
    base = _base_headers(items, call.body is not None)
    names = base.keys()
    raw = base.raw
    if "host" not in names and url.host:
        raw = [(b"Host", url.netloc), *raw]
    if "content-length" not in names and (content or call.method in _SENDS_BODY):
        raw = [*raw, (b"Content-Length", str(len(content)).encode())]
    request = httpx.Request(
        call.method, url, headers=raw, stream=httpx.ByteStream(content), extensions=extensions
    )
    request.read()  # a ByteStream: no I/O, it only makes .content available
    return request


_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HEADER_VALUE = re.compile(r"[^\x00-\x08\x0a-\x1f\x7f]*")


def check_headers(headers: Mapping[str, str]) -> None:
    """Refuse a header that HTTP cannot carry (a name that is not a token, a control
    character such as a line break in a value) before anything is sent: each transport
    would refuse it in its own way (httpx as a dropped connection, aiohttp with a
    ``ValueError``), after a create was as good as sent."""
    for name, value in headers.items():
        if not _HEADER_NAME.fullmatch(_text(name)):
            raise ScaleInvalidRequest(f"{name!r} is not a valid HTTP header name", 400)
        if not _HEADER_VALUE.fullmatch(_text(value)):
            raise ScaleInvalidRequest(
                f"the value of header {name!r} is not a string fit for HTTP "
                "(no line breaks or other control characters)",
                400,
            )


def _text(value: object) -> str:
    """A header's name or value as text (httpx also takes bytes); anything else fails."""
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return value if isinstance(value, str) else "\x00"


def json_body(body: Any) -> bytes:
    """A JSON body, compact, UTF-8; NaN and infinities refused (``ValueError``)."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


_SENDS_BODY = frozenset({"POST", "PUT", "PATCH"})  # httpx sends Content-Length: 0 for these


@functools.lru_cache(maxsize=64)
def _base_headers(items: tuple[tuple[str, str], ...], json_body: bool) -> httpx.Headers:
    """The headers of every request with these settings (the JSON content type when
    there is a JSON body and no other type was given); shared, never modified."""
    headers = httpx.Headers(items)
    if json_body and "content-type" not in headers:
        headers["Content-Type"] = "application/json"
    return headers


def _deadline_error(call: Call[Any], settings: Settings, error: ScaleException) -> ScaleException:
    error.message += (
        f" (the call's deadline of {settings.deadline:g}s leaves no time for another try)"
    )
    return error


def _clip_timeouts(request: Request, phases: dict[str, float | None], remaining: float) -> None:
    """No single phase of this attempt may wait past the call's deadline."""
    request.extensions["timeout"] = {
        k: remaining if v is None else min(v, remaining) for k, v in phases.items()
    }


def _form_value(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value)


def _file_part(value: Any) -> Any:
    """A file part from a path, bytes or a binary file object (an open file is streamed
    when sent). A path that cannot be read, or content over the API's upload limit, is a
    ``ScaleInvalidRequest`` before anything is read into memory or sent."""
    if isinstance(value, str | os.PathLike):
        path = os.fspath(cast("str | os.PathLike[str]", value))
        try:
            size = os.stat(path).st_size
            if size > MAX_UPLOAD_BYTES:
                raise ScaleInvalidRequest(
                    f"{path!r} is {size} bytes, over the API's {MAX_UPLOAD_BYTES} byte limit",
                    400,
                )
            with open(path, "rb") as handle:
                return (os.path.basename(path), handle.read())
        except OSError as exc:
            raise ScaleInvalidRequest(f"cannot read the file to upload: {exc}", 400) from None
    if isinstance(value, bytes | bytearray) and len(value) > MAX_UPLOAD_BYTES:
        raise ScaleInvalidRequest(
            f"the file is {len(value)} bytes, over the API's {MAX_UPLOAD_BYTES} byte limit", 400
        )
    return value


def exchange(
    settings: Settings,
    call: Call[T],
    build: Callable[[Settings, Call[Any]], Request] = build_request,
) -> Exchange[T]:
    """Send ``call`` until it succeeds or the policy gives up; see the module docstring."""
    raw = yield from exchange_raw(settings, call, build)
    return raw.parsed


def exchange_raw(
    settings: Settings,
    call: Call[T],
    build: Callable[[Settings, Call[Any]], Request] = build_request,
    *,
    _deadline_at: float | None = None,
) -> Exchange[Raw[T]]:
    """:func:`exchange`, returning the parsed value with the answer it came from."""
    try:
        request = build(settings, call)
    except ScaleException:
        raise
    except (TypeError, ValueError) as exc:  # a body that is not JSON (a set, NaN, ...)
        raise ScaleInvalidRequest(f"{call.name}: the request cannot be sent: {exc}", 400) from None
    policy = settings.policy
    clock = settings.clock
    deadline_at = _deadline_at
    if deadline_at is None and settings.deadline is not None:
        deadline_at = clock() + settings.deadline
    phases = settings.timeout.as_dict()
    # Phases only need clipping once the time left is shorter than the longest of them.
    longest = None if None in phases.values() else max(v for v in phases.values() if v)
    retries = 0
    while True:
        started = clock()
        remaining: float | None = None
        if deadline_at is not None:
            remaining = deadline_at - started
            if remaining <= 0:  # only after a wait: the first attempt always goes out
                raise ScaleTimeoutError(
                    f"{call.name}: the call's deadline of {settings.deadline:g}s passed"
                )
            if longest is None or remaining < longest:
                _clip_timeouts(request, phases, remaining)
        outcome = yield Send(request, remaining, settings.max_response_bytes)
        elapsed_ms = (clock() - started) * 1000.0
        assert outcome is not None
        if not isinstance(outcome, httpx.HTTPError):
            status = outcome.status_code
            logger.info("%s %s -> %d in %.1f ms", call.method, call.path, status, elapsed_ms)
            if status < 300:
                return Raw(
                    _parse_success(call, outcome),
                    status,
                    outcome.headers.get("x-request-id"),
                    retries,
                    outcome,
                )
            if status == 409 and retries and call.recover is not None:
                logger.info(
                    "%s: 409 after a retry: an earlier attempt created the task; fetching it",
                    call.name,
                )
                found = yield from exchange_raw(
                    settings, call.recover(), build, _deadline_at=deadline_at
                )
                return attrs.evolve(found, retries=found.retries + retries)
            decision = policy.decide(
                call.kind,
                Failure.STATUS,
                status=status,
                headers=outcome.headers,
                retries_done=retries,
                now=settings.wall_clock,
                rand=settings.rand,
            )
            if not decision.retry or _past(deadline_at, clock() + decision.delay):
                error = error_from_response(call, outcome)
                if call.kind is CallKind.CREATE and status in (500, 502, 504):
                    error.message += " The task may or may not have been created. " + UNIQUE_ID_HINT
                raise _deadline_error(call, settings, error) if decision.retry else error
        else:
            failure = _classify(outcome)
            logger.info("%s %s -> %s in %.1f ms", call.method, call.path, failure.value, elapsed_ms)
            decision = policy.decide(
                call.kind,
                failure,
                retries_done=retries,
                now=settings.wall_clock,
                rand=settings.rand,
            )
            if isinstance(outcome, DeadlineExceeded):
                raise _error_from_failure(call, failure, outcome) from None
            if not decision.retry or _past(deadline_at, clock() + decision.delay):
                error = _error_from_failure(call, failure, outcome)
                raise (
                    _deadline_error(call, settings, error) if decision.retry else error
                ) from None
        retries += 1
        logger.info(
            "%s: retry %d of %d in %.2fs: %s",
            call.name,
            retries,
            policy.max_retries,
            decision.delay,
            decision.reason,
        )
        yield Sleep(decision.delay)


def _past(deadline_at: float | None, when: float) -> bool:
    return deadline_at is not None and when >= deadline_at


def _refuse_length(response: httpx.Response, limit: int) -> None:
    length = response.headers.get("content-length", "")
    if length.isascii() and length.isdigit() and (len(length) > 18 or int(length) > limit):
        raise ScaleBadResponse(
            f"the answer announces {length[:30]} bytes, over the {limit} byte limit",
            response.status_code,
            request_id=response.headers.get("x-request-id"),
        )


def _too_big(response: httpx.Response, limit: int) -> ScaleBadResponse:
    return ScaleBadResponse(
        f"the answer's body is over the {limit} byte limit (counted after decompression); "
        "it was not read further",
        response.status_code,
        request_id=response.headers.get("x-request-id"),
    )


def late(timeout: float) -> DeadlineExceeded:
    return DeadlineExceeded(
        f"the call's deadline passed before the answer arrived in full ({timeout:.3g}s "
        "were left for this attempt)"
    )


def _keep(response: httpx.Response, chunks: list[bytes]) -> None:
    # What httpx's own read() does with the chunks it joins: the body is then there for
    # .content, .json() and .text.
    response._content = chunks[0] if len(chunks) == 1 else b"".join(chunks)  # pyright: ignore[reportPrivateUsage]


def read_sync(
    response: httpx.Response,
    step: Send,
    started: float,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Read a streamed body into ``response``: decoded bytes counted against
    ``step.max_bytes``, the clock checked against ``step.timeout`` after every chunk."""
    limit = step.max_bytes
    _refuse_length(response, limit)
    chunks: list[bytes] = []
    size = 0
    deadline = None if step.timeout is None else started + step.timeout
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > limit:
            raise _too_big(response, limit)
        chunks.append(chunk)
        if deadline is not None and clock() > deadline:
            raise late(step.timeout or 0.0)
    _keep(response, chunks or [b""])


CLIENT_CLOSED = (
    "the client's connections are closed (by close(), or at the end of its `with` block); "
    "make a new client"
)


def _check_open(http: httpx.Client | httpx.AsyncClient) -> None:
    """A closed ``httpx`` client (httpx would say so with a ``RuntimeError``) is a
    ``ScaleException`` that says what to do."""
    if http.is_closed:
        raise ScaleException(CLIENT_CLOSED)


def _httpx_request(step: Send) -> httpx.Request:
    request = step.request
    if not isinstance(request, httpx.Request):  # a client's bug: the wrong builder
        raise TypeError(f"an httpx driver was handed {request!r}")
    return request


def run_sync(
    client: httpx.Client | Callable[[], httpx.Client],
    steps: Exchange[T],
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Drive an exchange with a blocking ``httpx.Client`` (or a function giving it)."""
    get: Callable[[], httpx.Client] = client if callable(client) else lambda: client
    outcome: Outcome = None
    while True:
        try:
            step = steps.send(outcome)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        if isinstance(step, Sleep):
            sleep(step.seconds)
            outcome = None
            continue
        http = get()
        _check_open(http)
        started = time.monotonic()
        if step.timeout is not None:
            ATTEMPT_DEADLINE.at = started + step.timeout
        try:
            response = http.send(_httpx_request(step), stream=True)
            try:
                read_sync(response, step, started)
            finally:
                response.close()
            outcome = response
        except httpx.HTTPError as error:
            outcome = error
        except RuntimeError:  # closed by another thread meanwhile, or a bug
            _check_open(http)
            raise
        finally:
            ATTEMPT_DEADLINE.at = None


async def read_async(response: httpx.Response, step: Send) -> None:
    """:func:`read_sync` for an async answer (the deadline is the caller's timeout)."""
    limit = step.max_bytes
    _refuse_length(response, limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            raise _too_big(response, limit)
        chunks.append(chunk)
    _keep(response, chunks or [b""])


async def drive_async(
    steps: Exchange[T],
    send: Callable[[Send], Awaitable[Outcome]],
    sleep: Callable[[float], Awaitable[None]] | None = None,
) -> T:
    """Drive an exchange with an async ``send`` (one attempt: the answer, its body read,
    or the ``httpx`` error); each attempt runs under the call's remaining deadline. Every
    async driver (httpx's below, aiohttp's) is this loop with its own ``send``."""
    import asyncio  # only async users pay for importing it

    if sleep is None:
        sleep = asyncio.sleep
    outcome: Outcome = None
    while True:
        try:
            step = steps.send(outcome)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        if isinstance(step, Sleep):
            await sleep(step.seconds)
            outcome = None
            continue
        try:
            async with asyncio.timeout(step.timeout):
                outcome = await send(step)
        except TimeoutError:
            outcome = late(step.timeout or 0.0)


async def run_async(
    client: httpx.AsyncClient | Callable[[], httpx.AsyncClient],
    steps: Exchange[T],
    sleep: Callable[[float], Awaitable[None]] | None = None,
) -> T:
    """Drive an exchange with an ``httpx.AsyncClient`` (or a function giving it)."""
    get: Callable[[], httpx.AsyncClient] = client if callable(client) else lambda: client

    async def send(step: Send) -> Outcome:
        http = get()
        _check_open(http)
        try:
            response = await http.send(_httpx_request(step), stream=True)
            try:
                await read_async(response, step)
            finally:
                await response.aclose()
        except httpx.HTTPError as error:
            return error
        except RuntimeError:  # closed by another task meanwhile, or a bug
            _check_open(http)
            raise
        return response

    return await drive_async(steps, send, sleep)
