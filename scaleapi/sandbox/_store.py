"""State in SQLite: one connection, one lock; each object as JSON plus indexed columns.

Tasks, projects, batches, files (their records; the bytes are in `_files.py`) and
teammates, every row owned by one account (a digest of its API key).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "BatchFilters",
    "Duplicate",
    "DuplicateUniqueId",
    "ListFilters",
    "Store",
    "StoredBatch",
    "StoredTask",
]

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
CREATE TABLE IF NOT EXISTS projects (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    account    TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    UNIQUE (account, name)
);
CREATE TABLE IF NOT EXISTS batches (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    account      TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    project      TEXT    NOT NULL,
    status       TEXT    NOT NULL,
    finalized    INTEGER NOT NULL,
    created_ms   INTEGER NOT NULL,
    completed_ms INTEGER,
    audited_ms   INTEGER,
    body         TEXT    NOT NULL,
    UNIQUE (account, name)
);
CREATE TABLE IF NOT EXISTS files (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    file_id      TEXT    NOT NULL UNIQUE,
    account      TEXT    NOT NULL,
    reference_id TEXT,
    size         INTEGER NOT NULL,
    body         TEXT    NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS files_account_reference
    ON files (account, reference_id) WHERE reference_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS teammates (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    account  TEXT    NOT NULL,
    email    TEXT    NOT NULL,
    body     TEXT    NOT NULL,
    UNIQUE (account, email)
);
"""

# Columns of `tasks` added after the first release: a database written by an older
# sandbox gets them on open (NULL for its tasks).
_TASK_COLUMNS_ADDED = {
    "project": "TEXT",
    "batch": "TEXT",
    "completed_ms": "INTEGER",
    "updated_ms": "INTEGER",
    "review_status": "TEXT",
    "tags": "TEXT",
}
_INDEXES_ON_ADDED = """
CREATE INDEX IF NOT EXISTS tasks_account_batch
    ON tasks (account, batch, status) WHERE batch IS NOT NULL;
"""

_UPDATABLE = frozenset(
    {"status", "body", "unique_id", "completed_ms", "updated_ms", "review_status", "tags"}
)


class DuplicateUniqueId(Exception):
    """The account already has a task with this `unique_id`."""


class Duplicate(Exception):
    """The account already has an object with this name (or reference)."""


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
    batch: str | None = None


@dataclass(frozen=True, slots=True)
class StoredBatch:
    name: str
    project: str
    status: str
    finalized: bool
    body: str


@dataclass(frozen=True, slots=True)
class ListFilters:
    """What `GET /v1/tasks` narrows the account's tasks to (None: no condition)."""

    start_ms: int | None = None
    end_ms: int | None = None
    completed_after_ms: int | None = None
    completed_before_ms: int | None = None
    updated_after_ms: int | None = None
    updated_before_ms: int | None = None
    status: str | None = None
    type: str | None = None
    project: str | None = None
    batch: str | None = None
    unique_ids: Sequence[str] | None = None
    tags: Sequence[str] | None = None
    review_statuses: Sequence[str] | None = None


@dataclass(frozen=True, slots=True)
class BatchFilters:
    """What `GET /v1/batches` narrows the account's batches to."""

    start_ms: int | None = None
    end_ms: int | None = None
    completed_after_ms: int | None = None
    completed_before_ms: int | None = None
    audited_after_ms: int | None = None
    audited_before_ms: int | None = None
    status: str | None = None
    project: str | None = None


_COLUMNS = "seq, task_id, account, type, status, is_test, created_ms, body, batch"


def _row(row: tuple[int, str, str, str, str, int, int, str, str | None]) -> StoredTask:
    seq, task_id, account, kind, status, is_test, created_ms, body, batch = row
    return StoredTask(seq, task_id, account, kind, status, bool(is_test), created_ms, body, batch)


def _unique_column(unique_id: str) -> str:
    # JSON-escaped: any string (lone surrogates included) becomes storable ASCII, one to one.
    return json.dumps(unique_id)


