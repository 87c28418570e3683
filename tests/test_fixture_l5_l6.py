"""The L5/L6 fixture app (tests/fixtures/l5_l6_app, its README lists each defect) reviewed as a
whole by every L5 (non-migration) and L6 rule gives exactly the expected report, and nothing on
the safe twins."""

from __future__ import annotations

from pathlib import Path

from checks import (
    l5_dos_rce,
    l5_mass_assignment,
    l5_phoenix_config,
    l5_secrets,
    l5_sql,
    l5_timing,
    l5_xss,
    l6_context_observability,
    l6_durations,
    l6_logging,
    l6_swallowed_errors,
    l6_telemetry,
)
from checks.config import Config
from checks.context import SourceFile
from checks.ladder import review
from checks.model import Rule
from checks.registry import all_rules
from checks.sources import prepare

ROOT = Path(__file__).parent / "fixtures" / "l5_l6_app"

EXPECTED = [
    ("config/config.exs", 6, "L5.secret-read-at-compile-time"),
    ("config/prod.exs", 3, "L5.force-ssl-missing"),
    ("config/prod.exs", 7, "L5.hardcoded-secret"),
    ("config/prod.exs", 9, "L5.hardcoded-secret"),
    ("config/prod.exs", 9, "L5.secret-read-at-compile-time"),
    ("lib/shop/accounts.ex", 7, "L6.context-unobserved"),
    ("lib/shop/accounts.ex", 9, "L5.mass-assignment"),
    ("lib/shop/accounts.ex", 13, "L6.context-unobserved"),
    ("lib/shop/accounts.ex", 14, "L5.mass-assignment"),
    ("lib/shop/accounts.ex", 18, "L5.weak-password-hash"),
    ("lib/shop/accounts.ex", 22, "L5.timing-unsafe-compare"),
    ("lib/shop/accounts.ex", 32, "L6.context-unobserved"),
    ("lib/shop/accounts.ex", 35, "L6.error-swallowed"),
    ("lib/shop/cache.ex", 4, "L5.unsafe-binary-to-term"),
    ("lib/shop/cache.ex", 7, "L5.code-eval"),
    ("lib/shop/cache.ex", 12, "L5.command-injection"),
    ("lib/shop/catalog.ex", 8, "L5.sql-injection"),
    ("lib/shop/catalog.ex", 14, "L6.wall-clock-duration"),
    ("lib/shop/catalog.ex", 15, "L6.log-interpolation"),
    ("lib/shop/catalog.ex", 16, "L6.io-logging"),
    ("lib/shop/catalog.ex", 23, "L6.rescue-swallowed"),
    ("lib/shop/catalog.ex", 31, "L6.catch-swallowed"),
    ("lib/shop/catalog.ex", 40, "L6.with-else-erases-reason"),
    ("lib/shop/catalog.ex", 50, "L6.todo-in-error-branch"),
    ("lib/shop/importer.ex", 5, "L6.telemetry-event-name"),
    ("lib/shop/importer.ex", 7, "L6.telemetry-event-name"),
    ("lib/shop/importer.ex", 11, "L6.telemetry-span-misuse"),
    ("lib/shop/worker_supervisor.ex", 3, "L6.supervisor-restarts-unobserved"),
    ("lib/shop_web/components/card.ex", 10, "L5.xss-raw"),
    ("lib/shop_web/controllers/product_controller.ex", 6, "L5.sql-injection"),
    ("lib/shop_web/controllers/product_controller.ex", 7, "L5.atom-exhaustion"),
    ("lib/shop_web/controllers/product_controller.ex", 12, "L5.path-traversal"),
    ("lib/shop_web/controllers/product_controller.ex", 16, "L5.xss-html-response"),
    ("lib/shop_web/controllers/product_controller.ex", 21, "L5.xss-content-type"),
    ("lib/shop_web/controllers/product_controller.ex", 30, "L5.timing-unsafe-compare"),
    ("lib/shop_web/controllers/product_html/show.html.heex", 3, "L5.xss-raw"),
    ("lib/shop_web/controllers/product_html/show.html.heex", 6, "L5.xss-raw"),
    ("lib/shop_web/endpoint.ex", 5, "L5.check-origin-disabled"),
    ("lib/shop_web/router.ex", 5, "L5.csrf-protection-missing"),
    ("lib/shop_web/router.ex", 5, "L5.secure-headers-missing"),
]

SAFE_TWINS = ("config/runtime.exs", "config/dev.exs", "lib/shop/safe/", "lib/shop_web/safe/")


def _rules() -> list[Rule]:
    return [
        r
        for r in all_rules()
        if r.level == 6 or (r.level == 5 and not r.id.startswith("L5.migration-"))
    ]


def _files(config: Config) -> list[SourceFile]:
    files: list[SourceFile] = []
    for path in sorted(ROOT.rglob("*")):
        if path.is_file() and path.suffix in (".ex", ".exs", ".heex", ".eex"):
            prepared = prepare(path.relative_to(ROOT).as_posix(), path.read_bytes(), config)
            assert isinstance(prepared, SourceFile), prepared
            files.append(prepared)
    return files


def test_fixture_report_is_exact():
    config = Config()
    outcome = review(_files(config), config, rules=_rules(), jobs=1)
    assert outcome.crashed == {}
    got = [(f.path, f.line, f.rule) for f in outcome.findings]
    assert sorted(got) == sorted(EXPECTED)


def test_safe_twins_are_clean():
    config = Config()
    files = _files(config)
    twins = [f for f in files if f.path.startswith(SAFE_TWINS)]
    assert len(twins) >= 8
    outcome = review(files, config, rules=_rules(), jobs=1)
    assert [f for f in outcome.findings if f.path.startswith(SAFE_TWINS)] == []


def test_every_l5_and_l6_rule_is_exercised_by_the_fixture():
    mine = [
        l5_dos_rce,
        l5_mass_assignment,
        l5_phoenix_config,
        l5_secrets,
        l5_sql,
        l5_timing,
        l5_xss,
        l6_context_observability,
        l6_durations,
        l6_logging,
        l6_swallowed_errors,
        l6_telemetry,
    ]
    covered = {rule for _path, _line, rule in EXPECTED}
    assert {r.id for m in mine for r in m.RULES} == covered


def test_readme_lists_every_defect():
    readme = (ROOT / "README.md").read_text()
    for path, line, rule in EXPECTED:
        assert f"| {path}:{line} | {rule}" in readme, (path, line, rule)
