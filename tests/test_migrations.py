"""The Ecto migration reviewer: each rule's dangers, its safe recipes, and the false-positive
traps that make excellent_migrations noisy on real projects (rollback steps, operations on a
table created in the same migration, constant defaults on PostgreSQL 11+, `modify` calls that
only touch `null:`/a reference or carry a safe `from:`)."""

from __future__ import annotations

import textwrap

import pytest

from checks.config import Config, MigrationSettings, RuleSetting
from checks.migrations import columns, constraints, data, indexes, split, tables
from checks.migrations._model import classify_sql
from checks.model import Severity
from tests.conftest import findings_for, lines_of

PATH = "priv/repo/migrations/20240101000000_example.exs"


def mig(body: str, attrs: str = "") -> str:
    """A migration module around `body` (written at column 0, indented here)."""
    head = "defmodule Shop.Repo.Migrations.Example do\n  use Ecto.Migration\n"
    if attrs:
        head += textwrap.indent(textwrap.dedent(attrs).strip("\n") + "\n", "  ")
    return head + "\n" + textwrap.indent(textwrap.dedent(body).strip("\n") + "\n", "  ") + "end\n"


def at(source: str, snippet: str, nth: int = 1) -> int:
    """1-based line of the nth line containing `snippet`."""
    hits = [i + 1 for i, line in enumerate(source.splitlines()) if snippet in line]
    assert len(hits) >= nth, f"{snippet!r} not in source"
    return hits[nth - 1]


def cfg(
    pg: int = 11, rollbacks: bool = False, rules: dict[str, RuleSetting] | None = None
) -> Config:
    return Config(
        migrations=MigrationSettings(postgres_version=pg, include_rollbacks=rollbacks),
        rules=rules or {},
    )


CONCURRENT_ATTRS = """
@disable_ddl_transaction true
@disable_migration_lock true
"""


# --- L5.migration-index-not-concurrent ----------------------------------------------------------


def test_index_on_existing_table_is_flagged_with_the_recipe():
    src = mig(
        """
        def change do
          create index(:orders, [:customer_id])
          create unique_index("orders", [:number])
          create_if_not_exists index(:orders, [:placed_at])
        end
        """
    )
    found = findings_for(indexes.NOT_CONCURRENT, src)
    assert lines_of(found) == [
        at(src, ":customer_id"),
        at(src, ":number"),
        at(src, ":placed_at"),
    ]
    assert "`orders`" in found[0].message
    assert "concurrently: true" in found[0].message
    assert "@disable_ddl_transaction true" in (found[0].fix or "")
    assert found[0].severity is Severity.WARNING


def test_index_dropped_without_concurrently_is_flagged():
    src = mig(
        """
        def change do
          drop index(:orders, [:customer_id])
          drop_if_exists index(:orders, [:placed_at], concurrently: true)
        end
        """,
        CONCURRENT_ATTRS,
    )
    found = findings_for(indexes.NOT_CONCURRENT, src)
    assert lines_of(found) == [at(src, "drop index")]
    assert "dropped" in found[0].message


def test_index_on_table_created_in_the_same_migration_is_safe():
    src = mig(
        """
        def change do
          create table(:coupons) do
            add :code, :string
          end

          create unique_index(:coupons, [:code])
          create index(:coupons, [:inserted_at])
        end
        """
    )
    assert findings_for(indexes.NOT_CONCURRENT, src) == []


def test_index_attribute_table_names_are_resolved():
    src = mig(
        """
        def change do
          create table(@table) do
            add :code, :string
          end

          create index(@table, [:code])
          create index(:orders, [:code])
        end
        """,
        "@table :coupons",
    )
    assert lines_of(findings_for(indexes.NOT_CONCURRENT, src)) == [at(src, "index(:orders")]


def test_index_steps_in_def_down_are_rollbacks_and_skipped_by_default():
    src = mig(
        """
        def up do
          create index(:orders, [:customer_id], concurrently: true)
        end

        def down do
          drop index(:orders, [:customer_id])
        end
        """,
        CONCURRENT_ATTRS,
    )
    assert findings_for(indexes.NOT_CONCURRENT, src) == []
    found = findings_for(indexes.NOT_CONCURRENT, src, config=cfg(rollbacks=True))
    assert lines_of(found) == [at(src, "drop index")]


def test_raw_sql_index_without_concurrently_is_flagged():
    src = mig(
        '''
        def up do
          execute """
          CREATE INDEX products_name_trgm ON products USING gin (name gin_trgm_ops)
          """
          execute "CREATE INDEX CONCURRENTLY orders_total ON orders (total)"
          execute "DROP INDEX orders_old_index"
        end

        def down, do: :ok
        ''',
        CONCURRENT_ATTRS,
    )
    found = findings_for(indexes.NOT_CONCURRENT, src)
    assert lines_of(found) == [at(src, 'execute """'), at(src, "DROP INDEX")]
    assert "CREATE INDEX" in found[0].message


def test_raw_sql_index_on_new_table_is_safe():
    src = mig(
        """
        def change do
          execute "CREATE TABLE tags (id bigserial PRIMARY KEY, name text)", "DROP TABLE tags"
          execute "CREATE INDEX tags_name ON tags (name)", "DROP INDEX tags_name"
        end
        """
    )
    assert findings_for(indexes.NOT_CONCURRENT, src) == []


