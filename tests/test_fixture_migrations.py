"""The migration reviewer over a Phoenix app's whole migration history, against an exact report.

`tests/fixtures/migrations_app` holds 25 migrations in the order a shop app grew: generated
auth tables, new tables with their indexes and references (all safe), then the usual mistakes
(a blocking index build, a validated foreign key, a backfill next to a schema change,
a removed column, ...) and their safe counterparts (concurrent indexes, the NOT NULL check
constraint recipe, an assured column removal, a table seeded right after it is created),
next to the `.formatter.exs` Phoenix generates there (reviewed too, and silent).
Any change in what the reviewer reports on it shows up here as a diff of (file, line, rule).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from checks.config import Config, MigrationSettings
from checks.context import SourceFile
from checks.ladder import review
from checks.registry import all_rules
from checks.sources import prepare

ROOT = Path(__file__).parent / "fixtures" / "migrations_app"
MIGRATION_RULES = [r for r in all_rules() if r.id.startswith("L5.migration-")]

EXPECTED = [
    (
        "20230215140000_index_orders_on_user_and_status.exs",
        5,
        "L5.migration-index-not-concurrent",
    ),
    ("20230320110000_create_webhook_events.exs", 7, "L5.migration-json-column"),
    ("20230320110000_create_webhook_events.exs", 13, "L5.migration-raw-sql"),
    (
        "20230405150000_add_shipping_address_to_orders.exs",
        17,
        "L5.migration-foreign-key-validated",
    ),
    ("20230410090000_backfill_order_status.exs", 5, "L5.migration-data-change"),
    (
        "20230502100000_change_products_price_to_decimal.exs",
        6,
        "L5.migration-column-type-changed",
    ),
    ("20230515120000_make_orders_user_required.exs", 6, "L5.migration-not-null-added"),
    ("20230608080000_validate_products_sku_not_null.exs", 8, "L5.migration-not-null-added"),
    ("20230701090000_remove_legacy_user_fields.exs", 8, "L5.migration-column-removed"),
    ("20230715100000_rename_orders_total.exs", 5, "L5.migration-column-renamed"),
    ("20230801110000_add_product_name_search.exs", 7, "L5.migration-index-not-concurrent"),
    ("20230815090000_add_archived_at_to_orders.exs", 4, "L5.migration-split"),
    ("20230815090000_add_archived_at_to_orders.exs", 9, "L5.migration-data-change"),
    ("20230901100000_drop_carts_and_rename_webhook_events.exs", 4, "L5.migration-split"),
    ("20230901100000_drop_carts_and_rename_webhook_events.exs", 5, "L5.migration-table-dropped"),
    ("20230901100000_drop_carts_and_rename_webhook_events.exs", 7, "L5.migration-table-renamed"),
    ("20231001120000_add_public_id_to_orders.exs", 6, "L5.migration-column-default"),
    ("20231015093000_add_quantity_check_to_order_items.exs", 4, "L5.migration-split"),
    (
        "20231015093000_add_quantity_check_to_order_items.exs",
        5,
        "L5.migration-check-constraint-validated",
    ),
    ("20231015093000_add_quantity_check_to_order_items.exs", 8, "L5.migration-required-column"),
    ("20231101100000_create_analytics_events.exs", 14, "L5.migration-index-many-columns"),
    (
        "20231115120000_index_orders_inserted_at.exs",
        6,
        "L5.migration-concurrent-index-in-transaction",
    ),
    ("20231201090000_add_unique_sku_constraint.exs", 5, "L5.migration-unique-constraint"),
]

# Migrations written the safe way: none of them may ever be reported.
CLEAN = [
    "20230105090000_create_users_auth_tables.exs",
    "20230110120000_create_products.exs",
    "20230112083000_create_orders.exs",
    "20230201100000_add_status_to_orders.exs",
    "20230301093000_add_slug_to_products.exs",
    "20230301093500_index_products_slug.exs",
    "20230601080000_add_products_sku_not_null_check.exs",
    "20231210100000_create_audit_logs.exs",
]


def report(config: Config) -> list[tuple[str, int, str]]:
    files: list[SourceFile] = []
    for path in sorted(ROOT.rglob("*.exs")):
        prepared = prepare(path.relative_to(ROOT).as_posix(), path.read_bytes(), config)
        assert isinstance(prepared, SourceFile)
        assert prepared.kind == "migration", prepared.path
        files.append(prepared)
    outcome = review(files, config, rules=MIGRATION_RULES, jobs=1)
    assert not outcome.crashed, outcome.crashed
    return [(f.path.rsplit("/", 1)[1], f.line, f.rule) for f in outcome.findings]


def with_migrations(**settings: object) -> Config:
    return Config(migrations=MigrationSettings(**settings))  # type: ignore[arg-type]


def test_fixture_has_a_realistic_history():
    names = sorted(p.name for p in (ROOT / "priv/repo/migrations").glob("[0-9]*.exs"))
    assert 15 <= len(names) <= 25
    assert set(CLEAN) <= set(names)


def test_exact_report_with_default_settings():
    assert report(Config()) == EXPECTED


def test_safe_migrations_are_never_reported():
    reported = {path for path, _line, _rule in report(Config())}
    assert reported.isdisjoint(CLEAN)


def test_postgres_10_also_reports_constant_defaults():
    found = report(with_migrations(postgres_version=10))
    added = [f for f in found if f not in EXPECTED]
    assert added == [
        ("20230201100000_add_status_to_orders.exs", 6, "L5.migration-column-default")
    ]
    assert set(EXPECTED) <= set(found)


def test_postgres_12_accepts_the_last_step_of_the_not_null_recipe():
    found = report(with_migrations(postgres_version=12))
    step = ("20230608080000_validate_products_sku_not_null.exs", 8, "L5.migration-not-null-added")
    assert found == [f for f in EXPECTED if f != step]


def test_include_rollbacks_adds_the_down_steps():
    found = report(with_migrations(include_rollbacks=True))
    rollbacks = [
        # `modify :price, :integer` in `def down` undoes the decimal change: a type change too.
        (
            "20230502100000_change_products_price_to_decimal.exs",
            12,
            "L5.migration-column-type-changed",
        ),
        ("20230801110000_add_product_name_search.exs", 13, "L5.migration-index-not-concurrent"),
        ("20230815090000_add_archived_at_to_orders.exs", 14, "L5.migration-column-removed"),
        # the `DROP TRIGGER` rollback SQL of `execute(up, down)`
        ("20230320110000_create_webhook_events.exs", 13, "L5.migration-raw-sql"),
    ]
    assert sorted(found) == sorted(EXPECTED + rollbacks)


@pytest.mark.parametrize("rule", MIGRATION_RULES, ids=[r.id for r in MIGRATION_RULES])
def test_every_rule_is_exercised_by_the_fixture(rule):
    assert rule.id in {r for _p, _l, r in EXPECTED}
