"""Data changes and raw SQL in schema migrations (notices: they inform, they do not block).

A backfill inside a schema migration runs in the migration's transaction, so it holds every
lock the DDL took for as long as it takes to touch every row, and it runs against whatever the
schema modules look like at deploy time. Raw SQL is outside what Ladder can check statement by
statement, except the dangerous DDL it recognises (reported by the specific rules); the rest is
pointed out so a person reads it.
"""

from __future__ import annotations

from collections.abc import Iterator

from checks.context import FileContext
from checks.migrations._model import (
    EXAMPLE_PATH,
    MIGRATION,
    Statement,
    active,
    emit,
    memoized,
    model,
    quoted,
    statements,
)
from checks.model import Finding, Rule, Severity

# Statement kinds a specific rule reports (or that are safe): no generic raw-SQL notice for them.
SPECIFIC = frozenset(
    {
        "create_table",
        "create_index",
        "create_index_concurrently",
        "drop_index",
        "drop_index_concurrently",
        "drop_table",
        "data",
        "validate",
        "add_fk",
        "add_fk_not_valid",
        "add_check",
        "add_check_not_valid",
        "add_unique",
        "add_exclude",
        "set_not_null",
        "type_change",
        "rename_table",
        "rename_column",
        "drop_column",
        "harmless",
    }
)

_FIX = (
    "move the backfill to its own migration (or a release task) that runs in batches outside "
    "the schema migration's transaction, with plain SQL or schemaless queries"
)


def data_changes(ctx: FileContext) -> Iterator[Finding]:
    """Every data change on an existing table; seeding a table created here is fine."""
    migration = model(ctx)
    for write in migration.repo_writes:
        if not active(ctx, write.scope) or not migration.existing(write.table, write.scope):
            continue
        found = emit(
            ctx,
            DATA,
            write.node,
            f"`{write.function}` changes data in a schema migration: the backfill runs inside "
            "the migration's transaction, holding its locks until every row is done",
            fix=_FIX,
        )
        if found is not None:
            yield found
    for op, statement in statements(ctx, ("data",)):
        if not migration.existing(statement.table, op.scope):
            continue
        verb = statement.text.split(" ", 1)[0].upper()
        found = emit(
            ctx,
            DATA,
            op.node,
            f"raw `{verb}` on {quoted(statement.table)} changes data in a schema migration: "
            "it runs inside the migration's transaction, holding its locks until it ends",
            fix=_FIX,
            sql=True,
        )
        if found is not None:
            yield found


def _raw_sql(ctx: FileContext) -> Iterator[Finding]:
    for op in model(ctx).sql_ops:
        if not active(ctx, op.scope):
            continue
        if op.statements is None:
            message = (
                "SQL that Ladder cannot read (built at runtime or a function): its locks and "
                "rewrites are not checked"
            )
        else:
            unknown = [s for s in op.statements if s.kind not in SPECIFIC]
            if not unknown:
                continue
            message = f"raw SQL is not checked for lock safety: `{_short(unknown[0])}`"
        found = emit(
            ctx,
            RAW_SQL,
            op.node,
            message,
            fix=(
                "prefer Ecto.Migration functions; otherwise check the statement's lock level and "
                "whether it rewrites the table, and set lock_timeout"
            ),
        )
        if found is not None:
            yield found


def _short(statement: Statement) -> str:
    text = statement.text
    return text if len(text) <= 60 else text[:57] + "..."


_HEAD = "defmodule Shop.Repo.Migrations.Example do\n  use Ecto.Migration\n\n"


def _example(body: str) -> str:
    return _HEAD + body + "end\n"


DATA = Rule(
    id="L5.migration-data-change",
    severity=Severity.NOTICE,
    title="Data changed in a schema migration",
    explanation=(
        '`Repo.update_all`, `repo().insert_all` or `execute "UPDATE ..."` in a schema '
        "migration runs inside the migration's transaction: every lock the migration's DDL "
        "took is held until the last row is written, a large backfill can time out the "
        "deploy, and code-based backfills break when the schema modules change later. "
        "Recipe: keep schema migrations for schema; backfill in a separate data migration "
        "(or release task) that runs in batches outside a transaction, using schemaless "
        "queries. Seeding a table created in the same migration is fine and not reported."
    ),
    bad_example=_example(
        "  def up do\n"
        "    execute \"UPDATE orders SET status = 'pending' WHERE status IS NULL\"\n"
        "  end\n"
        "\n"
        "  def down, do: :ok\n"
    ),
    good_example=_example(
        "  def change do\n"
        "    create table(:statuses) do\n"
        "      add :name, :string\n"
        "    end\n"
        "\n"
        '    execute "INSERT INTO statuses (name) VALUES (\'pending\')", ""\n'
        "  end\n"
    ),
    applies_to=MIGRATION,
    excellent_migrations=(
        "operation_insert",
        "operation_update",
        "operation_delete",
        "operation_insert_or_update",
    ),
    example_path=EXAMPLE_PATH,
    check=memoized(data_changes),
)

RAW_SQL = Rule(
    id="L5.migration-raw-sql",
    severity=Severity.NOTICE,
    title="Raw SQL in a migration",
    explanation=(
        "Ladder reads raw SQL in `execute` and reports the dangerous DDL it recognises (plain "
        "CREATE INDEX, FOREIGN KEY or CHECK without NOT VALID, UNIQUE constraints, SET NOT "
        "NULL, type changes, drops, renames, backfills) under their own rules, and skips the "
        "harmless (extensions, types, functions, comments, VALIDATE CONSTRAINT). Anything "
        "else is pointed out so a person checks its lock level and whether it rewrites the "
        "table. Prefer Ecto.Migration functions, and set a `lock_timeout` for risky "
        "statements."
    ),
    bad_example=_example(
        "  def change do\n"
        '    execute "ALTER TABLE orders ADD COLUMN total_cents bigint GENERATED ALWAYS AS '
        '(total * 100) STORED",\n'
        '            "ALTER TABLE orders DROP COLUMN total_cents"\n'
        "  end\n"
    ),
    good_example=_example(
        "  def change do\n"
        '    execute "CREATE EXTENSION IF NOT EXISTS citext", "DROP EXTENSION citext"\n'
        "  end\n"
    ),
    applies_to=MIGRATION,
    excellent_migrations=("raw_sql_executed",),
    example_path=EXAMPLE_PATH,
    check=memoized(_raw_sql),
)

RULES = (DATA, RAW_SQL)
