"""``scaleapi.projects``, as in the official 2.x SDK: ``Project`` and ``TaskTemplate``."""

from ._generated.api.models import TaskTemplate
from ._objects import Project

__all__ = ["Project", "TaskTemplate"]
