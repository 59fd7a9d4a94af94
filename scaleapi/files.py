"""``scaleapi.files``, as in the official 2.x SDK: ``File``."""

from ._objects import File

__all__ = ["File"]
