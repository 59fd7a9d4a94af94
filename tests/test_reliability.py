"""Retries against the sandbox's seeded fault injection: 5xx, 429 with Retry-After, and
creates that are committed and then answered with a dropped connection."""

from __future__ import annotations

import collections
import logging
from collections.abc import Iterator
from typing import Any

import pytest

import scaleapi
from scaleapi.sandbox import Sandbox

PARAMS: dict[str, Any] = {
    "instruction": "Is this company public or private?",
    "attachment_type": "text",
    "attachment": "ACME Corp",
    "categories": ["public", "private"],
}
KEY = "live_reliability_k3y_0123456789"


@pytest.fixture
def faulty() -> Iterator[Sandbox]:
    with Sandbox(seed=7, retry_after="0") as sandbox:
        yield sandbox


def count_tasks(sandbox: Sandbox) -> tuple[int, list[str]]:
    """Every task of KEY, read with faults off."""
    sandbox.configure(fault_rate=0.0)
    ids: list[str] = []
    uniques: list[str] = []
    with scaleapi.ScaleClient(KEY, base_url=sandbox.base_url) as client:
        offset = 0
        while True:
            page = client.tasks(limit=100, offset=offset)
            ids += [t.id for t in page]
            uniques += [t.as_dict().get("unique_id") or "" for t in page]
            if not page.has_more:
                break
            offset += len(page)
    assert len(set(ids)) == len(ids)
    return len(ids), uniques


def test_500_unique_creates_through_30_percent_faults_make_exactly_500_tasks(
    faulty: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="scaleapi")
    faulty.configure(fault_rate=0.3, faults=["500", "503", "429", "drop"])
    returned: dict[str, str] = {}
    with scaleapi.ScaleClient(
        KEY, base_url=faulty.base_url, max_retries=12, initial_retry_delay=0.001
    ) as client:
        for n in range(500):
            unique_id = f"order-{n}"
            task = client.create_categorization_task(unique_id=unique_id, **PARAMS)
            assert task.as_dict()["unique_id"] == unique_id  # the task this call created
            returned[unique_id] = task.id
    faults = faulty.stats()["faults"]
    total, uniques = count_tasks(faulty)
    duplicates = [u for u, n in collections.Counter(uniques).items() if n > 1]
    print(f"\n500 unique creates: faults injected {faults}; tasks {total}; duplicates 0")
    assert sum(faults.values()) >= 100  # the faults really happened
    assert all(faults.get(kind, 0) > 0 for kind in ("500", "503", "429", "drop"))
    assert total == 500 and not duplicates
    assert sorted(uniques) == sorted(returned)
    assert "retry" in caplog.text and KEY not in caplog.text


def test_creates_without_unique_id_never_duplicate_silently(faulty: Sandbox) -> None:
    faulty.configure(fault_rate=0.3, faults=["drop"])
    returned = unknown = 0
    with scaleapi.ScaleClient(
        KEY, base_url=faulty.base_url, max_retries=5, initial_retry_delay=0.001
    ) as client:
        for _ in range(200):
            try:
                client.create_categorization_task(**PARAMS)
                returned += 1
            except scaleapi.ScaleOutcomeUnknown as exc:
                assert "unique_id" in str(exc)
                unknown += 1
    total, _ = count_tasks(faulty)
    print(f"\n200 plain creates: returned {returned}, outcome unknown {unknown}, tasks {total}")
    assert unknown > 20  # drops happened, and were not retried
    assert total == returned + unknown


def test_auto_unique_id_makes_every_create_safe(faulty: Sandbox) -> None:
    faulty.configure(fault_rate=0.3, faults=["drop", "500"])
    with scaleapi.ScaleClient(
        KEY,
        base_url=faulty.base_url,
        max_retries=10,
        initial_retry_delay=0.001,
        auto_unique_id=True,
    ) as client:
        tasks = [client.create_categorization_task(**PARAMS) for _ in range(100)]
    total, _ = count_tasks(faulty)
    assert len({t.id for t in tasks}) == 100 and total == 100


def test_a_slow_server_raises_scale_timeout_error() -> None:
    with (
        Sandbox(latency_ms=500) as slow,
        scaleapi.ScaleClient(
            "test_slow", base_url=slow.base_url, timeout=0.1, max_retries=1, initial_retry_delay=0
        ) as client,
    ):
        with pytest.raises(scaleapi.ScaleTimeoutError):
            client.fetch_task("0123456789abcdef01234567")
        with pytest.raises(scaleapi.ScaleOutcomeUnknown, match="may or may not"):
            client.create_categorization_task(**PARAMS)
        task = client.with_options(timeout=5).create_categorization_task(**PARAMS)
        assert task.status == "pending"
