"""Fault injection and request counters."""

from __future__ import annotations

import random
import threading
from typing import Any

from ._config import FAULT_KINDS

__all__ = ["FaultInjector"]


class FaultInjector:
    """Picks, from a seeded random sequence, which `/v1` requests get which fault.

    For each request one number decides whether it gets a fault (with probability
    `rate`); a second picks the kind among the enabled ones. `drop` applies to creates
    only; other requests pick among the other kinds. The same seed and the same order of
    requests give the same faults.
    """

    def __init__(self, *, rate: float, kinds: tuple[str, ...], seed: int) -> None:
        self._lock = threading.Lock()
        self.configure(rate=rate, kinds=kinds, seed=seed)

    def configure(self, *, rate: float, kinds: tuple[str, ...], seed: int) -> None:
        """Start over with new settings; the counters are kept."""
        with self._lock:
            self.rate = rate
            self.kinds = tuple(kind for kind in FAULT_KINDS if kind in kinds)
            self._non_create_kinds = tuple(kind for kind in self.kinds if kind != "drop")
            self.seed = seed
            self._rng = random.Random(seed)
            if not hasattr(self, "counts"):
                self.counts: dict[str, int] = dict.fromkeys(FAULT_KINDS, 0)

    def reset_counts(self) -> None:
        with self._lock:
            self.counts = dict.fromkeys(FAULT_KINDS, 0)

    def draw(self, *, is_create: bool) -> str | None:
        """The fault for the next request, or None."""
        if self.rate <= 0.0:
            return None
        with self._lock:
            hit = self._rng.random() < self.rate
            if not hit:
                return None
            kinds = self.kinds if is_create else self._non_create_kinds
            pick = self._rng.random()
            if not kinds:
                return None
            kind = kinds[min(int(pick * len(kinds)), len(kinds) - 1)]
            self.counts[kind] += 1
            return kind

    def describe(self) -> dict[str, Any]:
        return {"rate": self.rate, "kinds": list(self.kinds), "seed": self.seed}
