# pyright: strict
"""Correct uses of the SDK: ``mypy --strict`` and strict pyright must find no error here.

Checked by tests/test_typing.py, never imported or run: every call sits in a function.
The calls are the classic README examples, typed by the TypedDicts generated from the
spec; ``assert_type`` shows what the checkers infer for what the calls return.
"""

from __future__ import annotations

import datetime
from typing import Any, assert_type

import scaleapi
from scaleapi._generated.api.models import (
    AnnotationParams,
    AnnotationResponse,
    AudiotranscriptionParams,
    AudiotranscriptionResponse,
    CategorizationParams,
    CategorizationResponse,
    ComparisonParams,
    ComparisonResponse,
    DatacollectionParams,
    DatacollectionResponse,
    TaskStatus,
    TranscriptionParams,
    TranscriptionResponse,
)
from scaleapi._generated.api.types import Unset


def make_client() -> scaleapi.ScaleClient:
    return scaleapi.ScaleClient(
        "test_0123456789abcdef",
        base_url="http://127.0.0.1:8080/v1",
        timeout=10.0,
        max_retries=2,
    )


def categorization(client: scaleapi.ScaleClient) -> str | list[str] | None:
    task = client.create_categorization_task(
        callback_url="http://www.example.com/callback",
        instruction="Is this company public or private?",
        attachment_type="website",
        attachment="http://www.google.com/",
        categories=["public", "private"],
    )
    assert_type(task, scaleapi.Task[CategorizationParams, CategorizationResponse])
    assert_type(task.id, str)
    assert_type(task.status, TaskStatus | str)
    assert_type(task.created_at, datetime.datetime)
    assert_type(task.completed_at, datetime.datetime | None)
    assert_type(task.metadata, dict[str, Any])
    assert_type(task.params, CategorizationParams)
    assert_type(task.params.categories, list[str] | Unset)
    response = task.response
    assert_type(response, CategorizationResponse | None)
    if response is None:
        return None
    assert_type(response.category, list[str] | str)
    return response.category


def categorization_all_options(client: scaleapi.ScaleClient) -> bool:
    task = client.create_categorization_task(
        attachment_type="text",
        attachment="The quarterly results beat expectations.",
        categories=["positive", "negative"],
        category_ids={"positive": "c-1", "negative": "c-2"},
        allow_multiple=True,
        urgency="day",
        metadata={"batch": 7, "source": ["a", "b"]},
        unique_id="review-0001",
        extra_body={"project": "sentiment"},
    )
    allow_multiple = task.params.allow_multiple
    return allow_multiple if isinstance(allow_multiple, bool) else False


def transcription(client: scaleapi.ScaleClient) -> dict[str, Any] | None:
    task = client.create_transcription_task(
        callback_url="http://www.example.com/callback",
        instruction=(
            "Transcribe the given fields. Then for each news item on the page, "
            "transcribe the information for the row."
        ),
        attachment_type="website",
        attachment="http://www.google.com/",
        fields={"title": "Title of Webpage", "top_result": "Title of the top result"},
        row_fields={"username": "Username of submitter", "comment_count": "Number of comments"},
    )
    assert_type(task, scaleapi.Task[TranscriptionParams, TranscriptionResponse])
    response = task.response
    if response is None or isinstance(response.fields, Unset):
        return None
    return response.fields.to_dict()


def comparison(client: scaleapi.ScaleClient) -> str | None:
    task = client.create_comparison_task(
        callback_url="http://www.example.com/callback",
        instruction="Do the objects in these images have the same pattern?",
        attachment_type="image",
        choices=["yes", "no"],
        attachments=[
            "http://i.ebayimg.com/00/$T2eC16dHJGwFFZKjy5ZjBRfNyMC4Ig~~_32.JPG",
            "http://images.wisegeek.com/checkered-tablecloth.jpg",
        ],
    )
    assert_type(task, scaleapi.Task[ComparisonParams, ComparisonResponse])
    response = task.response
    if response is None or isinstance(response.choice, Unset):
        return None
    assert_type(response.choice, str)
    return response.choice


