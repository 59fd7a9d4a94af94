"""The SDK's types at the call site, as users' type checkers see them.

``tests/typing/good_calls.py`` must pass ``mypy --strict`` and strict pyright with no
error; in ``tests/typing/bad_calls.py`` each checker must flag every line marked
``# expect: <kind>`` (for the reason that kind names) and no other line. The files are
checked, never imported. Each checker runs once per file (about 1-2 s each).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TYPING = ROOT / "tests" / "typing"
GOOD = TYPING / "good_calls.py"
BAD = TYPING / "bad_calls.py"
PYRIGHT = ROOT / "node_modules" / ".bin" / "pyright"
CHECKERS = ("mypy", "pyright")

MARK = re.compile(r"#\s*expect:\s*([\w-]+)\s*$")
MYPY_LINE = re.compile(
    r"^(?P<file>.+?):(?P<line>\d+): (?P<severity>error|warning): (?P<message>.*)$"
)
MYPY_CODE = re.compile(r"\s+\[(?P<code>[a-z0-9-]+)\]$")


@dataclass(frozen=True)
class Expect:
    """How each checker reports one kind of bad call."""

    mypy_code: str
    pyright_rule: str
    words: tuple[str, ...]  # each must appear in the message


EXPECTED = {
    "misspelt-kwarg": Expect("call-arg", "reportCallIssue", ("instrucion",)),
    "wrong-type": Expect("arg-type", "reportArgumentType", ("categories",)),
    "bad-enum-value": Expect("arg-type", "reportArgumentType", ("attachment_type", "webpage")),
    "missing-required-field": Expect("call-arg", "reportCallIssue", ("categories",)),
}


@dataclass(frozen=True)
class Diagnostic:
    line: int  # 1-based
    code: str  # mypy error code or pyright rule
    message: str

    def __str__(self) -> str:
        return f"line {self.line} [{self.code}] {self.message}"


@dataclass(frozen=True)
class Report:
    """What one checker said about one file."""

    checker: str
    diagnostics: tuple[Diagnostic, ...]  # errors and warnings in that file only
    output: str  # the checker's whole output, for failure messages

    def on_line(self, line: int) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.line == line]

    def explain(self) -> str:
        return f"{self.checker} said:\n{self.output}"


def marked_lines(path: Path) -> dict[str, int]:
    """The bad file's marked lines: kind -> 1-based line number."""
    marks: dict[str, int] = {}
    for number, text in enumerate(path.read_text().splitlines(), start=1):
        found = MARK.search(text)
        if found:
            assert found[1] not in marks, f"{path.name}: '{found[1]}' marked twice"
            marks[found[1]] = number
    return marks


def _same_file(reported: str, path: Path) -> bool:
    reported_path = Path(reported)
    if not reported_path.is_absolute():
        reported_path = ROOT / reported_path
    return reported_path.resolve() == path.resolve()


def run_mypy(path: Path, cache_dir: Path) -> Report:
    command = [
        sys.executable, "-m", "mypy",
        "--strict",
        "--no-pretty",
        "--show-error-codes",
        "--cache-dir", str(cache_dir),
        str(path.relative_to(ROOT)),
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "MYPYPATH"}
    proc = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    output = proc.stdout + proc.stderr
    # 0: no error, 1: errors found; anything else is mypy failing to run.
    assert proc.returncode in (0, 1), f"mypy did not run (exit {proc.returncode}):\n{output}"
    assert re.search(r"\b1 source file\b", output), f"mypy did not check the file:\n{output}"
    found: list[Diagnostic] = []
    for text in proc.stdout.splitlines():
        match = MYPY_LINE.match(text)
        if match and _same_file(match["file"], path):
            message = match["message"]
            code = MYPY_CODE.search(message)
            found.append(
                Diagnostic(
                    int(match["line"]),
                    code["code"] if code else "",
                    message[: code.start()] if code else message,
                )
            )
    if proc.returncode == 1:
        assert any(MYPY_LINE.match(t) for t in proc.stdout.splitlines()), (
            f"mypy failed but no error line could be parsed:\n{output}"
        )
    return Report("mypy", tuple(found), output)


def run_pyright(path: Path) -> Report:
    if not PYRIGHT.exists():
        pytest.skip(
            "node_modules/.bin/pyright is missing: run `npm ci` (or `make install`) to "
            "install the pinned pyright"
        )
    command = [str(PYRIGHT), "--outputjson", "--pythonpath", sys.executable, str(path)]
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    # 0: no error, 1: errors found; 2 and 3 are pyright failing to run.
    assert proc.returncode in (0, 1), (
        f"pyright did not run (exit {proc.returncode}):\n{proc.stdout}{proc.stderr}"
    )
    result = json.loads(proc.stdout)
    assert result["summary"]["filesAnalyzed"] == 1, f"pyright did not check the file:\n{result}"
    found = tuple(
        Diagnostic(d["range"]["start"]["line"] + 1, d.get("rule", ""), d["message"])
        for d in result["generalDiagnostics"]
        if d["severity"] in ("error", "warning") and _same_file(d["file"], path)
    )
    return Report("pyright", found, json.dumps(result["generalDiagnostics"], indent=1))


@pytest.fixture(scope="module")
def check(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str, Path], Report]]:
    """``check(checker, path)``: the checker's report on the file, run once per module."""
    cache_dir = tmp_path_factory.mktemp("mypy-cache")
    reports: dict[tuple[str, Path], Report] = {}

    def run(checker: str, path: Path) -> Report:
        key = (checker, path)
        if key not in reports:
            reports[key] = run_mypy(path, cache_dir) if checker == "mypy" else run_pyright(path)
        return reports[key]

    yield run


@pytest.mark.parametrize("path", [GOOD, BAD], ids=lambda p: p.name)
def test_files_are_strict_for_pyright(path: Path) -> None:
    # mypy gets --strict on its command line; pyright reads it from the file.
    assert path.read_text().splitlines()[0] == "# pyright: strict"


@pytest.mark.parametrize("checker", CHECKERS)
def test_good_calls_have_no_errors(check: Callable[[str, Path], Report], checker: str) -> None:
    report = check(checker, GOOD)
    errors = "\n".join(map(str, report.diagnostics))
    assert not report.diagnostics, f"{checker} found errors in {GOOD.name}:\n{errors}"


def test_bad_calls_are_marked() -> None:
    assert set(marked_lines(BAD)) == set(EXPECTED)


@pytest.mark.parametrize("kind", list(EXPECTED))
@pytest.mark.parametrize("checker", CHECKERS)
def test_bad_call_is_flagged(check: Callable[[str, Path], Report], checker: str, kind: str) -> None:
    line = marked_lines(BAD)[kind]
    report = check(checker, BAD)
    expect = EXPECTED[kind]
    code = expect.mypy_code if checker == "mypy" else expect.pyright_rule
    here = report.on_line(line)
    assert here, f"{checker} found no error on line {line} ({kind}); {report.explain()}"
    assert any(d.code == code and all(w in d.message for w in expect.words) for d in here), (
        f"{checker} flagged line {line} ({kind}) but not as [{code}] naming "
        f"{', '.join(expect.words)}: " + "; ".join(map(str, here))
    )


@pytest.mark.parametrize("checker", CHECKERS)
def test_bad_calls_have_no_other_errors(check: Callable[[str, Path], Report], checker: str) -> None:
    marked = set(marked_lines(BAD).values())
    report = check(checker, BAD)
    others = [d for d in report.diagnostics if d.line not in marked]
    assert not others, f"{checker} found errors on unmarked lines of {BAD.name}:\n" + "\n".join(
        map(str, others)
    )