def test_index_suppressed_by_excellent_migrations_and_ladder_comments():
    src = mig(
        """
        def change do
          # excellent_migrations:safety-assured-for-next-line index_not_concurrently
          create index(:orders, [:customer_id])
          # ladder:disable-next-line L5.migration-index-not-concurrent -- table has 40 rows
          create index(:orders, [:placed_at])
          # excellent_migrations:safety-assured-for-next-line column_removed
          create index(:orders, [:total])
        end
        """
    )
    assert lines_of(findings_for(indexes.NOT_CONCURRENT, src)) == [at(src, ":total")]


# --- L5.migration-concurrent-index-in-transaction -----------------------------------------------


def test_concurrent_index_without_attributes_names_both():
    src = mig(
        """
        def change do
          create index(:orders, [:customer_id], concurrently: true)
          create index(:orders, [:placed_at], concurrently: true)
        end
        """
    )
    found = findings_for(indexes.IN_TRANSACTION, src)
    assert lines_of(found) == [at(src, ":customer_id")]
    assert "@disable_ddl_transaction true" in found[0].message
    assert "@disable_migration_lock true" in found[0].message
    assert found[0].severity is Severity.ERROR


def test_concurrent_index_missing_only_the_lock_attribute():
    src = mig(
        """
        def change do
          create index(:orders, [:customer_id], concurrently: true)
        end
        """,
        "@disable_ddl_transaction true",
    )
    found = findings_for(indexes.IN_TRANSACTION, src)
    assert lines_of(found) == [at(src, ":customer_id")]
    assert "@disable_migration_lock" in found[0].message
    assert "@disable_ddl_transaction" not in found[0].message


def test_concurrent_index_with_both_attributes_is_clean():
    src = mig(
        """
        def change do
          create index(:orders, [:customer_id], concurrently: true)
        end
        """,
        CONCURRENT_ATTRS,
    )
    assert findings_for(indexes.IN_TRANSACTION, src) == []


def test_concurrent_index_with_advisory_lock_needs_only_the_transaction_attribute():
    src = mig(
        """
        def change do
          create index(:orders, [:customer_id], concurrently: true)
        end
        """,
        "@disable_ddl_transaction true",
    )
    setting = RuleSetting(params={"advisory_lock": True})
    config = cfg(rules={indexes.IN_TRANSACTION.id: setting})
    assert findings_for(indexes.IN_TRANSACTION, src, config=config) == []


def test_raw_sql_concurrent_index_needs_the_attributes_too():
    src = mig(
        """
        def change do
          execute "CREATE INDEX CONCURRENTLY orders_total ON orders (total)", ""
        end
        """
    )
    assert lines_of(findings_for(indexes.IN_TRANSACTION, src)) == [at(src, "CONCURRENTLY")]


def test_concurrent_index_suppressed_with_excellent_migrations_type():
    src = mig(
        """
        def change do
          # excellent_migrations:safety-assured-for-next-line LOCK
          create index(:orders, [:customer_id], concurrently: true)
        end
        """.replace("LOCK", "index_concurrently_without_disable_migration_lock"),
        "@disable_ddl_transaction true",
    )
    assert findings_for(indexes.IN_TRANSACTION, src) == []


# --- L5.migration-index-many-columns ------------------------------------------------------------


def test_wide_non_unique_index_is_a_notice():
    src = mig(
        """
        def change do
          create index(:events, [:account_id, :kind, :source, :region], concurrently: true)
          create unique_index(:events, [:a, :b, :c, :d, :e], concurrently: true)
          create index(:events, [:a, :b, :c, :d], unique: true, concurrently: true)
          create index(:events, [:a, :b, :c], concurrently: true)
        end
        """,
        CONCURRENT_ATTRS,
    )
    found = findings_for(indexes.MANY_COLUMNS, src)
    assert lines_of(found) == [at(src, ":account_id")]
    assert found[0].severity is Severity.NOTICE
    assert "4 columns" in found[0].message


def test_wide_index_limit_is_a_parameter():
    src = mig(
        """
        def change do
          create index(:events, [:account_id, :kind, :source, :region], concurrently: true)
        end
        """,
        CONCURRENT_ATTRS,
    )
    config = cfg(rules={indexes.MANY_COLUMNS.id: RuleSetting(params={"max_columns": 4})})
    assert findings_for(indexes.MANY_COLUMNS, src, config=config) == []


# --- L5.migration-column-default ----------------------------------------------------------------


def test_constant_default_is_safe_on_postgres_11():
    src = mig(
        """
        def change do
          alter table(:orders) do
            add :status, :string, default: "pending"
            add :flags, {:array, :string}, default: []
            add :placed_at, :utc_datetime, default: fragment("now()")
            add :meta, :map, default: fragment("'{}'::jsonb")
          end
        end
        """
    )
    assert findings_for(columns.COLUMN_DEFAULT, src) == []


def test_any_default_rewrites_the_table_below_postgres_11():
    src = mig(
        """
        def change do
          create table(:coupons) do
            add :active, :boolean, default: true
          end

          alter table(:orders) do
            add :status, :string, default: "pending"
            add :notes, :text
          end
        end
        """
    )
    found = findings_for(columns.COLUMN_DEFAULT, src, config=cfg(pg=10))
    assert lines_of(found) == [at(src, ":status")]
    assert "PostgreSQL 10" in found[0].message
    assert "without a default" in (found[0].fix or "")


