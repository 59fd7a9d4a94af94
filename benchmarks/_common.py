"""What every benchmark sends: one API key and one kind of task."""

from __future__ import annotations

import json
from typing import Any, Final

LIVE_KEY: Final = "live_benchmark"
"""A ``live_`` key: the sandbox keeps its tasks pending (no simulated work, no
callbacks), so the server does as little as a create allows."""
TEST_KEY: Final = "test_benchmark"
"""A ``test_`` key: its tasks complete at once, so fetches and pages carry a response."""

TASK_TYPE: Final = "categorization"
CREATE_PARAMS: Final[dict[str, Any]] = {
    "instruction": "Is this company public or private?",
    "attachment_type": "website",
    "attachment": "http://www.google.com/",
    "categories": ["public", "private"],
}
"""No ``callback_url``: a benchmark must never make the sandbox call out of the machine."""


def dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))
