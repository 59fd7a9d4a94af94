"""``scaleapi projects list|get|create``: the generated project operations, by short names."""

from __future__ import annotations

import click

from ._surface import group


def projects() -> click.Group | None:
    return group(
        "projects",
        """Projects: a task type and default params that tasks created in them inherit.

        \b
        Examples:
          scaleapi projects create kittens imageannotation -p params='{"instruction": "Box it"}'
          scaleapi projects list --format json
          scaleapi projects get kittens
        """,
        (
            ("list", "list_projects", "List the account's projects.", "  scaleapi projects list"),
            ("get", "get_project", "Print a project.", "  scaleapi projects get kittens"),
            (
                "create",
                "create_project",
                "Create a project.",
                "  scaleapi projects create kittens imageannotation "
                '-p params=\'{"instruction": "Box every kitten"}\'',
            ),
        ),
    )
