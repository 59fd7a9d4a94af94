"""Receiving Scale's callbacks: check that they came from Scale, and read them typed.

When a task completes, Scale POSTs ``{"task": ..., "response": ..., "task_id": ...}`` to
the task's ``callback_url`` with the header ``scale-callback-auth: <your callback auth
key>``. This module has no web framework in it; hand it the request's headers and body::

    from scaleapi import callbacks

    def handle(headers, body: bytes) -> int:             # whatever your server gives you
        if not callbacks.verify(headers, CALLBACK_AUTH_KEY):
            return 401
        callback = callbacks.parse_callback(body)
        print(callback.task_id, callback.task.status, callback.response)
        return 200

``verify`` takes the headers as any mapping (a ``dict``, Starlette's ``request.headers``,
Flask's ``request.headers``, a WSGI ``environ``), an :class:`email.message.Message` (what
``http.server`` gives you) or raw ``(name, value)`` pairs (an ASGI scope's ``headers``);
the header name is matched without regard to case. The key is compared in constant time.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterable, Mapping
from email.message import Message
from typing import TYPE_CHECKING, Any, TypeAlias, cast

import attrs

from ._exceptions import ScaleBadResponse, ScaleException
from ._operations import parse_task
from ._task import Task
from ._types import as_json_object

if TYPE_CHECKING:
    from ._generated.task_types import AnyResponse

__all__ = [
    "AUTH_HEADER",
    "Callback",
    "CallbackParseError",
    "CallbackVerificationError",
    "Headers",
    "parse_callback",
    "receive",
    "verify",
    "verify_or_raise",
]

AUTH_HEADER = "scale-callback-auth"
"""The header that carries your account's callback auth key."""

Headers: TypeAlias = (
    Mapping[str, str] | Message | Iterable[tuple[str, str]] | Iterable[tuple[bytes, bytes]]
)
"""Request headers in any of the shapes servers hand them out."""


class CallbackVerificationError(ScaleException):
    """The callback did not carry the right ``scale-callback-auth`` header (``code`` 401).

    Answer such a request with 401 and do not act on it: anyone can POST to your URL.
    """


class CallbackParseError(ScaleBadResponse):
    """The callback's body is not a callback: not JSON, or not the shape the API promises.

    The message says what is wrong (``code`` 400: answer the request with it).
    """


@attrs.frozen
class Callback:
    """A callback, read: the completed ``task`` and its ``response``, typed."""

    task_id: str
    """The ID of the task the callback is about."""
    task: Task
    """The task as Scale sent it (a :class:`scaleapi.Task`)."""
    response: AnyResponse | None
    """The task's answer as the generated model of its type (``CategorizationResponse``,
    ...); the very object ``task.response`` is when the task carries it; ``None`` when the
    callback has no answer (a task that ended in ``error``)."""
    body: Mapping[str, Any] = attrs.field(repr=False)
    """The decoded JSON body, unknown fields included."""

    @property
    def status(self) -> str:
        """The task's status, normally ``"completed"``."""
        return self.task.status


def _values(headers: Headers, name: str) -> list[str]:
    """Every value of the header ``name`` (any case) in ``headers``."""
    if isinstance(headers, Message):
        return [str(value) for value in headers.get_all(name, [])]
    if isinstance(headers, Mapping):
        mapping = cast(Mapping[str, Any], headers)
        wsgi_key = "HTTP_" + name.upper().replace("-", "_")
        if wsgi_key in mapping:  # a WSGI environ
            return [str(mapping[wsgi_key])]
        getlist = getattr(mapping, "getlist", None)
        if callable(getlist):  # Starlette, Werkzeug: case-insensitive, every value
            found = cast(Iterable[Any], getlist(name))
            return [str(value) for value in found]
        pairs: Iterable[tuple[Any, Any]] = mapping.items()
    else:
        pairs = cast(Iterable[tuple[Any, Any]], headers)
    values: list[str] = []
    for key, value in pairs:
        key_text = key.decode("latin-1") if isinstance(key, bytes) else str(key)
        if key_text.lower() == name:
            values.append(value.decode("latin-1") if isinstance(value, bytes) else str(value))
    return values


