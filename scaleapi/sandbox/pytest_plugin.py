"""pytest fixtures that start a sandbox for your tests.

Enable them in a `conftest.py`:

```python
pytest_plugins = ["scaleapi.sandbox.pytest_plugin"]


def test_create(scale_sandbox_url: str, scale_test_key: str) -> None:
    client = ScaleClient(scale_test_key, base_url=scale_sandbox_url)
    ...
```

One sandbox serves the whole session; each test gets its own API keys, and with them
an account of its own, so tests never see each other's tasks. To pass options to the
sandbox, override the `scale_sandbox_options` fixture (session scope).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from ._config import SandboxOptions
from ._server import Sandbox

__all__ = [
    "scale_live_key",
    "scale_sandbox",
    "scale_sandbox_options",
    "scale_sandbox_url",
    "scale_test_key",
]


@pytest.fixture(scope="session")
def scale_sandbox_options() -> SandboxOptions:
    """Options of the session's sandbox; override this fixture to change them."""
    return {}


@pytest.fixture(scope="session")
def scale_sandbox(scale_sandbox_options: SandboxOptions) -> Iterator[Sandbox]:
    """The session's running sandbox (`.base_url`, `.admin_url`, `.callback_auth_key`)."""
    with Sandbox(**scale_sandbox_options) as sandbox:
        yield sandbox


@pytest.fixture
def scale_sandbox_url(scale_sandbox: Sandbox) -> str:
    """The sandbox's API base URL, ending in `/v1`."""
    return scale_sandbox.base_url


@pytest.fixture
def scale_test_key() -> str:
    """A `test_` API key new to the sandbox: its tasks complete at once."""
    return f"test_{uuid.uuid4().hex}"


@pytest.fixture
def scale_live_key() -> str:
    """A `live_` API key new to the sandbox: its tasks stay pending until completed."""
    return f"live_{uuid.uuid4().hex}"
