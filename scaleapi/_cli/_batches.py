"""``scaleapi batches list|get|create|finalize|status``: the generated batch operations, by
short names."""

from __future__ import annotations

import click

from ._surface import group


def batches() -> click.Group | None:
    return group(
        "batches",
        """Batches: groups of tasks in a project, created, filled, finalized and tracked.

        \b
        Examples:
          scaleapi batches create kittens kittens-2024-05
          scaleapi create imageannotation -f tasks.jsonl --project kittens \\
              --batch kittens-2024-05 --finalize
          scaleapi batches status kittens-2024-05
          scaleapi batches list --project kittens --format json
        """,
        (
            (
                "list",
                "list_batches",
                "List batches (one page).",
                "  scaleapi batches list --project kittens --status in_progress",
            ),
            ("get", "get_batch", "Print a batch.", "  scaleapi batches get kittens-2024-05"),
            (
                "create",
                "create_batch",
                "Create a batch in a project.",
                "  scaleapi batches create kittens kittens-2024-05",
            ),
            (
                "finalize",
                "finalize_batch",
                "Finalize a batch: no more tasks go into it.",
                "  scaleapi batches finalize kittens-2024-05",
            ),
            (
                "status",
                "get_batch_status",
                "Print a batch's status and its tasks' counts by status.",
                "  scaleapi batches status kittens-2024-05 --format json",
            ),
        ),
    )
