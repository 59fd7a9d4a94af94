"""Fill a sandbox with many tasks quickly, for the pagination benchmark.

Creating 100,000 tasks through the API would take minutes and measure nothing of
interest, so one task is created through the API (the sandbox shapes it: its account,
its JSON) and copied, with fresh ids and older creation times, straight into the
sandbox's SQLite file (``--db``) in one transaction. The sandbox keeps that file in WAL
mode and reads in autocommit, so it serves the copies at once without a restart. Only the
columns ``task_id``, ``created_ms`` and ``body`` are rewritten; the others are copied
from the template row as they are, whatever the sandbox's schema holds.
"""

from __future__ import annotations

import datetime
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks._common import CREATE_PARAMS, TASK_TYPE

_UTC = datetime.UTC


def _iso(ms: int) -> str:
    moment = datetime.datetime.fromtimestamp(ms / 1000, _UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def fill(base_url: str, db: Path, key: str, n: int) -> None:
    """Make the account of ``key`` (a new ``test_`` key) hold exactly ``n`` completed tasks."""
    import scaleapi

    with scaleapi.ScaleClient(key, base_url=base_url) as client:
        template_id = client.create_task(TASK_TYPE, **CREATE_PARAMS).id
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        cursor = conn.execute("SELECT * FROM tasks WHERE task_id = ?", (template_id,))
        names = [d[0] for d in cursor.description]
        row: dict[str, Any] = dict(zip(names, cursor.fetchone(), strict=True))
        columns = [name for name in names if name != "seq"]
        task = json.loads(row["body"])
        newest_ms = int(row["created_ms"])
        prefix = template_id[8:16]  # random hex: the ids of other fills differ

        def copies() -> Iterator[tuple[Any, ...]]:
            for i in range(1, n):
                created = newest_ms - i
                task["task_id"] = f"{prefix}{i:016x}"
                task["created_at"] = task["completed_at"] = _iso(created)
                values = dict(row, task_id=task["task_id"], created_ms=created)
                values["body"] = json.dumps(task, separators=(",", ":"))
                yield tuple(values[c] for c in columns)

        placeholders = ", ".join("?" for _ in columns)
        conn.execute("BEGIN")
        conn.executemany(
            f"INSERT INTO tasks ({', '.join(columns)}) VALUES ({placeholders})", copies()
        )
        conn.execute("COMMIT")
    finally:
        conn.close()
