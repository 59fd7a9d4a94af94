"""Fault injection (seeded), latency, and the request counters."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from sandbox_helpers import PAYLOADS, make_client

from scaleapi.sandbox import Sandbox

Conforms = Callable[[str, Any], None]


@pytest.fixture(scope="module")
def faulty() -> Iterator[Sandbox]:
    with Sandbox(fault_rate=0.5, faults=["500", "503", "429"], seed=7, retry_after=7) as sandbox:
        yield sandbox


@pytest.fixture
def fresh(faulty: Sandbox) -> Sandbox:
    faulty.configure(fault_rate=0.5, faults=["500", "503", "429"], seed=7, latency_ms=0)
    faulty.reset()
    return faulty


def statuses(sandbox: Sandbox, key: str, count: int = 40) -> list[int]:
    with make_client(sandbox.base_url, key) as client:
        return [client.get("/tasks").status_code for _ in range(count)]


def test_same_seed_same_faults(fresh: Sandbox, scale_test_key: str) -> None:
    first = statuses(fresh, scale_test_key)
    assert set(first) == {200, 429, 500, 503}
    fresh.reset()  # restarts the sequence
    assert statuses(fresh, scale_test_key) == first
    with Sandbox(fault_rate=0.5, faults=["500", "503", "429"], seed=7) as twin:
        assert statuses(twin, scale_test_key) == first
    fresh.configure(seed=8)
    assert statuses(fresh, scale_test_key) != first


def test_fault_answers_and_counters(
    fresh: Sandbox, scale_test_key: str, conforms: Conforms
) -> None:
    seen: Counter[str] = Counter()
    with make_client(fresh.base_url, scale_test_key) as client:
        for _ in range(60):
            answer = client.get("/tasks")
            if answer.status_code == 200:
                continue
            seen[str(answer.status_code)] += 1
            conforms("Error", answer.json())
            assert answer.json()["status_code"] == answer.status_code
            if answer.status_code == 429:
                assert answer.headers["retry-after"] == "7"
    stats = fresh.stats()
    assert stats["requests"] == 60
    assert stats["faults"] == {**{"500": 0, "503": 0, "429": 0, "drop": 0}, **seen}


def test_faults_come_before_authentication(fresh: Sandbox) -> None:
    with make_client(fresh.base_url, None) as anonymous:
        codes = {anonymous.get("/tasks").status_code for _ in range(30)}
    assert codes == {401, 429, 500, 503}


def test_no_faults_by_default(client: httpx.Client, scale_sandbox: Sandbox) -> None:
    assert {client.get("/tasks").status_code for _ in range(50)} == {200}
    assert scale_sandbox.stats()["faults"] == {"500": 0, "503": 0, "429": 0, "drop": 0}


def test_drop_commits_the_task_then_drops_the_connection(
    fresh: Sandbox, scale_test_key: str
) -> None:
    fresh.configure(fault_rate=1.0, faults=["drop"])
    with make_client(fresh.base_url, scale_test_key) as client:
        request = {**PAYLOADS["categorization"], "unique_id": "dropped-1"}
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            client.post("/task/categorization", json=request)
        # Drop only applies to creates: reads pass.
        page = client.get("/tasks").json()
        assert page["total"] == 1
        assert page["docs"][0]["unique_id"] == "dropped-1"
        # A retry with the same unique_id is how a client finds out: 409 (after a drop).
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            client.post("/task/categorization", json=request)
        fresh.configure(fault_rate=0)
        assert client.post("/task/categorization", json=request).status_code == 409
    assert fresh.stats()["faults"]["drop"] == 2
    assert fresh.stats()["tasks_created"] == 1


def test_drop_mixed_with_other_faults(fresh: Sandbox, scale_test_key: str) -> None:
    fresh.configure(fault_rate=0.6, faults=["500", "drop"], seed=3)
    outcomes: list[str] = []
    with make_client(fresh.base_url, scale_test_key) as client:
        for _ in range(30):
            try:
                outcomes.append(
                    str(
                        client.post(
                            "/task/datacollection", json=PAYLOADS["datacollection"]
                        ).status_code
                    )
                )
            except httpx.TransportError:
                outcomes.append("drop")
        stats = fresh.stats()
        assert Counter(outcomes)["drop"] == stats["faults"]["drop"] > 0
        assert Counter(outcomes)["500"] == stats["faults"]["500"] > 0
        fresh.configure(fault_rate=0)
        created = client.get("/tasks").json()["total"]
    assert created == outcomes.count("200") + outcomes.count("drop")


def test_latency(fresh: Sandbox, scale_test_key: str) -> None:
    fresh.configure(fault_rate=0, latency_ms=120)
    with make_client(fresh.base_url, scale_test_key) as client:
        client.get("/tasks")
        started = time.perf_counter()
        assert client.get("/tasks").status_code == 200
        assert time.perf_counter() - started >= 0.12
    with httpx.Client(trust_env=False) as plain:  # the admin routes are never slowed down
        started = time.perf_counter()
        plain.get(fresh.admin_url + "/health")
        assert time.perf_counter() - started < 0.1


def test_bad_configuration_is_refused(fresh: Sandbox) -> None:
    with httpx.Client(base_url=fresh.admin_url, trust_env=False) as admin:
        for change in ({"fault_rate": 2}, {"faults": ["404"]}, {"bogus": 1}, {"latency_ms": "x"}):
            answer = admin.post("/config", json=change)
            assert answer.status_code == 400, change
        assert admin.get("/config").json()["fault_rate"] == 0.5
