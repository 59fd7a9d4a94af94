"""Sending a call: one sans-I/O description of the exchange, driven by a sync and an
async driver, so that retries, logging and error handling are written once.

:func:`exchange` is a generator: it yields :class:`Send` (send this request, give me the
response or the ``httpx`` error) and :class:`Sleep` (wait this long), and returns the
parsed result or raises a :class:`~scaleapi.ScaleException`. The drivers do the I/O.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import random
import time
from collections.abc import Awaitable, Callable, Generator, Mapping
from typing import Any, Generic, TypeAlias, TypeVar, cast

import attrs
import httpx

from ._constants import BODY_EXCERPT_CHARS, LOG_ENV
from ._exceptions import (
    ScaleBadResponse,
    ScaleConnectionError,
    ScaleException,
    ScaleOutcomeUnknown,
    ScaleTimeoutError,
    ScaleTooManyRequests,
    exception_for_status,
)
from ._retry import CallKind, Failure, RetryPolicy, retry_after
from ._types import as_json_object

T = TypeVar("T")

logger = logging.getLogger("scaleapi")

MAX_RESPONSE_BYTES = 64 * 1024 * 1024
"""A body announced larger than this is refused rather than read into memory."""

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


@attrs.frozen
class Call(Generic[T]):
    """One logical API call: what to send, and how to read a successful answer."""

    name: str
    method: str
    path: str
    parse: Callable[[Any], T]
    kind: CallKind = CallKind.READ
    params: Mapping[str, Any] | None = None
    body: Any = None
    """The JSON body: any JSON value, or None for no body at all."""
    # For a create with unique_id: the call that finds the task an earlier attempt made.
    recover: Callable[[], Call[T]] | None = None
    headers: Mapping[str, str] | None = None
    """Extra headers of this call, over the client's."""
    files: Mapping[str, Any] | None = None
    """Multipart file parts (with ``form`` as the text fields), instead of a JSON body."""
    form: Mapping[str, Any] | None = None


@attrs.frozen
class Send:
    request: httpx.Request


@attrs.frozen
class Sleep:
    seconds: float


Step: TypeAlias = Send | Sleep
Outcome: TypeAlias = "httpx.Response | httpx.HTTPError | None"
Exchange: TypeAlias = Generator[Step, Outcome, T]


@attrs.frozen
class Settings:
    """What a client (or a ``with_options`` copy of it) sends every call with."""

    base_url: str
    headers: Mapping[str, str]
    timeout: httpx.Timeout
    policy: RetryPolicy
    clock: Callable[[], float] = time.monotonic
    wall_clock: Callable[[], float] = time.time
    rand: Callable[[], float] = random.random


