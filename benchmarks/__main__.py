"""``python -m benchmarks [--smoke] [--out-dir DIR] [--no-official]``.

The full run writes ``BENCHMARKS.md``, ``benchmarks/results.png`` and
``benchmarks/results.json``. ``--smoke`` runs every section with tiny sizes and writes
into ``--out-dir`` (a new temporary folder if not given), never over the real report.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks import _procs, _report, _sections


def _log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (a few seconds)")
    parser.add_argument("--out-dir", type=Path, help="write the report files here")
    parser.add_argument(
        "--no-official", action="store_true", help="leave out the official scaleapi 2.x SDK"
    )
    arguments = parser.parse_args(argv)
    with_official = not arguments.no_official and _procs.official_python() is not None
    if not arguments.no_official and not with_official:
        _log(f"{_procs.OFFICIAL_VENV.relative_to(_procs.ROOT)} not found: no official SDK rows")

    if arguments.out_dir is not None:
        out = arguments.out_dir
        md, png, data = out / "BENCHMARKS.md", out / "results.png", out / "results.json"
    elif arguments.smoke:
        out = Path(tempfile.mkdtemp(prefix="scaleapi-bench-smoke-"))
        md, png, data = out / "BENCHMARKS.md", out / "results.png", out / "results.json"
    else:
        here = _procs.ROOT / "benchmarks"
        md, png, data = _procs.ROOT / "BENCHMARKS.md", here / "results.png", here / "results.json"
    md.parent.mkdir(parents=True, exist_ok=True)

    started = time.perf_counter()
    sizes = _sections.SMOKE if arguments.smoke else _sections.FULL
    results = _sections.run_all(sizes, with_official=with_official, smoke=arguments.smoke, log=_log)
    results["total_seconds"] = time.perf_counter() - started
    data.write_text(json.dumps(results, indent=1, allow_nan=True) + "\n")
    _report.plot(results, png)
    md.write_text(_report.markdown(results, png, md))
    _log(f"wrote {md}, {png} and {data} in {results['total_seconds']:.0f} s")
    for goal in _report.goals(results):
        met = {None: "info", True: "met", False: "MISSED"}[goal["met"]]
        _log(f"  [{met}] {goal['goal']}: {goal['measured']}")
    finite = math.isfinite(results["per_call"]["fixed"]["ratio_ours_httpx"])
    return 0 if finite else 1


if __name__ == "__main__":
    sys.exit(main())
