"""Checks that the Prism fixtures run the mock and turn its reports into failures."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pytest

CATEGORIZATION = {
    "attachment_type": "website",
    "attachment": "http://www.example.com/",
    "categories": ["public", "private"],
}


def test_valid_create_is_clean(prism_http_client: httpx.Client) -> None:
    r = prism_http_client.post("/task/categorization", json=CATEGORIZATION)
    assert r.status_code == 200
    assert "sl-violations" not in r.headers
    assert r.json()["type"] == "categorization"


def test_base_url_reaches_get_task(prism_http_client: httpx.Client) -> None:
    r = prism_http_client.get("/task/abc")
    assert r.status_code == 200
    assert "task_id" in r.json()


def test_list_is_clean(prism_http_client: httpx.Client) -> None:
    r = prism_http_client.get("/tasks", params={"limit": 100, "type": "categorization"})
    assert r.status_code == 200
    assert isinstance(r.json()["docs"], list)


def test_cancel_with_empty_body_is_clean(prism_http_client: httpx.Client) -> None:
    assert prism_http_client.post("/task/abc/cancel", json={}).status_code == 200


def test_unknown_property_of_a_closed_body_fails(prism_http_client: httpx.Client) -> None:
    # Task creates are open (the API takes more than is documented); a batch create is not.
    batch = {"project": "cows", "name": "cows-1"}
    assert prism_http_client.post("/batches", json=batch).status_code == 200
    with pytest.raises(AssertionError, match="additional properties; found 'bogus'"):
        prism_http_client.post("/batches", json={**batch, "bogus": 1})


def test_missing_required_field_fails(prism_http_client: httpx.Client) -> None:
    body = {k: v for k, v in CATEGORIZATION.items() if k != "categories"}
    with pytest.raises(AssertionError, match="required property 'categories'"):
        prism_http_client.post("/task/categorization", json=body)


def test_missing_auth_fails(prism_base_url: str, prism_violation_hook: Callable[..., None]) -> None:
    with (
        httpx.Client(
            base_url=prism_base_url, event_hooks={"response": [prism_violation_hook]}
        ) as client,
        pytest.raises(AssertionError, match="Invalid security scheme"),
    ):
        client.get("/task/abc")


def test_prism_problem_json_fails(prism_http_client: httpx.Client) -> None:
    # A bad path parameter is reported in sl-violations (getTask documents a 400)...
    with pytest.raises(AssertionError, match="must match pattern"):
        prism_http_client.get("/task/not.valid")
    # ...while a method the spec lacks gets Prism's own problem+json, without the header.
    with pytest.raises(AssertionError, match="NO_METHOD_MATCHED_ERROR"):
        prism_http_client.delete("/task/abc")
    with pytest.raises(AssertionError, match="NO_PATH_MATCHED_ERROR"):
        prism_http_client.get("/v1/task/abc")


def test_raw_client_sees_what_prism_sends(prism_base_url: str) -> None:
    with httpx.Client(base_url=prism_base_url, auth=("test_x", "")) as client:
        r = client.post("/task/categorization", json={**CATEGORIZATION, "urgency": "asap"})
    assert r.status_code == 400
    assert "urgency" in r.headers["sl-violations"]


def test_async_hook(
    prism_base_url: str,
    prism_async_violation_hook: Callable[[httpx.Response], Awaitable[None]],
) -> None:
    import asyncio

    async def run() -> None:
        async with httpx.AsyncClient(
            base_url=prism_base_url,
            auth=("test_x", ""),
            event_hooks={"response": [prism_async_violation_hook]},
        ) as client:
            assert (await client.get("/task/abc")).status_code == 200
            with pytest.raises(AssertionError, match="must match pattern"):
                await client.get("/task/not.valid")

    asyncio.run(run())
