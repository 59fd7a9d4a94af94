"""``scaleapi.teams``, as in the official 2.x SDK: ``Teammate`` and ``TeammateRole``."""

from ._generated.enums import TeammateRole
from ._objects import Teammate

__all__ = ["Teammate", "TeammateRole"]
