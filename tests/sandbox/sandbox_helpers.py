"""Constants and helpers shared by the sandbox tests (the fixtures are in conftest.py)."""

from __future__ import annotations

import base64
import os
import re
import selectors
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]
TASK_TYPES = (
    "categorization",
    "transcription",
    "comparison",
    "annotation",
    "datacollection",
    "audiotranscription",
)

# One valid create request per type, with every optional input the type has.
PAYLOADS: dict[str, dict[str, Any]] = {
    "categorization": {
        "attachment_type": "website",
        "attachment": "http://www.google.com/",
        "categories": ["public", "private"],
        "category_ids": {"public": "c1", "private": "c2"},
    },
    "transcription": {
        "attachment_type": "website",
        "attachment": "http://news.ycombinator.com/",
        "fields": {"title": "Title of Webpage", "top_result": "Title of the top result"},
        "row_fields": {"username": "Username of submitter", "comment_count": "Comments"},
    },
    "comparison": {
        "attachment_type": "image",
        "attachments": ["http://example.com/a.jpg", "http://example.com/b.jpg"],
        "choices": ["yes", "no"],
        "fields": {"pattern": "Name of the pattern"},
    },
    "annotation": {
        "attachment_type": "image",
        "attachment": "http://i.imgur.com/v4cBreD.jpg",
        "objects_to_annotate": ["baby cow", "big cow"],
        "with_labels": True,
        "min_width": 30,
        "min_height": 40,
        "examples": [{"correct": True, "image": "http://i.imgur.com/x.jpg", "explanation": "ok"}],
    },
    "datacollection": {
        "attachment_type": "website",
        "attachment": "http://www.scaleapi.com/",
        "fields": {"hiring_page": "Hiring Page URL"},
    },
    "audiotranscription": {
        "attachment_type": "audio",
        "attachment": "https://example.com/speaker-3.wav",
        "verbatim": True,
    },
}


def make_client(base_url: str, key: str | None) -> httpx.Client:
    auth = None if key is None else (key, "")
    return httpx.Client(base_url=base_url, auth=auth, trust_env=False, timeout=30)


def basic(key: str, password: str = "") -> str:
    return "Basic " + base64.b64encode(f"{key}:{password}".encode()).decode()


@dataclass
class Receiver:
    """A tiny HTTP server on 127.0.0.1 that records the callbacks it gets."""

    url: str
    port: int
    calls: list[dict[str, Any]] = field(default_factory=list)
    fail_first: int = 0
    """Answer 500 to this many requests before answering 200."""
    always_fail: bool = False

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.calls) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"got {len(self.calls)} callbacks, wanted {count}")
            time.sleep(0.01)
        return self.calls


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


@contextmanager
def running(*arguments: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`python -m scaleapi.sandbox` in a subprocess; yields it and the base URL it printed."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "scaleapi.sandbox", "--port", "0", *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO_ROOT,
    )
    try:
        assert process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            if not selector.select(timeout=30):
                raise AssertionError("the sandbox printed nothing in 30 s")
        line = process.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/v1", line), line
        yield process, line
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