def test_volatile_default_is_flagged_on_every_version():
    src = mig(
        """
        def change do
          alter table(:orders) do
            add :reference, :uuid, default: fragment("gen_random_uuid()")
            add :lucky, :float, default: fragment("random()")
          end
        end
        """
    )
    found = findings_for(columns.COLUMN_DEFAULT, src)
    assert lines_of(found) == [at(src, ":reference"), at(src, ":lucky")]
    assert "volatile default (gen_random_uuid())" in found[0].message


def test_volatile_default_in_create_table_or_modify_is_safe():
    src = mig(
        """
        def change do
          create table(:coupons) do
            add :reference, :uuid, default: fragment("gen_random_uuid()")
          end

          alter table(:orders) do
            modify :reference, :uuid, default: fragment("gen_random_uuid()")
          end
        end
        """
    )
    assert findings_for(columns.COLUMN_DEFAULT, src) == []


def test_timestamps_with_volatile_default_in_alter_is_flagged():
    src = mig(
        """
        def change do
          alter table(:orders) do
            timestamps(default: fragment("clock_timestamp()"))
          end
        end
        """
    )
    found = findings_for(columns.COLUMN_DEFAULT, src)
    assert lines_of(found) == [at(src, "timestamps")]
    assert "clock_timestamp()" in found[0].message


def test_column_default_suppressed_with_excellent_migrations_comment():
    src = mig(
        """
        def change do
          alter table(:orders) do
            # excellent_migrations:safety-assured-for-next-line column_added_with_default
            add :status, :string, default: "pending"
          end
        end
        """
    )
    assert findings_for(columns.COLUMN_DEFAULT, src, config=cfg(pg=10)) == []


# --- L5.migration-required-column ---------------------------------------------------------------


def test_not_null_column_without_default_on_existing_table():
    src = mig(
        """
        def change do
          alter table(:orders) do
            add :currency, :string, null: false
            add :country, :string, null: false, default: "DE"
            add :note, :text, null: true
          end
        end
        """
    )
    found = findings_for(columns.REQUIRED_COLUMN, src)
    assert lines_of(found) == [at(src, ":currency")]
    assert "as NOT NULL without a default" in found[0].message
    assert "add it nullable" in (found[0].fix or "")


def test_timestamps_added_to_existing_table_are_required_columns():
    src = mig(
        """
        def change do
          alter table(:order_items) do
            timestamps()
          end

          alter table(:orders) do
            timestamps(null: true)
          end
        end
        """
    )
    found = findings_for(columns.REQUIRED_COLUMN, src)
    assert lines_of(found) == [at(src, "timestamps()")]
    assert "`order_items`" in found[0].message


def test_required_column_in_new_table_is_safe():
    src = mig(
        """
        def change do
          create table(:coupons) do
            add :code, :string, null: false
            timestamps()
          end

          alter table(:coupons) do
            add :owner, :string, null: false
          end
        end
        """
    )
    assert findings_for(columns.REQUIRED_COLUMN, src) == []


# --- L5.migration-column-removed ----------------------------------------------------------------


def test_column_removed_is_flagged_with_the_two_deploy_recipe():
    src = mig(
        """
        def change do
          alter table(:users) do
            remove :legacy_role, :string
            remove_if_exists :nickname, :string
          end
        end
        """
    )
    found = findings_for(columns.REMOVED, src)
    assert lines_of(found) == [at(src, ":legacy_role"), at(src, ":nickname")]
    assert "`legacy_role` of `users`" in found[0].message
    assert "later migration" in (found[0].fix or "")


def test_column_removed_in_def_down_is_a_rollback():
    src = mig(
        """
        def up do
          alter table(:users) do
            add :nickname, :string
          end
        end

        def down do
          alter table(:users) do
            remove :nickname
          end
        end
        """
    )
    assert findings_for(columns.REMOVED, src) == []
    found = findings_for(columns.REMOVED, src, config=cfg(rollbacks=True))
    assert lines_of(found) == [at(src, "remove :nickname")]


def test_raw_drop_column_is_flagged_but_drop_constraint_is_not():
    src = mig(
        """
        def up do
          execute "ALTER TABLE users DROP COLUMN legacy_role"
          execute "ALTER TABLE users DROP CONSTRAINT users_age_check"
        end

        def down, do: :ok
        """
    )
    found = findings_for(columns.REMOVED, src)
    assert lines_of(found) == [at(src, "DROP COLUMN")]
    assert "legacy_role" in found[0].message


def test_column_removed_suppressed_for_the_whole_file():
    src = mig(
        """
        # excellent_migrations:safety-assured-for-this-file column_removed
        def change do
          alter table(:users) do
            remove :legacy_role, :string
          end
        end
        """
    )
    assert findings_for(columns.REMOVED, src) == []


def test_column_removed_suppressed_by_deprecated_safety_assured_attribute():
    src = mig(
        """
        def change do
          alter table(:users) do
            remove :legacy_role, :string
          end
        end
        """,
        "@safety_assured [:column_removed]",
    )
    assert findings_for(columns.REMOVED, src) == []
    everything = mig(
        """
        def change do
          rename table(:users), :name, to: :full_name
        end
        """,
        "@safety_assured :all",
    )
    assert findings_for(columns.RENAMED, everything) == []


