"""What each rule costs, so the slow ones can be found before they sink the throughput target.

The shared work (parse, the index query, the module model, suppressions) is timed once; each
rule is then timed alone on the warmed contexts, so its figure is its own work only.

    python bench/rule_costs.py                  # 5 MB generated corpus
    python bench/rule_costs.py --corpus PATH --top 15
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import generate

from checks.config import Config
from checks.context import FileContext, SourceFile
from checks.ladder import fewer_collections
from checks.registry import all_rules
from checks.sources import prepare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=5.0)
    parser.add_argument("--corpus", type=Path)
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args()
    config = Config()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.corpus or Path(tmp) / "corpus"
        if args.corpus is None:
            generate(root, args.megabytes)
        sources: list[SourceFile] = []
        for path in sorted(root.rglob("*")):
            if path.is_file() and path.suffix in (".ex", ".exs", ".heex", ".eex"):
                item = prepare(path.relative_to(root).as_posix(), path.read_bytes(), config)
                if isinstance(item, SourceFile):
                    sources.append(item)
    size = sum(len(s.text) for s in sources)

    start = time.perf_counter()
    contexts = [FileContext.build(s, config) for s in sources]
    parse = time.perf_counter() - start
    start = time.perf_counter()
    for ctx in contexts:
        _ = ctx.index, ctx.modules, ctx.suppressions, ctx.lines
        # The index groups calls, attributes and operators lazily on first use: warm them all.
        ctx.index.calls_named("def")
        ctx.index.remote_calls("Repo", "all")
        ctx.index.attributes("doc")
        ctx.index.binary_operators("=")
    shared = time.perf_counter() - start

    # Time the rules under the engine's own GC settings, as `ladder check` runs them.
    with fewer_collections():
        costs: list[tuple[float, str]] = []
        for rule in all_rules():
            start = time.perf_counter()
            for ctx in contexts:
                if ctx.kind not in rule.applies_to or (
                    ctx.has_syntax_error and not rule.runs_on_broken_files
                ):
                    continue
                if rule.check is not None:
                    list(rule.check(ctx))
                if rule.summarize is not None:
                    rule.summarize(ctx)
            costs.append((time.perf_counter() - start, rule.id))

    total_rules = sum(c for c, _ in costs)
    print(f"corpus {size:,} bytes, {len(sources)} files")
    print(
        f"parse {parse:.3f} s | shared index/modules/suppressions {shared:.3f} s "
        f"({shared / parse:.0%} of parse) | all rules {total_rules:.3f} s "
        f"({total_rules / parse:.0%} of parse)"
    )
    print(f"\n{'rule':<40} {'seconds':>8} {'% of parse':>11}")
    for seconds, rule_id in sorted(costs, reverse=True)[: args.top]:
        print(f"{rule_id:<40} {seconds:8.3f} {seconds / parse:10.1%}")


if __name__ == "__main__":
    main()
