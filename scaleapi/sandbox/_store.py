"""Tasks in SQLite: one connection, one lock, the task JSON plus indexed columns."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["DuplicateUniqueId", "ListFilters", "Store", "StoredTask"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id    TEXT    NOT NULL UNIQUE,
    account    TEXT    NOT NULL,
    unique_id  TEXT,
    type       TEXT    NOT NULL,
    status     TEXT    NOT NULL,
    is_test    INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    body       TEXT    NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS tasks_account_unique_id
    ON tasks (account, unique_id) WHERE unique_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS tasks_account_created ON tasks (account, created_ms, seq);
CREATE INDEX IF NOT EXISTS tasks_status_created ON tasks (status, is_test, created_ms);
"""


class DuplicateUniqueId(Exception):
    """The account already has a task with this `unique_id`."""


@dataclass(frozen=True, slots=True)
class StoredTask:
    """One row: the indexed columns and the task JSON as served."""

    seq: int
    task_id: str
    account: str
    type: str
    status: str
    is_test: bool
    created_ms: int
    body: str


@dataclass(frozen=True, slots=True)
class ListFilters:
    """What `GET /v1/tasks` narrows the account's tasks to."""

    start_ms: int | None = None
    end_ms: int | None = None
    status: str | None = None
    type: str | None = None
    unique_id: str | None = None


_COLUMNS = "seq, task_id, account, type, status, is_test, created_ms, body"


def _row(row: tuple[int, str, str, str, str, int, int, str]) -> StoredTask:
    seq, task_id, account, kind, status, is_test, created_ms, body = row
    return StoredTask(seq, task_id, account, kind, status, bool(is_test), created_ms, body)


def _unique_column(unique_id: str) -> str:
    # JSON-escaped: any string (lone surrogates included) becomes storable ASCII, one to one.
    return json.dumps(unique_id)


class Store:
    """Tasks of every account. Thread-safe: every statement runs under one lock."""

    def __init__(self, path: str | None = None) -> None:
        self.path = path or ":memory:"
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        if self.path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def insert(
        self,
        *,
        task_id: str,
        account: str,
        unique_id: str | None,
        type: str,
        status: str,
        is_test: bool,
        created_ms: int,
        body: str,
    ) -> None:
        """Store a new task; DuplicateUniqueId when the account used `unique_id` before."""
        unique = None if unique_id is None else _unique_column(unique_id)
        with self._lock:
            try:
                self._db.execute(
                    "INSERT INTO tasks (task_id, account, unique_id, type, status, is_test,"
                    " created_ms, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (task_id, account, unique, type, status, int(is_test), created_ms, body),
                )
            except sqlite3.IntegrityError as exc:
                if "unique_id" in str(exc):
                    raise DuplicateUniqueId(unique_id) from None
                raise

    def get(self, task_id: str) -> StoredTask | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT {_COLUMNS} FROM tasks WHERE task_id = ?", (task_id,)
            ).fetchone()
        return None if row is None else _row(row)

    def update(self, task_id: str, *, status: str, body: str, expect_status: str | None) -> bool:
        """Replace a task's status and JSON; only if it is in `expect_status` when given."""
        sql = "UPDATE tasks SET status = ?, body = ? WHERE task_id = ?"
        args: tuple[str, ...] = (status, body, task_id)
        if expect_status is not None:
            sql += " AND status = ?"
            args = (*args, expect_status)
        with self._lock:
            return self._db.execute(sql, args).rowcount == 1

    def due(self, *, created_before_ms: int, limit: int = 1000) -> list[StoredTask]:
        """Pending tasks of live keys created before a time (for automatic completion)."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM tasks WHERE status = 'pending' AND is_test = 0"
                " AND created_ms <= ? ORDER BY created_ms, seq LIMIT ?",
                (created_before_ms, limit),
            ).fetchall()
        return [_row(row) for row in rows]

    def page(
        self,
        account: str,
        filters: ListFilters,
        *,
        limit: int,
        offset: int = 0,
        after: tuple[int, int] | None = None,
    ) -> tuple[list[StoredTask], int, bool]:
        """One page, newest first: (tasks, total matching, whether more follow).

        `after` is a (created_ms, seq) position: the page starts after it (cursor
        paging); otherwise it starts `offset` tasks in.
        """
        where = ["account = ?"]
        args: list[object] = [account]
        if filters.start_ms is not None:
            where.append("created_ms >= ?")
            args.append(filters.start_ms)
        if filters.end_ms is not None:
            where.append("created_ms < ?")
            args.append(filters.end_ms)
        if filters.status is not None:
            where.append("status = ?")
            args.append(filters.status)
        if filters.type is not None:
            where.append("type = ?")
            args.append(filters.type)
        if filters.unique_id is not None:
            where.append("unique_id = ?")
            args.append(_unique_column(filters.unique_id))
        condition = " AND ".join(where)
        page_where = condition
        page_args: Sequence[object] = args
        if after is not None:
            page_where += " AND (created_ms, seq) < (?, ?)"
            page_args = [*args, after[0], after[1]]
            offset = 0
        with self._lock:
            (total,) = self._db.execute(
                f"SELECT COUNT(*) FROM tasks WHERE {condition}", args
            ).fetchone()
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM tasks WHERE {page_where}"
                " ORDER BY created_ms DESC, seq DESC LIMIT ? OFFSET ?",
                [*page_args, limit + 1, offset],
            ).fetchall()
        tasks = [_row(row) for row in rows[:limit]]
        return tasks, int(total), len(rows) > limit

    def count(self) -> int:
        with self._lock:
            (total,) = self._db.execute("SELECT COUNT(*) FROM tasks").fetchone()
        return int(total)

    def clear(self) -> None:
        with self._lock:
            self._db.execute("DELETE FROM tasks")
