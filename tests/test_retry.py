"""The retry policy and the exchange that applies it, driven step by step with scripted
outcomes and an injected clock: every wait is read off the ``Sleep`` steps, none is slept."""

from __future__ import annotations

import email.utils
from collections.abc import Callable
from typing import Any

import httpx
import pytest

import scaleapi
from scaleapi import _operations as ops
from scaleapi._generated import operations as generated
from scaleapi._retry import CallKind, Failure, RetryPolicy, retry_after
from scaleapi._transport import Call, Exchange, Send, Settings, Sleep, exchange

NOW = 1_700_000_000.0
TASK: dict[str, Any] = {
    "task_id": "t1",
    "type": "categorization",
    "status": "pending",
    "created_at": "2016-06-30T07:38:32.368Z",
    "params": {"attachment_type": "text", "attachment": "x", "categories": ["a"]},
    "unique_id": "order-1",
}
PARAMS: dict[str, Any] = {"attachment_type": "text", "attachment": "x", "categories": ["a"]}


def settings(**policy: Any) -> Settings:
    return Settings(
        base_url="http://scale.test/v1",
        headers={"Authorization": "Basic eDo="},
        timeout=httpx.Timeout(5.0),
        policy=RetryPolicy(**policy),
        wall_clock=lambda: NOW,
        rand=lambda: 0.0,
    )


Script = list[Callable[[httpx.Request], httpx.Response | httpx.HTTPError]]


def drive(steps: Exchange[Any], script: Script) -> tuple[Any, list[float], list[httpx.Request]]:
    """Run an exchange against scripted outcomes; return its result, its sleeps, its sends."""
    sleeps: list[float] = []
    sent: list[httpx.Request] = []
    outcome: Any = None
    while True:
        try:
            step = steps.send(outcome)
        except StopIteration as done:
            return done.value, sleeps, sent
        if isinstance(step, Sleep):
            sleeps.append(step.seconds)
            outcome = None
        else:
            assert isinstance(step, Send)
            sent.append(step.request)
            outcome = script.pop(0)(step.request)


def status(code: int, headers: dict[str, str] | None = None, body: Any = None) -> Any:
    return lambda request: httpx.Response(
        code, headers=headers, json=body if body is not None else {"error": f"e{code}"}
    )


def ok(body: Any = TASK) -> Any:
    return lambda request: httpx.Response(200, json=body)


def error(cls: type[httpx.HTTPError]) -> Any:
    return lambda request: cls("boom", request=request)


def fetch() -> Call[ops.RawTask]:
    return ops.build_call(ops.Request(generated.GET_TASK, ("t1",), {}, {}))


def create(**extra: Any) -> Call[Any]:
    request = ops.Request(generated.CREATE_CATEGORIZATION_TASK, (), {**PARAMS, **extra}, {})
    return ops.build_call(request)


# -- which failures are retried ------------------------------------------------------


@pytest.mark.parametrize("code", [408, 429, 500, 502, 503, 504])
def test_reads_retry_transient_statuses(code: int) -> None:
    result, sleeps, sent = drive(exchange(settings(), fetch()), [status(code), ok()])
    assert result[0].task_id == "t1" and len(sent) == 2 and len(sleeps) == 1


@pytest.mark.parametrize("code", [400, 401, 402, 404, 409])
def test_client_errors_are_not_retried(code: int) -> None:
    with pytest.raises(scaleapi.ScaleException) as caught:
        drive(exchange(settings(), fetch()), [status(code)])
    assert caught.value.code == code


@pytest.mark.parametrize(
    "cls", [httpx.ConnectError, httpx.ReadTimeout, httpx.RemoteProtocolError, httpx.ReadError]
)
def test_reads_retry_connection_failures(cls: type[httpx.HTTPError]) -> None:
    result, _, sent = drive(exchange(settings(), fetch()), [error(cls), ok()])
    assert len(sent) == 2 and result[0].task_id == "t1"


def test_create_retries_only_where_it_cannot_duplicate() -> None:
    policy = RetryPolicy()
    kinds = {
        (Failure.NOT_SENT, None): True,
        (Failure.STATUS, 429): True,
        (Failure.STATUS, 503): True,
        (Failure.STATUS, 500): False,
        (Failure.STATUS, 502): False,
        (Failure.STATUS, 504): False,
        (Failure.TIMEOUT, None): False,
        (Failure.DROPPED, None): False,
    }
    for (failure, code), expected in kinds.items():
        assert policy.is_retryable(CallKind.CREATE, failure, code) is expected, (failure, code)
        assert policy.is_retryable(CallKind.UNIQUE_CREATE, failure, code) is True


@pytest.mark.parametrize("cls", [httpx.ReadTimeout, httpx.RemoteProtocolError, httpx.WriteError])
def test_create_without_unique_id_reports_an_unknown_outcome(cls: type[httpx.HTTPError]) -> None:
    with pytest.raises(scaleapi.ScaleOutcomeUnknown, match="unique_id") as caught:
        drive(exchange(settings(), create()), [error(cls), ok()])
    assert "may or may not have been created" in str(caught.value)


