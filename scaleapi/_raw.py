"""``RawResponse``: a parsed result with the HTTP answer it came from (for debugging)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Generic, TypeVar

import attrs

if TYPE_CHECKING:
    import httpx

T = TypeVar("T")


@attrs.frozen
class RawResponse(Generic[T]):
    """What ``client.with_raw_response.<method>(...)`` returns.

    ``parsed`` is what the plain method returns; ``status_code``, ``headers`` and
    ``request_id`` are those of the final answer, ``http_response`` the answer itself
    (its body already read).
    """

    parsed: T
    http_response: httpx.Response = attrs.field(repr=False)

    @property
    def status_code(self) -> int:
        return self.http_response.status_code

    @property
    def headers(self) -> httpx.Headers:
        return self.http_response.headers

    @property
    def request_id(self) -> str | None:
        """The server's ``x-request-id``, to quote when you report a problem."""
        request_id: str | None = self.http_response.headers.get("x-request-id")
        return request_id
