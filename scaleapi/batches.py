"""``scaleapi.batches``, as in the official 2.x SDK: ``Batch`` and ``BatchStatus``."""

from ._generated.enums import BatchStatus
from ._objects import Batch, Batchlist, StatusCounts

__all__ = ["Batch", "BatchStatus", "Batchlist", "StatusCounts"]
