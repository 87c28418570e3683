"""Measure the Elixir helper: VM startup, and formatter throughput at batch sizes 1 and 32.

Formatting is the slowest stage of a review (Code.format_string! costs several times a
tree-sitter parse), and batching is what lets the helper spread a request over every BEAM
scheduler; this prints the numbers behind the default batch size.

    python bench/formatter_throughput.py                 # a generated 2 MB corpus
    python bench/formatter_throughput.py path/to/app     # every .ex/.exs file under a tree
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import generate

from checks.formatter import ElixirHelper, FormatResult, FormatterConfig, FormatterOptions


def _load(root: Path) -> list[tuple[str, str]]:
    paths = sorted(p for p in root.rglob("*") if p.suffix in (".ex", ".exs") and p.is_file())
    return [(str(p.relative_to(root)), p.read_text("utf-8", "surrogateescape")) for p in paths]


def _tally(files: Sequence[tuple[str, str]], results: Sequence[FormatResult]) -> str:
    same = sum(r.formatted == src for (_, src), r in zip(files, results, strict=True))
    changed = sum(r.formatted is not None for r in results) - same
    syntax = sum(r.syntax_error is not None for r in results)
    failed = sum(r.error is not None for r in results)
    return f"{same} formatted, {changed} not, {syntax} syntax errors, {failed} failures"


def run(files: Sequence[tuple[str, str]], batch_sizes: Sequence[int]) -> None:
    # What a Phoenix project's default .formatter.exs imports.
    options: FormatterOptions = FormatterConfig(
        import_deps=("ecto", "ecto_sql", "phoenix")
    ).options()
    started = time.perf_counter()
    helper = ElixirHelper.start(timeout=60.0, max_requests=1_000_000)
    startup = time.perf_counter() - started
    if helper is None:
        raise SystemExit("`elixir` is not on PATH or the helper would not start")
    size = sum(len(src.encode("utf-8", "surrogateescape")) for _, src in files)
    with helper:
        print(
            f"Elixir {helper.version}, {helper.schedulers} schedulers; "
            f"helper startup {startup * 1000:.0f} ms"
        )
        print(f"{len(files)} files, {size / 1e6:.2f} MB\n")
        helper.check_many(files[:1], options)  # load the formatter's modules before timing
        print(f"{'batch':>5} {'seconds':>8} {'MB/s':>6} {'ms/file':>8}  results")
        for batch in batch_sizes:
            started = time.perf_counter()
            results = helper.check_many(files, options, batch_size=batch)
            elapsed = time.perf_counter() - started
            print(
                f"{batch:>5} {elapsed:>8.2f} {size / 1e6 / elapsed:>6.2f} "
                f"{elapsed * 1000 / len(files):>8.2f}  {_tally(files, results)}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("root", type=Path, nargs="?", help="tree of .ex/.exs files")
    parser.add_argument("--megabytes", type=float, default=2.0, help="generated corpus size")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 32])
    args = parser.parse_args()
    if args.root is not None:
        files = _load(args.root)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            generate(Path(tmp), args.megabytes)
            files = _load(Path(tmp))
    if not files:
        raise SystemExit(f"no .ex/.exs files under {args.root}")
    run(files, args.batch_sizes)


if __name__ == "__main__":
    main()
