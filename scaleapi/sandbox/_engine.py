"""What the sandbox does, apart from HTTP: accounts, tasks, completion, callbacks."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from ._callbacks import CallbackDispatcher
from ._config import Settings
from ._errors import ApiError
from ._faults import FaultInjector
from ._files import FileBytes
from ._spec import ApiSpec, CreateDefaults, InvalidRequest, as_object
from ._store import DuplicateUniqueId, ListFilters, Store, StoredTask
from ._times import format_ms, now_ms, parse_iso8601_ms
from ._workers import placeholder_response
from ._workspace import Workspace

__all__ = ["Account", "ApiError", "Engine"]

KEY_PREFIXES = ("live_", "test_")
_MAX_CACHED_ACCOUNTS = 4096
_TOKEN_RE = re.compile(r"c1\.(\d{1,16})\.(\d{1,19})\.(\d{1,10})")
_MAX_SQL_INTEGER = 2**63 - 1
_NO_DEFAULTS = CreateDefaults(top={}, params={})
_MAX_CHANGE_TRIES = 5
MAX_TAGS = 100
"""Tags a task may have (the spec's bound of one tag list)."""

# The order of a task's fields on the wire; fields the spec gains later go at the end.
_FIELD_ORDER = (
    "task_id",
    "type",
    "status",
    "created_at",
    "completed_at",
    "updated_at",
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
_LIMITED_FIELDS = ("task_id", "status", "metadata", "project", "otherVersion")
_CANCEL_REFUSALS = {
    "completed": "is already completed",
    "error": "has failed",
}


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
        self.workspace = Workspace(store, FileBytes(settings.db))
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
    def prepare_create(
        self, account: Account, task_type: str, data: dict[str, Any]
    ) -> tuple[dict[str, Any], int | None]:
        """The create request as the server reads it: the project's params merged under the
        request's own (a batch implies its project), and the project's param version.

        A project or batch that does not exist, a project of another type, a batch of
        another project, or a batch that takes no more tasks: 400, as the API answers.
        """
        project_name = data.get("project")
        batch_name = data.get("batch")
        if isinstance(batch_name, str):
            batch = self.store.get_batch(account.id, batch_name)
            if batch is None:
                raise ApiError(400, f"Batch not found: {batch_name}")
            if batch.finalized or batch.status == "completed":
                raise ApiError(
                    400, f"Batch {batch_name} is finalized ({batch.status}): it takes no new tasks."
                )
            if isinstance(project_name, str) and project_name != batch.project:
                raise ApiError(
                    400,
                    f"Batch {batch_name} belongs to project {batch.project}, not {project_name}.",
                )
            project_name = batch.project
        if not isinstance(project_name, str):
            return data, None
        body = self.store.get_project(account.id, project_name)
        if body is None:
            raise ApiError(400, f"Project not found: {project_name}")
        project = json.loads(body)
        if project["type"] != task_type:
            raise ApiError(
                400,
                f"Project {project_name} is of type {project['type']}, not {task_type}.",
            )
        history = project["param_history"]
        merged = {"project": project_name}
        version: int | None = None
        if history:
            latest = dict(history[-1])
            version = latest.pop("version")
            latest.pop("created_at", None)
            merged.update(latest)
        merged.update(data)
        return merged, version

    def create(
        self,
        account: Account,
        task_type: str,
        data: Mapping[str, Any],
        project_version: int | None = None,
    ) -> str:
        """Store a new task; its JSON as the create answer (`pending`)."""
        created = now_ms()
        task_id = _new_task_id()
        top = self.spec.top_level_fields
        defaults = self.spec.create_defaults.get(task_type, _NO_DEFAULTS)
        params = {name: value for name, value in data.items() if name not in top}
        for name, value in defaults.params.items():
            params.setdefault(name, value)
        stamp = format_ms(created)
        task: dict[str, Any] = {
            "task_id": task_id,
            "type": task_type,
            "status": "pending",
            "created_at": stamp,
            "updated_at": stamp,
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
        if project_version is not None:
            task["project_param_version"] = project_version
        task = _ordered(task)
        answer = _dumps(task)
        stored, status = answer, "pending"
        completed: dict[str, Any] | None = None
        if account.is_test:  # test keys: done at once, though the create answer says pending
            completed = self._completed(task, None, created)
            stored, status = _dumps(completed), "completed"
        unique_id = data.get("unique_id")
        tags = data.get("tags")
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
                project=_str_or_none(data.get("project")),
                batch=_str_or_none(data.get("batch")),
                completed_ms=created if completed is not None else None,
                tags=_strings(cast("object", tags)) if isinstance(tags, list) else None,
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

    def cancel(self, account: Account, task_id: str, *, clear_unique_id: bool = False) -> str:
        """Cancel a pending task (a canceled one stays as it is); 400 for other statuses."""

        def change(task: dict[str, Any], columns: dict[str, object]) -> None:
            if task["status"] not in ("pending", "canceled"):
                refusal = _CANCEL_REFUSALS.get(task["status"], f"is {task['status']}")
                raise ApiError(400, f"Task {task_id} {refusal} and cannot be canceled.")
            if task["status"] == "pending":
                task["status"] = columns["status"] = "canceled"
            if clear_unique_id and "unique_id" in task:
                del task["unique_id"]
                columns["unique_id"] = None

        return self._change(account, task_id, change)

    def audit(self, account: Account, task_id: str, accepted: bool, comments: Any) -> str:
        """Record the customer's audit of a completed task (replacing an earlier one)."""
        result = "accepted" if accepted else "rejected"
        stamp = now_ms()
        batch: list[str] = []

        def change(task: dict[str, Any], columns: dict[str, object]) -> None:
            if task["status"] != "completed":
                raise ApiError(
                    400, f"Task {task_id} is {task['status']}: only completed tasks can be audited."
                )
            entry: dict[str, Any] = {
                "audited_by": "customer",
                "audited_at": format_ms(stamp),
                "audit_time_secs": 0,
                "audit_result": result,
                "audit_source": "customer",
            }
            if isinstance(comments, str):
                entry["comments"] = comments
            audits = [a for a in task.get("audits", []) if a.get("audit_source") != "customer"]
            task["audits"] = [*audits, entry]
            task["customer_review_status"] = columns["review_status"] = result
            if isinstance(task.get("batch"), str):
                batch.append(task["batch"])

        answer = self._change(account, task_id, change, now=stamp)
        if batch:
            self.store.update_batch(account.id, batch[0], audited_ms=stamp)
        return answer

    def set_unique_id(self, account: Account, task_id: str, unique_id: str) -> str:
        def change(task: dict[str, Any], columns: dict[str, object]) -> None:
            task["unique_id"] = columns["unique_id"] = unique_id

        try:
            return self._change(account, task_id, change)
        except DuplicateUniqueId:
            raise ApiError(409, f"A task with unique_id '{unique_id}' already exists.") from None

    def clear_unique_id(self, account: Account, task_id: str) -> str:
        def change(task: dict[str, Any], columns: dict[str, object]) -> None:
            task.pop("unique_id", None)
            columns["unique_id"] = None

        return self._change(account, task_id, change)

    def set_metadata(self, account: Account, task_id: str, metadata: dict[str, Any]) -> str:
        def change(task: dict[str, Any], columns: dict[str, object]) -> None:
            task["metadata"] = metadata

        return self._change(account, task_id, change)

    def change_tags(self, account: Account, task_id: str, how: str, tags: list[str]) -> str:
        """`how` is `set` (replace), `add` (append the missing ones) or `delete`."""

        def change(task: dict[str, Any], columns: dict[str, object]) -> None:
            current: list[str] = list(task.get("tags", []))
            if how == "set":
                new = list(dict.fromkeys(tags))
            elif how == "add":
                new = list(dict.fromkeys([*current, *tags]))
            else:
                gone = set(tags)
                new = [tag for tag in current if tag not in gone]
            if len(new) > MAX_TAGS:
                raise ApiError(400, f"A task has at most {MAX_TAGS} tags; this makes {len(new)}.")
            task["tags"] = columns["tags"] = new

        return self._change(account, task_id, change)

    def list(
        self, account: Account, query: Mapping[str, object], defaults: Mapping[str, object]
    ) -> bytes:
        """One page of the account's tasks as JSON (query validated by the spec; `defaults`
        are the spec's `x-server-default`s of its parameters, `limit` among them)."""
        self.complete_due()
        review = _str_or_none(query.get("customer_review_status"))
        filters = ListFilters(
            start_ms=self.time_filter(query, "start_time"),
            end_ms=self.time_filter(query, "end_time"),
            completed_after_ms=self.time_filter(query, "completed_after"),
            completed_before_ms=self.time_filter(query, "completed_before"),
            updated_after_ms=self.time_filter(query, "updated_after"),
            updated_before_ms=self.time_filter(query, "updated_before"),
            status=_str_or_none(query.get("status")),
            type=_str_or_none(query.get("type")),
            project=_str_or_none(query.get("project")),
            batch=_str_or_none(query.get("batch")),
            unique_ids=_strings(query.get("unique_id")),
            tags=_strings(query.get("tags")),
            review_statuses=None if review is None else review.split(","),
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
        bodies = [row.body for row in rows]
        if query.get("limited_response") is True:
            bodies = [_dumps(_limited(json.loads(body))) for body in bodies]
        elif query.get("include_attachment_url") is True:
            bodies = [_dumps(_with_attachment_url(json.loads(body))) for body in bodies]
        return f'{{"docs":[{",".join(bodies)}],{_dumps(head)[1:]}'.encode()

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
        stamp = now_ms()
        task["status"] = "error"
        task["updated_at"] = format_ms(stamp)
        if not self.store.rewrite(
            task_id,
            expect_status="pending",
            status="error",
            body=_dumps(task),
            updated_ms=stamp,
        ):
            raise ApiError(409, f"Task {task_id} is {row.status}, not pending.")
        if row.batch is not None:
            self._refresh_batch(row.account, row.batch)
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
        done["completed_at"] = done["updated_at"] = format_ms(completed_ms)
        done["response"] = response
        return _ordered(done)

    def _complete_row(
        self, row: StoredTask, response: Any | None, completed_ms: int
    ) -> dict[str, Any] | None:
        completed = self._completed(json.loads(row.body), response, completed_ms)
        if not self.store.rewrite(
            row.task_id,
            expect_status="pending",
            status="completed",
            body=_dumps(completed),
            completed_ms=completed_ms,
            updated_ms=completed_ms,
        ):
            return None
        if "callback_url" in completed:
            self.callbacks.submit(completed)
        if row.batch is not None:
            self._refresh_batch(row.account, row.batch)
        return completed

    def _mark_callback_succeeded(self, task_id: str) -> None:
        row = self.store.get(task_id)
        if row is None:
            return
        task = json.loads(row.body)
        task["callback_succeeded"] = True
        self.store.update(task_id, status=row.status, body=_dumps(task), expect_status=row.status)

    def _change(
        self,
        account: Account,
        task_id: str,
        change: Callable[[dict[str, Any], dict[str, object]], None],
        *,
        now: int | None = None,
    ) -> str:
        """Apply `change` to the task (it edits the task and names the columns to set);
        the task's new JSON. Retried when the task changed meanwhile."""
        for _ in range(_MAX_CHANGE_TRIES):
            row = self._own(account, task_id)
            task: dict[str, Any] = json.loads(row.body)
            columns: dict[str, object] = {}
            change(task, columns)
            if task == json.loads(row.body):  # nothing to change: not even updated_at
                return row.body
            stamp = now_ms() if now is None else now
            task["updated_at"] = format_ms(stamp)
            body = _dumps(_ordered(task))
            if self.store.rewrite(
                task_id, expect_status=row.status, body=body, updated_ms=stamp, **columns
            ):
                if row.batch is not None and columns.get("status", row.status) != row.status:
                    self._refresh_batch(row.account, row.batch)
                return body
        raise ApiError(409, f"Task {task_id} keeps changing; try again.")

    # -- helpers --------------------------------------------------------------------
    def _own(self, account: Account, task_id: str) -> StoredTask:
        row = self.store.get(task_id)
        if row is None or row.account != account.id:
            raise ApiError(404, "Task with that ID not found.")
        return row

    @staticmethod
    def time_filter(query: Mapping[str, object], name: str) -> int | None:
        value = query.get(name)
        if not isinstance(value, str):
            return None
        parsed = parse_iso8601_ms(value)
        if parsed is None:  # the spec's format check passed, so this does not happen
            raise ApiError(400, f"Invalid parameter {name}: must be date-time")
        return parsed

    def _refresh_batch(self, account: str, batch: str) -> None:
        self.workspace.refresh_batch(account, batch)

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
        self.workspace.files.clear()
        self.callbacks.clear()
        self.requests = 0
        self.tasks_created = 0
        self.faults.reset_counts()
        self.faults.configure(
            rate=self.settings.fault_rate, kinds=self.settings.faults, seed=self.settings.seed
        )


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _strings(value: object) -> list[str] | None:
    """A query value that may be repeated, as a list (None when absent)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        items = cast("list[object]", value)
        return [str(item) for item in items]
    return None


def _limited(task: Mapping[str, Any]) -> dict[str, Any]:
    """A task as `limited_response=true` lists it."""
    return {name: task[name] for name in _LIMITED_FIELDS if name in task}


def _with_attachment_url(task: dict[str, Any]) -> dict[str, Any]:
    """A task as `include_attachment_url=true` lists it: `params.attachment_url` added.

    The sandbox has no signed storage URLs: an http(s) attachment is its own URL, and a
    `scaledata://` one (an uploaded file's) is given as it is."""
    params = as_object(task.get("params"))
    if params is not None and isinstance(params.get("attachment"), str):
        params["attachment_url"] = params["attachment"]
    return task


def _int_or(value: object, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default
