"""The L2 and L3 reviewers on a whole small Phoenix-style tree with known defects: the report must
be exactly the list documented in tests/fixtures/l2_l3_app/README.md (no false positive, no
false negative), and the suppressed defects must stay suppressed."""

from __future__ import annotations

from pathlib import Path

from checks.config import Config
from checks.context import SourceFile
from checks.ladder import review
from checks.registry import all_rules
from checks.sources import prepare

ROOT = Path(__file__).parent / "fixtures" / "l2_l3_app"

# (path, line, end_line, rule), in report order.
EXPECTED = [
    ("lib/bakery/bake_failed.ex", 1, 1, "L2.exception-name"),
    ("lib/bakery/inventory.ex", 6, 6, "L2.attribute-name"),
    ("lib/bakery/inventory.ex", 16, 16, "L2.function-arity"),
    ("lib/bakery/inventory.ex", 23, 23, "L2.apply-known-arity"),
    ("lib/bakery/inventory.ex", 26, 26, "L2.constant-result"),
    ("lib/bakery/inventory.ex", 29, 29, "L2.variable-name"),
    ("lib/bakery/inventory.ex", 33, 33, "L2.pipe-into-anonymous-function"),
    ("lib/bakery/inventory.ex", 36, 79, "L2.abc-size"),
    ("lib/bakery/inventory.ex", 36, 79, "L2.function-too-long"),
    ("lib/bakery/legacy_report.ex", 1, 1, "L2.module-name"),
    ("lib/bakery/legacy_report.ex", 7, 7, "L2.function-name"),
    ("lib/bakery/legacy_report.ex", 8, 8, "L2.unless-with-else"),
    ("lib/bakery/legacy_report.ex", 15, 17, "L3.module-untested"),
    ("lib/bakery/legacy_report.ex", 16, 16, "L2.negated-unless"),
    ("lib/bakery/orders.ex", 8, 8, "L2.large-number"),
    ("lib/bakery/orders.ex", 10, 10, "L2.todo-tag"),
    ("lib/bakery/orders.ex", 12, 12, "L2.io-inspect"),
    ("lib/bakery/orders.ex", 14, 14, "L2.expensive-empty-check"),
    ("lib/bakery/orders.ex", 15, 15, "L3.error-path-untested"),
    ("lib/bakery/orders.ex", 17, 17, "L2.unused-result"),
    ("lib/bakery/orders.ex", 22, 22, "L2.single-pipe"),
    ("lib/bakery/orders.ex", 26, 27, "L2.enum-pipeline-inefficient"),
    ("lib/bakery/orders.ex", 30, 30, "L2.predicate-name"),
    ("lib/bakery/pricing.ex", 6, 17, "L2.cyclomatic-complexity"),
    ("lib/bakery/pricing.ex", 6, 17, "L3.module-untested"),
    ("lib/bakery/pricing.ex", 19, 25, "L3.module-untested"),
    ("lib/bakery/pricing.ex", 20, 20, "L2.negated-condition-with-else"),
    ("lib/bakery/pricing.ex", 27, 32, "L3.module-untested"),
    ("lib/bakery/pricing.ex", 28, 28, "L2.cond-too-few-clauses"),
    ("lib/bakery/pricing.ex", 34, 40, "L3.module-untested"),
    ("lib/bakery/pricing.ex", 35, 35, "L2.with-single-clause"),
    ("lib/bakery/pricing.ex", 42, 52, "L3.module-untested"),
    ("lib/bakery/pricing.ex", 46, 46, "L2.nesting-too-deep"),
    ("lib/bakery/pricing.ex", 54, 56, "L3.module-untested"),
    ("lib/bakery/pricing.ex", 55, 55, "L2.match-in-condition"),
    ("lib/bakery_web/controllers/order_controller.ex", 4, 4, "L2.iex-pry"),
    ("lib/bakery_web/controllers/order_controller.ex", 14, 14, "L2.dbg"),
    ("lib/bakery_web/controllers/order_controller.ex", 20, 20, "L2.iex-pry"),
    ("test/bakery/orders_test.exs", 2, 2, "L3.test-not-async"),
    ("test/bakery/orders_test.exs", 11, 11, "L3.test-name-vague"),
    ("test/bakery/orders_test.exs", 15, 15, "L3.test-without-assertion"),
    ("test/bakery/orders_test.exs", 19, 19, "L3.skip-without-reason"),
    ("test/bakery/orders_test.exs", 22, 22, "L3.process-sleep"),
    ("test/bakery/pricing_tests.exs", 2, 2, "L3.test-file-name"),
]


def _sources(config: Config) -> list[SourceFile]:
    sources: list[SourceFile] = []
    for path in sorted(ROOT.rglob("*.ex*")):
        prepared = prepare(path.relative_to(ROOT).as_posix(), path.read_bytes(), config)
        assert isinstance(prepared, SourceFile), prepared
        sources.append(prepared)
    return sources


def _review(config: Config | None = None) -> list[tuple[str, int, int, str]]:
    config = config or Config()
    rules = [r for r in all_rules() if r.level in (2, 3)]
    outcome = review(_sources(config), config, rules=rules, jobs=1)
    assert not outcome.crashed, outcome.crashed
    return [(f.path, f.line, f.end_line, f.rule) for f in outcome.findings]


def test_fixture_report_is_exactly_the_documented_defects():
    assert _review() == EXPECTED


def test_every_l2_and_l3_rule_is_exercised_by_the_fixture():
    exercised = {rule for _path, _line, _end, rule in EXPECTED}
    mine = {r.id for r in all_rules() if r.level in (2, 3)}
    assert mine <= exercised, sorted(mine - exercised)


def test_every_documented_defect_is_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    for path, line, _end, rule in EXPECTED:
        assert path in readme or path.rsplit("/", 1)[-1] in readme, path
        assert rule in readme, rule
        assert f"| {line} |" in readme or f"({line}-" in readme, (path, line, rule)


def test_the_review_is_the_same_in_worker_processes():
    config = Config()
    rules = [r for r in all_rules() if r.level in (2, 3)]
    outcome = review(_sources(config), config, rules=rules, jobs=2)
    assert [(f.path, f.line, f.end_line, f.rule) for f in outcome.findings] == EXPECTED