# --- L5.migration-column-renamed ----------------------------------------------------------------


def test_column_renamed_points_at_field_source():
    src = mig(
        """
        def change do
          rename table(:orders), :total, to: :amount
          rename table(:orders), to: table(:purchases)
        end
        """
    )
    found = findings_for(columns.RENAMED, src)
    assert lines_of(found) == [at(src, ":total")]
    assert "total -> amount" in found[0].message
    assert "source: :old_name" in (found[0].fix or "")


def test_raw_rename_column_is_flagged():
    src = mig(
        """
        def change do
          execute "ALTER TABLE orders RENAME COLUMN total TO amount",
                  "ALTER TABLE orders RENAME COLUMN amount TO total"
        end
        """
    )
    assert lines_of(findings_for(columns.RENAMED, src)) == [at(src, "RENAME COLUMN total")]


# --- L5.migration-column-type-changed -----------------------------------------------------------


def test_type_change_with_from_is_flagged():
    src = mig(
        """
        def change do
          alter table(:orders) do
            modify :quantity, :bigint, from: :integer
          end
        end
        """
    )
    found = findings_for(columns.TYPE_CHANGED, src)
    assert lines_of(found) == [at(src, ":quantity")]
    assert "from integer to bigint" in found[0].message


def test_type_change_without_from_is_flagged_and_asks_for_from():
    src = mig(
        """
        def up do
          alter table(:orders) do
            modify :notes, :text
          end
        end

        def down, do: :ok
        """
    )
    found = findings_for(columns.TYPE_CHANGED, src)
    assert lines_of(found) == [at(src, ":notes")]
    assert "`from:`" in (found[0].fix or "")


def test_type_change_found_from_the_down_function():
    src = mig(
        """
        def up do
          alter table(:products) do
            modify :price, :decimal, precision: 12, scale: 2
          end
        end

        def down do
          alter table(:products) do
            modify :price, :integer
          end
        end
        """
    )
    found = findings_for(columns.TYPE_CHANGED, src)
    assert lines_of(found) == [at(src, ":decimal")]
    assert "from integer to numeric(12, 2)" in found[0].message
    rolled = findings_for(columns.TYPE_CHANGED, src, config=cfg(rollbacks=True))
    assert lines_of(rolled) == [at(src, ":decimal"), at(src, ":integer")]


@pytest.mark.parametrize(
    "line",
    [
        "modify :title, :string, null: false",
        "modify :title, :string, null: true, from: {:string, null: false}",
        "modify :owner_id, references(:users, on_delete: :delete_all), from: references(:users)",
        "modify :note, :text, from: :string",
        "modify :code, :string, size: 100, from: {:string, size: 40}",
        "modify :code, :string, from: {:string, size: 40}",
        "modify :t, :decimal, precision: 14, scale: 2, from: {:decimal, precision: 10, scale: 2}",
        "modify :placed_at, :utc_datetime_usec, from: :utc_datetime",
        'modify :status, :string, default: "new"',
        'modify :status, :string, comment: "lifecycle"',
    ],
)
def test_modify_that_is_not_a_rewriting_type_change_is_safe(line):
    src = mig(
        f"""
        def change do
          alter table(:orders) do
            {line}
          end
        end
        """
    )
    assert findings_for(columns.TYPE_CHANGED, src) == []


@pytest.mark.parametrize(
    "line",
    [
        "modify :code, :string, size: 20, from: {:string, size: 40}",
        "modify :note, :string, from: :text",
        "modify :t, :decimal, precision: 10, scale: 4, from: {:decimal, precision: 10, scale: 2}",
        "modify :owner_id, :binary_id, from: references(:users)",
    ],
)
def test_modify_that_rewrites_is_flagged(line):
    src = mig(
        f"""
        def change do
          alter table(:orders) do
            {line}
          end
        end
        """
    )
    assert len(findings_for(columns.TYPE_CHANGED, src)) == 1


def test_raw_alter_column_type_is_flagged():
    src = mig(
        """
        def up do
          execute "ALTER TABLE orders ALTER COLUMN quantity TYPE bigint"
        end

        def down, do: :ok
        """
    )
    assert lines_of(findings_for(columns.TYPE_CHANGED, src)) == [at(src, "TYPE bigint")]


# --- L5.migration-not-null-added ----------------------------------------------------------------


def test_not_null_added_to_existing_column():
    src = mig(
        """
        def change do
          alter table(:orders) do
            modify :customer_id, :bigint, null: false, from: {:bigint, null: true}
            modify :note, :text, null: false, from: {:text, null: false}
            modify :status, :string, null: true, from: {:string, null: false}
          end
        end
        """
    )
    found = findings_for(columns.NOT_NULL, src)
    assert lines_of(found) == [at(src, ":customer_id")]
    assert "ACCESS EXCLUSIVE" in found[0].message
    assert "PostgreSQL < 12" in (found[0].fix or "")


