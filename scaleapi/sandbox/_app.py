"""The ASGI app (Starlette): the spec's routes under its base path, and `/admin`."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import json
import logging
import math
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from ._config import (
    ADMIN_TOKEN_OFF,
    OptionError,
    Settings,
    is_loopback_host,
    runtime_options,
)
from ._engine import Account, ApiError, Engine
from ._spec import (
    SERVER_DEFAULT,
    ApiSpec,
    InvalidRequest,
    Operation,
    api_spec_from,
    as_object,
)
from ._store import Store

__all__ = ["TRANSPORT_SCOPE_KEY", "build_app"]

logger = logging.getLogger("scaleapi.sandbox")

TRANSPORT_SCOPE_KEY = "scaleapi.sandbox.transport"
"""Key, in `scope["extensions"]`, of the asyncio transport (set by the sandbox's server)."""
MAX_BODY_BYTES = 8 * 1024 * 1024
"""Largest request body read; a bigger one gets a JSON 413."""
_SWEEP_INTERVAL = 0.25
_JSON = "application/json"
_FAULT_MESSAGES = {
    "500": "Internal server error (injected fault).",
    "503": "Service unavailable (injected fault).",
    "429": "Too many requests (injected fault).",
}

Handler = Callable[[Request, Account], Awaitable[Response]]


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps({"status_code": status, "error": message}).encode()
    return Response(body, status_code=status, headers=headers, media_type=_JSON)


def _json(value: object, status: int = 200) -> Response:
    return Response(json.dumps(value).encode(), status_code=status, media_type=_JSON)


async def _read_body(request: Request) -> bytes:
    """The request body, at most MAX_BODY_BYTES of it (else a 413, before reading more)."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > MAX_BODY_BYTES:
        raise ApiError(413, f"The request body is larger than {MAX_BODY_BYTES} bytes.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise ApiError(413, f"The request body is larger than {MAX_BODY_BYTES} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError("number out of range")
    return value


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw, parse_float=_finite_float, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise ApiError(400, "The request body is not valid JSON.") from None


class _DropConnection(Response):
    """Not an answer: aborts the TCP connection before any byte of a response is sent."""

    def __init__(self) -> None:
        super().__init__(status_code=503)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        transport = scope.get("extensions", {}).get(TRANSPORT_SCOPE_KEY)
        if transport is None:  # served by another server: the closest thing is a 503
            await _error(503, "Connection dropped (injected fault).")(scope, receive, send)
            return
        transport.abort()
        # Wait until the server has noticed, so that it does not answer in our place.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(1.0):
                while (await receive())["type"] != "http.disconnect":
                    pass


class _PathApp:
    """One path of the spec, every method: its operations, or 405 with `Allow`."""

    def __init__(self, handlers: dict[str, Callable[[Request], Awaitable[Response]]]) -> None:
        self.handlers = handlers
        self.allow = ", ".join(sorted(handlers))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive, send)
        handler = self.handlers.get(request.method)
        if handler is None:
            message = f"Method {request.method} is not allowed here."
            response = _error(405, message, {"Allow": self.allow})
        else:
            response = await handler(request)
        await response(scope, receive, send)


class _Api:
    """The `/v1` handlers, wired to the operations of the spec."""

    def __init__(self, engine: Engine, spec: ApiSpec) -> None:
        self.engine = engine
        self.spec = spec
        self.roles: dict[str, Callable[[Operation], Handler]] = {
            "getTask": self._get,
            "cancelTask": self._cancel,
            "listTasks": self._list,
        }

    def routes(self) -> list[BaseRoute]:
        by_path: dict[str, dict[str, Operation]] = {}
        for operation in self.spec.operations:
            by_path.setdefault(operation.path, {})[operation.method] = operation
        # Literal paths before templated ones: `GET /task/categorization` is a 405 of the
        # create path, not a lookup of a task called "categorization".
        ordered = sorted(by_path, key=lambda path: "{" in path)
        return [
            Route(self.spec.base_path + path, self._path_endpoint(by_path[path]))
            for path in ordered
        ]

    def _path_endpoint(self, operations: dict[str, Operation]) -> _PathApp:
        handlers: dict[str, Callable[[Request], Awaitable[Response]]] = {}
        for method, operation in operations.items():
            role = self._create if operation.is_create else self.roles.get(operation.operation_id)
            if role is not None:
                handlers[method] = self._wrap(operation, role(operation))
        return _PathApp(handlers)

    def _wrap(
        self, operation: Operation, handler: Handler
    ) -> Callable[[Request], Awaitable[Response]]:
        engine = self.engine
        is_create = operation.is_create

        async def handle(request: Request) -> Response:
            engine.requests += 1
            settings = engine.settings
            if settings.latency_ms:
                await asyncio.sleep(settings.latency_ms / 1000)
            fault = engine.faults.draw(is_create=is_create)
            if fault is not None and fault != "drop":
                headers = {"Retry-After": settings.retry_after} if fault == "429" else None
                return _error(int(fault), _FAULT_MESSAGES[fault], headers)
            account = engine.authenticate(request.headers.get("authorization"))
            if account is None:
                return _error(
                    401,
                    "Please provide a valid API key.",
                    {"WWW-Authenticate": 'Basic realm="Scale API"'},
                )
            try:
                response = await handler(request, account)
            except ApiError as exc:
                response = _error(exc.status, exc.message)
            except InvalidRequest as exc:
                response = _error(400, exc.message)
            if fault == "drop":
                return _DropConnection()
            return response

        return handle

    # -- the roles ------------------------------------------------------------------
    def _create(self, operation: Operation) -> Handler:
        task_type = operation.task_type
        assert task_type is not None
        validate = operation.body_validator

        async def create(request: Request, account: Account) -> Response:
            _check_query(operation, request)
            data = _parse_json(await _read_body(request))
            if validate is not None:
                validate(data)
            fields = as_object(data)
            if fields is None:
                raise ApiError(400, "The request body must be a JSON object.")
            body = self.engine.create(account, task_type, fields)
            return Response(body.encode(), media_type=_JSON)

        return create

    def _get(self, operation: Operation) -> Handler:
        async def get(request: Request, account: Account) -> Response:
            _check_query(operation, request)
            body = self.engine.get(account, request.path_params["task_id"])
            return Response(body.encode(), media_type=_JSON)

        return get

    def _cancel(self, operation: Operation) -> Handler:
        validate = operation.body_validator

        async def cancel(request: Request, account: Account) -> Response:
            _check_query(operation, request)
            raw = await _read_body(request)
            if raw.strip():
                data = _parse_json(raw)
                if validate is not None:
                    validate(data)
            body = self.engine.cancel(account, request.path_params["task_id"])
            return Response(body.encode(), media_type=_JSON)

        return cancel

    def _list(self, operation: Operation) -> Handler:
        defaults = operation.query_defaults
        if not isinstance(defaults.get("limit"), int):
            raise ValueError(
                f"{operation.operation_id}: the spec must state the page size as an integer"
                f" `{SERVER_DEFAULT}` of its `limit` parameter"
            )

        async def list_tasks(request: Request, account: Account) -> Response:
            query = operation.parse_query(_query_pairs(request))
            return Response(self.engine.list(account, query, defaults), media_type=_JSON)

        return list_tasks


def _query_pairs(request: Request) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    raw: bytes = request.scope.get("query_string", b"")
    if not raw:
        return []
    return parse_qsl(raw.decode("latin-1"), keep_blank_values=True, errors="replace")


def _check_query(operation: Operation, request: Request) -> None:
    """Unknown query parameters are rejected where the spec documents a 400 answer."""
    if operation.rejects_invalid and request.scope.get("query_string"):
        operation.parse_query(_query_pairs(request))


class _Admin:
    """`/admin`: inspect and steer the sandbox; see `_admin_refusal` for who may."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def routes(self) -> list[BaseRoute]:
        guard = self._guarded
        return [
            Route("/admin/health", guard(self.health, token=False), methods=["GET"]),
            Route("/admin/stats", guard(self.stats), methods=["GET"]),
            Route("/admin/reset", guard(self.reset), methods=["POST"]),
            Route("/admin/config", guard(self.get_config), methods=["GET"]),
            Route("/admin/config", guard(self.set_config), methods=["POST", "PATCH"]),
            Route("/admin/callbacks", guard(self.callbacks), methods=["GET"]),
            Route("/admin/tasks/{task_id}", guard(self.task), methods=["GET"]),
            Route("/admin/tasks/{task_id}/complete", guard(self.complete), methods=["POST"]),
            Route("/admin/tasks/{task_id}/fail", guard(self.fail), methods=["POST"]),
        ]

    def _guarded(
        self, endpoint: Callable[[Request], Awaitable[Response]], *, token: bool = True
    ) -> Callable[[Request], Awaitable[Response]]:
        engine = self.engine

        async def guarded(request: Request) -> Response:
            refusal = _admin_refusal(request, engine.settings, check_token=token)
            if refusal is not None:
                return refusal
            return await endpoint(request)

        return guarded

    async def health(self, request: Request) -> Response:
        return _json({"status": "ok"})

    async def stats(self, request: Request) -> Response:
        return _json(self.engine.stats())

    async def reset(self, request: Request) -> Response:
        self.engine.reset()
        return _json({"status": "ok"})

    async def get_config(self, request: Request) -> Response:
        return _json(self.engine.settings.runtime_values())

    async def set_config(self, request: Request) -> Response:
        """Change run-time settings; giving any fault setting restarts the fault sequence."""
        changes = await _admin_body(request)
        unknown = sorted(set(changes) - set(runtime_options()))
        if unknown:
            return _error(400, f"Unknown parameter: {unknown[0]}")
        try:
            settings = self.engine.settings.changed(changes)
        except OptionError as exc:
            return _error(400, f"Invalid parameter {exc.name}: {exc.reason}")
        self.engine.settings = settings
        if {"fault_rate", "faults", "seed"} & set(changes):
            self.engine.faults.configure(
                rate=settings.fault_rate, kinds=settings.faults, seed=settings.seed
            )
        return _json(settings.runtime_values())

    async def callbacks(self, request: Request) -> Response:
        task_id = request.query_params.get("task_id")
        deliveries = [
            record
            for record in self.engine.callbacks.deliveries
            if task_id is None or record["task_id"] == task_id
        ]
        return _json({"deliveries": deliveries})

    async def task(self, request: Request) -> Response:
        row = self.engine.store.get(request.path_params["task_id"])
        if row is None:
            return _error(404, "Task with that ID not found.")
        return Response(row.body.encode(), media_type=_JSON)

    async def complete(self, request: Request) -> Response:
        """Complete a pending task; the optional body `{"response": {...}}` is its answer."""
        body = await _admin_body(request)
        unknown = sorted(set(body) - {"response"})
        if unknown:
            return _error(400, f"Unknown parameter: {unknown[0]}")
        try:
            task = self.engine.complete(request.path_params["task_id"], body.get("response"))
        except ApiError as exc:
            return _error(exc.status, exc.message)
        return _json(task)

    async def fail(self, request: Request) -> Response:
        try:
            task = self.engine.fail(request.path_params["task_id"])
        except ApiError as exc:
            return _error(exc.status, exc.message)
        return _json(task)


def _host_name(authority: str) -> str:
    """The host of a `Host` header (`[::1]:8080` gives `::1`), lower case."""
    if authority.startswith("["):
        return authority[1 : authority.find("]")].lower()
    return authority.rpartition(":")[0].lower() if ":" in authority else authority.lower()


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _admin_refusal(request: Request, settings: Settings, *, check_token: bool) -> Response | None:
    """Why an admin request is refused (a 401 or 403 answer), or None to serve it.

    - A request from a web page is refused: its `Origin` (or `Sec-Fetch-Site`) says it
      comes from another site, and nothing the sandbox serves makes admin requests.
    - With a token (`admin_token`), the request must carry it as `Authorization: Bearer`.
    - Without one, only requests that came in on a loopback address and name a loopback
      host (`localhost`, `127.0.0.1`, `[::1]`) are served: a DNS-rebinding page, whose
      `Host` is its own name, is refused. With the token explicitly off, any IP address
      or `localhost` is a valid `Host`, never a DNS name.
    """
    headers = request.headers
    host = headers.get("host", "")
    origin = headers.get("origin")
    if origin is not None and origin not in (f"http://{host}", f"https://{host}"):
        return _error(403, f"Admin requests from web pages are refused (Origin {origin[:100]}).")
    site = headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return _error(
            403, f"Admin requests from web pages are refused (Sec-Fetch-Site {site[:40]})."
        )
    token = settings.admin_token_required
    if token is not None:
        if not check_token:
            return None
        scheme, _, given = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode(), token.encode()
        ):
            return None
        return _error(
            401,
            "The admin routes need the sandbox's admin token (Authorization: Bearer ...).",
            {"WWW-Authenticate": 'Bearer realm="scaleapi sandbox admin"'},
        )
    name = _host_name(host)
    if settings.admin_token == ADMIN_TOKEN_OFF:
        if name == "localhost" or _is_ip_literal(name):
            return None
        return _error(403, f"Admin requests must name the sandbox by address, not {name[:100]!r}.")
    server = request.scope.get("server")
    if server is not None and not is_loopback_host(str(server[0])):
        return _error(
            403,
            "Admin requests on a non-loopback address need a token: start the sandbox"
            " with --admin-token.",
        )
    if not is_loopback_host(name):
        return _error(403, f"Admin requests must name a loopback host, not {name[:100]!r}.")
    return None


