"""The pure parts behind iter_tasks and Task.as_dict: the pager's memory stays bounded
over any number of pages, and a JSON copy equals its source at any depth."""

from __future__ import annotations

from typing import Any

import attrs
from hypothesis import given
from hypothesis import strategies as st

from scaleapi._constants import PAGINATION_MEMORY
from scaleapi._pagination import Pager
from scaleapi._task import copy_json


@attrs.frozen
class FakePage:
    offset: int
    has_more: bool
    next_token: str | None
    size: int = 1

    def __len__(self) -> int:
        return self.size


def test_the_pager_remembers_a_bounded_number_of_tokens() -> None:
    pager = Pager({"limit": 1})
    for n in range(3 * PAGINATION_MEMORY):
        assert pager.advance(FakePage(0, True, f"token-{n}"))
        assert pager.query == {"limit": 1, "next_token": f"token-{n}"}
    assert len(pager._seen) == PAGINATION_MEMORY  # pyright: ignore[reportPrivateUsage]


def test_the_pager_stops_at_the_last_page_or_an_empty_one() -> None:
    assert not Pager({}).advance(FakePage(0, False, "more?"))
    assert not Pager({}).advance(FakePage(0, True, "more?", size=0))


def test_the_pager_starts_from_the_callers_offset() -> None:
    pager = Pager({"offset": 10})
    assert pager.advance(FakePage(10, True, None, size=5))
    assert pager.query == {"offset": 15}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
    max_leaves=30,
)


@given(json_values)
def test_a_json_copy_equals_its_source_and_shares_no_container(value: Any) -> None:
    copied = copy_json(value)
    assert copied == value
    originals = {id(v) for v in walk(value) if isinstance(v, dict | list)}
    assert not originals & {id(v) for v in walk(copied) if isinstance(v, dict | list)}


def walk(value: Any) -> list[Any]:
    out, todo = [], [value]
    while todo:
        item = todo.pop()
        out.append(item)
        if isinstance(item, dict):
            todo += item.values()
        elif isinstance(item, list):
            todo += item
    return out