def test_not_null_recipe_on_postgres_12_mentions_the_check_constraint():
    src = mig(
        """
        def change do
          alter table(:orders) do
            modify :customer_id, :bigint, null: false
          end
        end
        """
    )
    found = findings_for(columns.NOT_NULL, src, config=cfg(pg=12))
    assert lines_of(found) == [at(src, ":customer_id")]
    assert "validate: false" in (found[0].fix or "")
    assert "VALIDATE CONSTRAINT" in (found[0].fix or "")


def test_final_step_of_the_check_constraint_recipe_is_safe_on_postgres_12():
    src = mig(
        """
        def up do
          execute "ALTER TABLE products VALIDATE CONSTRAINT sku_not_null"

          alter table(:products) do
            modify :sku, :string, null: false
          end

          drop constraint(:products, :sku_not_null)
        end

        def down, do: :ok
        """
    )
    assert findings_for(columns.NOT_NULL, src, config=cfg(pg=12)) == []
    assert lines_of(findings_for(columns.NOT_NULL, src, config=cfg(pg=11))) == [at(src, ":sku")]


def test_final_recipe_step_in_raw_sql_is_safe_on_postgres_12():
    src = mig(
        """
        def up do
          execute "ALTER TABLE products VALIDATE CONSTRAINT sku_not_null"
          execute "ALTER TABLE products ALTER COLUMN sku SET NOT NULL"
          execute "ALTER TABLE products DROP CONSTRAINT sku_not_null"
        end

        def down, do: :ok
        """
    )
    assert findings_for(columns.NOT_NULL, src, config=cfg(pg=12)) == []
    assert lines_of(findings_for(columns.NOT_NULL, src)) == [at(src, "SET NOT NULL")]
    assert findings_for(data.RAW_SQL, src) == []


def test_raw_set_not_null_is_flagged():
    src = mig(
        """
        def up do
          execute "ALTER TABLE orders ALTER COLUMN customer_id SET NOT NULL"
        end

        def down, do: :ok
        """
    )
    found = findings_for(columns.NOT_NULL, src)
    assert lines_of(found) == [at(src, "SET NOT NULL")]
    assert "customer_id" in found[0].message


# --- L5.migration-json-column -------------------------------------------------------------------


def test_json_column_is_a_notice_everywhere():
    src = mig(
        """
        def change do
          create table(:webhooks) do
            add :payload, :json
            add :headers, :map
          end

          alter table(:orders) do
            add :raw, :json
          end
        end
        """
    )
    found = findings_for(columns.JSON, src)
    assert lines_of(found) == [at(src, ":payload"), at(src, ":raw")]
    assert found[0].severity is Severity.NOTICE
    assert "`:map`" in (found[0].fix or "")


def test_json_suggestion_switches_to_map():
    src = mig(
        """
        def change do
          alter table(:orders) do
            add :raw, :json, null: true
          end
        end
        """
    )
    [found] = findings_for(columns.JSON, src)
    assert found.suggestion == "      add :raw, :map, null: true"


# --- L5.migration-table-dropped / table-renamed -------------------------------------------------


def test_table_dropped_is_flagged():
    src = mig(
        """
        def change do
          drop table(:carts)
          drop_if_exists table(:wishlists)
          drop index(:orders, [:x], concurrently: true)
        end
        """,
        CONCURRENT_ATTRS,
    )
    found = findings_for(tables.DROPPED, src)
    assert lines_of(found) == [at(src, ":carts"), at(src, ":wishlists")]
    assert "later deploy" in (found[0].fix or "")


def test_table_dropped_in_down_is_a_rollback_even_with_rollbacks_for_a_table_up_creates():
    src = mig(
        """
        def up do
          create table(:audit_logs) do
            add :action, :string
          end
        end

        def down do
          drop table(:audit_logs)
        end
        """
    )
    assert findings_for(tables.DROPPED, src) == []
    assert findings_for(tables.DROPPED, src, config=cfg(rollbacks=True)) == []


def test_raw_drop_table_is_flagged():
    src = mig(
        """
        def up do
          execute "DROP TABLE IF EXISTS carts"
        end

        def down, do: :ok
        """
    )
    assert lines_of(findings_for(tables.DROPPED, src)) == [at(src, "DROP TABLE")]


def test_table_renamed_is_flagged():
    src = mig(
        """
        def change do
          rename table(:carts), to: table(:baskets)
          execute "ALTER TABLE wishlists RENAME TO saved_lists",
                  "ALTER TABLE saved_lists RENAME TO wishlists"
          execute "ALTER TABLE orders RENAME CONSTRAINT a TO b",
                  "ALTER TABLE orders RENAME CONSTRAINT b TO a"
        end
        """
    )
    found = findings_for(tables.RENAMED, src)
    assert lines_of(found) == [at(src, ":carts"), at(src, "wishlists RENAME")]
    assert "`carts` to `baskets`" in found[0].message
    assert 'schema \\"old_name\\"' in (found[0].fix or "") or 'schema "old_name"' in (
        found[0].fix or ""
    )


# --- L5.migration-foreign-key-validated ---------------------------------------------------------


def test_foreign_key_on_existing_table_is_flagged():
    src = mig(
        """
        def change do
          alter table(:orders) do
            add :customer_id, references(:customers)
            add :coupon_id, references(:coupons, on_delete: :nilify_all), null: true
            modify :user_id, references(:users, on_delete: :delete_all), from: references(:users)
          end
        end
        """
    )
    found = findings_for(constraints.FOREIGN_KEY, src)
    assert lines_of(found) == [
        at(src, ":customer_id"),
        at(src, ":coupon_id"),
        at(src, ":user_id"),
    ]
    assert "validate: false" in (found[0].fix or "")
    assert "VALIDATE CONSTRAINT" in (found[0].fix or "")


