"""The SDK's behaviour tests run against the project's own sandbox, through the same
pytest plugin users enable in their conftest."""

from collections.abc import Callable, Iterator

import pytest
from hostile_server import Handler, HostileServer

pytest_plugins = ["scaleapi.sandbox.pytest_plugin"]


@pytest.fixture
def serve() -> Iterator[Callable[[Handler], HostileServer]]:
    """Starts a :class:`HostileServer` per call, closed after the test."""
    servers: list[HostileServer] = []

    def start(handler: Handler) -> HostileServer:
        server = HostileServer(handler)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()
