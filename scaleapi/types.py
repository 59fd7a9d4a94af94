"""Public names of the generated types, for annotating your own code.

    from scaleapi.types import CategorizationParams, CategorizationResponse
    def first(task: scaleapi.Task[CategorizationParams, CategorizationResponse]) -> str: ...

The attrs models (what ``task.params`` and ``task.response`` are) and the TypedDicts of
each create's keyword arguments, both generated from the spec.
"""

from ._generated.api.models import (
    AlignedWord,
    AnnotationExampleEcho,
    AnnotationParams,
    AnnotationResponse,
    AudiotranscriptionParams,
    AudiotranscriptionResponse,
    Box,
    CategorizationParams,
    CategorizationResponse,
    ComparisonParams,
    ComparisonResponse,
    DatacollectionParams,
    DatacollectionResponse,
    TaskStatus,
    TaskType,
    TranscriptionParams,
    TranscriptionResponse,
)
from ._generated.params import (
    AnnotationExample,
    AnnotationTaskCreate,
    AudiotranscriptionTaskCreate,
    CategorizationTaskCreate,
    ComparisonTaskCreate,
    DatacollectionTaskCreate,
    ListTasksParametersQuery,
    TranscriptionTaskCreate,
    Urgency,
)

AnyParams = (
    CategorizationParams
    | TranscriptionParams
    | ComparisonParams
    | AnnotationParams
    | DatacollectionParams
    | AudiotranscriptionParams
)
"""The ``params`` model of a task of any type."""
AnyResponse = (
    CategorizationResponse
    | TranscriptionResponse
    | ComparisonResponse
    | AnnotationResponse
    | DatacollectionResponse
    | AudiotranscriptionResponse
)
"""The ``response`` model of a task of any type."""

__all__ = [
    "AlignedWord",
    "AnnotationExample",
    "AnnotationExampleEcho",
    "AnnotationParams",
    "AnnotationResponse",
    "AnnotationTaskCreate",
    "AnyParams",
    "AnyResponse",
    "AudiotranscriptionParams",
    "AudiotranscriptionResponse",
    "AudiotranscriptionTaskCreate",
    "Box",
    "CategorizationParams",
    "CategorizationResponse",
    "CategorizationTaskCreate",
    "ComparisonParams",
    "ComparisonResponse",
    "ComparisonTaskCreate",
    "DatacollectionParams",
    "DatacollectionResponse",
    "DatacollectionTaskCreate",
    "ListTasksParametersQuery",
    "TaskStatus",
    "TaskType",
    "TranscriptionParams",
    "TranscriptionResponse",
    "TranscriptionTaskCreate",
    "Urgency",
]
