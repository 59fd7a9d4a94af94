"""Servers and measured clients in processes of their own."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

ROOT = Path(__file__).resolve().parent.parent
"""The repository: every process starts here, so ``-m benchmarks...`` resolves."""

START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
WORKER_TIMEOUT = 600.0


def child_env() -> dict[str, str]:
    """The environment of every child: no proxy for loopback, no user site tweaks."""
    env = dict(os.environ)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        env.pop(name, None)
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env.pop("SCALE_LOG", None)
    env.pop("SCALE_ASYNC_TRANSPORT", None)
    env["PYTHONUNBUFFERED"] = "1"
    return env


class Server:
    """A server process that prints its base URL on its first line of stdout.

    ``cpu_seconds()`` is the process's user + system CPU so far (Linux ``/proc``; NaN
    elsewhere), to tell whether the server is what limits a run.
    """

    def __init__(self, args: Sequence[str], *, label: str) -> None:
        self.args = list(args)
        self.label = label
        self.proc: subprocess.Popen[str] | None = None
        self.base_url = ""

    def start(self) -> Self:
        proc = subprocess.Popen(
            self.args,
            cwd=ROOT,
            env=child_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.proc = proc
        assert proc.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(proc.stdout, selectors.EVENT_READ)
            if not selector.select(START_TIMEOUT):
                self.stop()
                raise RuntimeError(f"{self.label} did not start within {START_TIMEOUT:.0f} s")
        line = proc.stdout.readline().strip()
        if not line.startswith("http"):
            self.stop()
            raise RuntimeError(f"{self.label} failed to start (first line: {line!r})")
        self.base_url = line
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def cpu_seconds(self) -> float:
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            return float("nan")
        # utime and stime are fields 14 and 15 of the whole line; 12 and 13 after ")".
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        """SIGTERM to this process (by its PID), then SIGKILL if it does not exit."""
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(STOP_TIMEOUT)
        if proc.stdout is not None:
            proc.stdout.close()
        self.proc = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def fixed_server(*, latency_ms: float = 0.0) -> Server:
    """The fixed-response server; with ``latency_ms``, every answer waits that long."""
    args = [sys.executable, "-m", "benchmarks.fixed_server", "--port", "0"]
    return Server([*args, "--latency-ms", str(latency_ms)], label="fixed server")


def sandbox(*, latency_ms: float = 0.0, db: Path | None = None) -> Server:
    """The SDK's sandbox (``python -m scaleapi.sandbox``), in memory unless ``db`` is given."""
    args = [
        sys.executable,
        "-m",
        "scaleapi.sandbox",
        "--port",
        "0",
        "--latency-ms",
        str(latency_ms),
    ]
    if db is not None:
        args += ["--db", str(db)]
    return Server(args, label="sandbox")


def run_json(
    args: Sequence[str], *, isolated_python: bool = False, env: dict[str, str] | None = None
) -> Any:
    """Run a measuring worker; its last line of stdout is its JSON result."""
    proc = subprocess.run(
        list(args),
        cwd=ROOT,
        env={**child_env(), **(env or {})},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=WORKER_TIMEOUT,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"worker {' '.join(args[1:3])} failed ({proc.returncode}):\n{proc.stderr[-3000:]}"
        )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def worker(*args: str, transport: str = "auto") -> Any:
    """``python -m benchmarks._worker ARGS`` (our SDK and the raw clients), its JSON
    result; ``transport`` is the async client's (``$SCALE_ASYNC_TRANSPORT``)."""
    env = {"SCALE_ASYNC_TRANSPORT": transport}
    return run_json([sys.executable, "-m", "benchmarks._worker", *args], env=env)


OFFICIAL_VENV = ROOT / "benchmarks" / ".venv-official"


def official_python() -> Path | None:
    """The official SDK's venv interpreter, when ``make bench`` has installed it."""
    for candidate in (OFFICIAL_VENV / "bin" / "python", OFFICIAL_VENV / "Scripts" / "python.exe"):
        if candidate.exists():
            return candidate
    return None


def official(*args: str) -> Any:
    """The official SDK's worker, isolated (``-I``) so that its ``scaleapi`` is the
    installed 2.x package and not this repository's."""
    python = official_python()
    assert python is not None
    script = ROOT / "benchmarks" / "official_worker.py"
    return run_json([str(python), "-I", str(script), *args])