async def _admin_body(request: Request) -> dict[str, Any]:
    raw = await _read_body(request)
    if not raw.strip():
        return {}
    data = as_object(_parse_json(raw))
    if data is None:
        raise ApiError(400, "The request body must be a JSON object.")
    return data


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = {404: "Not found.", 405: "Method not allowed."}.get(exc.status_code, str(exc.detail))
    return _error(exc.status_code, message, dict(exc.headers or {}))


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return _error(exc.status, exc.message)


async def _server_error(request: Request, exc: Exception) -> Response:
    return _error(500, "Internal server error.")


def build_app(settings: Settings) -> Starlette:
    """The sandbox as an ASGI app; its state lives as long as the app."""
    spec = api_spec_from(settings.spec)
    store = Store(settings.db)
    engine = Engine(settings, spec, store)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncGenerator[None]:
        sweeper = asyncio.get_running_loop().create_task(_sweep(engine))
        try:
            yield
        finally:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
            await engine.callbacks.aclose()

    app = Starlette(
        routes=[*_Api(engine, spec).routes(), *_Admin(engine).routes()],
        exception_handlers={
            HTTPException: _http_error,
            ApiError: _api_error,
            Exception: _server_error,
        },
        lifespan=lifespan,
    )
    app.state.engine = engine
    return app


async def _sweep(engine: Engine) -> None:
    """Complete live tasks once their `complete_after` has passed."""
    while True:
        await asyncio.sleep(_SWEEP_INTERVAL)
        try:
            engine.complete_due()
        except Exception:  # keep sweeping; the next request will show the error
            logger.exception("automatic completion failed")
