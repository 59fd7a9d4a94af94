"""A local, stateful Scale task API server that speaks the spec (`python -m scaleapi.sandbox`).

Importing this package is cheap: uvicorn, Starlette, fastjsonschema and the spec load
when a sandbox is first built.
"""

from __future__ import annotations

from ._config import SandboxOptions
from ._server import Sandbox, SandboxError, create_app

__all__ = ["Sandbox", "SandboxError", "SandboxOptions", "create_app"]

Sandbox.__module__ = SandboxError.__module__ = SandboxOptions.__module__ = __name__
create_app.__module__ = __name__
