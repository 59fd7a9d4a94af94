"""Fetch throughput of the sandbox: `python tests/sandbox/bench_fetch.py [N]`.

Starts `python -m scaleapi.sandbox --port 0` in a subprocess and fetches one task N
times over one keep-alive connection, first with an httpx.Client (what an SDK user sees:
httpx's own CPU time is most of it) and then with a bare socket (about what the server
alone can do on one core). Not a test: pytest does not collect it.
"""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]
BODY = {"attachment_type": "text", "attachment": "hello", "categories": ["a", "b"]}


def _read_answer(sock: socket.socket) -> None:
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
            break
    else:
        raise RuntimeError("no content-length")
    while len(body) < length:
        body += sock.recv(65536)


def main(count: int) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    server = subprocess.Popen(
        [sys.executable, "-m", "scaleapi.sandbox", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert server.stdout is not None
        base_url = server.stdout.readline().strip()
        with httpx.Client(base_url=base_url, auth=("test_bench", ""), trust_env=False) as client:
            task_id = client.post("/task/categorization", json=BODY).json()["task_id"]
            for _ in range(300):
                client.get(f"/task/{task_id}")
            started = time.perf_counter()
            for _ in range(count):
                client.get(f"/task/{task_id}").raise_for_status()
            rate = count / (time.perf_counter() - started)
            print(f"httpx.Client, keep-alive: GET /v1/task/{{id}} {rate:,.0f} requests/s")

        host, port = base_url.split("//")[1].split("/")[0].rsplit(":", 1)
        token = base64.b64encode(b"test_bench:").decode()
        request = (
            f"GET /v1/task/{task_id} HTTP/1.1\r\nHost: {host}\r\n"
            f"Authorization: Basic {token}\r\n\r\n"
        ).encode()
        with socket.create_connection((host, int(port))) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for _ in range(300):
                sock.sendall(request)
                _read_answer(sock)
            started = time.perf_counter()
            for _ in range(count):
                sock.sendall(request)
                _read_answer(sock)
            rate = count / (time.perf_counter() - started)
            print(f"bare socket, keep-alive:  GET /v1/task/{{id}} {rate:,.0f} requests/s")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
