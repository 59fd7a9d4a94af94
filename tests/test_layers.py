"""The layers run one way, and the generated code has nothing in it that nothing uses.

* ``scaleapi/_generated/`` is the bottom layer: at run time it imports nothing
  hand-written (it may name hand-written classes for type checkers only).
* The core (transport, retries, settings, errors) imports nothing of ``_generated``.
* Every generated module is imported by some other module.
* The task-type table agrees with the spec (``TaskType`` and the create operations) and
  with what the clients, ``scaleapi.types`` and the CLI offer.
"""

from __future__ import annotations

import ast
import re
import typing
from pathlib import Path

import yaml

import scaleapi
import scaleapi.types
from scaleapi._generated import operations

PACKAGE = Path(scaleapi.__file__).resolve().parent
GENERATED = PACKAGE / "_generated"
CORE = ("_transport.py", "_retry.py", "_config.py", "_types.py", "_exceptions.py", "_constants.py")


def _runtime_imports(path: Path) -> list[str]:
    """Absolute module names imported by ``path`` outside ``if TYPE_CHECKING:`` blocks."""
    tree = ast.parse(path.read_text())
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    found: list[str] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                for sub in child.orelse:
                    visit(sub)
                continue
            if isinstance(child, ast.Import):
                found.extend(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    parts = package.split(".")
                    parts = parts[: len(parts) - child.level + 1]
                    base = ".".join([*parts, base]) if base else ".".join(parts)
                found.append(base)
                found.extend(f"{base}.{alias.name}" for alias in child.names)
            visit(child)

    visit(tree)
    return found


def test_generated_code_imports_nothing_hand_written_at_run_time() -> None:
    offenders = {
        str(path.relative_to(PACKAGE)): name
        for path in GENERATED.rglob("*.py")
        for name in _runtime_imports(path)
        if name.startswith("scaleapi.") and not name.startswith("scaleapi._generated")
    }
    assert offenders == {}


def test_the_core_imports_nothing_generated() -> None:
    offenders = {
        name: imported
        for name in CORE
        for imported in _runtime_imports(PACKAGE / name)
        if "_generated" in imported
    }
    assert offenders == {}


def test_every_generated_module_is_imported_by_another() -> None:
    sources = {p: p.read_text() for p in PACKAGE.rglob("*.py")}
    unused = []
    for path in GENERATED.rglob("*.py"):
        if path.name == "__init__.py":
            continue
        # An import of the module, or the lazy models package's name of it (".stem").
        used = re.compile(rf"(?:from|import)\s+[\w.]*\b{path.stem}\b|\"\.{path.stem}\"")
        if not any(used.search(text) for other, text in sources.items() if other != path):
            unused.append(str(path.relative_to(PACKAGE)))
    assert unused == []


def test_the_task_type_table_agrees_with_the_spec_and_every_surface() -> None:
    spec = yaml.safe_load((PACKAGE / "openapi.yaml").read_text())
    task_types = spec["components"]["schemas"]["TaskType"]["enum"]
    creates = {
        op["x-scaleapi-task-type"]
        for item in spec["paths"].values()
        for op in item.values()
        if isinstance(op, dict) and "x-scaleapi-task-type" in op
    }
    assert set(operations.TASK_TYPES) == set(task_types) == creates == set(operations.CREATES)
    assert set(typing.get_args(scaleapi.types.TaskType)) == set(task_types)
    assert {member.value for member in scaleapi.TaskType} == set(task_types)
    for task_type in task_types:
        name = f"create_{task_type}_task"
        assert callable(getattr(scaleapi.ScaleClient, name)), name
        assert callable(getattr(scaleapi.AsyncScaleClient, name)), name
        assert operations.CREATES[task_type].name == name
