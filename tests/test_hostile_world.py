"""The client in a hostile world, through real sockets: forked processes, several event
loops, proxies from the environment, and everything that could show the key."""

from __future__ import annotations

import asyncio
import base64
import os
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hostile_server import TASK, Connection, HostileServer, Request

import scaleapi

KEY = "live_w0rld_s3cr3t_0123456789"
TOKEN = base64.b64encode(f"{KEY}:".encode()).decode()


def echo_id(request: Request, conn: Connection) -> None:
    """Answer GET /task/<id> with the task <id>: an answer meant for another is visible."""
    conn.answer(200, {**TASK, "task_id": request.target.rsplit("/", 1)[-1]})


@pytest.fixture
def server() -> Iterator[HostileServer]:
    with HostileServer(echo_id) as s:
        yield s


@pytest.fixture(autouse=True)
def no_proxy_from_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)


# -- fork ----------------------------------------------------------------------------
def in_child(work: Any) -> int:
    """Run ``work()`` in a forked child; its exit status (0: it returned True)."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            code = 0 if work() else 1
        except scaleapi.ScaleException:
            code = 3
        except BaseException:
            code = 2
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def test_a_forked_child_opens_its_own_connection(server: HostileServer) -> None:
    with scaleapi.ScaleClient(KEY, base_url=server.url) as client:
        assert client.fetch_task("parent1").id == "parent1"
        parent_port = server.requests[-1].peer_port

        assert in_child(lambda: client.fetch_task("child1").id == "child1") == 0
        child = server.requests[-1]
        assert child.target.endswith("/child1") and child.peer_port != parent_port

        assert client.fetch_task("parent2").id == "parent2"  # the parent's still works
        assert server.requests[-1].peer_port == parent_port


def test_an_async_client_after_fork_opens_its_own_connection(server: HostileServer) -> None:
    client = scaleapi.AsyncScaleClient(KEY, base_url=server.url)
    loop = asyncio.new_event_loop()
    try:
        assert loop.run_until_complete(client.fetch_task("parent1")).id == "parent1"
        parent_port = server.requests[-1].peer_port

        def child() -> bool:
            return asyncio.run(client.fetch_task("child1")).id == "child1"

        assert in_child(child) == 0
        assert server.requests[-1].peer_port != parent_port
        loop.run_until_complete(client.aclose())
    finally:
        loop.close()


def test_a_given_http_client_used_before_fork_is_refused_in_the_child(
    server: HostileServer,
) -> None:
    with (
        httpx.Client() as http,
        scaleapi.ScaleClient(KEY, base_url=server.url, http_client=http) as client,
    ):
        client.fetch_task("parent1")
        assert in_child(lambda: client.fetch_task("child1")) == 3  # a ScaleException
        assert client.fetch_task("parent2").id == "parent2"
    assert len(server.requests) == 2


def test_a_given_http_client_not_used_before_fork_works_in_the_child(
    server: HostileServer,
) -> None:
    with (
        httpx.Client() as http,
        scaleapi.ScaleClient(KEY, base_url=server.url, http_client=http) as client,
    ):
        assert in_child(lambda: client.fetch_task("child1").id == "child1") == 0


def test_sixteen_threads_sharing_one_client_each_get_their_own_answers(
    server: HostileServer,
) -> None:
    wrong: list[str] = []
    with scaleapi.ScaleClient(KEY, base_url=server.url) as client:

        def fetch_many(thread: int) -> None:
            for n in range(50):
                want = f"t{thread}-{n}"
                got = client.fetch_task(want).id
                if got != want:
                    wrong.append(f"{want} got {got}")

        threads = [threading.Thread(target=fetch_many, args=(n,)) for n in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert not wrong
    assert len(server.requests) == 800


# -- event loops ------------------------------------------------------------------------
def test_one_async_client_serves_one_asyncio_run_after_another(server: HostileServer) -> None:
    client = scaleapi.AsyncScaleClient(KEY, base_url=server.url)
    assert asyncio.run(client.fetch_task("first")).id == "first"
    assert asyncio.run(client.fetch_task("second")).id == "second"
    asyncio.run(client.aclose())


def test_one_async_client_serves_loops_in_several_threads_at_once(
    server: HostileServer,
) -> None:
    client = scaleapi.AsyncScaleClient(KEY, base_url=server.url)
    wrong: list[str] = []

    async def fetch_many(thread: int) -> None:
        ids = [f"t{thread}-{n}" for n in range(40)]
        for start in range(0, len(ids), 8):
            batch = ids[start : start + 8]
            tasks = await asyncio.gather(*(client.fetch_task(i) for i in batch))
            wrong.extend(
                f"{want} got {got.id}"
                for want, got in zip(batch, tasks, strict=True)
                if got.id != want
            )

    threads = [threading.Thread(target=lambda n=n: asyncio.run(fetch_many(n))) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not wrong
    assert len(server.requests) == 160


def test_a_given_async_http_client_is_bound_to_its_first_loop(server: HostileServer) -> None:
    async def first() -> tuple[httpx.AsyncClient, scaleapi.AsyncScaleClient]:
        http = httpx.AsyncClient()
        client = scaleapi.AsyncScaleClient(KEY, base_url=server.url, http_client=http)
        assert (await client.fetch_task("one")).id == "one"
        return http, client

    http, client = asyncio.run(first())
    with pytest.raises(scaleapi.ScaleException, match="bound to the event loop"):
        asyncio.run(client.fetch_task("two"))
    assert len(server.requests) == 1
    del http


# -- proxies and credentials --------------------------------------------------------
def proxy_answer(request: Request, conn: Connection) -> None:
    conn.answer(200, {**TASK, "task_id": "via-proxy"})


def test_loopback_calls_skip_proxies_from_the_environment(
    server: HostileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with HostileServer(proxy_answer) as proxy:
        proxy_url = f"http://127.0.0.1:{proxy.port}"
        for name in ("HTTP_PROXY", "ALL_PROXY"):
            monkeypatch.setenv(name, proxy_url)
        for base_url in (server.url, server.url.replace("127.0.0.1", "localhost")):
            with scaleapi.ScaleClient(KEY, base_url=base_url) as client:
                assert client.fetch_task("direct").id == "direct"
        assert not proxy.requests
        assert len(server.requests) == 2


def test_other_hosts_still_use_the_environments_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    with HostileServer(proxy_answer) as proxy:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.port}")
        with scaleapi.ScaleClient(KEY, base_url="http://scale.example/v1") as client:
            assert client.fetch_task("abc").id == "via-proxy"
        [seen] = proxy.requests
        assert seen.target == "http://scale.example/v1/task/abc"
        # What the README warns about: over plain http, a proxy sees the key.
        assert seen.headers["authorization"] == f"Basic {TOKEN}"


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("HTTPS_PROXY", "ftp://x", "scheme 'ftp'"),
        ("https_proxy", "gopher://x:70", "scheme 'gopher'"),
        ("ALL_PROXY", "socks5://x", "httpx[socks]"),
    ],
)
@pytest.mark.parametrize("cls", [scaleapi.ScaleClient, scaleapi.AsyncScaleClient])
def test_a_proxy_variable_httpx_cannot_use_is_a_scale_exception_naming_it(
    monkeypatch: pytest.MonkeyPatch, cls: Any, name: str, value: str, says: str
) -> None:
    pytest.importorskip("httpx", reason="always there")
    if value.startswith("socks"):
        try:
            import socksio  # noqa: F401
        except ImportError:
            pass
        else:
            pytest.skip("socksio is installed: a SOCKS proxy is usable")
    monkeypatch.setenv(name, value)
    with pytest.raises(scaleapi.ScaleException, match=name) as caught:
        cls(KEY)
    assert says in str(caught.value)


@pytest.mark.parametrize("name", ["SSL_CERT_FILE", "SSL_CERT_DIR"])
@pytest.mark.parametrize("cls", [scaleapi.ScaleClient, scaleapi.AsyncScaleClient])
def test_certificates_that_cannot_be_loaded_are_a_scale_exception_naming_them(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any, cls: Any, name: str
) -> None:
    bad = tmp_path / "not-a-certificate.pem"
    bad.write_text("this is not a certificate")
    monkeypatch.setenv(name, str(tmp_path / "missing") if name == "SSL_CERT_FILE" else str(bad))
    try:
        client = cls(KEY)
    except scaleapi.ScaleException as exc:
        assert name in str(exc)
    else:  # httpx ignored the variable (a directory it cannot read is skipped): fine
        assert name == "SSL_CERT_DIR"
        del client


@pytest.mark.parametrize(
    "url",
    ["https://user:hunter2@api.scale.com/v1", "http://:hunter2@127.0.0.1:9/v1"],
)
def test_credentials_in_the_base_url_are_refused(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(scaleapi.ScaleException, match="credentials") as caught:
        scaleapi.ScaleClient(KEY, base_url=url)
    assert "hunter2" not in str(caught.value)
    monkeypatch.setenv("SCALE_BASE_URL", url)
    with pytest.raises(scaleapi.ScaleException, match=r"\$SCALE_BASE_URL contains credentials"):
        scaleapi.AsyncScaleClient(KEY)


@pytest.mark.parametrize("url", ["ftp://api.scale.com/v1", "api.scale.com/v1", "http://"])
def test_a_base_url_that_is_not_http_is_refused(url: str) -> None:
    with pytest.raises(scaleapi.ScaleException, match="base_url"):
        scaleapi.ScaleClient(KEY, base_url=url)


# -- no secret in any repr ----------------------------------------------------------------
def reachable(root: object, depth: int = 7) -> Iterator[object]:
    """Every object reachable from ``root`` through containers and the attributes and
    slots of the SDK's objects (only the public ones of others, such as httpx's: their
    private insides are not what tools that record locals show)."""
    seen: set[int] = set()
    todo: list[tuple[object, int]] = [(root, 0)]
    while todo:
        obj, level = todo.pop()
        if id(obj) in seen or level > depth:
            continue
        seen.add(id(obj))
        yield obj
        children: list[object] = []
        if isinstance(obj, dict):
            children += [*obj.keys(), *obj.values()]
        elif isinstance(obj, list | tuple | set | frozenset):
            children += list(obj)
        elif not isinstance(obj, str | bytes | int | float | type):
            ours = type(obj).__module__.startswith("scaleapi")
            names = list(vars(obj)) if hasattr(obj, "__dict__") else []
            for cls in type(obj).__mro__:
                names += list(getattr(cls, "__slots__", ()))
            children += [
                getattr(obj, name)
                for name in names
                if (ours or not name.startswith("_")) and hasattr(obj, name)
            ]
        todo += [(child, level + 1) for child in children]


@pytest.mark.parametrize("cls", [scaleapi.ScaleClient, scaleapi.AsyncScaleClient])
def test_no_repr_reachable_from_a_client_shows_the_key(server: HostileServer, cls: Any) -> None:
    if cls is scaleapi.ScaleClient:
        client = cls(KEY, base_url=server.url)
        task = client.with_options(timeout=3).fetch_task("abc")
    else:
        client = cls(KEY, base_url=server.url)

        async def use() -> Any:
            return await client.fetch_task("abc")

        task = asyncio.run(use())
    checked: set[str] = set()
    for obj in reachable(task):  # the task, its client, the settings, the pools, ...
        if isinstance(obj, str | bytes):
            continue  # the header value itself, found by walking
        text = repr(obj)
        assert KEY not in text and TOKEN not in text, f"{type(obj).__name__}: {text[:200]}"
        checked.add(type(obj).__name__)
    assert {"Settings", "RetryPolicy", "Headers", "Timeout", cls.__name__} <= checked
    assert {"SyncPool", "AsyncPool"} & checked and {"Client", "AsyncClient"} & checked
