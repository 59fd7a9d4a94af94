# pyright: strict
"""Wrong calls: ``mypy --strict`` and strict pyright must each flag every marked line.

Checked by tests/test_typing.py, never imported or run. Each bad call sits on one line
ending in ``# expect: <what is wrong>``; no other line may have an error.
"""

from __future__ import annotations

import scaleapi


def bad_calls(client: scaleapi.ScaleClient) -> None:
    client.create_categorization_task(attachment_type="website", attachment="http://www.google.com/", categories=["public", "private"], instrucion="Is this company public or private?")  # expect: misspelt-kwarg
    client.create_categorization_task(attachment_type="website", attachment="http://www.google.com/", categories="public")  # expect: wrong-type
    client.create_categorization_task(attachment_type="webpage", attachment="http://www.google.com/", categories=["public", "private"])  # expect: bad-enum-value
    client.create_categorization_task(attachment_type="website", attachment="http://www.google.com/")  # expect: missing-required-field


def good_calls_between(client: scaleapi.ScaleClient) -> int:
    # The same call done right, so the errors above are about the marked arguments only.
    client.create_categorization_task(attachment_type="website", attachment="http://www.google.com/", categories=["public", "private"], instruction="Is this company public or private?")
    return client.tasks(limit=100).total
