"""What the sandbox does, apart from HTTP: accounts, tasks, completion, callbacks."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._callbacks import CallbackDispatcher
from ._config import Settings
from ._faults import FaultInjector
from ._spec import ApiSpec, CreateDefaults, InvalidRequest, as_object
from ._store import DuplicateUniqueId, ListFilters, Store, StoredTask
from ._times import format_ms, now_ms, parse_iso8601_ms
from ._workers import placeholder_response

__all__ = ["Account", "ApiError", "Engine"]

KEY_PREFIXES = ("live_", "test_")
_MAX_CACHED_ACCOUNTS = 4096
_TOKEN_RE = re.compile(r"c1\.(\d{1,16})\.(\d{1,19})\.(\d{1,10})")
_MAX_SQL_INTEGER = 2**63 - 1
_NO_DEFAULTS = CreateDefaults(top={}, params={})

# The order of a task's fields on the wire; fields the spec gains later go at the end.
_FIELD_ORDER = (
    "task_id",
    "type",
    "status",
    "created_at",
    "completed_at",
    "callback_url",
    "instruction",
    "urgency",
    "params",
    "metadata",
    "response",
    "callback_succeeded",
    "is_test",
    "unique_id",
)
_CANCEL_REFUSALS = {
    "completed": "is already completed",
    "canceled": "is already canceled",
    "error": "has failed",
}


class ApiError(Exception):
    """An error answer: its status code and the `error` message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class Account:
    """Whose request this is: a digest of the API key (never the key itself)."""

    id: str
    is_test: bool


def _dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


def _ordered(task: Mapping[str, Any]) -> dict[str, Any]:
    ordered = {name: task[name] for name in _FIELD_ORDER if name in task}
    ordered.update((name, value) for name, value in task.items() if name not in ordered)
    return ordered


def _new_task_id() -> str:
    # Like a MongoDB ObjectId: 4 bytes of seconds, then 8 random bytes; 24 lowercase hex.
    return f"{int(time.time()) & 0xFFFFFFFF:08x}{os.urandom(8).hex()}"


def encode_token(created_ms: int, seq: int, offset: int) -> str:
    raw = f"c1.{created_ms}.{seq}.{offset}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str) -> tuple[int, int, int] | int | None:
    """What a `next_token` stands for, or None when it is not a valid token.

    The sandbox's own tokens are a position, (created_ms, seq, offset): the next page
    starts after that task, even when newer tasks came in meanwhile. A token that is
    the base64 of a bare number (the form of the spec's example, `MjAx` for 201) is read
    as an offset.
    """
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
    except (binascii.Error, ValueError):
        return None
    if raw.isdigit() and len(raw) <= 10:
        return int(raw)
    match = _TOKEN_RE.fullmatch(raw)
    if match is None:
        return None
    created_ms, seq, offset = int(match[1]), int(match[2]), int(match[3])
    if seq > _MAX_SQL_INTEGER:  # 19 digits can exceed SQLite's integers; ours never do
        return None
    return created_ms, seq, offset


