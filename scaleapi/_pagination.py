"""Walking the pages of a list: which page comes next, and a guard against a server that
would have the walk go round for ever.

A page says ``has_more`` and either a ``next_token`` (the cursor to send next) or, from
older servers, only its ``offset``. The walk sends the token when there is one, else the
offset just past the page. A token seen before, or an offset that does not move forward,
would ask for pages already read: that is a :class:`~scaleapi.ScaleBadResponse`, not a
loop. Page facts of the wrong type (an ``offset`` of ``"0"`` or ``null``) are refused
when the page is parsed, by :func:`check_page`.
"""

from __future__ import annotations

import collections
from collections.abc import Mapping
from typing import Any, Protocol

from ._constants import PAGINATION_MEMORY
from ._exceptions import ScaleBadResponse


class PageFacts(Protocol):
    """What the walk reads of a page (a :class:`~scaleapi.Tasklist`)."""

    @property
    def offset(self) -> int: ...
    @property
    def has_more(self) -> bool: ...
    @property
    def next_token(self) -> str | None: ...
    def __len__(self) -> int: ...


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def check_page(obj: Mapping[str, Any]) -> None:
    """Raise ``TypeError`` (read by the transport as a bad answer) for page facts that are
    not what the API promises."""
    for name in ("total", "limit", "offset"):
        if name in obj and not _is_count(obj[name]):
            raise TypeError(f"the page's {name} must be a whole number >= 0, not {obj[name]!r}")
    if not isinstance(obj.get("has_more"), bool):
        raise TypeError(f"the page's has_more must be true or false, not {obj.get('has_more')!r}")
    token = obj.get("next_token")
    if token is not None and not isinstance(token, str):
        raise TypeError(f"the page's next_token must be a string or null, not {token!r}")


class Pager:
    """The query of each next page. ``query`` is what to send now; after reading a page,
    ``advance(page)`` says whether there is another and updates ``query`` for it."""

    __slots__ = ("_offset", "_seen", "_seen_order", "query")

    def __init__(self, filters: Mapping[str, Any]) -> None:
        self.query: dict[str, Any] = dict(filters)
        offset = self.query.get("offset", 0)
        self._offset: int = offset if _is_count(offset) else 0
        self._seen: set[str] = set()
        self._seen_order: collections.deque[str] = collections.deque()

    def advance(self, page: PageFacts) -> bool:
        if not page.has_more or not len(page):
            return False
        token = page.next_token
        if token:
            if token in self._seen:
                raise ScaleBadResponse(
                    f"the server sent the next_token {token[:40]!r} a second time with "
                    "has_more: listing would go round for ever, so it stops here",
                    200,
                )
            self._remember(token)
            self.query["next_token"] = token
            self.query.pop("offset", None)
            return True
        following = page.offset + len(page)
        if following <= self._offset:
            raise ScaleBadResponse(
                f"the server answered offset {self._offset} with a page at offset "
                f"{page.offset} and has_more, so the next page would not move forward: "
                "listing stops here rather than loop",
                200,
            )
        self._offset = following
        self.query["offset"] = following
        return True

    def _remember(self, token: str) -> None:
        # A bounded memory: enough for any loop a server falls into, constant for a walk
        # over millions of pages.
        self._seen.add(token)
        self._seen_order.append(token)
        if len(self._seen_order) > PAGINATION_MEMORY:
            self._seen.discard(self._seen_order.popleft())
