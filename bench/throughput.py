"""Throughput of `ladder check` against the physical floor: bare tree-sitter parsing.

Both sides are whole processes over the same generated corpus (interpreter start, imports,
reading files and, for Ladder, every rule and the JSON report), so the ratio is what a user
feels. Target (issue 2): Ladder without the Elixir helper at >= 60% of the bare parse speed.

    python bench/throughput.py                 # 5 MB corpus, 3 runs each
    python bench/throughput.py --megabytes 10 --runs 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import generate

BARE_PARSE = r"""
import sys, pathlib
import tree_sitter_elixir
from tree_sitter import Language, Parser
parser = Parser(Language(tree_sitter_elixir.language()))
root = pathlib.Path(sys.argv[1])
for path in sorted(root.rglob("*.ex*")):
    parser.parse(path.read_bytes())
"""


def timed(cmd: list[str], cwd: Path) -> tuple[float, int, int]:
    """Wall seconds, peak RSS in MB of the child (and its children), exit status."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return elapsed, usage.ru_maxrss // 1024, proc.returncode


def measure(label: str, cmd: list[str], cwd: Path, runs: int, size: int) -> dict[str, float]:
    times: list[float] = []
    rss = 0
    for _ in range(runs):
        seconds, peak, code = timed(cmd, cwd)
        if code not in (0, 1):
            raise SystemExit(f"{label}: exit status {code}")
        times.append(seconds)
        rss = max(rss, peak)
    best = min(times)
    median = statistics.median(times)
    print(
        f"{label:<38} best {best:6.2f} s  median {median:6.2f} s  "
        f"{size / best / 1e6:6.2f} MB/s  peak RSS {rss} MB"
    )
    return {"best": best, "median": median, "mbps": size / best / 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=5.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--corpus", type=Path, help="use this tree instead of generating one")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="ladder-bench-") as tmp:
        root = args.corpus or Path(tmp) / "corpus"
        if args.corpus is None:
            size = generate(root, args.megabytes)
        else:
            size = sum(p.stat().st_size for p in root.rglob("*.ex*"))
        files = sum(1 for _ in root.rglob("*.ex*"))
        print(f"corpus: {size:,} bytes in {files} files, {os.cpu_count()} cores\n")
        ladder = [sys.executable, "-m", "bot", "check", "--no-elixir", "--format", "json", "."]
        bare = measure(
            "bare tree-sitter parse (1 process)",
            [sys.executable, "-c", BARE_PARSE, str(root)],
            root,
            args.runs,
            size,
        )
        single = measure(
            "ladder check --no-elixir --jobs 1", [*ladder, "--jobs", "1"], root, args.runs, size
        )
        default = measure("ladder check --no-elixir (all cores)", ladder, root, args.runs, size)
        print()
        print(f"ladder --jobs 1 / bare parse:    {single['mbps'] / bare['mbps']:.0%}")
        print(f"ladder all cores / bare parse:   {default['mbps'] / bare['mbps']:.0%}")
        print("target: >= 60% without the Elixir helper")


if __name__ == "__main__":
    main()
