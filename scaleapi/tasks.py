"""``scaleapi.tasks``, as in the official 2.x SDK: ``Task`` and the task enums.

``TaskType``, ``TaskStatus`` and ``TaskReviewStatus`` are ``StrEnum`` classes generated
from the spec, with the 2.x member names (``TaskType.ImageAnnotation``); a member is the
plain string, so it goes wherever the string does.
"""

from ._generated.enums import TaskReviewStatus, TaskStatus, TaskType
from ._task import Task, Tasklist

__all__ = ["Task", "TaskReviewStatus", "TaskStatus", "TaskType", "Tasklist"]
