"""Simulated workers: the placeholder `response` of a completed task.

Each answer is deterministic (its random numbers are seeded from the task id) and valid
against the type's response schema. A type the spec gains later, with no worker here,
gets a minimal answer built from its response schema.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from typing import Any, cast

from ._spec import ApiSpec

__all__ = ["IMAGE_HEIGHT", "IMAGE_WIDTH", "placeholder_response"]

IMAGE_WIDTH = 1024
"""Width, in pixels, the annotation worker assumes every image has."""
IMAGE_HEIGHT = 768
"""Height, in pixels, the annotation worker assumes every image has."""

_WORDS = (
    "the",
    "quick",
    "brown",
    "fox",
    "jumps",
    "over",
    "a",
    "lazy",
    "dog",
    "while",
    "seven",
    "sailors",
    "sing",
    "about",
    "distant",
    "harbours",
    "and",
    "bright",
    "morning",
    "light",
)
_FILLERS = ("um", "uh", "you know")

Params = Mapping[str, Any]
Worker = Callable[[random.Random, Params], dict[str, Any]]


def _value(rng: random.Random, key: str) -> str:
    return f"{key} {rng.randint(1, 999)}"


def _values(rng: random.Random, fields: object) -> dict[str, Any]:
    if not isinstance(fields, Mapping):
        return {}
    return {str(key): _value(rng, str(key)) for key in cast("Mapping[object, object]", fields)}


def _categorization(rng: random.Random, params: Params) -> dict[str, Any]:
    categories = [str(c) for c in params.get("categories") or ["uncategorized"]]
    if params.get("allow_multiple"):
        count = rng.randint(1, len(categories))
        return {"category": sorted(rng.sample(categories, count), key=categories.index)}
    return {"category": rng.choice(categories)}


def _transcription(rng: random.Random, params: Params) -> dict[str, Any]:
    answer: dict[str, Any] = {"fields": _values(rng, params.get("fields"))}
    rows: object = params.get("repeatable_fields") or params.get("row_fields")
    if rows:
        answer["repeatable_fields"] = [_values(rng, rows) for _ in range(rng.randint(1, 3))]
    return answer


def _comparison(rng: random.Random, params: Params) -> dict[str, Any]:
    answer: dict[str, Any] = {}
    choices = params.get("choices")
    if isinstance(choices, list) and choices:
        answer["choice"] = str(rng.choice(cast("list[object]", choices)))
    answer["fields"] = _values(rng, params.get("fields"))
    return answer


def _datacollection(rng: random.Random, params: Params) -> dict[str, Any]:
    return {"fields": _values(rng, params.get("fields"))}


def _span(rng: random.Random, minimum: object, size: int) -> tuple[int, int] | None:
    """(start, length) of a box side at least `minimum` long inside `size`, if one fits."""
    low = max(8, math.ceil(float(minimum))) if isinstance(minimum, int | float) else 8
    if low > size:
        return None
    length = rng.randint(low, max(low, min(size, low + size // 3)))
    return rng.randint(0, size - length), length


def _annotation(rng: random.Random, params: Params) -> dict[str, Any]:
    kinds = [str(k) for k in params.get("objects_to_annotate") or ["object"]]
    labelled = bool(params.get("with_labels"))
    boxes: list[dict[str, Any]] = []
    for kind in kinds:
        for _ in range(rng.randint(1, 2)):
            across = _span(rng, params.get("min_width"), IMAGE_WIDTH)
            down = _span(rng, params.get("min_height"), IMAGE_HEIGHT)
            if across is None or down is None:
                continue  # smaller than the minimum size: skipped, as a worker would
            box: dict[str, Any] = {
                "left": across[0],
                "top": down[0],
                "width": across[1],
                "height": down[1],
            }
            if labelled:
                box["label"] = kind
            boxes.append(box)
    return {"annotations": boxes}


def _audiotranscription(rng: random.Random, params: Params) -> dict[str, Any]:
    words = [rng.choice(_WORDS) for _ in range(rng.randint(5, 15))]
    if params.get("verbatim"):
        words.insert(rng.randint(0, len(words)), rng.choice(_FILLERS))
    alignment: list[dict[str, Any]] = []
    clock_ms = rng.randint(100, 600)
    for word in words:
        start = clock_ms
        end = start + rng.randint(150, 600)
        alignment.append(
            {
                "word": word,
                "start": start / 1000,
                "end": end / 1000,
                "confidence": rng.randint(80, 99) / 100,
            }
        )
        clock_ms = end + rng.randint(40, 250)
    return {
        "transcript": " ".join(words),
        "duration": (clock_ms + 500) / 1000,
        "alignment": alignment,
    }


_WORKERS: dict[str, Worker] = {
    "categorization": _categorization,
    "transcription": _transcription,
    "comparison": _comparison,
    "annotation": _annotation,
    "datacollection": _datacollection,
    "audiotranscription": _audiotranscription,
}


def _from_schema(spec: ApiSpec, schema: Any, depth: int = 0) -> Any:
    """The smallest value a schema accepts, for types without a worker."""
    schema = spec.resolve(schema)
    if not isinstance(schema, Mapping) or depth > 8:
        return {}
    schema = cast("Mapping[str, Any]", schema)
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    for combinator in ("oneOf", "anyOf"):
        if schema.get(combinator):
            return _from_schema(spec, schema[combinator][0], depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in cast("list[str]", kind) if k != "null"), "null")
    if kind == "string":
        return "x" * int(schema.get("minLength", 0)) or "placeholder"
    if kind in ("integer", "number"):
        return schema.get("minimum", 0)
    if kind == "boolean":
        return False
    if kind == "array":
        count = int(schema.get("minItems", 0))
        return [_from_schema(spec, schema.get("items", {}), depth + 1) for _ in range(count)]
    if kind == "null":
        return None
    properties = spec.properties_of(schema)
    required = {
        str(r)
        for part in [schema, *schema.get("allOf", [])]
        for r in spec.resolve(part).get("required", [])
    }
    return {
        name: _from_schema(spec, properties.get(name, {}), depth + 1) for name in sorted(required)
    }


def placeholder_response(
    spec: ApiSpec, task_type: str, task_id: str, params: Params
) -> dict[str, Any]:
    """A deterministic, schema-valid answer for a task."""
    rng = random.Random(f"{task_type}:{task_id}")
    worker = _WORKERS.get(task_type)
    if worker is not None:
        return worker(rng, params)
    info = spec.task_types.get(task_type)
    if info is None or info.response_schema is None:
        return {}
    answer = _from_schema(spec, info.response_schema)
    return cast("dict[str, Any]", answer) if isinstance(answer, dict) else {}