class Engine:
    """The sandbox's state and rules; every method runs on the server's event loop."""

    def __init__(self, settings: Settings, spec: ApiSpec, store: Store) -> None:
        self.settings = settings
        self.spec = spec
        self.store = store
        self.faults = FaultInjector(
            rate=settings.fault_rate, kinds=settings.faults, seed=settings.seed
        )
        self.callbacks = CallbackDispatcher(
            auth_key=lambda: self.settings.callback_auth_key,
            attempts=lambda: self.settings.callback_attempts,
            backoff=lambda: self.settings.callback_backoff,
            timeout=lambda: self.settings.callback_timeout,
            on_delivered=self._mark_callback_succeeded,
        )
        self.requests = 0
        self.tasks_created = 0
        self._accounts: dict[str, Account | None] = {}

    # -- accounts -------------------------------------------------------------------
    def authenticate(self, header: str | None) -> Account | None:
        """The account of an `Authorization: Basic` header, or None when it is not valid."""
        if header is None:
            return None
        try:
            return self._accounts[header]
        except KeyError:
            pass
        account = self._parse_basic(header)
        if len(self._accounts) >= _MAX_CACHED_ACCOUNTS:
            self._accounts.clear()
        self._accounts[header] = account
        return account

    @staticmethod
    def _parse_basic(header: str) -> Account | None:
        scheme, _, encoded = header.strip().partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            return None
        key, colon, _password = decoded.partition(":")
        if not colon or not key.startswith(KEY_PREFIXES) or len(key) <= len("live_"):
            return None
        digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        return Account(id=digest, is_test=key.startswith("test_"))

    # -- the task API ---------------------------------------------------------------
    def create(self, account: Account, task_type: str, data: Mapping[str, Any]) -> str:
        """Store a new task; its JSON as the create answer (`pending`)."""
        created = now_ms()
        task_id = _new_task_id()
        top = self.spec.top_level_fields
        defaults = self.spec.create_defaults.get(task_type, _NO_DEFAULTS)
        params = {name: value for name, value in data.items() if name not in top}
        for name, value in defaults.params.items():
            params.setdefault(name, value)
        task: dict[str, Any] = {
            "task_id": task_id,
            "type": task_type,
            "status": "pending",
            "created_at": format_ms(created),
        }
        for name in ("callback_url", "instruction"):
            if name in data:
                task[name] = data[name]
        task["params"] = params
        task["metadata"] = data.get("metadata", {})
        task["callback_succeeded"] = False
        task["is_test"] = account.is_test
        for name, value in data.items():  # top-level create fields the spec adds later
            if name in top and name not in task:
                task[name] = value
        for name, value in defaults.top.items():
            task.setdefault(name, value)
        task = _ordered(task)
        answer = _dumps(task)
        stored, status = answer, "pending"
        completed: dict[str, Any] | None = None
        if account.is_test:  # test keys: done at once, though the create answer says pending
            completed = self._completed(task, None, created)
            stored, status = _dumps(completed), "completed"
        unique_id = data.get("unique_id")
        try:
            self.store.insert(
                task_id=task_id,
                account=account.id,
                unique_id=unique_id if isinstance(unique_id, str) else None,
                type=task_type,
                status=status,
                is_test=account.is_test,
                created_ms=created,
                body=stored,
            )
        except DuplicateUniqueId:
            raise ApiError(409, f"A task with unique_id '{unique_id}' already exists.") from None
        self.tasks_created += 1
        if completed is not None and "callback_url" in completed:
            self.callbacks.submit(completed)
        return answer

    def get(self, account: Account, task_id: str) -> str:
        row = self._own(account, task_id)
        if row.status == "pending" and not row.is_test:
            due = self._due_ms(row)
            if due is not None and due <= now_ms():
                completed = self._complete_row(row, None, due)
                if completed is not None:
                    return _dumps(completed)
                row = self._own(account, task_id)
        return row.body

    def cancel(self, account: Account, task_id: str) -> str:
        row = self._own(account, task_id)
        while row.status == "pending":
            task = json.loads(row.body)
            task["status"] = "canceled"
            body = _dumps(task)
            if self.store.update(task_id, status="canceled", body=body, expect_status="pending"):
                return body
            row = self._own(account, task_id)  # it changed meanwhile: look again
        refusal = _CANCEL_REFUSALS.get(row.status, f"is {row.status}")
        raise ApiError(400, f"Task {task_id} {refusal} and cannot be canceled.")

    def list(
        self, account: Account, query: Mapping[str, object], defaults: Mapping[str, object]
    ) -> bytes:
        """One page of the account's tasks as JSON (query validated by the spec; `defaults`
        are the spec's `x-server-default`s of its parameters, `limit` among them)."""
        self.complete_due()
        start = self._time_filter(query, "start_time")
        end = self._time_filter(query, "end_time")
        filters = ListFilters(
            start_ms=start,
            end_ms=end,
            status=_str_or_none(query.get("status")),
            type=_str_or_none(query.get("type")),
            unique_id=_str_or_none(query.get("unique_id")),
        )
        limit = _int_or(query.get("limit"), _int_or(defaults.get("limit"), 0))
        offset = _int_or(query.get("offset"), _int_or(defaults.get("offset"), 0))
        after: tuple[int, int] | None = None
        token = query.get("next_token")
        if isinstance(token, str):
            position = decode_token(token)
            if position is None:
                raise ApiError(400, "Invalid parameter next_token: not a token from this server.")
            if isinstance(position, int):
                offset = position
            else:
                after, offset = position[:2], position[2]
        rows, total, has_more = self.store.page(
            account.id, filters, limit=limit, offset=offset, after=after
        )
        head: dict[str, Any] = {
            "total": total,
            "limit": limit,
            "offset": offset,
            "has_more": has_more,
        }
        if has_more and rows:
            head["next_token"] = encode_token(rows[-1].created_ms, rows[-1].seq, offset + len(rows))
        docs = ",".join(row.body for row in rows)
        return f'{{"docs":[{docs}],{_dumps(head)[1:]}'.encode()

    # -- completion -----------------------------------------------------------------
    def complete(self, task_id: str, response: Any | None) -> dict[str, Any]:
        """Complete a pending task of any account (admin), with `response` or a placeholder."""
        row = self.store.get(task_id)
        if row is None:
            raise ApiError(404, "Task with that ID not found.")
        if response is not None:
            if as_object(response) is None:
                raise ApiError(400, "Invalid parameter response: must be object")
            validator = self.spec.response_validator(row.type)
            if validator is not None:
                try:
                    validator(response)
                except InvalidRequest as exc:
                    raise ApiError(400, f"Invalid response: {exc.message}") from None
        if row.status != "pending":
            raise ApiError(409, f"Task {task_id} is {row.status}, not pending.")
        completed = self._complete_row(row, response, now_ms())
        if completed is None:
            raise ApiError(409, f"Task {task_id} is no longer pending.")
        return completed

    def fail(self, task_id: str) -> dict[str, Any]:
        """Put a pending task in status `error` (admin)."""
        row = self.store.get(task_id)
        if row is None:
            raise ApiError(404, "Task with that ID not found.")
        task = json.loads(row.body)
        task["status"] = "error"
        if not self.store.update(
            task_id, status="error", body=_dumps(task), expect_status="pending"
        ):
            raise ApiError(409, f"Task {task_id} is {row.status}, not pending.")
        return dict(task)

    def complete_due(self) -> int:
        """Complete the live tasks whose `complete_after` has passed; how many."""
        delay = self.settings.complete_after
        if delay is None:
            return 0
        done = 0
        while True:
            rows = self.store.due(created_before_ms=now_ms() - int(delay * 1000))
            for row in rows:
                if self._complete_row(row, None, row.created_ms + int(delay * 1000)) is not None:
                    done += 1
            if len(rows) < 1000:
                return done

    def _due_ms(self, row: StoredTask) -> int | None:
        delay = self.settings.complete_after
        return None if delay is None else row.created_ms + int(delay * 1000)

    def _completed(
        self, task: Mapping[str, Any], response: Any | None, completed_ms: int
    ) -> dict[str, Any]:
        if response is None:
            response = placeholder_response(
                self.spec, str(task["type"]), str(task["task_id"]), task.get("params", {})
            )
        done = dict(task)
        done["status"] = "completed"
        done["completed_at"] = format_ms(completed_ms)
        done["response"] = response
        return _ordered(done)

    def _complete_row(
        self, row: StoredTask, response: Any | None, completed_ms: int
    ) -> dict[str, Any] | None:
        completed = self._completed(json.loads(row.body), response, completed_ms)
        if not self.store.update(
            row.task_id, status="completed", body=_dumps(completed), expect_status="pending"
        ):
            return None
        if "callback_url" in completed:
            self.callbacks.submit(completed)
        return completed

    def _mark_callback_succeeded(self, task_id: str) -> None:
        row = self.store.get(task_id)
        if row is None:
            return
        task = json.loads(row.body)
        task["callback_succeeded"] = True
        self.store.update(task_id, status=row.status, body=_dumps(task), expect_status=row.status)

    # -- helpers --------------------------------------------------------------------
    def _own(self, account: Account, task_id: str) -> StoredTask:
        row = self.store.get(task_id)
        if row is None or row.account != account.id:
            raise ApiError(404, "Task with that ID not found.")
        return row

    @staticmethod
    def _time_filter(query: Mapping[str, object], name: str) -> int | None:
        value = query.get(name)
        if not isinstance(value, str):
            return None
        parsed = parse_iso8601_ms(value)
        if parsed is None:  # the spec's format check passed, so this does not happen
            raise ApiError(400, f"Invalid parameter {name}: must be date-time")
        return parsed

    def stats(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "faults": dict(self.faults.counts),
            "tasks_created": self.tasks_created,
            "tasks": self.store.count(),
            "callbacks": self.callbacks.counts(),
        }

    def reset(self) -> None:
        """Forget every task, delivery and counter; restart the fault sequence."""
        self.store.clear()
        self.callbacks.clear()
        self.requests = 0
        self.tasks_created = 0
        self.faults.reset_counts()
        self.faults.configure(
            rate=self.settings.fault_rate, kinds=self.settings.faults, seed=self.settings.seed
        )


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _int_or(value: object, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default
