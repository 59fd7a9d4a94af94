"""Our small fork of openapi-python-client's templates, checked against one upstream version.

openapi-python-client renders a template from ``--custom-template-path`` when one of the
same name is there, else its own. We do not keep copies of its templates: each change is a
unified diff in ``generator/patches/`` against the templates of the version recorded
below, and :func:`template_dir` applies them to the installed package's templates, strictly
(every hunk where its header says, context equal byte for byte; no offset, no fuzz). A
different installed version, or a patch that no longer applies, stops ``make generate``
with a message saying what to do. Whole-file templates in ``generator/templates/``, if
any, are used as they are.

    python generator/upstream.py check        the installed version and every patch
    python generator/upstream.py write DIR    the patched templates, to read or edit
    python generator/upstream.py refresh DIR  rewrite each patch from the edited DIR

Upgrading openapi-python-client: pin the new version in pyproject.toml, ``make install``,
set UPSTREAM_VERSION; ``check`` names any hunk that no longer applies. Re-make that change
in the new template (``write DIR``, edit, ``refresh DIR``: each patch keeps its comment),
then ``make generate`` and review the diff of ``scaleapi/_generated/``.

A patch file is a comment (lines starting with ``#``, saying what it changes, why, and
whether it belongs upstream) followed by the unified diff of one or more templates, paths
relative to the templates folder with ``a/`` and ``b/`` prefixes (so ``patch -p1`` takes
it too). A template is changed by one patch only; patches apply in name order.
"""

from __future__ import annotations

import argparse
import difflib
import importlib.metadata
import importlib.util
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

UPSTREAM = "openapi-python-client"
UPSTREAM_VERSION = "0.29.1"

HERE = Path(__file__).resolve().parent
PATCHES = HERE / "patches"
OVERRIDES = HERE / "templates"

