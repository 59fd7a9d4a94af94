"""Where a profiled client spends its CPU: cProfile self time grouped by package."""

from __future__ import annotations

import pstats
import sys
import sysconfig
from collections import defaultdict
from pathlib import Path
from typing import Any

from benchmarks._procs import ROOT

_STDLIB = Path(sysconfig.get_paths()["stdlib"]).resolve()
_SITE = "site-packages"
_HTTP_STACK = {"httpx", "httpcore", "h11", "anyio", "sniffio", "idna", "certifi"}
HOTSPOTS = {
    ("httpcore/_synchronization.py", "current_async_library"): (
        "httpcore asks which async library runs, on every lock and event it sets up; without"
        " `sniffio` installed each ask is a failed `import sniffio` (a search of sys.path)"
    ),
    ("httpcore/_async/connection_pool.py", "_assign_requests_to_connections"): (
        "httpcore's pool scans every connection (`has_expired`: a `getpeername` and a `poll`"
        " on each socket) and every queued request, on each request and response"
    ),
}


def _where(filename: str) -> tuple[str, str]:
    """(group, short file name) of a profiled function's file, with no machine path."""
    if filename == "~":
        return "C built-ins (sockets, select, json, ...)", "built-in"
    if filename.startswith("<frozen importlib"):
        return "imports (importlib)", filename.strip("<>")
    path = Path(filename)
    parts = path.parts
    if _SITE in parts:
        rest = parts[parts.index(_SITE) + 1 :]
        package = rest[0].removesuffix(".py")
        group = f"{package} (HTTP stack)" if package in _HTTP_STACK else package
        return group, "/".join(rest)
    try:
        relative = path.resolve().relative_to(ROOT)
    except ValueError:
        pass
    else:
        top = relative.parts[0]
        group = "scaleapi (this SDK)" if top == "scaleapi" else f"{top} (repository)"
        return group, relative.as_posix()
    try:
        relative = path.resolve().relative_to(_STDLIB)
    except ValueError:
        return "other", path.name
    top = relative.parts[0].removesuffix(".py")
    return ("asyncio" if top == "asyncio" else "other standard library"), relative.as_posix()


def summarize(stats_file: Path, *, top: int = 8) -> dict[str, Any]:
    """Self-time shares by group, and the functions with the most self time."""
    stats = pstats.Stats(str(stats_file))
    table: dict[tuple[str, int, str], tuple[int, int, float, float, Any]]
    table = stats.stats  # type: ignore[attr-defined]
    total = sum(entry[2] for entry in table.values()) or float("nan")
    groups: dict[str, float] = defaultdict(float)
    functions: list[tuple[float, str]] = []
    for (filename, line, name), (_cc, calls, self_time, _cum, _callers) in table.items():
        group, short = _where(filename)
        groups[group] += self_time
        label = f"{short}:{line}({name})" if short != "built-in" else name
        functions.append((self_time, f"{label} x{calls}"))
    functions.sort(reverse=True)
    hotspots = []
    for (filename, _line, name), (_cc, calls, _self, cumulative, _callers) in table.items():
        short = _where(filename)[1]
        for (suffix, function), meaning in HOTSPOTS.items():
            if name == function and short.endswith(suffix):
                hotspots.append(
                    {
                        "function": f"{short}({name})",
                        "calls": calls,
                        "share": cumulative / total,
                        "meaning": meaning,
                    }
                )
    return {
        "total_s": total,
        "groups": sorted(
            ({"group": g, "share": t / total} for g, t in groups.items()),
            key=lambda item: -float(item["share"]),
        ),
        "functions": [{"function": f, "share": t / total} for t, f in functions[:top]],
        "hotspots": hotspots,
    }


if __name__ == "__main__":
    import json

    print(json.dumps(summarize(Path(sys.argv[1])), indent=2))
