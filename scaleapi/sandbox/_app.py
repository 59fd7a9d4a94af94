"""The ASGI app (Starlette): the spec's routes under its base path, and `/admin`."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import functools
import hmac
import ipaddress
import json
import logging
import math
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import quote, unquote

from starlette._utils import get_route_path
from starlette.applications import Starlette
from starlette.datastructures import Headers, URLPath
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, NoMatchFound, Route
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
from ._store import BatchFilters, Store

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

    def __init__(
        self,
        engine: Engine,
        handlers: dict[str, Callable[[Request], Awaitable[Response]]],
        allow: str,
    ) -> None:
        self.engine = engine
        self.handlers = handlers
        self.allow = allow

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive, send)
        handler = self.handlers.get(request.method)
        if handler is not None:
            response = await handler(request)
        elif self.engine.authenticate(request.headers.get("authorization")) is None:
            response = _unauthorized()
        else:
            message = f"Method {request.method} is not allowed here."
            response = _error(405, message, {"Allow": self.allow})
        await response(scope, receive, send)


class _ApiRoute(BaseRoute):
    """Every path under the base path, matched segment by segment on the raw path.

    Path parameters are percent-decoded one segment at a time, so a project or batch
    name with a `/` in it (sent as `%2F`, as the official SDK quotes names) stays one
    parameter. A path the spec does not have answers 401 for a bad key (the API checks
    the key first) and a JSON 404 otherwise.
    """

    def __init__(self, engine: Engine, base_path: str, apps: dict[str, _PathApp]) -> None:
        self.engine = engine
        self.base_path = base_path
        self.literal: dict[tuple[str, ...], _PathApp] = {}
        self.templated: dict[int, list[tuple[tuple[str | None, ...], tuple[str, ...], _PathApp]]]
        self.templated = {}
        for path, app in apps.items():
            segments = tuple(path.strip("/").split("/"))
            if not any(s.startswith("{") for s in segments):
                self.literal[segments] = app
                continue
            pattern = tuple(None if s.startswith("{") else s for s in segments)
            names = tuple(s[1:-1] for s in segments if s.startswith("{"))
            self.templated.setdefault(len(segments), []).append((pattern, names, app))
        for candidates in self.templated.values():  # more literal segments first
            candidates.sort(key=lambda item: sum(part is None for part in item[0]))

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http":
            path = get_route_path(scope)
            if path == self.base_path or path.startswith(self.base_path + "/"):
                return Match.FULL, {}
        return Match.NONE, {}

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        raise NoMatchFound(name, path_params)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = quote(get_route_path(scope))
        raw: bytes | None = scope.get("raw_path")
        if raw:  # the path as sent, %2F kept, less the prefix of an app mounting ours
            root = quote(scope.get("root_path", ""))
            sent = raw.decode("latin-1").partition("?")[0]
            if sent.startswith(root):
                path = sent[len(root) :]
        found = self._find(path[len(self.base_path) :])
        if found is not None:
            app, params = found
            scope["path_params"] = params
            await app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if self.engine.authenticate(headers.get("authorization")) is None:
            response = _unauthorized()
        else:
            response = _error(404, "Not found.")
        await response(scope, receive, send)

    def _find(self, path: str) -> tuple[_PathApp, dict[str, str]] | None:
        segments = tuple(path.strip("/").split("/")) if path.strip("/") else ()
        app = self.literal.get(segments)
        if app is not None:
            return app, {}
        for pattern, names, app in self.templated.get(len(segments), ()):
            values: list[str] = []
            for part, segment in zip(pattern, segments, strict=True):
                if part is None:
                    if not segment:
                        break
                    values.append(unquote(segment, errors="surrogateescape"))
                elif part != segment:
                    break
            else:
                return app, dict(zip(names, values, strict=True))
        return None


def _unauthorized() -> Response:
    return _error(
        401, "Please provide a valid API key.", {"WWW-Authenticate": 'Basic realm="Scale API"'}
    )


Fields = Callable[[Account, Mapping[str, str], Any, Mapping[str, object]], "str | bytes"]
"""An operation served from (account, path parameters, JSON body, query): its answer."""


class _Api:
    """The `/v1` handlers, wired to the operations of the spec."""

    def __init__(self, engine: Engine, spec: ApiSpec) -> None:
        self.engine = engine
        self.spec = spec
        workspace = engine.workspace
        simple: dict[str, Fields] = {
            "cancelTask": lambda a, p, b, q: engine.cancel(
                a, p["task_id"], clear_unique_id=q.get("clear_unique_id") is True
            ),
            "auditTask": lambda a, p, b, q: engine.audit(
                a, p["task_id"], b["accepted"], b.get("comments")
            ),
            "updateTaskUniqueId": lambda a, p, b, q: engine.set_unique_id(
                a, p["task_id"], b["unique_id"]
            ),
            "clearTaskUniqueId": lambda a, p, b, q: engine.clear_unique_id(a, p["task_id"]),
            "setTaskMetadata": lambda a, p, b, q: engine.set_metadata(a, p["task_id"], b),
            "setTaskTags": lambda a, p, b, q: engine.change_tags(a, p["task_id"], "set", b),
            "addTaskTags": lambda a, p, b, q: engine.change_tags(a, p["task_id"], "add", b),
            "deleteTaskTags": lambda a, p, b, q: engine.change_tags(a, p["task_id"], "delete", b),
            "createProject": lambda a, p, b, q: workspace.create_project(a.id, b),
            "listProjects": lambda a, p, b, q: workspace.list_projects(
                a.id, _bool_or_none(q.get("archived"))
            ),
            "getProject": lambda a, p, b, q: workspace.get_project(a.id, p["project_name"]),
            "updateProject": lambda a, p, b, q: workspace.set_project_params(
                a.id, p["project_name"], b
            ),
            "setProjectOntology": lambda a, p, b, q: workspace.set_project_ontology(
                a.id, p["project_name"], b
            ),
            "getProjectTaskTemplate": lambda a, p, b, q: workspace.task_template(
                a.id, p["project_name"]
            ),
            "createBatch": lambda a, p, b, q: workspace.create_batch(a.id, b),
            "getBatch": lambda a, p, b, q: workspace.get_batch(a.id, p["batch_name"]),
            "finalizeBatch": lambda a, p, b, q: workspace.finalize_batch(a.id, p["batch_name"]),
            "getBatchStatus": lambda a, p, b, q: workspace.batch_status(a.id, p["batch_name"]),
            "setBatchMetadata": lambda a, p, b, q: workspace.set_batch_metadata(
                a.id, p["batch_name"], b
            ),
            "importFile": lambda a, p, b, q: workspace.store_file(
                a.id, b, mime_type=workspace.guess_type(b["file_url"]), chunks=None
            ),
            "createEvaluationTask": lambda a, p, b, q: workspace.create_quality_task(
                a.id, "evaluation", p["task_type"], b
            ),
            "createTrainingTask": lambda a, p, b, q: workspace.create_quality_task(
                a.id, "training", p["task_type"], b
            ),
            "listTeammates": lambda a, p, b, q: workspace.teammates(a.id),
            "inviteTeammates": lambda a, p, b, q: workspace.invite(
                a.id, b["emails"], b["team_role"]
            ),
            "updateTeammatesRole": lambda a, p, b, q: workspace.set_role(
                a.id, b["emails"], b["team_role"]
            ),
        }
        self.roles: dict[str, Callable[[Operation], Handler]] = {
            "getTask": self._get,
            "listTasks": self._list,
            "listBatches": self._list_batches,
            "uploadFile": self._upload,
        }
        for operation_id, serve in simple.items():
            self.roles[operation_id] = functools.partial(self._simple, serve)
        # A POST to `<create path prefix>{name}` with no such create: an unknown task type.
        prefixes = {op.path.rpartition("/")[0] for op in spec.operations if op.is_create}
        self.unknown_type_paths = {
            op.path
            for op in spec.operations
            if op.path.rpartition("/")[0] in prefixes and op.path.rpartition("/")[2][:1] == "{"
        }

    def route(self) -> BaseRoute:
        by_path: dict[str, dict[str, Operation]] = {}
        for operation in self.spec.operations:
            by_path.setdefault(operation.path, {})[operation.method] = operation
        apps = {path: self._path_endpoint(path, by_path[path]) for path in by_path}
        return _ApiRoute(self.engine, self.spec.base_path, apps)

    def _path_endpoint(self, path: str, operations: dict[str, Operation]) -> _PathApp:
        handlers: dict[str, Callable[[Request], Awaitable[Response]]] = {}
        for method, operation in operations.items():
            role = self._create if operation.is_create else self.roles.get(operation.operation_id)
            if role is not None:
                handlers[method] = self._wrap(operation, role(operation))
        allow = ", ".join(sorted(handlers))  # the operations of the spec
        if path in self.unknown_type_paths and "POST" not in handlers:
            parameter = path.rpartition("/")[2][1:-1]
            operation = next(iter(operations.values()))
            handlers["POST"] = self._wrap(operation, self._unknown_type(parameter))
        return _PathApp(self.engine, handlers, allow)

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
                return _unauthorized()
            try:
                response = await handler(request, account)
            except ClientDisconnect:  # gone while the request waited: nobody to answer
                return _DropConnection()
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
        engine = self.engine

        async def create(request: Request, account: Account) -> Response:
            _check_query(operation, request)
            data = _parse_json(await _read_body(request))
            version: int | None = None
            fields = as_object(data)
            if fields is not None and ("project" in fields or "batch" in fields):
                data, version = engine.prepare_create(account, task_type, fields)
            if validate is not None:
                validate(data)
            fields = as_object(data)
            if fields is None:
                raise ApiError(400, "The request body must be a JSON object.")
            body = engine.create(account, task_type, fields, version)
            return Response(body.encode(), media_type=_JSON)

        return create

    def _unknown_type(self, parameter: str) -> Handler:
        async def unknown(request: Request, account: Account) -> Response:
            name = request.path_params.get(parameter, "")
            raise ApiError(400, f"Unknown task type: {name[:100]}")

        return unknown

    def _get(self, operation: Operation) -> Handler:
        async def get(request: Request, account: Account) -> Response:
            _check_query(operation, request)
            body = self.engine.get(account, request.path_params["task_id"])
            return Response(body.encode(), media_type=_JSON)

        return get

    def _simple(self, serve: Fields, operation: Operation) -> Handler:
        validate = operation.body_validator
        empty = operation.empty_body

        async def handler(request: Request, account: Account) -> Response:
            query: Mapping[str, object] = {}
            if request.scope.get("query_string"):
                query = operation.parse_query(_query_pairs(request))
            body: Any = None
            if validate is not None:
                raw = await _read_body(request)
                body = _parse_json(raw) if raw.strip() else copy.copy(empty)
                validate(body)
            answer = serve(account, request.path_params, body, query)
            content = answer if isinstance(answer, bytes) else answer.encode()
            return Response(content, media_type=_JSON)

        return handler

    def _list(self, operation: Operation) -> Handler:
        defaults = _page_defaults(operation)

        async def list_tasks(request: Request, account: Account) -> Response:
            query = operation.parse_query(_query_pairs(request))
            return Response(self.engine.list(account, query, defaults), media_type=_JSON)

        return list_tasks

    def _list_batches(self, operation: Operation) -> Handler:
        defaults = _page_defaults(operation)
        workspace = self.engine.workspace
        times = self.engine.time_filter

        async def list_batches(request: Request, account: Account) -> Response:
            query = operation.parse_query(_query_pairs(request))
            filters = BatchFilters(
                start_ms=times(query, "start_time"),
                end_ms=times(query, "end_time"),
                completed_after_ms=times(query, "completed_after"),
                completed_before_ms=times(query, "completed_before"),
                audited_after_ms=times(query, "audited_after"),
                audited_before_ms=times(query, "audited_before"),
                status=_str_or_none(query.get("status")),
                project=_str_or_none(query.get("project")),
            )
            limit = query.get("limit", defaults["limit"])
            offset = query.get("offset", defaults.get("offset", 0))
            assert isinstance(limit, int) and isinstance(offset, int)  # the spec checked
            answer = workspace.list_batches(account.id, filters, limit=limit, offset=offset)
            return Response(answer, media_type=_JSON)

        return list_batches

    def _upload(self, operation: Operation) -> Handler:
        validate = operation.form_validator
        workspace = self.engine.workspace

        async def upload(request: Request, account: Account) -> Response:
            _check_query(operation, request)
            fields, part = await _read_form(request, workspace.files.room())
            if validate is not None:
                validate({**fields, **({"file": ""} if part is not None else {})})
            assert part is not None  # `file` is required by the spec
            filename, media_type, chunks = part
            if "metadata" in fields:
                try:
                    metadata = json.loads(fields["metadata"])
                except ValueError:
                    metadata = None
                if as_object(metadata) is None:
                    raise ApiError(400, "Invalid parameter metadata: must be a JSON object.")
                fields = {**fields, "metadata": metadata}
            kind = media_type if media_type not in (None, "application/octet-stream") else None
            if kind is None and filename:
                kind = workspace.guess_type(filename) or media_type
            if filename and "display_name" not in fields:
                fields = {**fields, "display_name": filename}
            answer = workspace.store_file(account.id, fields, mime_type=kind, chunks=chunks)
            return Response(answer.encode(), media_type=_JSON)

        return upload


def _page_defaults(operation: Operation) -> Mapping[str, object]:
    defaults = operation.query_defaults
    if not isinstance(defaults.get("limit"), int):
        raise ValueError(
            f"{operation.operation_id}: the spec must state the page size as an integer"
            f" `{SERVER_DEFAULT}` of its `limit` parameter"
        )
    return defaults


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _bool_or_none(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


async def _read_form(
    request: Request, room: int
) -> tuple[dict[str, str], tuple[str | None, str | None, list[bytes]] | None]:
    """A `multipart/form-data` body: its text fields, and its `file` part (file name,
    media type, content), streamed: at most `room` bytes of file, MAX_FORM_FIELD_BYTES
    per text field; a JSON 413 or 400 beyond."""
    from python_multipart.exceptions import FormParserError
    from python_multipart.multipart import MultipartParser, parse_options_header

    kind, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise ApiError(400, "The request body must be multipart/form-data with a boundary.")
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > room + MAX_FORM_OVERHEAD:
        raise ApiError(413, _too_large(room))
    fields: dict[str, str] = {}
    file_part: tuple[str | None, str | None, list[bytes]] | None = None
    current: dict[str, Any] = {}
    sizes = {"file": 0}

    def on_part_begin() -> None:
        current.clear()
        current.update(headers={}, chunks=[], size=0, field="", value="")

    def on_header_field(data: bytes, start: int, end: int) -> None:
        current["field"] += data[start:end].decode("latin-1")

    def on_header_value(data: bytes, start: int, end: int) -> None:
        current["value"] += data[start:end].decode("latin-1")

    def on_header_end() -> None:
        current["headers"][current["field"].lower()] = current["value"]
        current["field"] = current["value"] = ""

    def on_part_data(data: bytes, start: int, end: int) -> None:
        disposition = current["headers"].get("content-disposition", "")
        _, params = parse_options_header(disposition)
        limit = room if b"filename" in params or params.get(b"name") == b"file" else None
        current["size"] += end - start
        if limit is None and current["size"] > MAX_FORM_FIELD_BYTES:
            raise ApiError(400, f"A form field is larger than {MAX_FORM_FIELD_BYTES} bytes.")
        if limit is not None and current["size"] > limit:
            raise ApiError(413, _too_large(room))
        current["chunks"].append(bytes(data[start:end]))

    def on_part_end() -> None:
        nonlocal file_part
        _, params = parse_options_header(current["headers"].get("content-disposition", ""))
        name = params.get(b"name", b"").decode("utf-8", "replace")
        if name == "file":
            filename = params.get(b"filename")
            file_part = (
                None if filename is None else filename.decode("utf-8", "replace"),
                current["headers"].get("content-type"),
                current["chunks"],
            )
            sizes["file"] = current["size"]
        elif name:
            if name in fields or len(fields) >= MAX_FORM_FIELDS:
                raise ApiError(400, f"Invalid form field {name[:100]}: repeated or one too many.")
            fields[name] = b"".join(current["chunks"]).decode("utf-8", "replace")

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except FormParserError:
        raise ApiError(400, "The request body is not a valid multipart/form-data body.") from None
    return fields, file_part


MAX_FORM_OVERHEAD = 64 * 1024
"""Bytes of a multipart body beyond its file: the text fields and the part headers."""
MAX_FORM_FIELD_BYTES = 16 * 1024
MAX_FORM_FIELDS = 32


def _too_large(room: int) -> str:
    return f"The file is larger than the {room} bytes the sandbox takes."


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
        routes=[_Api(engine, spec).route(), *_Admin(engine).routes()],
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
