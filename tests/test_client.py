"""ScaleClient end to end against the sandbox: real HTTP, real validation, real state."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import scaleapi
from scaleapi.sandbox import Sandbox

CATEGORIZATION: dict[str, Any] = {
    "callback_url": "http://www.example.com/callback",
    "instruction": "Is this company public or private?",
    "attachment_type": "website",
    "attachment": "http://www.google.com/",
    "categories": ["public", "private"],
}


@pytest.fixture
def client(scale_sandbox_url: str, scale_test_key: str) -> Iterator[scaleapi.ScaleClient]:
    with scaleapi.ScaleClient(scale_test_key, base_url=scale_sandbox_url) as c:
        yield c


@pytest.fixture
def live(scale_sandbox_url: str, scale_live_key: str) -> Iterator[scaleapi.ScaleClient]:
    with scaleapi.ScaleClient(scale_live_key, base_url=scale_sandbox_url) as c:
        yield c


def test_test_key_task_is_pending_then_completed_with_a_typed_response(
    client: scaleapi.ScaleClient,
) -> None:
    task = client.create_categorization_task(metadata={"order": 17}, **CATEGORIZATION)
    assert task.status == "pending" and task.response is None
    assert task.metadata == {"order": 17}
    assert task.params.allow_multiple is False  # the server's default, echoed back
    assert task.refresh() is task
    assert task.status == "completed" and task.completed_at is not None
    assert task.response is not None and task.response.category in ("public", "private")
    assert task.attachment_type == "website"


def test_each_type_completes_with_its_own_response(client: scaleapi.ScaleClient) -> None:
    ann = client.create_annotation_task(
        attachment_type="image",
        attachment="http://i.imgur.com/v4cBreD.jpg",
        objects_to_annotate=["baby cow", "big cow"],
        with_labels=True,
    )
    audio = client.create_audiotranscription_task(
        attachment_type="audio", attachment="https://example.com/a.wav"
    )
    boxes = ann.refresh().response
    assert boxes is not None and boxes.annotations
    assert all(b.label in ("baby cow", "big cow") for b in boxes.annotations)
    words = audio.refresh().response
    assert words is not None and words.transcript and words.alignment


def test_a_pending_task_cancels_and_a_repeat_changes_nothing(live: scaleapi.ScaleClient) -> None:
    task = live.create_categorization_task(**CATEGORIZATION)
    assert task.cancel() is task and task.status == "canceled"
    again = live.cancel_task(task.id)
    assert again.status == "canceled" and again.as_dict() == task.as_dict()


def test_a_completed_task_cannot_be_canceled(client: scaleapi.ScaleClient) -> None:
    task = client.create_categorization_task(**CATEGORIZATION).refresh()
    assert task.status == "completed"
    with pytest.raises(scaleapi.ScaleInvalidRequest, match="cancel"):
        task.cancel()


def test_errors_from_a_real_server(client: scaleapi.ScaleClient, scale_sandbox_url: str) -> None:
    with pytest.raises(scaleapi.ValidationError, match="categories") as caught:
        client.create_categorization_task(**{**CATEGORIZATION, "categories": []})
    assert caught.value.code == 400
    with pytest.raises(scaleapi.ScaleResourceNotFound):
        client.fetch_task("0123456789abcdef01234567")
    client.create_categorization_task(unique_id="dup-1", **CATEGORIZATION)
    with pytest.raises(scaleapi.ScaleDuplicateResource):
        client.create_categorization_task(unique_id="dup-1", **CATEGORIZATION)
    with (
        scaleapi.ScaleClient("nokey_prefix", base_url=scale_sandbox_url) as bad,
        pytest.raises(scaleapi.ScaleUnauthorized),
    ):
        bad.tasks()


def test_list_filters_and_pages(client: scaleapi.ScaleClient) -> None:
    made = [client.create_categorization_task(**CATEGORIZATION) for _ in range(5)]
    client.create_datacollection_task(
        attachment_type="website", attachment="http://x.example/", fields={"a": "b"}
    )
    page = client.tasks(type="categorization", limit=2)
    assert (page.total, page.limit, page.offset, page.has_more) == (5, 2, 0, True)
    assert [t.id for t in page] == [made[4].id, made[3].id]  # newest first
    seen = [t.id for t in page]
    while page.next_token:
        page = client.tasks(type="categorization", limit=2, next_token=page.next_token)
        seen += [t.id for t in page]
    assert seen == [t.id for t in reversed(made)]
    assert client.tasks(type="categorization", limit=2, offset=4).docs[0].id == made[0].id
    assert client.tasks(unique_id="nope").total == 0


def test_key_and_base_url_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, scale_sandbox_url: str, scale_test_key: str
) -> None:
    monkeypatch.setenv("SCALE_API_KEY", scale_test_key)
    monkeypatch.setenv("SCALE_BASE_URL", scale_sandbox_url + "/")
    sent: list[httpx.Request] = []
    http = httpx.Client(event_hooks={"request": [sent.append]})
    with http, scaleapi.ScaleClient(http_client=http) as from_env:
        task = from_env.create_categorization_task(**CATEGORIZATION)
    assert str(sent[0].url) == f"{scale_sandbox_url}/task/categorization"
    token = base64.b64encode(f"{scale_test_key}:".encode()).decode()
    assert sent[0].headers["authorization"] == f"Basic {token}"
    monkeypatch.delenv("SCALE_API_KEY")
    monkeypatch.delenv("SCALE_BASE_URL")
    with scaleapi.ScaleClient(scale_test_key, base_url=scale_sandbox_url) as explicit:
        assert explicit.fetch_task(task.id) == task  # the same account saw it


def test_restart_with_a_database_keeps_tasks(tmp_path: Any) -> None:
    db = str(tmp_path / "tasks.sqlite3")
    with Sandbox(db=db) as first, scaleapi.ScaleClient("live_r", base_url=first.base_url) as c:
        task = c.create_categorization_task(**CATEGORIZATION)
    with Sandbox(db=db) as second, scaleapi.ScaleClient("live_r", base_url=second.base_url) as c:
        assert c.fetch_task(task.id) == task


def test_a_closed_client_says_so_as_a_scale_exception(
    scale_sandbox_url: str, scale_test_key: str
) -> None:
    """httpx says "RuntimeError" for a request on a closed client: never let it escape."""
    with scaleapi.ScaleClient(scale_test_key, base_url=scale_sandbox_url) as c:
        task_id = c.create_categorization_task(**CATEGORIZATION).id
    with pytest.raises(scaleapi.ScaleException, match="closed"):
        c.fetch_task(task_id)
    http = httpx.Client()
    given = scaleapi.ScaleClient(scale_test_key, base_url=scale_sandbox_url, http_client=http)
    assert given.fetch_task(task_id).id == task_id
    http.close()  # the caller's client, closed by the caller
    with pytest.raises(scaleapi.ScaleException, match="closed"):
        given.fetch_task(task_id)
    results = list(given.create_tasks("categorization", [CATEGORIZATION] * 3))
    assert [r.status for r in results] == ["failed"] * 3
    assert all("closed" in str(r.error) for r in results)

    async def main() -> None:
        http = httpx.AsyncClient()
        client = scaleapi.AsyncScaleClient(
            scale_test_key, base_url=scale_sandbox_url, http_client=http
        )
        await http.aclose()
        with pytest.raises(scaleapi.ScaleException, match="closed"):
            await client.fetch_task(task_id)

    asyncio.run(main())