NO_NEWLINE = "\\ No newline at end of file"
_HUNK = re.compile(r"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def _read(path: Path) -> str:
    return path.read_bytes().decode("utf-8")  # byte for byte: no newline translation


def _lines(text: str) -> list[str]:
    """Lines with their endings, split at "\\n" only (str.splitlines splits at more)."""
    parts = text.split("\n")
    return [f"{part}\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


class UpstreamMismatch(Exception):
    """The installed upstream is not the one our patches were made against."""


@dataclass(frozen=True)
class Hunk:
    old_start: int  # 1-based; the line after which to insert when old is empty
    old: tuple[str, ...]  # lines with their endings: context and removed
    new: tuple[str, ...]  # context and added


@dataclass(frozen=True)
class FilePatch:
    path: str  # relative to the templates folder
    hunks: tuple[Hunk, ...]


@dataclass(frozen=True)
class Patch:
    name: str
    comment: str  # the leading "#" lines, kept by `refresh`
    files: tuple[FilePatch, ...]


def installed_version() -> str:
    return importlib.metadata.version(UPSTREAM)


def upstream_templates() -> Path:
    """The templates folder of the installed openapi-python-client (not imported)."""
    spec = importlib.util.find_spec("openapi_python_client")
    if spec is None or spec.origin is None:
        raise UpstreamMismatch(f"{UPSTREAM} is not installed (run `make install`)")
    return Path(spec.origin).parent / "templates"


def check_version(installed: str | None = None) -> None:
    installed = installed_version() if installed is None else installed
    if installed != UPSTREAM_VERSION:
        raise UpstreamMismatch(
            f"{UPSTREAM} {installed} is installed, but generator/patches/ were made against "
            f"{UPSTREAM_VERSION} (UPSTREAM_VERSION in generator/upstream.py). Upgrading? "
            f"Port the patches to {installed} (steps in generator/upstream.py), then set "
            f"UPSTREAM_VERSION. Otherwise `make install` installs the pinned version."
        )


def parse(text: str, name: str) -> Patch:
    """A patch file's comment and diffs; anything else in it is an error."""
    lines = _lines(text)
    at = 0
    while at < len(lines) and lines[at].startswith("#"):
        at += 1
    comment = "".join(lines[:at])
    files: list[FilePatch] = []

    def fail(message: str) -> UpstreamMismatch:
        return UpstreamMismatch(f"{name}, line {at + 1}: {message}")

    while at < len(lines):
        if not (lines[at].startswith("--- a/") and lines[at + 1 : at + 2]):
            raise fail("expected '--- a/<template>'")
        path = lines[at][len("--- a/") :].rstrip("\n").split("\t")[0]
        if lines[at + 1].rstrip("\n").split("\t")[0] != f"+++ b/{path}":
            raise fail(f"expected '+++ b/{path}'")
        at += 2
        hunks: list[Hunk] = []
        while at < len(lines) and lines[at].startswith("@@ "):
            match = _HUNK.match(lines[at])
            if match is None:
                raise fail(f"bad hunk header {lines[at].rstrip()!r}")
            old_start, old_count, _, new_count = (
                int(g) if g is not None else 1 for g in match.groups()
            )
            at += 1
            old: list[str] = []
            new: list[str] = []
            while at < len(lines) and (len(old) < old_count or len(new) < new_count):
                line = lines[at]
                kind, body = line[:1], line[1:]
                if line.startswith("@@"):
                    break
                if line == "\n":
                    raise fail("empty line in a hunk (a context line starts with a space)")
                if kind not in (" ", "-", "+"):
                    raise fail(f"unexpected line {line.rstrip()!r} in a hunk")
                if kind in (" ", "-"):
                    old.append(body)
                if kind in (" ", "+"):
                    new.append(body)
                at += 1
                if at < len(lines) and lines[at].rstrip("\n") == NO_NEWLINE:
                    for side in (old, new) if kind == " " else (old if kind == "-" else new,):
                        side[-1] = side[-1].removesuffix("\n")
                    at += 1
            if (len(old), len(new)) != (old_count, new_count):
                raise fail(
                    f"a hunk of {path} has -{len(old)} +{len(new)} lines, "
                    f"its header says -{old_count} +{new_count}"
                )
            hunks.append(Hunk(old_start, tuple(old), tuple(new)))
        if not hunks:
            raise fail(f"no hunk for {path}")
        files.append(FilePatch(path, tuple(hunks)))
    if not files:
        raise UpstreamMismatch(f"{name}: no diff after the comment")
    return Patch(name, comment, tuple(files))


def apply(original: str, change: FilePatch, where: str) -> str:
    """``original`` with every hunk applied exactly where its header says, or an error."""
    lines = _lines(original)
    out: list[str] = []
    done = 0  # lines of `original` already copied or replaced
    for number, hunk in enumerate(change.hunks, 1):
        start = hunk.old_start - 1 if hunk.old else hunk.old_start
        found = lines[start : start + len(hunk.old)]
        if start < done or tuple(found) != hunk.old:
            differ = next(
                (i for i, (a, b) in enumerate(zip(found, hunk.old, strict=False)) if a != b),
                min(len(found), len(hunk.old)),
            )
            expected = hunk.old[differ] if differ < len(hunk.old) else "(end of hunk)"
            actual = found[differ] if differ < len(found) else "(end of file)"
            raise UpstreamMismatch(
                f"{where}: hunk {number} does not apply to {change.path} of {UPSTREAM} "
                f"{installed_version()} at line {start + differ + 1}:\n"
                f"  patch expects: {expected.rstrip()!r}\n"
                f"  template has:  {actual.rstrip()!r}\n"
                "Re-make this change in the new template (steps in generator/upstream.py)."
            )
        out += lines[done:start]
        out += hunk.new
        done = start + len(hunk.old)
    return "".join(out + lines[done:])


def read_patches(folder: Path = PATCHES) -> list[Patch]:
    return [parse(_read(path), path.name) for path in sorted(folder.glob("*.patch"))]


def patched_templates(
    upstream: Path | None = None, folder: Path = PATCHES
) -> dict[str, tuple[str, str]]:
    """``{template path: (upstream text, patched text)}`` for every template a patch changes."""
    upstream = upstream_templates() if upstream is None else upstream
    result: dict[str, tuple[str, str]] = {}
    owner: dict[str, str] = {}
    for patch in read_patches(folder):
        for change in patch.files:
            if change.path in owner:
                raise UpstreamMismatch(
                    f"{patch.name} and {owner[change.path]} both change {change.path}: "
                    "keep each template's changes in one patch"
                )
            owner[change.path] = patch.name
            source = upstream / change.path
            if not source.is_file():
                raise UpstreamMismatch(
                    f"{patch.name}: {UPSTREAM} {installed_version()} has no {change.path}"
                )
            text = _read(source)
            result[change.path] = (text, apply(text, change, patch.name))
    return result


def write_templates(dest: Path, overrides: Path = OVERRIDES, folder: Path = PATCHES) -> Path:
    """Fill ``dest`` with the patched templates and the whole-file overrides."""
    check_version()
    patched = patched_templates(folder=folder)
    dest.mkdir(parents=True, exist_ok=True)
    if overrides.is_dir():
        for source in sorted(overrides.rglob("*.jinja")):
            path = source.relative_to(overrides).as_posix()
            if path in patched:
                raise UpstreamMismatch(
                    f"{path} is both in generator/templates/ and patched: keep one"
                )
            (dest / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, dest / path)
    for path, (_, text) in patched.items():
        (dest / path).parent.mkdir(parents=True, exist_ok=True)
        (dest / path).write_bytes(text.encode("utf-8"))
    return dest


def template_dir(dest: Path) -> Path:
    """The folder to pass as ``--custom-template-path``, written into ``dest`` (which the
    caller removes). Stops with a message if upstream is not what the patches expect."""
    try:
        return write_templates(dest)
    except UpstreamMismatch as error:
        raise SystemExit(f"generate: {error}") from None


def unified_diff(path: str, before: str, after: str) -> str:
    """The diff of one template as a patch file holds it (3 lines of context)."""
    lines = difflib.unified_diff(
        _lines(before),
        _lines(after),
        f"a/{path}",
        f"b/{path}",
    )
    # difflib puts no newline after a file's unterminated last line; diff(1) says so.
    return "".join(line if line.endswith("\n") else f"{line}\n{NO_NEWLINE}\n" for line in lines)


def refresh(edited: Path, upstream: Path | None = None, folder: Path = PATCHES) -> list[str]:
    """Rewrite each patch as the diff from upstream to ``edited``, keeping its comment."""
    upstream = upstream_templates() if upstream is None else upstream
    changed: list[str] = []
    for patch in read_patches(folder):
        diffs = [
            unified_diff(f.path, _read(upstream / f.path), _read(edited / f.path))
            for f in patch.files
        ]
        if not all(diffs):
            raise UpstreamMismatch(f"{patch.name}: a template it changes is now unchanged")
        text = patch.comment + "".join(diffs)
        target = folder / patch.name
        if _read(target) != text:
            target.write_bytes(text.encode("utf-8"))
            changed.append(patch.name)
    return changed


def main() -> None:
    parser = argparse.ArgumentParser(description="Check or edit our patches to upstream templates.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("check", help="the installed version and every patch")
    commands.add_parser("write", help="the patched templates, into DIR").add_argument(
        "dir", type=Path
    )
    commands.add_parser("refresh", help="rewrite the patches from DIR").add_argument(
        "dir", type=Path
    )
    opts = parser.parse_args()
    try:
        if opts.command == "check":
            check_version()
            count = len(patched_templates())
            print(f"{UPSTREAM} {UPSTREAM_VERSION}: {count} templates patched cleanly")
        elif opts.command == "write":
            write_templates(opts.dir)
            print(f"patched templates written to {opts.dir}")
        else:
            changed = refresh(opts.dir)
            print(f"rewrote {', '.join(changed)}" if changed else "patches unchanged")
    except UpstreamMismatch as error:
        sys.exit(f"upstream.py: {error}")


if __name__ == "__main__":
    main()