def _classify(error: httpx.HTTPError) -> Failure:
    if isinstance(error, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return Failure.NOT_SENT
    if isinstance(error, httpx.TimeoutException):
        return Failure.TIMEOUT
    return Failure.DROPPED


def excerpt(response: httpx.Response) -> str:
    """A short, printable start of a body, for error messages."""
    text = response.content[: BODY_EXCERPT_CHARS * 4].decode("utf-8", "replace")
    text = " ".join(text.split())
    if len(text) > BODY_EXCERPT_CHARS:
        text = text[:BODY_EXCERPT_CHARS] + "..."
    return text or "(empty body)"


def _decode(response: httpx.Response) -> Any:
    return json.loads(response.content)


def error_from_response(call: Call[Any], response: httpx.Response) -> ScaleException:
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
        error.retry_after = retry_after(response.headers)
    return error


def _parse_success(call: Call[T], response: httpx.Response) -> T:
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


def _is_json(response: httpx.Response) -> bool:
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
    headers = settings.headers if not call.headers else {**settings.headers, **call.headers}
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
    content = b""
    if call.body is not None:
        content = json.dumps(
            call.body, ensure_ascii=False, separators=(",", ":"), allow_nan=False
        ).encode()
    base = _base_headers(tuple(headers.items()), call.body is not None)
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


_SENDS_BODY = frozenset({"POST", "PUT", "PATCH"})  # httpx sends Content-Length: 0 for these


@functools.lru_cache(maxsize=64)
def _base_headers(items: tuple[tuple[str, str], ...], json_body: bool) -> httpx.Headers:
    """The headers of every request with these settings (the JSON content type when
    there is a JSON body and no other type was given); shared, never modified."""
    headers = httpx.Headers(items)
    if json_body and "content-type" not in headers:
        headers["Content-Type"] = "application/json"
    return headers


def _form_value(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value)


def _file_part(value: Any) -> Any:
    """A file part from a path, bytes or a binary file object (read when sent)."""
    if isinstance(value, str | os.PathLike):
        path = os.fspath(cast("str | os.PathLike[str]", value))
        with open(path, "rb") as handle:
            return (os.path.basename(path), handle.read())
    return value


def exchange(
    settings: Settings,
    call: Call[T],
    build: Callable[[Settings, Call[Any]], httpx.Request] = build_request,
) -> Exchange[T]:
    """Send ``call`` until it succeeds or the policy gives up; see the module docstring."""
    value, _ = yield from exchange_raw(settings, call, build)
    return value


def exchange_raw(
    settings: Settings,
    call: Call[T],
    build: Callable[[Settings, Call[Any]], httpx.Request] = build_request,
) -> Exchange[tuple[T, httpx.Response]]:
    """:func:`exchange`, returning the final answer (its body read) with the parsed value."""
    request = build(settings, call)
    policy = settings.policy
    retries = 0
    while True:
        started = settings.clock()
        outcome = yield Send(request)
        elapsed_ms = (settings.clock() - started) * 1000.0
        if isinstance(outcome, httpx.Response):
            status = outcome.status_code
            logger.info("%s %s -> %d in %.1f ms", call.method, request.url.path, status, elapsed_ms)
            if status < 300:
                return _parse_success(call, outcome), outcome
            if status == 409 and retries and call.recover is not None:
                logger.info(
                    "%s: 409 after a retry: an earlier attempt created the task; fetching it",
                    call.name,
                )
                return (yield from exchange_raw(settings, call.recover(), build))
            decision = policy.decide(
                call.kind,
                Failure.STATUS,
                status=status,
                headers=outcome.headers,
                retries_done=retries,
                now=settings.wall_clock,
                rand=settings.rand,
            )
            if not decision.retry:
                error = error_from_response(call, outcome)
                if call.kind is CallKind.CREATE and status in (500, 502, 504):
                    error.message += " The task may or may not have been created. " + UNIQUE_ID_HINT
                raise error
        else:
            assert outcome is not None
            failure = _classify(outcome)
            logger.info(
                "%s %s -> %s in %.1f ms", call.method, request.url.path, failure.value, elapsed_ms
            )
            decision = policy.decide(
                call.kind,
                failure,
                retries_done=retries,
                now=settings.wall_clock,
                rand=settings.rand,
            )
            if not decision.retry:
                raise _error_from_failure(call, failure, outcome) from None
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


def _too_large(response: httpx.Response) -> bool:
    length = response.headers.get("content-length", "")
    return length.isdigit() and int(length) > MAX_RESPONSE_BYTES


def _refuse(response: httpx.Response) -> ScaleBadResponse:
    return ScaleBadResponse(
        f"the answer announces {response.headers.get('content-length')} bytes, over the "
        f"{MAX_RESPONSE_BYTES} byte limit",
        response.status_code,
    )


def run_sync(
    client: httpx.Client,
    steps: Exchange[T],
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Drive an exchange with a blocking ``httpx.Client``."""
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
        try:
            response = client.send(step.request, stream=True)
            try:
                if _too_large(response):
                    raise _refuse(response)
                response.read()
            finally:
                response.close()
            outcome = response
        except httpx.HTTPError as error:
            outcome = error


async def run_async(
    client: httpx.AsyncClient,
    steps: Exchange[T],
    sleep: Callable[[float], Awaitable[None]] | None = None,
) -> T:
    """Drive an exchange with an ``httpx.AsyncClient``."""
    if sleep is None:
        import asyncio  # only async users pay for importing it

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
            response = await client.send(step.request, stream=True)
            try:
                if _too_large(response):
                    raise _refuse(response)
                await response.aread()
            finally:
                await response.aclose()
            outcome = response
        except httpx.HTTPError as error:
            outcome = error
