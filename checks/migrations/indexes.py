"""Indexes: built or dropped without CONCURRENTLY, CONCURRENTLY inside a transaction, and wide
non-unique indexes.

A plain CREATE INDEX holds a SHARE lock on the table for the whole build, so every insert,
update and delete waits; DROP INDEX takes an ACCESS EXCLUSIVE lock. An index on a table that the
same migration creates cannot block anyone, so it is not reported.
"""

from __future__ import annotations

from collections.abc import Iterator

from checks.context import FileContext
from checks.migrations._model import (
    EXAMPLE_PATH,
    MIGRATION,
    active,
    emit,
    memoized,
    model,
    quoted,
    statements,
)
from checks.model import Finding, Rule, Severity

_ATTRS = "`@disable_ddl_transaction true` and `@disable_migration_lock true`"


def _not_concurrent(ctx: FileContext) -> Iterator[Finding]:
    migration = model(ctx)
    for op in migration.index_ops:
        if op.concurrently or not active(ctx, op.scope):
            continue
        if op.action == "create" and not migration.existing(op.table, op.scope):
            continue
        if op.action == "create":
            message = (
                f"index on existing table {quoted(op.table)} is built without "
                "`concurrently: true`: writes to the table wait for the whole build"
            )
        else:
            message = (
                f"index on {quoted(op.table)} is dropped without `concurrently: true`: the "
                "ACCESS EXCLUSIVE lock blocks reads and writes while it waits for running queries"
            )
        found = emit(
            ctx,
            NOT_CONCURRENT,
            op.node,
            message,
            fix=f"pass `concurrently: true` and set {_ATTRS} in this migration",
        )
        if found is not None:
            yield found
    for sql_op, statement in statements(ctx, ("create_index", "drop_index")):
        new_table = not migration.existing(statement.table, sql_op.scope)
        if statement.kind == "create_index" and new_table:
            continue
        verb = "CREATE INDEX" if statement.kind == "create_index" else "DROP INDEX"
        found = emit(
            ctx,
            NOT_CONCURRENT,
            sql_op.node,
            f"raw `{verb}` without CONCURRENTLY on an existing table locks out writes",
            fix=f"write `{verb} CONCURRENTLY` and set {_ATTRS} in this migration",
            sql=True,
        )
        if found is not None:
            yield found


def _in_transaction(ctx: FileContext) -> Iterator[Finding]:
    migration = model(ctx)
    advisory = bool(ctx.param(IN_TRANSACTION, "advisory_lock"))
    missing = []
    if not migration.ddl_transaction_disabled:
        missing.append("`@disable_ddl_transaction true`")
    if not migration.migration_lock_disabled and not advisory:
        missing.append("`@disable_migration_lock true`")
    if not missing:
        return
    first = next(
        (op.node for op in migration.index_ops if op.concurrently and active(ctx, op.scope)),
        None,
    )
    sql = first is None
    if first is None:
        kinds = ("create_index_concurrently", "drop_index_concurrently")
        first = next((op.node for op, _s in statements(ctx, kinds)), None)
    if first is None:
        return
    if migration.ddl_transaction_disabled:
        why = (
            "Ecto holds its migration lock in an open transaction, which the concurrent "
            "build waits for, so the migration hangs"
        )
    else:
        why = "PostgreSQL refuses CREATE/DROP INDEX CONCURRENTLY inside a transaction block"
    found = emit(
        ctx,
        IN_TRANSACTION,
        first,
        f"concurrent index operation without {' and '.join(missing)}: {why}",
        fix=f"add {' and '.join(missing)} under `use Ecto.Migration`",
        sql=sql,
    )
    if found is not None:
        yield found


def _many_columns(ctx: FileContext) -> Iterator[Finding]:
    limit = int(ctx.param(MANY_COLUMNS, "max_columns"))
    for op in model(ctx).index_ops:
        if op.action != "create" or op.unique or op.columns is None or op.columns <= limit:
            continue
        if not active(ctx, op.scope):
            continue
        found = emit(
            ctx,
            MANY_COLUMNS,
            op.node,
            f"non-unique index on {quoted(op.table)} over {op.columns} columns (more than "
            f"{limit}): it is large, slow to build and rarely used past its leading columns",
            fix="index the 1-3 most selective columns the queries filter on; check with EXPLAIN",
        )
        if found is not None:
            yield found


