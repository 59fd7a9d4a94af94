"""The fork of openapi-python-client's templates is checked against the installed version.

generator/upstream.py applies generator/patches/*.patch to the installed package's
templates. These tests fail when the recorded upstream version is not the installed (or
pinned) one, when a patch no longer applies cleanly, and when the applier would let a
changed template through (moved lines, different context, a wrong hunk header).
"""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
GENERATOR = ROOT / "generator"

EXAMPLE = "".join(f"line {n}\n" for n in range(1, 21))
# Line 5 changed, a line added after 15: the kind of diff a patch holds.
EXAMPLE_PATCH = """\
# What and why.
--- a/dir/example.jinja
+++ b/dir/example.jinja
@@ -2,7 +2,7 @@
 line 2
 line 3
 line 4
-line 5
+line five
 line 6
 line 7
 line 8
@@ -13,6 +13,7 @@
 line 13
 line 14
 line 15
+line 15 and a half
 line 16
 line 17
 line 18
"""


@pytest.fixture(scope="module")
def upstream() -> Iterator[ModuleType]:
    """generator/upstream.py (generator/ is a folder of scripts, not a package)."""
    spec = importlib.util.spec_from_file_location("_generator_upstream", GENERATOR / "upstream.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]


def fake_upstream(tmp_path: Path, text: str = EXAMPLE) -> tuple[Path, Path]:
    """A templates folder holding dir/example.jinja, and a patches folder with its patch."""
    templates, patches = tmp_path / "templates", tmp_path / "patches"
    (templates / "dir").mkdir(parents=True)
    (templates / "dir" / "example.jinja").write_text(text)
    patches.mkdir()
    (patches / "example.patch").write_text(EXAMPLE_PATCH)
    return templates, patches


def test_recorded_upstream_version_is_the_installed_and_pinned_one(upstream: ModuleType) -> None:
    assert upstream.installed_version() == upstream.UPSTREAM_VERSION
    pins = re.findall(r'"openapi-python-client==([^"]+)"', (ROOT / "pyproject.toml").read_text())
    assert pins == [upstream.UPSTREAM_VERSION]


def test_every_patch_applies_to_the_installed_templates_and_changes_them(
    upstream: ModuleType,
) -> None:
    patches = upstream.read_patches()
    assert patches, "generator/patches/ holds no patch"
    patched = upstream.patched_templates()
    assert set(patched) == {f.path for p in patches for f in p.files}
    for path, (before, after) in patched.items():
        assert before == (upstream.upstream_templates() / path).read_text()
        assert after != before, f"{path}: its patch changes nothing"


def test_every_patch_says_what_it_changes_why_and_whether_it_belongs_upstream(
    upstream: ModuleType,
) -> None:
    for patch in upstream.read_patches():
        assert len(patch.comment.splitlines()) >= 3, patch.name
        assert "Belongs upstream:" in patch.comment, patch.name


def test_no_template_is_both_patched_and_copied_whole(upstream: ModuleType) -> None:
    copied = {p.relative_to(upstream.OVERRIDES).as_posix() for p in upstream.OVERRIDES.rglob("*")}
    assert not copied & set(upstream.patched_templates())


def test_a_different_installed_version_stops_generation_with_a_clear_message(
    upstream: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    upstream.check_version()  # the installed one passes
    monkeypatch.setattr(upstream, "installed_version", lambda: "0.99.0")
    with pytest.raises(SystemExit) as stopped:
        upstream.template_dir(tmp_path / "templates")
    message = str(stopped.value)
    assert "openapi-python-client 0.99.0 is installed" in message
    assert upstream.UPSTREAM_VERSION in message and "UPSTREAM_VERSION" in message
    assert not (tmp_path / "templates").exists()


def test_template_dir_holds_the_patched_templates_and_the_whole_copies(
    upstream: ModuleType, tmp_path: Path
) -> None:
    dest = upstream.template_dir(tmp_path / "templates")
    written = {p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()}
    copied = {
        p.relative_to(upstream.OVERRIDES).as_posix() for p in upstream.OVERRIDES.rglob("*.jinja")
    }
    assert written == set(upstream.patched_templates()) | copied
    for path, (_, after) in upstream.patched_templates().items():
        assert (dest / path).read_text() == after


def test_a_patch_applies_exactly_where_its_hunks_say(upstream: ModuleType, tmp_path: Path) -> None:
    templates, patches = fake_upstream(tmp_path)
    ((_, after),) = upstream.patched_templates(templates, patches).values()
    expected = EXAMPLE.replace("line 5\n", "line five\n").replace(
        "line 15\n", "line 15\nline 15 and a half\n"
    )
    assert after == expected


@pytest.mark.parametrize(
    ("change", "line", "expects", "has"),
    [
        # upstream edited a line the patch removes
        (lambda t: t.replace("line 5\n", "line 5 # new\n"), 5, "line 5", "line 5 # new"),
        # ... or a context line
        (lambda t: t.replace("line 16\n", "line sixteen\n"), 16, "line 16", "line sixteen"),
        # upstream added a line above: no offset is tried
        (lambda t: "new first line\n" + t, 2, "line 2", "line 1"),
        # the file got shorter than the hunk
        (lambda t: "".join(t.splitlines(keepends=True)[:16]), 17, "line 17", "(end of file)"),
    ],
)
def test_a_patch_that_no_longer_applies_stops_with_the_hunk_and_lines(
    upstream: ModuleType,
    tmp_path: Path,
    change: Callable[[str], str],
    line: int,
    expects: str,
    has: str,
) -> None:
    templates, patches = fake_upstream(tmp_path, change(EXAMPLE))
    with pytest.raises(upstream.UpstreamMismatch) as failed:
        upstream.patched_templates(templates, patches)
    message = str(failed.value)
    assert message.startswith("example.patch: hunk ")
    assert f"dir/example.jinja of openapi-python-client {upstream.installed_version()}" in message
    assert f"at line {line}:" in message
    assert f"patch expects: {expects!r}" in message and f"template has:  {has!r}" in message


@pytest.mark.parametrize(
    ("edit", "error"),
    [
        (lambda p: p.replace("@@ -2,7 +2,7 @@", "@@ -2,8 +2,8 @@"), "has -7 +7 lines, its header"),
        (
            lambda p: p.replace("@@ -13,6 +13,7 @@", "@@ -13 +13,7 @@"),
            "has -6 +7 lines, its header",
        ),
        (lambda p: p.replace("\n line 3\n", "\n\n"), "empty line in a hunk"),
        (lambda p: p.replace(" line 3\n", "*line 3\n"), "unexpected line '*line 3'"),
        (lambda p: p.replace("+++ b/dir/example.jinja", "+++ b/other.jinja"), "expected '+++ b/"),
        (lambda p: p.replace("@@ -13,6 +13,7 @@", "@@ -13,x +13,7 @@"), "bad hunk header"),
        (lambda p: p.split("--- a/")[0], "no diff after the comment"),
    ],
)
def test_a_malformed_patch_is_refused(
    upstream: ModuleType, tmp_path: Path, edit: Callable[[str], str], error: str
) -> None:
    templates, patches = fake_upstream(tmp_path)
    patch = patches / "example.patch"
    patch.write_text(edit(patch.read_text()))
    with pytest.raises(upstream.UpstreamMismatch, match=re.escape(error)):
        upstream.patched_templates(templates, patches)


def test_two_patches_may_not_change_one_template(upstream: ModuleType, tmp_path: Path) -> None:
    templates, patches = fake_upstream(tmp_path)
    (patches / "second.patch").write_text(EXAMPLE_PATCH)
    with pytest.raises(upstream.UpstreamMismatch, match=r"second\.patch and example\.patch both"):
        upstream.patched_templates(templates, patches)


@pytest.mark.parametrize(
    ("before", "after", "markers"),
    [
        ("a\nb\nc", "a\nB\nc", 1),  # unterminated context line
        ("a\nb", "a\nB", 2),  # unterminated removed and added lines
        ("a\nb", "a\nb\n", 1),  # a final newline added
        ("a\nb\n", "a\nb", 1),  # ... and removed
        ("a\x0cb\r\nc\n", "a\x0cb\r\nC\n", 0),  # lines end at "\n" only
    ],
)
def test_a_missing_final_newline_is_kept_through_diff_and_apply(
    upstream: ModuleType, before: str, after: str, markers: int
) -> None:
    diff = upstream.unified_diff("x.jinja", before, after)
    assert diff.count(upstream.NO_NEWLINE) == markers
    (change,) = upstream.parse(diff, "x.patch").files
    assert upstream.apply(before, change, "x.patch") == after


def test_refresh_rewrites_a_patch_from_edited_templates_and_keeps_its_comment(
    upstream: ModuleType, tmp_path: Path
) -> None:
    templates, patches = fake_upstream(tmp_path)
    edited = tmp_path / "edited"
    (edited / "dir").mkdir(parents=True)
    ((_, after),) = upstream.patched_templates(templates, patches).values()
    (edited / "dir" / "example.jinja").write_text(after)
    assert upstream.refresh(edited, templates, patches) == []  # same diff: file untouched
    assert (patches / "example.patch").read_text() == EXAMPLE_PATCH

    (edited / "dir" / "example.jinja").write_text(after.replace("line 1\n", "line one\n"))
    assert upstream.refresh(edited, templates, patches) == ["example.patch"]
    text = (patches / "example.patch").read_text()
    assert text.startswith("# What and why.\n--- a/dir/example.jinja\n")
    ((_, again),) = upstream.patched_templates(templates, patches).values()
    assert again == after.replace("line 1\n", "line one\n")


def test_template_dir_needs_no_whole_file_template(upstream: ModuleType, tmp_path: Path) -> None:
    dest = upstream.write_templates(tmp_path / "templates", overrides=tmp_path / "none")
    written = {p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()}
    assert written == set(upstream.patched_templates())
