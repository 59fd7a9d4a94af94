"""Public names of the generated types, for annotating your own code.

    from scaleapi.types import CategorizationParams, CategorizationResponse
    def first(task: scaleapi.Task[CategorizationParams, CategorizationResponse]) -> str: ...

For every task type: the attrs models of its ``params``, ``response`` and whole task
(what ``task.params``, ``task.response`` and ``task.model`` are), the TypedDict of its
create's keyword arguments, and the unions ``AnyParams`` / ``AnyResponse``; all
generated from the spec (``scaleapi/_generated/task_types.py`` lists them).
"""

from ._generated.task_types import *  # noqa: F403
from ._generated.task_types import __all__ as __all__