def test_create_without_unique_id_retries_a_connect_failure() -> None:
    result, _, sent = drive(exchange(settings(), create()), [error(httpx.ConnectError), ok()])
    assert len(sent) == 2 and result[0].task_id == "t1"


def test_create_500_without_unique_id_says_outcome_unknown() -> None:
    with pytest.raises(scaleapi.ScaleInternalError, match="may or may not have been created"):
        drive(exchange(settings(), create()), [status(500), ok()])


def test_create_with_unique_id_recovers_the_first_attempts_task_from_409() -> None:
    page = {"docs": [TASK], "total": 1, "limit": 100, "offset": 0, "has_more": False}
    result, sleeps, sent = drive(
        exchange(settings(), create(unique_id="order-1")),
        [error(httpx.RemoteProtocolError), status(409), ok(page)],
    )
    assert result[0].task_id == "t1" and len(sleeps) == 1
    assert [r.method for r in sent] == ["POST", "POST", "GET"]
    assert sent[2].url.path == "/v1/tasks" and sent[2].url.params["unique_id"] == "order-1"


def test_a_first_attempt_409_is_a_real_duplicate() -> None:
    with pytest.raises(scaleapi.ScaleDuplicateResource):
        drive(exchange(settings(), create(unique_id="order-1")), [status(409)])


def test_retries_stop_at_max_retries() -> None:
    with pytest.raises(scaleapi.ScaleServiceUnavailable):
        drive(exchange(settings(max_retries=3), fetch()), [status(503)] * 4)


def test_same_request_object_is_resent() -> None:
    _, _, sent = drive(exchange(settings(), create(unique_id="u")), [status(503), ok()])
    assert sent[0] is sent[1]


# -- how long it waits -----------------------------------------------------------------


def test_backoff_doubles_up_to_the_cap() -> None:
    policy = RetryPolicy(initial_delay=0.5, max_delay=8.0, jitter=0.25)
    assert [policy.backoff(n, rand=lambda: 0.0) for n in range(6)] == [
        0.5,
        1.0,
        2.0,
        4.0,
        8.0,
        8.0,
    ]
    assert policy.backoff(2, rand=lambda: 1.0) == pytest.approx(1.5)  # 25 % jitter off


def test_retry_after_seconds_is_honoured() -> None:
    _, sleeps, _ = drive(exchange(settings(), fetch()), [status(429, {"Retry-After": "3"}), ok()])
    assert sleeps == [3.0]


def test_retry_after_http_date_is_honoured() -> None:
    date = email.utils.formatdate(NOW + 7, usegmt=True)
    _, sleeps, _ = drive(exchange(settings(), fetch()), [status(503, {"Retry-After": date}), ok()])
    assert sleeps == [pytest.approx(7.0)]


def test_retry_after_ms_wins() -> None:
    headers = {"retry-after-ms": "250", "Retry-After": "9"}
    _, sleeps, _ = drive(exchange(settings(), fetch()), [status(429, headers), ok()])
    assert sleeps == [0.25]


def test_retry_after_over_the_cap_raises_without_sleeping() -> None:
    with pytest.raises(scaleapi.ScaleTooManyRequests) as caught:
        drive(
            exchange(settings(max_retry_after=60.0), fetch()),
            [status(429, {"Retry-After": "600"}), ok()],
        )
    assert caught.value.retry_after == 600.0


def test_unreadable_retry_after_falls_back_to_backoff() -> None:
    assert retry_after({"retry-after": "soon"}) is None
    _, sleeps, _ = drive(
        exchange(settings(initial_delay=0.5), fetch()), [status(503, {"Retry-After": "soon"}), ok()]
    )
    assert sleeps == [0.5]


# -- through the real client -------------------------------------------------------------


def test_with_options_overrides_retries_and_timeout_per_call() -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(503, json={"error": "busy"})

    http = httpx.Client(transport=httpx.MockTransport(handler))
    client = scaleapi.ScaleClient(
        "test_x", base_url="http://scale.test/v1", http_client=http, max_retries=5
    )
    with pytest.raises(scaleapi.ScaleServiceUnavailable):
        client.with_options(max_retries=0, timeout=2.5).fetch_task("t1")
    assert len(calls) == 1
    assert calls[0].extensions["timeout"] == httpx.Timeout(2.5).as_dict()
    assert client.max_retries == 5  # the original is unchanged


def test_default_timeout_is_finite_and_none_is_explicit() -> None:
    client = scaleapi.ScaleClient("test_x")
    assert client.timeout.connect == 5.0 and client.timeout.read == 60.0
    assert scaleapi.ScaleClient("test_x", timeout=None).timeout.read is None
