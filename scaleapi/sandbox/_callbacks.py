"""Callback delivery: POST the completed task to its `callback_url`, loopback hosts only."""

from __future__ import annotations

import asyncio
import collections
import ipaddress
import itertools
import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ._times import format_ms, now_ms

if TYPE_CHECKING:
    import httpx

__all__ = ["CallbackDispatcher", "is_loopback_url"]

logger = logging.getLogger("scaleapi.sandbox")

MAX_RECORDED_DELIVERIES = 10_000
"""Deliveries kept for `GET /admin/callbacks`; the oldest are forgotten first."""
AUTH_HEADER = "scale-callback-auth"
MAX_REPLY_BYTES = 64 * 1024
"""Bytes of a receiver's reply body read (then dropped); the rest is never read."""


def is_loopback_url(url: str) -> tuple[bool, str]:
    """(True, "") when `url` is http(s) to a loopback host, else (False, why not)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 (raises ValueError on a malformed port)
    except ValueError:
        return False, "not a valid URL"
    if parts.scheme not in ("http", "https"):
        return False, "not an http(s) URL"
    if not host:
        return False, "not a valid URL"
    if host == "localhost":
        return True, ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False, "not a loopback address"
    if address.is_loopback:
        return True, ""
    return False, "not a loopback address"


class CallbackDispatcher:
    """Delivers callbacks in the background, with retries, and records every delivery."""

    def __init__(
        self,
        *,
        auth_key: Callable[[], str],
        attempts: Callable[[], int],
        backoff: Callable[[], float],
        timeout: Callable[[], float],
        on_delivered: Callable[[str], None],
    ) -> None:
        self._auth_key = auth_key
        self._attempts = attempts
        self._backoff = backoff
        self._timeout = timeout
        self._on_delivered = on_delivered
        self._ids = itertools.count(1)
        self.deliveries: collections.deque[dict[str, Any]] = collections.deque(
            maxlen=MAX_RECORDED_DELIVERIES
        )
        self._running: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None

    def submit(self, task: dict[str, Any]) -> None:
        """Record a delivery of a completed task and start it (call on the event loop)."""
        url = str(task.get("callback_url", ""))
        payload = {"task": task, "response": task.get("response"), "task_id": task["task_id"]}
        record: dict[str, Any] = {
            "id": next(self._ids),
            "task_id": task["task_id"],
            "url": url,
            "status": "pending",
            "attempts": 0,
            "last_status_code": None,
            "last_error": None,
            "created_at": format_ms(now_ms()),
            "payload": payload,
        }
        self.deliveries.append(record)
        allowed, reason = is_loopback_url(url)
        if not allowed:
            record["status"] = "skipped"
            record["last_error"] = reason
            return
        job = asyncio.get_running_loop().create_task(self._deliver(record))
        self._running.add(job)
        job.add_done_callback(self._running.discard)

    def clear(self) -> None:
        self.deliveries.clear()

    def counts(self) -> dict[str, int]:
        found = collections.Counter(str(record["status"]) for record in self.deliveries)
        return {name: found.get(name, 0) for name in ("pending", "delivered", "failed", "skipped")}

    async def _deliver(self, record: dict[str, Any]) -> None:
        import httpx

        if self._client is None:
            # No proxies from the environment, no redirects: nothing may leave the machine.
            self._client = httpx.AsyncClient(trust_env=False, follow_redirects=False)
        body = json.dumps(record["payload"], separators=(",", ":")).encode()
        headers = {"content-type": "application/json", AUTH_HEADER: self._auth_key()}
        attempts = self._attempts()
        for attempt in range(attempts):
            record["attempts"] = attempt + 1
            status, error = await self._attempt(self._client, record["url"], body, headers)
            if status is not None:
                record["last_status_code"] = status
                if 200 <= status < 300:
                    record["status"] = "delivered"
                    record["last_error"] = None
                    self._on_delivered(str(record["task_id"]))
                    return
                error = f"answered {status}"
            record["last_error"] = error
            if attempt + 1 < attempts:
                await asyncio.sleep(self._backoff() * 2**attempt)
        record["status"] = "failed"
        logger.info("callback for task %s failed: %s", record["task_id"], record["last_error"])

    async def _attempt(
        self, client: httpx.AsyncClient, url: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int | None, str | None]:
        """One POST, all of it (connecting, sending, the reply) within the timeout:
        (status code or None, what went wrong). At most MAX_REPLY_BYTES of the reply are
        read, undecoded, and dropped."""
        import httpx

        timeout = self._timeout()
        status: int | None = None
        try:
            async with (
                asyncio.timeout(timeout),
                client.stream("POST", url, content=body, headers=headers, timeout=timeout) as reply,
            ):
                status = reply.status_code
                received = 0
                async for chunk in reply.aiter_raw():
                    received += len(chunk)
                    if received >= MAX_REPLY_BYTES:
                        break
        except TimeoutError:
            if status is None:
                return None, f"no answer within {timeout:g} s"
        except httpx.HTTPError as exc:
            if status is None:
                return None, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return status, None

    async def aclose(self) -> None:
        """Stop pending deliveries and close the HTTP client."""
        for job in list(self._running):
            job.cancel()
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
            self._client = None
