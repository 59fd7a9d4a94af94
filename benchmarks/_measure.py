"""Timing loops shared by both measured client processes.

Standard library only: ``official_worker.py`` runs isolated (``python -I``) in a venv
where ``scaleapi`` is the official package, and loads this file by its path.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any


def timed(call: Callable[[], object], calls: int) -> tuple[float, float]:
    """(CPU µs, wall µs) per call over ``calls`` calls."""
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(calls):
        call()
    return (
        (time.process_time() - cpu) / calls * 1e6,
        (time.perf_counter() - wall) / calls * 1e6,
    )


def rounds(
    candidates: Mapping[str, Callable[[], object]], rounds: int, calls: int
) -> dict[str, dict[str, list[float]]]:
    """Each candidate for ``rounds`` rounds of ``calls`` calls, after a warm-up, in
    alternating order (ABBA...) so that drifts of the machine hit all alike."""
    for call in candidates.values():  # warm up: connections, caches, lazy imports
        timed(call, max(10, calls // 5))
    results: dict[str, dict[str, list[float]]] = {
        name: {"cpu_us": [], "wall_us": []} for name in candidates
    }
    order = list(candidates)
    for _ in range(rounds):
        for name in order:
            cpu, wall = timed(candidates[name], calls)
            results[name]["cpu_us"].append(cpu)
            results[name]["wall_us"].append(wall)
        order.reverse()
    return results


def bulk_result(
    n: int, concurrency: int, ok: int, errors: int, cpu: float, wall: float
) -> dict[str, Any]:
    """What a bulk run reports, from the process and wall clocks read at its start."""
    cpu_seconds = time.process_time() - cpu
    seconds = time.perf_counter() - wall
    return {
        "n": n,
        "concurrency": concurrency,
        "ok": ok,
        "errors": errors,
        "seconds": seconds,
        "tasks_per_s": ok / seconds,
        "client_cpu_s": cpu_seconds,
        "client_cpu_us_per_task": cpu_seconds / n * 1e6,
    }


def sequential(create: Callable[[], object], n: int, error: type[BaseException]) -> dict[str, Any]:
    """``create()`` ``n`` times, one after the other, after one warm-up call."""
    create()
    ok = errors = 0
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(n):
        try:
            create()
        except error:
            errors += 1
        else:
            ok += 1
    return bulk_result(n, 1, ok, errors, cpu, wall)
