"""The five benchmarks. Each returns plain data (JSON-ready); ``_report`` renders it."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

from benchmarks import _fill, _procs
from benchmarks._common import CREATE_PARAMS, LIVE_KEY, TASK_TYPE, TEST_KEY, dumps
from benchmarks._profile import summarize
from benchmarks.fixed_server import TASK_ID

Log = Callable[[str], None]


@dataclass(frozen=True)
class Sizes:
    """How much each benchmark does: the full run, or the smoke run of the test suite."""

    rounds: int  # per-call: alternating rounds per client
    calls: int  # per-call: calls per round (ours and raw httpx)
    official_calls: int  # per-call: calls per round (official SDK, ~2x slower)
    latency_ms: float  # bulk: the sandbox's added latency
    concurrencies: tuple[int, ...]  # bulk: the sweep
    compare_concurrency: int  # bulk: the concurrency of the headline async run
    min_tasks: int  # bulk: an async run creates at least this many tasks,
    tasks_per_slot: int  # bulk: ... this many per unit of concurrency,
    max_tasks: int  # bulk: ... and at most this many
    sequential_tasks: int  # bulk: tasks of the sequential runs at the added latency
    sequential_tasks_no_latency: int  # bulk: tasks of the sequential runs without it
    iter_sizes: tuple[int, ...]  # iter_tasks: tasks in the account
    page: int  # iter_tasks: page size
    import_runs: int  # import time: fresh interpreters per module
    generate_runs: int  # make generate: runs
    transport_concurrencies: tuple[int, ...]  # transports: the concurrencies compared
    transport_tasks_per_slot: int  # transports: tasks per unit of concurrency ...
    transport_min_tasks: int  # transports: ... and at least this many
    transport_repeats: int  # transports: more runs of create_tasks and raw aiohttp, alternating
    sync_repeats: int  # bulk: more runs of the sync and the async create_tasks, alternating
    ceiling_seconds: float  # sandbox ceiling: how long the load generator runs

    def async_tasks(self, concurrency: int) -> int:
        return max(self.min_tasks, min(self.max_tasks, self.tasks_per_slot * concurrency))

    def transport_tasks(self, concurrency: int) -> int:
        return max(self.transport_min_tasks, self.transport_tasks_per_slot * concurrency)


FULL = Sizes(
    rounds=7,
    calls=500,
    official_calls=200,
    latency_ms=50.0,
    concurrencies=(1, 4, 8, 16, 32, 64),
    compare_concurrency=32,
    min_tasks=100,
    tasks_per_slot=64,
    max_tasks=2000,
    sequential_tasks=100,
    sequential_tasks_no_latency=500,
    iter_sizes=(10_000, 50_000, 100_000),
    page=100,
    import_runs=9,
    generate_runs=3,
    transport_concurrencies=(32, 128, 256),
    transport_tasks_per_slot=16,
    transport_min_tasks=2000,
    transport_repeats=2,
    sync_repeats=4,
    ceiling_seconds=8.0,
)
SMOKE = Sizes(
    rounds=2,
    calls=30,
    official_calls=15,
    latency_ms=5.0,
    concurrencies=(1, 4, 16),
    compare_concurrency=16,
    min_tasks=8,
    tasks_per_slot=4,
    max_tasks=48,
    sequential_tasks=8,
    sequential_tasks_no_latency=16,
    iter_sizes=(200, 500, 1000),
    page=100,
    import_runs=2,
    generate_runs=1,
    transport_concurrencies=(8,),
    transport_tasks_per_slot=2,
    transport_min_tasks=16,
    transport_repeats=1,
    sync_repeats=1,
    ceiling_seconds=1.0,
)


def _median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine(official: dict[str, Any] | None) -> dict[str, Any]:
    import scaleapi

    packages = ["httpx", "httpcore", "h11", "anyio", "attrs", "uvicorn", "starlette"]
    packages += ["aiohttp", "httpx-aiohttp", "pyreqwest"]
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "scaleapi": scaleapi.__version__,
        **{name: _version(name) for name in packages},
        "sniffio": _version("sniffio"),
        "official_scaleapi": official["version"] if official else "not installed",
        "official_requests": official["requests"] if official else "not installed",
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
    }


def official_versions() -> dict[str, Any] | None:
    if _procs.official_python() is None:
        return None
    result: dict[str, Any] = _procs.official("version")
    return result


# -- 1. client CPU per call -------------------------------------------------------------


def _summary(samples: dict[str, list[float]]) -> dict[str, Any]:
    return {
        "cpu_us": _median(samples["cpu_us"]),
        "wall_us": _median(samples["wall_us"]),
        "rounds_cpu_us": samples["cpu_us"],
    }


def _per_call_against(url: str, task_id: str, sizes: Sizes, with_official: bool) -> dict[str, Any]:
    raw = _procs.worker(
        "per-call",
        "--url",
        url,
        "--task-id",
        task_id,
        "--rounds",
        str(sizes.rounds),
        "--calls",
        str(sizes.calls),
    )
    result: dict[str, Any] = {name: _summary(samples) for name, samples in raw.items()}
    # Rounds alternate (ours, httpx, httpx, ours, ...): the ratio of each pair of
    # neighbouring rounds cancels slow drifts of the machine.
    pairs = zip(raw["ours"]["cpu_us"], raw["httpx"]["cpu_us"], strict=True)
    result["ratio_ours_httpx"] = _median([a / b for a, b in pairs])
    if with_official:
        official = _procs.official(
            "per-call",
            "--url",
            url,
            "--key",
            TEST_KEY,
            "--task-id",
            task_id,
            "--rounds",
            str(sizes.rounds),
            "--calls",
            str(sizes.official_calls),
        )
        result["official"] = _summary(official["official"])
    httpx_cpu = result["httpx"]["cpu_us"]
    for name in ("ours", "httpx", "official"):
        if name in result:
            result[name]["ratio_to_httpx"] = result[name]["cpu_us"] / httpx_cpu
    return result


def per_call(sizes: Sizes, sandbox_url: str, with_official: bool, log: Log) -> dict[str, Any]:
    log("per-call: fixed-response server")
    with _procs.fixed_server() as server:
        fixed = _per_call_against(server.base_url, TASK_ID, sizes, with_official)
    log("per-call: sandbox")
    import scaleapi

    with scaleapi.ScaleClient(TEST_KEY, base_url=sandbox_url) as client:
        task_id = client.create_task(TASK_TYPE, **CREATE_PARAMS).id
    on_sandbox = _per_call_against(sandbox_url, task_id, sizes, with_official)
    return {"fixed": fixed, "sandbox": on_sandbox}


# -- 2. bulk create ---------------------------------------------------------------------


def _configure(sandbox_url: str, **changes: Any) -> None:
    root = sandbox_url.rsplit("/", 1)[0]
    answer = httpx.post(f"{root}/admin/config", json=changes, trust_env=False, timeout=10)
    answer.raise_for_status()


_MODES = {
    "ours_async": "async",
    "httpx_async": "httpx",
    "ours_sync": "sync",
    "ours_sync_bulk": "sync_bulk",
}


def _bulk_run(
    server: _procs.Server,
    client: str,
    n: int,
    concurrency: int,
    latency_ms: float,
    profile: Path | None = None,
) -> dict[str, Any]:
    before = server.cpu_seconds()
    if client == "official":
        result: dict[str, Any] = _procs.official(
            "bulk",
            "--url",
            server.base_url,
            "--key",
            LIVE_KEY,
            "--task-type",
            TASK_TYPE,
            "--params",
            dumps(CREATE_PARAMS),
            "--n",
            str(n),
        )
    else:
        args = ["bulk", "--url", server.base_url, "--mode", _MODES[client], "--n", str(n)]
        args += ["--concurrency", str(concurrency)]
        if profile is not None:
            args += ["--profile", str(profile)]
        result = _procs.worker(*args)
    server_cpu = server.cpu_seconds() - before
    result["client"] = client
    result["server_cpu_us_per_task"] = server_cpu / n * 1e6
    result["server_cpu_share"] = server_cpu / result["seconds"]
    if latency_ms:
        result["limit_per_s"] = concurrency / (latency_ms / 1000)
        result["of_limit"] = result["tasks_per_s"] / result["limit_per_s"]
    return result


def bulk(
    sizes: Sizes, sandbox: _procs.Server, with_official: bool, workdir: Path, log: Log
) -> dict[str, Any]:
    out: dict[str, Any] = {"latency_ms": sizes.latency_ms, "runs": {}}
    for latency in (sizes.latency_ms, 0.0):
        _configure(sandbox.base_url, latency_ms=latency)
        sweep: dict[str, list[dict[str, Any]]] = {"ours_async": [], "httpx_async": []}
        for i, concurrency in enumerate(sizes.concurrencies):
            n = sizes.async_tasks(concurrency)
            # Alternate which goes first, so that a drift of the machine hits both alike.
            order = ["ours_async", "httpx_async"][:: 1 if i % 2 == 0 else -1]
            for client in order:
                log(f"bulk: {latency:g} ms, {client}, concurrency {concurrency}, {n} tasks")
                sweep[client].append(_bulk_run(sandbox, client, n, concurrency, latency))
        for ours, raw in zip(sweep["ours_async"], sweep["httpx_async"], strict=True):
            ours["ratio_to_httpx"] = ours["tasks_per_s"] / raw["tasks_per_s"]
        compare = [
            next(r for r in sweep[client] if r["concurrency"] == sizes.compare_concurrency)
            for client in ("ours_async", "httpx_async")
        ]
        n = sizes.async_tasks(sizes.compare_concurrency)
        log(f"bulk: {latency:g} ms, ours_sync_bulk, concurrency {sizes.compare_concurrency}")
        compare.append(_bulk_run(sandbox, "ours_sync_bulk", n, sizes.compare_concurrency, latency))
        # The sync-vs-async goal's pair again, alternating: one pair is at the mercy of
        # the machine's drift, the median of the pairs' ratios is what the goal reads.
        pairs = [compare[-1]["tasks_per_s"] / compare[0]["tasks_per_s"]]
        for repeat in range(sizes.sync_repeats):
            again: dict[str, float] = {}
            for client in ("ours_async", "ours_sync_bulk")[:: 1 if repeat % 2 else -1]:
                log(
                    f"bulk: {latency:g} ms, {client} again, concurrency {sizes.compare_concurrency}"
                )
                run = _bulk_run(sandbox, client, n, sizes.compare_concurrency, latency)
                again[client] = run["tasks_per_s"]
            pairs.append(again["ours_sync_bulk"] / again["ours_async"])
        sequential = sizes.sequential_tasks if latency else sizes.sequential_tasks_no_latency
        for client in ["ours_sync", *(["official"] if with_official else [])]:
            log(f"bulk: {latency:g} ms, {client}, sequential, {sequential} tasks")
            compare.append(_bulk_run(sandbox, client, sequential, 1, latency))
        key = "latency" if latency else "no_latency"
        out["runs"][key] = {
            "latency_ms": latency,
            "sweep": sweep,
            "compare": compare,
            "sync_pair_ratios": pairs,
            "sync_median_ratio": _median(pairs),
        }
    # Where the client's CPU goes in the headline run (profiled separately: cProfile slows
    # the client down, so this run's numbers are not the ones reported above).
    _configure(sandbox.base_url, latency_ms=sizes.latency_ms)
    concurrency = sizes.compare_concurrency
    log(f"bulk: profiling the client at concurrency {concurrency}")
    stats = workdir / "bulk-client.prof"
    n = sizes.async_tasks(concurrency)
    _bulk_run(sandbox, "ours_async", n, concurrency, sizes.latency_ms, stats)
    out["profile"] = {"concurrency": concurrency, **summarize(stats)}
    return out


# -- transports: bulk creates against the fixed-latency server -----------------------

TRANSPORT_CLIENTS = {
    # name: (worker mode, $SCALE_ASYNC_TRANSPORT, module it needs)
    "ours": ("async", "auto", "aiohttp"),
    "ours_httpx": ("async", "httpx", "httpx"),
    "aiohttp": ("aiohttp", "auto", "aiohttp"),
    "httpx": ("httpx", "auto", "httpx"),
    "httpx_aiohttp": ("httpx_aiohttp", "auto", "httpx_aiohttp"),
    "pyreqwest": ("pyreqwest", "auto", "pyreqwest"),
}


def _installed(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def transports(sizes: Sizes, with_official: bool, log: Log) -> dict[str, Any]:
    """Every async client at each concurrency against the fixed-response server with
    added latency, in an order that alternates from one concurrency to the next."""
    latency = sizes.latency_ms
    repeats: list[dict[str, Any]] = []
    clients = [c for c, (_, _, module) in TRANSPORT_CLIENTS.items() if _installed(module)]
    if sizes is SMOKE:  # the candidates that lost only run in the full benchmark
        clients = [c for c in clients if c not in ("httpx_aiohttp", "pyreqwest")]
    runs: list[dict[str, Any]] = []
    with _procs.fixed_server(latency_ms=latency) as server:
        for i, concurrency in enumerate(sizes.transport_concurrencies):
            n = sizes.transport_tasks(concurrency)
            for client in clients[:: 1 if i % 2 == 0 else -1]:
                mode, transport, _ = TRANSPORT_CLIENTS[client]
                log(f"transports: {client}, concurrency {concurrency}, {n} tasks")
                before = server.cpu_seconds()
                args = ["bulk", "--url", server.base_url, "--mode", mode, "--n", str(n)]
                result = _procs.worker(
                    *args, "--concurrency", str(concurrency), transport=transport
                )
                result["client"] = client
                result["server_cpu_us_per_task"] = (server.cpu_seconds() - before) / n * 1e6
                result["limit_per_s"] = concurrency / (latency / 1000)
                result["of_limit"] = result["tasks_per_s"] / result["limit_per_s"]
                runs.append(result)
        # The goal's pair again, alternating, at the concurrencies above the first: the
        # machine's load drifts between runs, and the median of neighbouring pairs'
        # ratios is what the goal reads.
        for concurrency in sizes.transport_concurrencies[1:]:
            n = sizes.transport_tasks(concurrency)
            for repeat in range(sizes.transport_repeats):
                for client in ("ours", "aiohttp")[:: 1 if repeat % 2 else -1]:
                    mode, transport, _ = TRANSPORT_CLIENTS[client]
                    log(f"transports: {client} again, concurrency {concurrency}, {n} tasks")
                    args = ["bulk", "--url", server.base_url, "--mode", mode, "--n", str(n)]
                    result = _procs.worker(
                        *args, "--concurrency", str(concurrency), transport=transport
                    )
                    result["client"] = client
                    repeats.append(result)
        if with_official:
            n = sizes.sequential_tasks
            log(f"transports: official, sequential, {n} tasks")
            official = _bulk_run(server, "official", n, 1, latency)
            runs.append(official)
    for run in runs:
        raw = next(
            (
                r
                for r in runs
                if r["client"] == "aiohttp" and r["concurrency"] == run["concurrency"]
            ),
            None,
        )
        run["ratio_to_aiohttp"] = (
            run["tasks_per_s"] / raw["tasks_per_s"] if raw is not None else float("nan")
        )
    pairs: dict[int, list[float]] = {}
    for concurrency in sizes.transport_concurrencies[1:]:
        first = [r for r in runs if r["concurrency"] == concurrency and r["client"] == "ours"]
        raw = [r for r in runs if r["concurrency"] == concurrency and r["client"] == "aiohttp"]
        ours_all = first + [
            r for r in repeats if r["concurrency"] == concurrency and r["client"] == "ours"
        ]
        raw_all = raw + [
            r for r in repeats if r["concurrency"] == concurrency and r["client"] == "aiohttp"
        ]
        pairs[concurrency] = [
            a["tasks_per_s"] / b["tasks_per_s"] for a, b in zip(ours_all, raw_all, strict=True)
        ]
    return {
        "latency_ms": latency,
        "clients": clients,
        "runs": runs,
        "repeats": repeats,
        "pair_ratios": {str(c): ratios for c, ratios in pairs.items()},
        "median_ratio": {str(c): _median(ratios) for c, ratios in pairs.items()},
    }


# -- the sandbox's ceiling --------------------------------------------------------------

_WRK_SCRIPT = """wrk.method = "POST"
wrk.body = '{body}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Basic {token}"
"""


def ceiling(sizes: Sizes, workdir: Path, log: Log) -> dict[str, Any]:
    """Creates per second the sandbox answers when a load generator (``wrk`` when it is
    installed, else raw aiohttp in a process of its own) keeps it busy."""
    import base64

    token = base64.b64encode(f"{LIVE_KEY}:".encode()).decode()
    connections = 32
    with _procs.sandbox() as server:
        url = f"{server.base_url}/task/{TASK_TYPE}"
        wrk = shutil.which("wrk")
        before = server.cpu_seconds()
        if wrk is not None:
            script = workdir / "create.lua"
            script.write_text(_WRK_SCRIPT.format(body=dumps(CREATE_PARAMS), token=token))
            seconds = max(1, round(sizes.ceiling_seconds))
            log(f"sandbox ceiling: wrk, {connections} connections, {seconds} s")
            proc = subprocess.run(
                [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(script), url],
                env=_procs.child_env(),
                capture_output=True,
                text=True,
                check=True,
                timeout=seconds + 60,
            )
            match = re.search(r"Requests/sec:\s*([\d.]+)", proc.stdout)
            total = re.search(r"(\d+) requests in", proc.stdout)
            errors = re.search(r"Non-2xx or 3xx responses: (\d+)", proc.stdout)
            per_s = float(match[1]) if match else float("nan")
            n = int(total[1]) if total else 0
            result = {
                "generator": f"wrk ({connections} connections, one thread)",
                "creates_per_s": per_s,
                "n": n,
                "errors": int(errors[1]) if errors else 0,
                "seconds": float(seconds),
            }
        else:
            n = max(200, int(sizes.ceiling_seconds * 1000))
            log(f"sandbox ceiling: raw aiohttp, {connections} at a time, {n} creates")
            run = _procs.worker(
                "bulk",
                "--url",
                server.base_url,
                "--mode",
                "aiohttp",
                "--n",
                str(n),
                "--concurrency",
                str(connections),
            )
            result = {
                "generator": f"raw aiohttp in its own process ({connections} at a time)",
                "creates_per_s": run["tasks_per_s"],
                "n": n,
                "errors": run["errors"],
                "seconds": run["seconds"],
            }
        server_cpu = server.cpu_seconds() - before
    result["server_cpu_us_per_task"] = server_cpu / max(result["n"], 1) * 1e6
    result["server_cpu_share"] = server_cpu / result["seconds"]
    return result


# -- 3. iter_tasks memory ---------------------------------------------------------------


def iterate(sizes: Sizes, workdir: Path, log: Log) -> list[dict[str, Any]]:
    db = workdir / "iter.sqlite3"
    results = []
    with _procs.sandbox(db=db) as server:
        for n in sizes.iter_sizes:
            key = f"test_iter_{n}"  # an account of its own: it holds exactly n tasks
            log(f"iter_tasks: filling {n} tasks")
            _fill.fill(server.base_url, db, key, n)
            log(f"iter_tasks: paging through {n} tasks")
            before = server.cpu_seconds()
            result = _procs.worker(
                "iter",
                "--url",
                server.base_url,
                "--key",
                key,
                "--n",
                str(n),
                "--page",
                str(sizes.page),
            )
            result["server_cpu_share"] = (server.cpu_seconds() - before) / result["seconds"]
            results.append(result)
    return results


# -- 4. import time ---------------------------------------------------------------------

_IMPORTTIME = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \| ( *)(\S+)\s*$")
_HTTP_STACK = ("httpx", "httpcore", "h11", "anyio", "sniffio", "idna", "certifi", "h2")
# httpx imports its command line (httpx._main) whenever click, rich and pygments are
# installed, as they are with this repository's dev extra (`scaleapi[cli]`).
_HTTPX_CLI = ("click", "rich", "pygments", "markdown_it", "mdurl")


def _group(module: str) -> str:
    top = module.split(".")[0]
    if module.startswith("scaleapi._generated"):
        return "scaleapi: generated code (models, endpoints, params)"
    if top == "scaleapi":
        return "scaleapi: hand-written modules"
    if module.startswith("httpx._main") or top in _HTTPX_CLI:
        return "httpx's CLI (`httpx._main`: click, rich, pygments)"
    if top in _HTTP_STACK:
        return "httpx and its dependencies (not its CLI)"
    if top in ("attr", "attrs"):
        return "attrs"
    if top in sys.stdlib_module_names or top.startswith("_"):
        return "standard library"
    return "other"


@dataclass(frozen=True)
class _Imported:
    total_ms: float  # cumulative time of the top-level import
    cli_ms: float  # of which httpx's CLI (httpx._main), when installed
    groups: dict[str, float]  # self ms by group
    httpx: bool  # whether httpx was imported


def _import_once(module: str) -> _Imported:
    """``python -X importtime -c 'import MODULE'`` in a fresh interpreter, parsed."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        cwd=_procs.ROOT,
        env=_procs.child_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    total = float("nan")
    cli = 0.0
    groups: dict[str, float] = {}
    names: set[str] = set()
    for line in proc.stderr.splitlines():
        match = _IMPORTTIME.match(line)
        if match is None:
            continue
        self_us, cumulative_us, indent, name = match.groups()
        names.add(name)
        group = _group(name)
        groups[group] = groups.get(group, 0.0) + int(self_us) / 1000
        if name == module and not indent:
            total = int(cumulative_us) / 1000
        if name == "httpx._main":
            cli = int(cumulative_us) / 1000
    return _Imported(total, cli, groups, "httpx" in names)