def test_foreign_key_suggestion_adds_validate_false_on_one_line_calls():
    src = mig(
        """
        def change do
          alter table(:orders) do
            add :coupon_id, references(:coupons, on_delete: :nilify_all), null: true
            add :customer_id,
                references(:customers)
          end
        end
        """
    )
    found = findings_for(constraints.FOREIGN_KEY, src)
    assert found[0].suggestion == (
        "      add :coupon_id, references(:coupons, on_delete: :nilify_all, validate: false), "
        "null: true"
    )
    assert found[1].suggestion is None


def test_foreign_key_in_create_table_or_not_validated_is_safe():
    src = mig(
        """
        def change do
          create table(:coupons) do
            add :owner_id, references(:users)
          end

          alter table(:coupons) do
            add :campaign_id, references(:campaigns)
          end

          alter table(:orders) do
            add :coupon_id, references(:coupons, validate: false)
          end
        end
        """
    )
    assert findings_for(constraints.FOREIGN_KEY, src) == []


def test_foreign_key_validated_in_the_same_migration_gains_nothing():
    src = mig(
        """
        def up do
          alter table(:orders) do
            add :coupon_id, references(:coupons, validate: false)
          end

          execute "ALTER TABLE orders VALIDATE CONSTRAINT orders_coupon_id_fkey"
        end

        def down, do: :ok
        """
    )
    found = findings_for(constraints.FOREIGN_KEY, src)
    assert lines_of(found) == [at(src, ":coupon_id")]
    assert "same migration" in found[0].message


def test_raw_foreign_key_needs_not_valid():
    src = mig(
        '''
        def up do
          execute """
          ALTER TABLE orders ADD CONSTRAINT orders_coupon_fk
            FOREIGN KEY (coupon_id) REFERENCES coupons (id)
          """
          execute """
          ALTER TABLE orders ADD CONSTRAINT orders_user_fk
            FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID
          """
        end

        def down, do: :ok
        '''
    )
    assert lines_of(findings_for(constraints.FOREIGN_KEY, src)) == [at(src, "execute")]


def test_foreign_key_suppressed_with_excellent_migrations_comment():
    src = mig(
        """
        def change do
          alter table(:orders) do
            # excellent_migrations:safety-assured-for-next-line column_reference_added
            add :customer_id, references(:customers)
          end
        end
        """
    )
    assert findings_for(constraints.FOREIGN_KEY, src) == []


# --- L5.migration-check-constraint-validated ----------------------------------------------------


def test_check_constraint_on_existing_table_is_flagged():
    src = mig(
        """
        def change do
          create constraint(:orders, :positive_total, check: "total > 0")
          create constraint(:orders, :positive_quantity, check: "quantity > 0", validate: false)
          create table(:coupons) do
            add :percent, :integer
          end
          create constraint(:coupons, :percent_range, check: "percent BETWEEN 0 AND 100")
        end
        """
    )
    found = findings_for(constraints.CHECK, src)
    assert lines_of(found) == [at(src, ":positive_total")]
    assert "`positive_total`" in found[0].message
    assert "validate: false" in (found[0].fix or "")


def test_check_constraint_validated_in_same_migration_and_raw_check():
    src = mig(
        """
        def up do
          create constraint(:orders, :positive_total, check: "total > 0", validate: false)
          execute "ALTER TABLE orders VALIDATE CONSTRAINT positive_total"
          execute "ALTER TABLE items ADD CONSTRAINT qty CHECK (quantity > 0)"
          execute "ALTER TABLE items ADD CONSTRAINT qty2 CHECK (quantity < 100) NOT VALID"
        end

        def down, do: :ok
        """
    )
    found = findings_for(constraints.CHECK, src)
    assert lines_of(found) == [at(src, ":positive_total"), at(src, "CHECK (quantity > 0)")]


# --- L5.migration-unique-constraint -------------------------------------------------------------


def test_unique_and_exclusion_constraints_on_existing_tables():
    src = mig(
        """
        def change do
          execute "ALTER TABLE coupons ADD CONSTRAINT coupons_code_key UNIQUE (code)", ""
          execute "ALTER TABLE coupons ADD CONSTRAINT c_key UNIQUE USING INDEX code_index", ""
          create constraint(:bookings, :no_overlap, exclude: ~s|gist (during WITH &&)|)
          create table(:rooms) do
            add :during, :tstzrange
          end
          create constraint(:rooms, :no_overlap, exclude: ~s|gist (during WITH &&)|)
        end
        """
    )
    found = findings_for(constraints.UNIQUE, src)
    assert lines_of(found) == [at(src, "coupons_code_key"), at(src, ":bookings")]
    assert "USING INDEX" in (found[0].fix or "")


# --- L5.migration-data-change -------------------------------------------------------------------