def _key(value: str) -> str:
    # JSON-escaped, like unique_id: any name (lone surrogates included) is storable.
    return json.dumps(value)


def _text_column(value: str | None) -> str | None:
    return None if value is None else json.dumps(value)


def _range(
    where: list[str], args: list[object], column: str, low: int | None, high: int | None
) -> None:
    if low is not None:
        where.append(f"{column} >= ?")
        args.append(low)
    if high is not None:
        where.append(f"{column} < ?")
        args.append(high)


def _within(where: list[str], args: list[object], column: str, values: Sequence[str]) -> None:
    where.append(f"{column} IN ({','.join('?' * len(values))})")
    args.extend(values)


class Store:
    """Every account's objects. Thread-safe: every statement runs under one lock."""

    def __init__(self, path: str | None = None) -> None:
        self.path = path or ":memory:"
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        if self.path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        present = {row[1] for row in self._db.execute("PRAGMA table_info(tasks)")}
        for name, kind in _TASK_COLUMNS_ADDED.items():
            if name not in present:
                self._db.execute(f"ALTER TABLE tasks ADD COLUMN {name} {kind}")
        self._db.executescript(_INDEXES_ON_ADDED)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- tasks ----------------------------------------------------------------------
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
        project: str | None = None,
        batch: str | None = None,
        completed_ms: int | None = None,
        tags: Sequence[str] | None = None,
    ) -> None:
        """Store a new task; DuplicateUniqueId when the account used `unique_id` before."""
        unique = None if unique_id is None else _unique_column(unique_id)
        with self._lock:
            try:
                self._db.execute(
                    "INSERT INTO tasks (task_id, account, unique_id, type, status, is_test,"
                    " created_ms, body, project, batch, completed_ms, updated_ms, tags)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        task_id,
                        account,
                        unique,
                        type,
                        status,
                        int(is_test),
                        created_ms,
                        body,
                        _text_column(project),
                        _text_column(batch),
                        completed_ms,
                        completed_ms or created_ms,
                        None if tags is None else json.dumps(list(tags)),
                    ),
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
        return None if row is None else _decoded(row)

    def update(self, task_id: str, *, status: str, body: str, expect_status: str | None) -> bool:
        """Replace a task's status and JSON; only if it is in `expect_status` when given."""
        return self.rewrite(task_id, expect_status=expect_status, status=status, body=body)

    def rewrite(self, task_id: str, *, expect_status: str | None, **columns: object) -> bool:
        """Set some of a task's columns (`unique_id` as a string or None, `tags` as a list
        or None); only if it is in `expect_status` when given. DuplicateUniqueId when the
        new `unique_id` is another task's."""
        unknown = set(columns) - _UPDATABLE
        if unknown:
            raise ValueError(f"not an updatable column: {sorted(unknown)}")
        if "unique_id" in columns and isinstance(columns["unique_id"], str):
            columns["unique_id"] = _unique_column(columns["unique_id"])
        if "tags" in columns and columns["tags"] is not None:
            columns["tags"] = json.dumps(columns["tags"])
        sql = f"UPDATE tasks SET {', '.join(f'{name} = ?' for name in columns)} WHERE task_id = ?"
        args: list[object] = [*columns.values(), task_id]
        if expect_status is not None:
            sql += " AND status = ?"
            args.append(expect_status)
        with self._lock:
            try:
                return self._db.execute(sql, args).rowcount == 1
            except sqlite3.IntegrityError as exc:
                if "unique_id" in str(exc):
                    raise DuplicateUniqueId(columns.get("unique_id")) from None
                raise

    def due(self, *, created_before_ms: int, limit: int = 1000) -> list[StoredTask]:
        """Pending tasks of live keys created before a time (for automatic completion)."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM tasks WHERE status = 'pending' AND is_test = 0"
                " AND created_ms <= ? ORDER BY created_ms, seq LIMIT ?",
                (created_before_ms, limit),
            ).fetchall()
        return [_decoded(row) for row in rows]

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
        _range(where, args, "created_ms", filters.start_ms, filters.end_ms)
        _range(where, args, "completed_ms", filters.completed_after_ms, filters.completed_before_ms)
        _range(where, args, "updated_ms", filters.updated_after_ms, filters.updated_before_ms)
        if filters.status is not None:
            where.append("status = ?")
            args.append(filters.status)
        if filters.type is not None:
            where.append("type = ?")
            args.append(filters.type)
        if filters.project is not None:
            where.append("project = ?")
            args.append(_text_column(filters.project))
        if filters.batch is not None:
            where.append("batch = ?")
            args.append(_text_column(filters.batch))
        if filters.unique_ids is not None:
            _within(where, args, "unique_id", [_unique_column(u) for u in filters.unique_ids])
        if filters.review_statuses is not None:
            _within(where, args, "review_status", filters.review_statuses)
        if filters.tags is not None:
            marks = ",".join("?" * len(filters.tags))
            where.append(
                "tags IS NOT NULL AND EXISTS"
                f" (SELECT 1 FROM json_each(tasks.tags) WHERE json_each.value IN ({marks}))"
            )
            args.extend(filters.tags)
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
        tasks = [_decoded(row) for row in rows[:limit]]
        return tasks, int(total), len(rows) > limit

    def count(self) -> int:
        with self._lock:
            (total,) = self._db.execute("SELECT COUNT(*) FROM tasks").fetchone()
        return int(total)

    def batch_counts(self, account: str, batch: str) -> dict[str, int]:
        """How many tasks of the batch are in each status."""
        with self._lock:
            rows = self._db.execute(
                "SELECT status, COUNT(*) FROM tasks WHERE account = ? AND batch = ?"
                " GROUP BY status",
                (account, _text_column(batch)),
            ).fetchall()
        return {str(status): int(count) for status, count in rows}

    # -- projects -------------------------------------------------------------------
    def insert_project(self, account: str, name: str, body: str) -> None:
        self._insert_named("projects", "name", account, _key(name), body)

    def get_project(self, account: str, name: str) -> str | None:
        with self._lock:
            row = self._db.execute(
                "SELECT body FROM projects WHERE account = ? AND name = ?", (account, _key(name))
            ).fetchone()
        return None if row is None else str(row[0])

    def update_project(self, account: str, name: str, body: str) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE projects SET body = ? WHERE account = ? AND name = ?",
                (body, account, _key(name)),
            )

    def projects(self, account: str, limit: int) -> list[str]:
        """The account's projects, oldest first, at most `limit` of them."""
        with self._lock:
            rows = self._db.execute(
                "SELECT body FROM projects WHERE account = ? ORDER BY seq LIMIT ?",
                (account, limit),
            ).fetchall()
        return [str(row[0]) for row in rows]

    # -- batches --------------------------------------------------------------------
    def insert_batch(
        self, account: str, name: str, project: str, status: str, created_ms: int, body: str
    ) -> None:
        with self._lock:
            try:
                self._db.execute(
                    "INSERT INTO batches (account, name, project, status, finalized,"
                    " created_ms, body) VALUES (?, ?, ?, ?, 0, ?, ?)",
                    (account, _key(name), _key(project), status, created_ms, body),
                )
            except sqlite3.IntegrityError:
                raise Duplicate(name) from None

    def get_batch(self, account: str, name: str) -> StoredBatch | None:
        with self._lock:
            row = self._db.execute(
                "SELECT name, project, status, finalized, body FROM batches"
                " WHERE account = ? AND name = ?",
                (account, _key(name)),
            ).fetchone()
        if row is None:
            return None
        return StoredBatch(
            json.loads(row[0]), json.loads(row[1]), str(row[2]), bool(row[3]), str(row[4])
        )

    def update_batch(self, account: str, name: str, **columns: object) -> None:
        allowed = {"status", "finalized", "completed_ms", "audited_ms", "body"}
        if set(columns) - allowed:
            raise ValueError(f"not an updatable column: {sorted(set(columns) - allowed)}")
        assignments = ", ".join(f"{column} = ?" for column in columns)
        with self._lock:
            self._db.execute(
                f"UPDATE batches SET {assignments} WHERE account = ? AND name = ?",
                [*columns.values(), account, _key(name)],
            )

    def batch_page(
        self, account: str, filters: BatchFilters, *, limit: int, offset: int
    ) -> tuple[list[str], int]:
        """One page of batches, newest first: (batch JSONs, total matching)."""
        where = ["account = ?"]
        args: list[object] = [account]
        _range(where, args, "created_ms", filters.start_ms, filters.end_ms)
        _range(where, args, "completed_ms", filters.completed_after_ms, filters.completed_before_ms)
        _range(where, args, "audited_ms", filters.audited_after_ms, filters.audited_before_ms)
        if filters.status is not None:
            where.append("status = ?")
            args.append(filters.status)
        if filters.project is not None:
            where.append("project = ?")
            args.append(_key(filters.project))
        condition = " AND ".join(where)
        with self._lock:
            (total,) = self._db.execute(
                f"SELECT COUNT(*) FROM batches WHERE {condition}", args
            ).fetchone()
            rows = self._db.execute(
                f"SELECT body FROM batches WHERE {condition}"
                " ORDER BY created_ms DESC, seq DESC LIMIT ? OFFSET ?",
                [*args, limit, offset],
            ).fetchall()
        return [str(row[0]) for row in rows], int(total)

    # -- files ----------------------------------------------------------------------
    def insert_file(
        self, account: str, file_id: str, reference_id: str | None, size: int, body: str
    ) -> None:
        with self._lock:
            try:
                self._db.execute(
                    "INSERT INTO files (file_id, account, reference_id, size, body)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (file_id, account, _text_column(reference_id), size, body),
                )
            except sqlite3.IntegrityError:
                raise Duplicate(reference_id) from None

    def reference_taken(self, account: str, reference_id: str) -> bool:
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM files WHERE account = ? AND reference_id = ?",
                (account, _text_column(reference_id)),
            ).fetchone()
        return row is not None

    def file_ids(self) -> list[str]:
        with self._lock:
            rows = self._db.execute("SELECT file_id FROM files").fetchall()
        return [str(row[0]) for row in rows]

    # -- teammates ------------------------------------------------------------------
    def teammates(self, account: str, limit: int) -> list[str]:
        with self._lock:
            rows = self._db.execute(
                "SELECT body FROM teammates WHERE account = ? ORDER BY seq LIMIT ?",
                (account, limit),
            ).fetchall()
        return [str(row[0]) for row in rows]

    def put_teammates(self, account: str, members: Iterable[tuple[str, str]]) -> None:
        """Insert or replace teammates, given as (email, JSON) pairs, in one transaction."""
        with self._lock:
            self._db.execute("BEGIN")
            try:
                for email, body in members:
                    self._db.execute(
                        "INSERT INTO teammates (account, email, body) VALUES (?, ?, ?)"
                        " ON CONFLICT (account, email) DO UPDATE SET body = excluded.body",
                        (account, _key(email), body),
                    )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # -- all ------------------------------------------------------------------------
    def clear(self) -> None:
        with self._lock:
            for table in ("tasks", "projects", "batches", "files", "teammates"):
                self._db.execute(f"DELETE FROM {table}")

    def _insert_named(self, table: str, column: str, account: str, name: str, body: str) -> None:
        with self._lock:
            try:
                self._db.execute(
                    f"INSERT INTO {table} (account, {column}, body) VALUES (?, ?, ?)",
                    (account, name, body),
                )
            except sqlite3.IntegrityError:
                raise Duplicate(name) from None


def _decoded(row: tuple[int, str, str, str, str, int, int, str, str | None]) -> StoredTask:
    task = _row(row)
    if task.batch is None:
        return task
    batch: str = json.loads(task.batch)
    return StoredTask(
        task.seq,
        task.task_id,
        task.account,
        task.type,
        task.status,
        task.is_test,
        task.created_ms,
        task.body,
        batch,
    )