# A fresh interpreter: import, make a client, get one task from the fixed-response server.
_FIRST_CALL = {
    "scaleapi": (
        "import scaleapi\n"
        "client = scaleapi.ScaleClient({key!r}, base_url={url!r})\n"
        "assert client.fetch_task({task_id!r}).id == {task_id!r}\n"
    ),
    "httpx": (
        "import httpx\n"
        "client = httpx.Client(auth=({key!r}, ''))\n"
        "assert client.get({url!r} + '/task/' + {task_id!r}).json()['task_id'] == {task_id!r}\n"
    ),
}
_TIMED = (
    "import time\n_started = time.perf_counter()\n{body}"
    "print((time.perf_counter() - _started) * 1000)\n"
)


def _first_call_once(module: str, url: str) -> float:
    body = _FIRST_CALL[module].format(key=TEST_KEY, url=url, task_id=TASK_ID)
    proc = subprocess.run(
        [sys.executable, "-c", _TIMED.format(body=body)],
        cwd=_procs.ROOT,
        env=_procs.child_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    return float(proc.stdout.strip().splitlines()[-1])


def _first_call_imports(module: str, url: str) -> dict[str, float]:
    """Self ms of every import of the first-call script, by group (one ``-X importtime``
    run: the interpreter's own start-up imports included)."""
    body = _FIRST_CALL[module].format(key=TEST_KEY, url=url, task_id=TASK_ID)
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", body],
        cwd=_procs.ROOT,
        env=_procs.child_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    groups: dict[str, float] = {}
    for line in proc.stderr.splitlines():
        match = _IMPORTTIME.match(line)
        if match is not None:
            group = _group(match[4])
            groups[group] = groups.get(group, 0.0) + int(match[1]) / 1000
    return groups


def import_time(sizes: Sizes, log: Log) -> dict[str, Any]:
    log(f"import time: {sizes.import_runs} fresh interpreters each")
    modules = ("scaleapi", "httpx")
    for module in modules:  # bytecode caches written, files in the page cache
        _import_once(module)
    runs: dict[str, list[_Imported]] = {m: [] for m in modules}
    first_call: dict[str, list[float]] = {m: [] for m in modules}
    with _procs.fixed_server() as server:
        for module in modules:
            _first_call_once(module, server.base_url)
        for _ in range(sizes.import_runs):
            for module in modules:
                runs[module].append(_import_once(module))
                first_call[module].append(_first_call_once(module, server.base_url))
        first_call_groups = {m: _first_call_imports(m, server.base_url) for m in modules}

    def median_of(module: str, value: Callable[[_Imported], float]) -> float:
        return _median([value(run) for run in runs[module]])

    scaleapi_ms = median_of("scaleapi", lambda r: r.total_ms)
    httpx_ms = median_of("httpx", lambda r: r.total_ms)
    bare_scaleapi = median_of("scaleapi", lambda r: r.total_ms - r.cli_ms)
    bare_httpx = median_of("httpx", lambda r: r.total_ms - r.cli_ms)
    median_run = sorted(runs["scaleapi"], key=lambda r: r.total_ms)[len(runs["scaleapi"]) // 2]
    first_scaleapi, first_httpx = _median(first_call["scaleapi"]), _median(first_call["httpx"])
    return {
        "scaleapi_ms": scaleapi_ms,
        "httpx_ms": httpx_ms,
        "ratio": scaleapi_ms / httpx_ms,
        "runs_ms": {m: [r.total_ms for r in runs[m]] for m in modules},
        "scaleapi_imports_httpx": all(r.httpx for r in runs["scaleapi"]),
        "httpx_cli_imported": bare_httpx < httpx_ms,
        "without_httpx_cli_ms": {"scaleapi": bare_scaleapi, "httpx": bare_httpx},
        "ratio_without_httpx_cli": bare_scaleapi / bare_httpx,
        "breakdown_ms": dict(sorted(median_run.groups.items(), key=lambda item: -item[1])),
        "first_call_ms": {"scaleapi": first_scaleapi, "httpx": first_httpx},
        "first_call_runs_ms": first_call,
        "first_call_ratio": first_scaleapi / first_httpx,
        "first_call_imports_ms": first_call_groups,
    }


# -- 5. make generate -------------------------------------------------------------------

_COPIED = ("openapi", "generator", "scaleapi", "pyproject.toml")


def generate_time(sizes: Sizes, workdir: Path, log: Log) -> dict[str, Any]:
    """Wall time of ``generator/generate.py`` in a copy of the repository (the real
    ``scaleapi/_generated/`` is never touched)."""
    copy = workdir / "generate"
    for name in _COPIED:
        source = _procs.ROOT / name
        if source.is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".ruff_cache")
            shutil.copytree(source, copy / name, ignore=ignore)
        else:
            copy.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / name)
    runs = []
    for run in range(sizes.generate_runs):
        log(f"make generate: run {run + 1} of {sizes.generate_runs} (in a copy)")
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "generator/generate.py"],
            cwd=copy,
            env=_procs.child_env(),
            capture_output=True,
            text=True,
            check=False,
        )
        runs.append(time.perf_counter() - started)
        if proc.returncode != 0:
            raise RuntimeError(f"generator/generate.py failed:\n{proc.stderr[-3000:]}")
    return {"seconds": _median(runs), "runs_s": runs}


# -- all of it --------------------------------------------------------------------------


def run_all(sizes: Sizes, *, with_official: bool, smoke: bool, log: Log) -> dict[str, Any]:
    official = official_versions() if with_official else None
    results: dict[str, Any] = {
        "smoke": smoke,
        "sizes": asdict(sizes),
        "machine": machine(official),
    }
    with tempfile.TemporaryDirectory(prefix="scaleapi-bench-") as tmp:
        workdir = Path(tmp)
        with _procs.sandbox() as sandbox:
            results["per_call"] = per_call(sizes, sandbox.base_url, official is not None, log)
            results["bulk"] = bulk(sizes, sandbox, official is not None, workdir, log)
        results["transports"] = transports(sizes, official is not None, log)
        results["ceiling"] = ceiling(sizes, workdir, log)
        results["iter"] = iterate(sizes, workdir, log)
        results["import"] = import_time(sizes, log)
        results["generate"] = generate_time(sizes, workdir, log)
    return results