def test_data_changes_in_schema_migration_are_notices():
    src = mig(
        """
        def up do
          Shop.Repo.update_all(Shop.Order, set: [status: "paid"])
          repo().insert_all("orders", [%{status: "new"}])
          execute "DELETE FROM orders WHERE status IS NULL"
          Shop.Repo.all(Shop.Order)
        end

        def down, do: :ok
        """
    )
    found = findings_for(data.DATA, src)
    assert lines_of(found) == [at(src, "update_all"), at(src, "insert_all"), at(src, "DELETE")]
    assert all(f.severity is Severity.NOTICE for f in found)
    assert "batches" in (found[0].fix or "")


def test_seeding_a_table_created_in_the_same_migration_is_fine():
    src = mig(
        """
        def change do
          create table(:roles) do
            add :name, :string
          end

          execute "INSERT INTO roles (name) VALUES ('admin'), ('member')", ""
          flush()
          repo().insert_all("roles", [%{name: "guest"}])
        end
        """
    )
    assert findings_for(data.DATA, src) == []


def test_raw_sql_suppression_covers_dangers_found_inside_the_sql():
    src = mig(
        """
        def up do
          # excellent_migrations:safety-assured-for-next-line raw_sql_executed
          execute "UPDATE orders SET status = 'paid'"
          # excellent_migrations:safety-assured-for-next-line raw_sql_executed
          execute "CREATE INDEX orders_total ON orders (total)"
        end

        def down, do: :ok
        """
    )
    assert findings_for(data.DATA, src) == []
    assert findings_for(indexes.NOT_CONCURRENT, src) == []


# --- L5.migration-raw-sql -----------------------------------------------------------------------


def test_unrecognised_or_unreadable_sql_is_a_notice():
    src = mig(
        """
        def up do
          execute "CREATE TRIGGER touch BEFORE UPDATE ON orders EXECUTE FUNCTION touch()"
          execute @sql
          execute(fn -> repo().query!("SELECT 1") end)
        end

        def down, do: :ok
        """,
        '@sql "ALTER TABLE orders ADD COLUMN total_cents bigint"',
    )
    found = findings_for(data.RAW_SQL, src)
    assert lines_of(found) == [
        at(src, "CREATE TRIGGER"),
        at(src, "execute @sql"),
        at(src, "fn ->"),
    ]
    assert "CREATE TRIGGER" in found[0].message
    assert "cannot read" in found[2].message


def test_recognised_and_harmless_sql_gets_no_generic_notice():
    src = mig(
        '''
        def change do
          execute "CREATE EXTENSION IF NOT EXISTS citext", "DROP EXTENSION IF EXISTS citext"
          execute "CREATE TYPE order_status AS ENUM ('new', 'paid')", "DROP TYPE order_status"
          execute "ALTER TABLE orders VALIDATE CONSTRAINT positive_total", ""
          execute "CREATE INDEX orders_total ON orders (total)", "SOMETHING ODD"
          execute """
          CREATE OR REPLACE FUNCTION touch() RETURNS trigger AS $$
          BEGIN
            NEW.updated_at := now();
            RETURN NEW;
          END;
          $$ LANGUAGE plpgsql;
          -- a comment; with a semicolon
          COMMENT ON TABLE orders IS 'it; has; semicolons';
          """, ""
        end
        '''
    )
    assert findings_for(data.RAW_SQL, src) == []
    rolled = findings_for(data.RAW_SQL, src, config=cfg(rollbacks=True))
    assert lines_of(rolled) == [at(src, "SOMETHING ODD")]


def test_classify_sql_statements():
    kinds = [
        s.kind
        for s in classify_sql("UPDATE a SET x = 1; DELETE FROM b; INSERT INTO c VALUES (1)")
    ]
    assert kinds == ["data", "data", "data"]
    [stmt] = classify_sql('ALTER TABLE "public"."orders" ALTER COLUMN "total" SET NOT NULL')
    assert (stmt.kind, stmt.table, stmt.column) == ("set_not_null", "orders", "total")
    assert [s.kind for s in classify_sql("ALTER TABLE t ADD COLUMN a int, DROP COLUMN b")] == [
        "unknown",
        "drop_column",
    ]
    assert [s.kind for s in classify_sql("create unique index concurrently i on t (a)")] == [
        "create_index_concurrently"
    ]
    assert [s.kind for s in classify_sql("")] == ["harmless"]


# --- L5.migration-split -------------------------------------------------------------------------


def test_split_names_each_dangerous_step():
    src = mig(
        """
        def change do
          alter table(:users) do
            remove :legacy_role, :string
          end

          rename table(:orders), :total, to: :amount
        end
        """
    )
    found = findings_for(split.SPLIT, src)
    assert lines_of(found) == [at(src, "def change")]
    message = found[0].message
    assert f"removing a column (line {at(src, ':legacy_role')})" in message
    assert f"renaming a column (line {at(src, ':total')})" in message
    assert found[0].end_line == found[0].line


def test_split_backfill_next_to_schema_change():
    src = mig(
        """
        def up do
          alter table(:orders) do
            add :archived_at, :utc_datetime
          end

          execute "UPDATE orders SET archived_at = updated_at WHERE status = 'cancelled'"
        end

        def down, do: :ok
        """
    )
    found = findings_for(split.SPLIT, src)
    assert lines_of(found) == [at(src, "def up")]
    assert "a data backfill" in found[0].message
    assert f"line {at(src, ':archived_at')}" in found[0].message


