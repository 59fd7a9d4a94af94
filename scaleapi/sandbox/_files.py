"""The bytes of uploaded files: on disk next to the database (`--db`), else in memory."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

__all__ = ["MAX_FILE_BYTES", "MAX_MEMORY_BYTES", "FileBytes", "TooLarge"]

MAX_FILE_BYTES = 80 * 1024 * 1024
"""Largest upload, as the API documents it (80 MB)."""
MAX_MEMORY_BYTES = 256 * 1024 * 1024
"""Most bytes of uploads kept in memory (a sandbox without `--db`) over its life."""


class TooLarge(Exception):
    """The upload exceeds a limit; the message says which."""


class FileBytes:
    """Where uploads go: `<db>.files/` beside the SQLite file, or a dict in memory."""

    def __init__(self, db_path: str | None) -> None:
        self.directory = None if db_path is None else Path(db_path + ".files")
        self._memory: dict[str, bytes] = {}
        self._memory_size = 0

    def room(self) -> int:
        """How many more bytes may be stored."""
        if self.directory is not None:
            return MAX_FILE_BYTES
        return max(0, min(MAX_FILE_BYTES, MAX_MEMORY_BYTES - self._memory_size))

    def put(self, file_id: str, chunks: list[bytes]) -> int:
        """Store a file's content; its size."""
        size = sum(map(len, chunks))
        if self.directory is None:
            if self._memory_size + size > MAX_MEMORY_BYTES:
                raise TooLarge(
                    f"The sandbox keeps uploads in memory, at most {MAX_MEMORY_BYTES} bytes"
                    " in all; start it with --db to keep them on disk."
                )
            self._memory[file_id] = b"".join(chunks)
            self._memory_size += size
            return size
        self.directory.mkdir(parents=True, exist_ok=True)
        # Written to a temporary name first: a crash never leaves half a file under its id.
        handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".upload-")
        with os.fdopen(handle, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
        os.replace(temporary, self.directory / file_id)
        return size

    def get(self, file_id: str) -> bytes | None:
        if self.directory is None:
            return self._memory.get(file_id)
        path = self.directory / file_id
        return path.read_bytes() if path.is_file() else None

    def clear(self) -> None:
        self._memory.clear()
        self._memory_size = 0
        if self.directory is not None and self.directory.is_dir():
            shutil.rmtree(self.directory, ignore_errors=True)