def verify(headers: Headers, callback_auth_key: str) -> bool:
    """Whether the request carries ``scale-callback-auth: <callback_auth_key>``.

    Exactly one such header must be present; the comparison takes constant time.
    ``callback_auth_key`` is your account's key (Scale's dashboard, or the sandbox's
    ``Sandbox.callback_auth_key``); an empty key raises ``ValueError``, since it would
    accept anyone.
    """
    if not callback_auth_key:
        raise ValueError("callback_auth_key is empty: every request would pass")
    values = _values(headers, AUTH_HEADER)
    if len(values) != 1:
        return False
    return hmac.compare_digest(values[0].strip().encode(), callback_auth_key.encode())


def verify_or_raise(headers: Headers, callback_auth_key: str) -> None:
    """Like :func:`verify`, but raises :class:`CallbackVerificationError` when it fails."""
    if verify(headers, callback_auth_key):
        return
    found = len(_values(headers, AUTH_HEADER))
    problem = (
        f"no {AUTH_HEADER} header"
        if found == 0
        else f"{found} {AUTH_HEADER} headers"
        if found > 1
        else f"the {AUTH_HEADER} header does not match your callback auth key"
    )
    raise CallbackVerificationError(f"not a callback from Scale: {problem}", 401)


def _fail(problem: str) -> CallbackParseError:
    return CallbackParseError(f"invalid callback: {problem}", 400)


def _decode(body: bytes | bytearray | memoryview | str | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(body, Mapping):
        data: Any = dict(body)
    else:
        raw = bytes(body) if isinstance(body, bytearray | memoryview) else body
        if not raw:
            raise _fail("the body is empty")
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            text = raw[:60] if isinstance(raw, str) else raw[:60].decode("utf-8", "replace")
            raise _fail(f"the body is not JSON ({type(exc).__name__}; starts {text!r})") from None
    obj = as_json_object(data)
    if obj is None:
        raise _fail(f"the body is a JSON {type(data).__name__}, not an object")
    return obj


def parse_callback(
    body: bytes | bytearray | memoryview | str | Mapping[str, Any], *, client: object = None
) -> Callback:
    """Read a callback's body (the raw bytes, the text, or the decoded JSON object).

    ``task`` is parsed by the SDK's own task parser, so it is the same typed
    :class:`scaleapi.Task` that ``fetch_task`` returns; pass ``client`` (a ``ScaleClient``
    or ``AsyncScaleClient``) to let ``callback.task.refresh()`` work. ``response`` is the
    generated model of the task's type. Raises :class:`CallbackParseError`, naming what is
    wrong, when the body is not a callback. It does not check where the request came
    from: call :func:`verify` first (or use :func:`receive`, which does both).
    """
    data = _decode(body)
    if "task" not in data:
        raise _fail("no 'task' field")
    raw_task = as_json_object(data["task"])
    if raw_task is None:
        raise _fail(f"'task' is a JSON {type(data['task']).__name__}, not an object")
    try:
        model, task_data = parse_task(raw_task)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        detail = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)[:120]
        raise _fail(f"'task' does not fit the API's task schema ({detail})") from None
    task: Task = Task(model, task_data, client)

    task_id = data.get("task_id", task.id)
    if not isinstance(task_id, str):
        raise _fail(f"'task_id' is a JSON {type(task_id).__name__}, not a string")
    if task_id != task.id:
        raise _fail(f"'task_id' {task_id!r} is not the id of its task ({task.id!r})")

    response: AnyResponse | None = task.response
    raw_response = data.get("response")
    if response is None and raw_response is not None:
        response = _parse_response(raw_task, raw_response)
    return Callback(task_id=task_id, task=task, response=response, body=data)


def _parse_response(raw_task: dict[str, Any], raw: object) -> AnyResponse:
    """The callback's ``response``, read by the same generated task model as its task
    (a task that carries this response), so it is typed as that task type's answer."""
    obj = as_json_object(raw)
    if obj is None:
        raise _fail(f"'response' is a JSON {type(raw).__name__}, not an object")
    try:
        model, _ = parse_task({**raw_task, "response": obj})
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        detail = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)[:120]
        kind = raw_task.get("type")
        raise _fail(f"'response' does not fit the {kind} response schema ({detail})") from None
    response: AnyResponse | None = Task(model, {}).response
    assert response is not None  # it was just put on the task
    return response


def receive(
    headers: Headers,
    body: bytes | bytearray | memoryview | str | Mapping[str, Any],
    callback_auth_key: str,
    *,
    client: object = None,
) -> Callback:
    """Verify and parse in one call: raises :class:`CallbackVerificationError` (answer 401)
    or :class:`CallbackParseError` (answer 400), else returns the :class:`Callback`."""
    verify_or_raise(headers, callback_auth_key)
    return parse_callback(body, client=client)