def test_split_concurrent_index_next_to_a_dangerous_step():
    src = mig(
        """
        def change do
          create index(:orders, [:placed_at], concurrently: true)

          alter table(:orders) do
            remove :legacy_total
          end
        end
        """,
        CONCURRENT_ATTRS,
    )
    found = findings_for(split.SPLIT, src)
    assert lines_of(found) == [at(src, "def change")]
    assert "concurrent index build" in found[0].message


@pytest.mark.parametrize(
    "body",
    [
        # two concurrent index builds belong together
        """
        def change do
          create index(:orders, [:placed_at], concurrently: true)
          create index(:orders, [:status], concurrently: true)
        end
        """,
        # one statement with two dangers cannot be split
        """
        def change do
          alter table(:orders) do
            add :customer_id, references(:customers), null: false
          end
        end
        """,
        # one dangerous step among safe ones
        """
        def change do
          alter table(:orders) do
            add :notes, :text
            remove :legacy_total
          end
        end
        """,
        # a suppressed step does not count
        """
        def change do
          alter table(:orders) do
            # excellent_migrations:safety-assured-for-next-line column_removed
            remove :legacy_total
          end

          rename table(:orders), :total, to: :amount
        end
        """,
        # dangers in a rollback do not count by default
        """
        def up do
          create table(:coupons) do
            add :code, :string
          end
        end

        def down do
          rename table(:orders), :total, to: :amount
          drop table(:carts)
        end
        """,
    ],
)
def test_split_is_quiet_when_nothing_needs_splitting(body):
    assert findings_for(split.SPLIT, mig(body, CONCURRENT_ATTRS)) == []


def test_split_in_rollback_with_include_rollbacks():
    src = mig(
        """
        def up, do: :ok

        def down do
          rename table(:orders), :total, to: :amount
          drop table(:carts)
        end
        """
    )
    found = findings_for(split.SPLIT, src, config=cfg(rollbacks=True))
    assert lines_of(found) == [at(src, "def down")]


def test_split_ignores_rules_switched_off():
    src = mig(
        """
        def change do
          alter table(:users) do
            remove :legacy_role, :string
          end

          rename table(:orders), :total, to: :amount
        end
        """
    )
    config = cfg(rules={columns.RENAMED.id: RuleSetting(enabled=False)})
    assert findings_for(split.SPLIT, src, config=config) == []


def test_split_suppressed_with_a_ladder_comment():
    src = mig(
        """
        # ladder:disable-next-line L5.migration-split -- both columns are unused since v12
        def change do
          alter table(:users) do
            remove :legacy_role, :string
          end

          rename table(:orders), :total, to: :amount
        end
        """
    )
    assert findings_for(split.SPLIT, src) == []


# --- suppression comments -----------------------------------------------------------------------


def test_chain_of_consecutive_suppression_comments_covers_the_next_code_line():
    src = mig(
        """
        def change do
          alter table(:orders) do
            # excellent_migrations:safety-assured-for-next-line column_type_changed
            # excellent_migrations:safety-assured-for-next-line not_null_added
            # ladder:disable-next-line L5.migration-required-column -- table is empty in prod
            modify :quantity, :bigint, null: false, from: :integer
          end
        end
        """
    )
    assert findings_for(columns.TYPE_CHANGED, src) == []
    assert findings_for(columns.NOT_NULL, src) == []


def test_excellent_migrations_comment_with_several_types():
    src = mig(
        """
        def change do
          alter table(:orders) do
            # excellent_migrations:safety-assured-for-next-line column_type_changed not_null_added
            modify :quantity, :bigint, null: false, from: :integer
            modify :total, :bigint, null: false, from: :integer
          end
        end
        """
    )
    assert lines_of(findings_for(columns.TYPE_CHANGED, src)) == [at(src, ":total")]
    assert lines_of(findings_for(columns.NOT_NULL, src)) == [at(src, ":total")]


def test_ladder_file_suppression_with_glob():
    src = mig(
        """
        # ladder:disable-file L5.migration-* -- one-off data repair, run off-hours
        def change do
          alter table(:users) do
            remove :legacy_role, :string
          end
        end
        """
    )
    assert findings_for(columns.REMOVED, src) == []


# --- the model is per file ----------------------------------------------------------------------


def test_tables_created_in_one_file_do_not_leak_into_another():
    files = {
        "priv/repo/migrations/20240101000000_create_coupons.exs": mig(
            """
            def change do
              create table(:coupons) do
                add :code, :string
              end

              create index(:coupons, [:code])
            end
            """
        ),
        "priv/repo/migrations/20240102000000_index_coupons.exs": mig(
            """
            def change do
              create index(:coupons, [:code])
            end
            """
        ),
    }
    found = findings_for(indexes.NOT_CONCURRENT, files)
    assert [(f.path, f.line) for f in found] == [
        ("priv/repo/migrations/20240102000000_index_coupons.exs", 5)
    ]


def test_only_migration_files_are_reviewed():
    src = mig(
        """
        def change do
          create index(:orders, [:customer_id])
        end
        """
    )
    assert findings_for(indexes.NOT_CONCURRENT, src, path="lib/shop/release.ex") == []
    assert (
        len(findings_for(indexes.NOT_CONCURRENT, src, path="priv/repo/migrations/1_x.exs")) == 1
    )