NOT_CONCURRENT = Rule(
    id="L5.migration-index-not-concurrent",
    severity=Severity.WARNING,
    title="Index created or dropped without concurrently: true",
    explanation=(
        "`create index(...)` runs CREATE INDEX, which holds a SHARE lock on the table for the "
        "whole build: every INSERT, UPDATE and DELETE waits, for minutes on a large table. "
        "`drop index(...)` takes an ACCESS EXCLUSIVE lock that also blocks reads. The safe "
        "recipe: pass `concurrently: true` and set `@disable_ddl_transaction true` and "
        "`@disable_migration_lock true` in that migration (keep the concurrent index in a "
        "migration of its own, since nothing in it runs inside a transaction). An index on a "
        "table the same migration creates is safe and not reported; raw `CREATE INDEX` in "
        "`execute` is checked too."
    ),
    bad_example=(
        "defmodule Shop.Repo.Migrations.IndexOrdersOnCustomer do\n"
        "  use Ecto.Migration\n"
        "\n"
        "  def change do\n"
        "    create index(:orders, [:customer_id])\n"
        "  end\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.Repo.Migrations.IndexOrdersOnCustomer do\n"
        "  use Ecto.Migration\n"
        "  @disable_ddl_transaction true\n"
        "  @disable_migration_lock true\n"
        "\n"
        "  def change do\n"
        "    create index(:orders, [:customer_id], concurrently: true)\n"
        "  end\n"
        "end\n"
    ),
    applies_to=MIGRATION,
    excellent_migrations=("index_not_concurrently",),
    example_path=EXAMPLE_PATH,
    check=memoized(_not_concurrent),
)

IN_TRANSACTION = Rule(
    id="L5.migration-concurrent-index-in-transaction",
    severity=Severity.ERROR,
    title="Concurrent index without @disable_ddl_transaction and @disable_migration_lock",
    explanation=(
        "CREATE INDEX CONCURRENTLY cannot run inside a transaction block, and Ecto wraps each "
        "migration in one unless `@disable_ddl_transaction true` is set; the migration lock "
        "(`@disable_migration_lock true`) must go too, or the concurrent build waits on the "
        "lock Ecto holds on schema_migrations. Without both, the deploy fails at the migration "
        "step. Set both attributes under `use Ecto.Migration` and keep only the concurrent "
        "index steps in that migration. Repos configured with `migration_lock: "
        ":pg_advisory_lock` only need the first: set this rule's `advisory_lock` parameter."
    ),
    bad_example=(
        "defmodule Shop.Repo.Migrations.IndexOrdersOnCustomer do\n"
        "  use Ecto.Migration\n"
        "\n"
        "  def change do\n"
        "    create index(:orders, [:customer_id], concurrently: true)\n"
        "  end\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.Repo.Migrations.IndexOrdersOnCustomer do\n"
        "  use Ecto.Migration\n"
        "  @disable_ddl_transaction true\n"
        "  @disable_migration_lock true\n"
        "\n"
        "  def change do\n"
        "    create index(:orders, [:customer_id], concurrently: true)\n"
        "  end\n"
        "end\n"
    ),
    applies_to=MIGRATION,
    params={"advisory_lock": False},
    excellent_migrations=(
        "index_concurrently_without_disable_ddl_transaction",
        "index_concurrently_without_disable_migration_lock",
    ),
    example_path=EXAMPLE_PATH,
    check=memoized(_in_transaction),
)

MANY_COLUMNS = Rule(
    id="L5.migration-index-many-columns",
    severity=Severity.NOTICE,
    title="Non-unique index on more than three columns",
    explanation=(
        "A B-tree index is used from its leading columns; past the third, extra columns make "
        "the index bigger, slower to build and slower to write, and rarely speed up a query. "
        "Index the few most selective columns the queries filter on and check the plan with "
        "EXPLAIN. Unique indexes are exempt: their column list is the uniqueness rule."
    ),
    bad_example=(
        "defmodule Shop.Repo.Migrations.CreateEvents do\n"
        "  use Ecto.Migration\n"
        "\n"
        "  def change do\n"
        "    create table(:events) do\n"
        "      add :account_id, :bigint\n"
        "      add :kind, :string\n"
        "      add :source, :string\n"
        "      add :region, :string\n"
        "    end\n"
        "\n"
        "    create index(:events, [:account_id, :kind, :source, :region])\n"
        "  end\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.Repo.Migrations.CreateEvents do\n"
        "  use Ecto.Migration\n"
        "\n"
        "  def change do\n"
        "    create table(:events) do\n"
        "      add :account_id, :bigint\n"
        "      add :kind, :string\n"
        "    end\n"
        "\n"
        "    create index(:events, [:account_id, :kind])\n"
        "  end\n"
        "end\n"
    ),
    applies_to=MIGRATION,
    params={"max_columns": 3},
    excellent_migrations=("many_columns_index",),
    example_path=EXAMPLE_PATH,
    check=memoized(_many_columns),
)

RULES = (NOT_CONCURRENT, IN_TRANSACTION, MANY_COLUMNS)