def annotation(client: scaleapi.ScaleClient) -> list[float]:
    task = client.create_annotation_task(
        callback_url="http://www.example.com/callback",
        instruction="Draw a box around each **baby cow** and **big cow**.",
        attachment_type="image",
        attachment="http://i.imgur.com/v4cBreD.jpg",
        objects_to_annotate=["baby cow", "big cow"],
        with_labels=True,
        min_width=30,
        min_height=30.5,
        examples=[
            {
                "correct": False,
                "image": "http://i.imgur.com/lj6e98s.jpg",
                "explanation": "The boxes are tight and accurate",
            },
            {
                "correct": True,
                "image": "http://i.imgur.com/HIrvIDq.jpg",
                "explanation": "The boxes are neither accurate nor complete",
            },
            {"correct": True, "image": "http://i.imgur.com/v4cBreD.jpg"},
        ],
    )
    assert_type(task, scaleapi.Task[AnnotationParams, AnnotationResponse])
    response = task.response
    if response is None:
        return []
    return [box.width * box.height for box in response.annotations]


def datacollection(client: scaleapi.ScaleClient) -> dict[str, Any]:
    task = client.create_datacollection_task(
        callback_url="http://www.example.com/callback",
        instruction="Find the URL for the hiring page for the company with attached website.",
        attachment_type="website",
        attachment="http://www.google.com/",
        fields={"hiring_page": "Hiring Page URL"},
    )
    assert_type(task, scaleapi.Task[DatacollectionParams, DatacollectionResponse])
    response = task.response
    return {} if response is None else response.fields.to_dict()


def audiotranscription(client: scaleapi.ScaleClient) -> str:
    task = client.create_audiotranscription_task(
        callback_url="http://www.example.com/callback",
        attachment_type="audio",
        attachment="https://storage.googleapis.com/deepmind-media/pixie/speaker-3.wav",
        verbatim=False,
    )
    assert_type(task, scaleapi.Task[AudiotranscriptionParams, AudiotranscriptionResponse])
    response = task.response
    return "" if response is None else response.transcript


def create_by_name(client: scaleapi.ScaleClient) -> scaleapi.Task:
    # The task type named at run time; its parameters are not typed.
    return client.create_task(
        "categorization",
        callback_url="http://www.example.com/callback",
        instruction="Is this company public or private?",
        attachment_type="website",
        attachment="http://www.google.com/",
        categories=["public", "private"],
    )


def fetch_and_cancel(client: scaleapi.ScaleClient, task_id: str) -> TaskStatus | str:
    task = client.fetch_task(task_id)
    assert_type(task, scaleapi.Task)
    assert_type(task.type, str)
    canceled = client.cancel_task(task_id)
    assert_type(canceled, scaleapi.Task)
    assert_type(task.refresh(), scaleapi.Task)
    assert_type(task.cancel(), scaleapi.Task)
    assert_type(task.as_dict(), dict[str, Any])
    return canceled.status


def list_tasks(client: scaleapi.ScaleClient) -> list[str]:
    page = client.tasks(
        start_time="2024-01-01T00:00:00.000Z",
        end_time="2024-02-01T00:00:00.000Z",
        type="categorization",
        status="completed",
        limit=100,
        offset=200,
    )
    assert_type(page, scaleapi.Tasklist)
    assert_type(page.total, int)
    assert_type(page.has_more, bool)
    assert_type(page.limit, int)
    assert_type(page.offset, int)
    assert_type(page.next_token, str | None)
    if page.has_more and page.next_token is not None:
        client.tasks(next_token=page.next_token, extra_query={"project": "sentiment"})
    ids: list[str] = []
    for task in page:
        assert_type(task, scaleapi.Task)
        ids.append(task.id)
    return ids


def errors(client: scaleapi.ScaleClient) -> str:
    try:
        client.create_categorization_task(
            attachment_type="image",
            attachment="http://i.imgur.com/v4cBreD.jpg",
            categories=["cow", "no cow"],
        )
    except scaleapi.ValidationError as e:
        assert_type(e.code, int | None)
        assert_type(e.message, str)
        return f"{e.code}: {e.message}"
    except scaleapi.ScaleTooManyRequests as e:
        assert_type(e.retry_after, float | None)
        return str(e)
    except scaleapi.ScaleException as e:
        assert_type(e.request_id, str | None)
        return repr(e)
    return "created"


def options_and_context_manager() -> str:
    with make_client() as client:
        assert_type(client, scaleapi.ScaleClient)
        quick = client.with_options(timeout=5, max_retries=0)
        assert_type(quick, scaleapi.ScaleClient)
        return quick.fetch_task("5774cc78b01249ab09f089dd").id
