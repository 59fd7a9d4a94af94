"""`make demo`: a tour of every README call against the local sandbox.

Run with ``python -m scaleapi._demo`` (needs the ``sandbox`` extra).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Generator
from contextlib import contextmanager

import scaleapi
from scaleapi.sandbox import Sandbox

BOLD, DIM, GREEN, RED, RESET = (
    ("\033[1m", "\033[2m", "\033[32m", "\033[31m", "\033[0m")
    if sys.stdout.isatty()
    else ("", "", "", "", "")
)


def section(title: str) -> None:
    print(f"\n{BOLD}{title}{RESET}")


def show(label: str, value: object) -> None:
    print(f"  {label:<34} {value}")


@contextmanager
def step(label: str) -> Generator[None]:
    started = time.perf_counter()
    yield
    print(f"  {DIM}{label} took {(time.perf_counter() - started) * 1000:.1f} ms{RESET}")


def main() -> None:
    with Sandbox() as sandbox:
        print(f"{BOLD}scaleapi {scaleapi.__version__}{RESET}: sandbox at {sandbox.base_url}")
        client = scaleapi.ScaleClient("test_demo_key", base_url=sandbox.base_url)

        section("Create a task of each type (test key: tasks complete at once)")
        task = client.create_categorization_task(
            callback_url="http://www.example.com/callback",
            instruction="Is this company public or private?",
            attachment_type="website",
            attachment="http://www.google.com/",
            categories=["public", "private"],
        )
        show("create_categorization_task", f"{task}  status={task.status}")
        others = [
            client.create_transcription_task(
                instruction="Transcribe the given fields.",
                attachment_type="website",
                attachment="http://news.ycombinator.com/",
                fields={"title": "Title of Webpage", "top_result": "Title of the top result"},
                row_fields={"username": "Username of submitter"},
            ),
            client.create_comparison_task(
                instruction="Do the objects in these images have the same pattern?",
                attachment_type="image",
                attachments=["http://example.com/a.jpg", "http://example.com/b.jpg"],
                choices=["yes", "no"],
            ),
            client.create_annotation_task(
                instruction="Draw a box around each **baby cow** and **big cow**.",
                attachment_type="image",
                attachment="http://i.imgur.com/v4cBreD.jpg",
                objects_to_annotate=["baby cow", "big cow"],
                with_labels=True,
                min_width=30,
                min_height=30,
                examples=[{"correct": True, "image": "http://i.imgur.com/lj6e98s.jpg"}],
            ),
            client.create_datacollection_task(
                instruction="Find the URL for the hiring page.",
                attachment_type="website",
                attachment="http://www.scaleapi.com/",
                fields={"hiring_page": "Hiring Page URL"},
            ),
            client.create_audiotranscription_task(
                instruction="Transcribe the audio file.",
                attachment_type="audio",
                attachment="https://example.com/speaker-3.wav",
                verbatim=False,
            ),
        ]
        for other in others:
            show(f"create_{other.type}_task", f"{other}  status={other.status}")

        section("Fetch: pending when created, completed once fetched")
        with step("fetch_task"):
            fetched = client.fetch_task(task.id)
        show("status", f"{GREEN}{fetched.status}{RESET}")
        show("response", fetched.response)
        show("task.attachment_type (from params)", fetched.attachment_type)
        for other in others:
            done = client.fetch_task(other.id)
            show(f"{done.type} response", _short(done.as_dict().get("response")))

        section("List with filters")
        tasks = client.tasks(type="categorization", limit=100, offset=0)
        show("tasks(type='categorization')", f"{len(tasks)} on the page")
        show(
            "total, limit, offset, has_more",
            (tasks.total, tasks.limit, tasks.offset, tasks.has_more),
        )
        page = client.tasks(limit=2)
        show("tasks(limit=2)", f"{[str(t) for t in page]} next_token={page.next_token!r}")

        section("Cancel (live key: tasks wait for people, so they can be canceled)")
        live = scaleapi.ScaleClient("live_demo_key", base_url=sandbox.base_url)
        pending = live.create_categorization_task(
            attachment_type="text", attachment="ACME Corp", categories=["public", "private"]
        )
        show("created", f"{pending}  status={pending.status}")
        canceled = live.cancel_task(pending.id)
        show("cancel_task", f"{canceled}  status={canceled.status}")

        section("Task management")
        task.set_metadata({"order": 17})
        task.add_tags(["urgent", "q4"])
        show("set_metadata, add_tags", f"metadata={task.metadata} tags={task.tags}")
        show("update_unique_id", task.update_unique_id(f"order-17-{task.id}").unique_id)

        section("A batch's whole life: project, batch, tasks, finalize, status")
        project = client.create_project(
            f"demo-cows-{task.id}",
            scaleapi.TaskType.Categorization,
            {"instruction": "Is this animal a cow?"},
        )
        show("create_project", f"{project}  type={project.type} version={project.version}")
        batch = client.create_batch(project.name, f"{project.name}-batch-1")
        show("create_batch", f"{batch}  status={batch.status}")
        upload = client.upload_file(b"a picture of a cow", project_name=project.name)
        show("upload_file", upload.attachment_url)
        in_batch = [
            client.create_task(
                scaleapi.TaskType.Categorization,
                project=project.name,
                batch=batch.name,
                attachment_type="image",
                attachment=attachment,
                categories=["cow", "not a cow"],
            )
            for attachment in (upload.attachment_url, "http://i.imgur.com/v4cBreD.jpg")
        ]
        show("create_task(batch=...)", ", ".join(str(t) for t in in_batch))
        batch.finalize()
        show("finalize", f"status={batch.status}")
        for created in in_batch:
            created.refresh()  # test keys: completed on the next fetch
        counts = batch.get_status()
        show("get_status", f"{dict(counts)}")
        count = client.get_tasks_count(project_name=project.name, batch_name=batch.name)
        show("get_tasks_count(project, batch)", count)

        section("Errors")
        try:
            client.create_categorization_task(  # type: ignore[call-arg]
                callback_url="http://www.example.com/callback"
            )
        except scaleapi.ValidationError as e:
            show("missing fields", f"{RED}{type(e).__name__}{RESET} code={e.code} {e.message!r}")
        try:
            client.fetch_task("0123456789abcdef01234567")
        except scaleapi.ScaleResourceNotFound as e:
            show("unknown task", f"{RED}{type(e).__name__}{RESET} code={e.code} {e.message!r}")
        try:
            client.tasks(bogus=0)  # type: ignore[call-arg]
        except scaleapi.ScaleInvalidRequest as e:
            show("unknown filter (no request sent)", f"{RED}{type(e).__name__}{RESET}")
        client.close()
        live.close()
        print(f"\n{GREEN}Done.{RESET} The sandbox stopped; nothing left the machine.")


def _short(value: object, width: int = 70) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


if __name__ == "__main__":
    main()
