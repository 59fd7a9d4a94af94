"""`GET /v1/tasks`: filters, order, and paging by offset and by next_token."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from sandbox_helpers import PAYLOADS

Conforms = Callable[[str, Any], None]


def created(client: httpx.Client, task_type: str, **extra: Any) -> dict[str, Any]:
    answer = client.post(f"/task/{task_type}", json={**PAYLOADS[task_type], **extra})
    assert answer.status_code == 200, answer.text
    task: dict[str, Any] = answer.json()
    return task


def when(task: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(task["created_at"])


def iso(moment: datetime, zone: timedelta | None = timedelta(0)) -> str:
    """`moment` in ISO 8601 at a UTC offset, or without a zone (as UTC) when zone is None."""
    utc = moment.astimezone(UTC)
    if zone is None:
        return utc.replace(tzinfo=None).isoformat(timespec="milliseconds")
    return utc.astimezone(timezone(zone)).isoformat(timespec="milliseconds")


@pytest.fixture
def tasks(live_client: httpx.Client, admin: httpx.Client) -> list[dict[str, Any]]:
    """Nine tasks of a live key, oldest first: pending, completed and canceled, three types."""
    made = []
    kinds = ["categorization", "annotation", "datacollection"]
    for number in range(9):
        made.append(created(live_client, kinds[number % 3], unique_id=f"u{number}"))
        time.sleep(0.003)  # distinct milliseconds, for the time filters
    for task in made[0:3]:
        assert admin.post(f"/tasks/{task['task_id']}/complete").status_code == 200
    assert live_client.post(f"/task/{made[3]['task_id']}/cancel", json={}).status_code == 200
    return made


def ids(page: dict[str, Any]) -> list[str]:
    return [task["task_id"] for task in page["docs"]]


def test_newest_first_with_exact_totals(
    live_client: httpx.Client, tasks: list[dict[str, Any]], conforms: Conforms
) -> None:
    page = live_client.get("/tasks").json()
    conforms("TaskList", page)
    assert ids(page) == [task["task_id"] for task in reversed(tasks)]
    assert (page["total"], page["limit"], page["offset"], page["has_more"]) == (9, 100, 0, False)
    assert "next_token" not in page
    statuses = [task["status"] for task in reversed(page["docs"])]
    assert statuses == ["completed"] * 3 + ["canceled"] + ["pending"] * 5


def test_same_millisecond_keeps_creation_order(live_client: httpx.Client) -> None:
    made = [created(live_client, "datacollection")["task_id"] for _ in range(30)]
    assert ids(live_client.get("/tasks").json()) == made[::-1]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "completed"}, [2, 1, 0]),
        ({"status": "canceled"}, [3]),
        ({"status": "pending"}, [8, 7, 6, 5, 4]),
        ({"status": "error"}, []),
        ({"type": "annotation"}, [7, 4, 1]),
        ({"type": "annotation", "status": "pending"}, [7, 4]),
        ({"unique_id": "u5"}, [5]),
        ({"unique_id": "nope"}, []),
    ],
)
def test_filters(
    live_client: httpx.Client,
    tasks: list[dict[str, Any]],
    conforms: Conforms,
    query: dict[str, str],
    expected: list[int],
) -> None:
    page = live_client.get("/tasks", params=query).json()
    conforms("TaskList", page)
    assert ids(page) == [tasks[number]["task_id"] for number in expected]
    assert page["total"] == len(expected)


def test_time_range_includes_start_and_excludes_end(
    live_client: httpx.Client, tasks: list[dict[str, Any]]
) -> None:
    start, end = when(tasks[2]), when(tasks[6])
    expected = [t["task_id"] for t in reversed(tasks) if start <= when(t) < end]
    assert tasks[2]["task_id"] in expected and tasks[6]["task_id"] not in expected
    for zone in (timedelta(0), timedelta(hours=5, minutes=30), timedelta(hours=-7), None):
        # Z, positive and negative offsets, and no zone at all (UTC).
        query = {"start_time": iso(start, zone), "end_time": iso(end, zone)}
        page = live_client.get("/tasks", params=query).json()
        assert ids(page) == expected, query
        assert page["total"] == len(expected)


def test_time_filters_accept_other_iso_forms(
    live_client: httpx.Client, tasks: list[dict[str, Any]]
) -> None:
    day = when(tasks[0]).strftime("%Y-%m-%d")
    for start in (day, f"{day}T00:00:00Z", f"{day}T00:00Z", f"{day}T00:00:00.000000+00:00"):
        assert live_client.get("/tasks", params={"start_time": start}).json()["total"] == 9
    assert (
        live_client.get("/tasks", params={"end_time": "2000-01-01T00:00:00Z"}).json()["total"] == 0
    )
    # An unencoded "+" in a query string arrives as a space: still read as an offset.
    raw = live_client.get(f"/tasks?start_time={day}T00:00:00+00:00")
    assert raw.status_code == 200 and raw.json()["total"] == 9


def test_offset_paging(
    live_client: httpx.Client, tasks: list[dict[str, Any]], conforms: Conforms
) -> None:
    newest_first = [task["task_id"] for task in reversed(tasks)]
    seen: list[str] = []
    for offset, has_more in ((0, True), (4, True), (8, False)):
        page = live_client.get("/tasks", params={"limit": 4, "offset": offset}).json()
        conforms("TaskList", page)
        assert (page["total"], page["limit"], page["offset"], page["has_more"]) == (
            9,
            4,
            offset,
            has_more,
        )
        assert ("next_token" in page) is has_more
        seen += ids(page)
    assert seen == newest_first
    beyond = live_client.get("/tasks", params={"offset": 50}).json()
    assert beyond["docs"] == [] and beyond["total"] == 9 and beyond["has_more"] is False


def test_next_token_paging(
    live_client: httpx.Client, tasks: list[dict[str, Any]], conforms: Conforms
) -> None:
    newest_first = [task["task_id"] for task in reversed(tasks)]
    page = live_client.get("/tasks", params={"limit": 2}).json()
    seen, offsets = ids(page), [page["offset"]]
    while page["has_more"]:
        page = live_client.get(
            "/tasks", params={"limit": 2, "next_token": page["next_token"]}
        ).json()
        conforms("TaskList", page)
        assert page["total"] == 9
        seen += ids(page)
        offsets.append(page["offset"])
    assert seen == newest_first
    assert offsets == [0, 2, 4, 6, 8]
    assert "next_token" not in page


def test_next_token_keeps_the_filters_it_is_sent_with(
    live_client: httpx.Client, tasks: list[dict[str, Any]]
) -> None:
    query: dict[str, str | int] = {"status": "pending", "limit": 2}
    first = live_client.get("/tasks", params=query).json()
    second = live_client.get("/tasks", params={**query, "next_token": first["next_token"]}).json()
    third = live_client.get("/tasks", params={**query, "next_token": second["next_token"]}).json()
    assert ids(first) + ids(second) + ids(third) == [tasks[n]["task_id"] for n in (8, 7, 6, 5, 4)]
    assert third["has_more"] is False and third["offset"] == 4


def test_next_token_is_not_shifted_by_new_tasks(
    live_client: httpx.Client, tasks: list[dict[str, Any]]
) -> None:
    first = live_client.get("/tasks", params={"limit": 3}).json()
    created(live_client, "categorization")  # newer than everything: offsets would shift
    second = live_client.get(
        "/tasks", params={"limit": 3, "next_token": first["next_token"]}
    ).json()
    assert ids(second) == [tasks[n]["task_id"] for n in (5, 4, 3)]
    assert second["total"] == 10


def test_a_token_of_a_bare_number_is_an_offset(
    live_client: httpx.Client, tasks: list[dict[str, Any]]
) -> None:
    # The spec's example token, "MjAx", is base64 of "201"; "Mg" is "2".
    assert live_client.get("/tasks", params={"next_token": "MjAx"}).json()["offset"] == 201
    page = live_client.get("/tasks", params={"next_token": "Mg", "limit": 3}).json()
    assert page["offset"] == 2
    assert ids(page) == [tasks[n]["task_id"] for n in (6, 5, 4)]


def test_limit_defaults_to_100(live_client: httpx.Client) -> None:
    for _ in range(105):
        created(live_client, "datacollection")
    page = live_client.get("/tasks").json()
    assert (len(page["docs"]), page["limit"], page["total"], page["has_more"]) == (
        100,
        100,
        105,
        True,
    )
    rest = live_client.get("/tasks", params={"next_token": page["next_token"]}).json()
    assert (len(rest["docs"]), rest["offset"], rest["has_more"]) == (5, 100, False)


def test_iso_times_read_by_the_standard_library() -> None:
    from scaleapi.sandbox._times import parse_iso8601_ms

    same_instant = [
        "1970-01-01",
        "1970-01-01T00:00:00Z",
        "1970-01-01t00:00:00z",
        "1970-01-01T00:00Z",
        "1970-01-01T00:00:00",
        "1970-01-01 00:00:00",
        "1970-01-01T05:30:00+05:30",
        "1970-01-01T05:30:00+0530",
        "1970-01-01T05:30:00 05:30",  # an unencoded "+" in a query string
        "1969-12-31T17:00:00-07:00",
        "1970-01-01T00:00:00.0009Z",  # finer than a millisecond: truncated
    ]
    assert {text: parse_iso8601_ms(text) for text in same_instant} == dict.fromkeys(same_instant, 0)
    assert parse_iso8601_ms("1970-01-01T00:00:01.5Z") == 1500
    for bad in (
        "yesterday",
        "2020-13-01T00:00:00Z",
        "2020-02-30",
        "1970-01-01T25:00",
        "",
        "9" * 100,
    ):
        assert parse_iso8601_ms(bad) is None, bad
