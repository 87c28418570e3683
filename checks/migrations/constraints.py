"""Constraints on existing tables: foreign keys and check constraints validated while locking,
and unique or exclusion constraints.

Adding a foreign key or a check constraint validates every existing row while holding a lock
that blocks writes (and, for the foreign key, writes to the referenced table too). PostgreSQL
can split the two: add the constraint NOT VALID (Ecto's `validate: false`), which only checks
new rows, then VALIDATE it in a later migration under a lock that lets traffic through. Doing
both in one migration gains nothing: one transaction keeps the first lock for the validation.
"""

from __future__ import annotations

from collections.abc import Iterator

from checks import elixir
from checks.context import FileContext
from checks.migrations._model import (
    EXAMPLE_PATH,
    MIGRATION,
    Migration,
    Scope,
    active,
    emit,
    memoized,
    model,
    quoted,
    statements,
    suggest,
)
from checks.model import Finding, Rule, Severity

_FK_FIX = (
    "use `references(..., validate: false)`; in a later migration run "
    '`execute "ALTER TABLE <table> VALIDATE CONSTRAINT <table>_<column>_fkey"`'
)
_CHECK_FIX = (
    "pass `validate: false`; in a later migration run "
    '`execute "ALTER TABLE <table> VALIDATE CONSTRAINT <name>"`'
)


def _validated_here(migration: Migration, table: str | None, scope: Scope) -> bool:
    """Whether the same function also runs VALIDATE CONSTRAINT on `table`."""
    for op in migration.sql_ops:
        if op.scope.node is scope.node and op.scope.rollback == scope.rollback:
            for statement in op.statements or ():
                if statement.kind == "validate" and (statement.table in (table, None)):
                    return True
    return False


def _foreign_keys(ctx: FileContext) -> Iterator[Finding]:
    migration = model(ctx)
    for op in migration.column_ops:
        if op.verb not in ("add", "modify") or op.new_table or not active(ctx, op.scope):
            continue
        ref = op.type_node
        if ref is None or ref.type != "call" or elixir.local_name(ref) != "references":
            continue
        if not migration.existing(op.table, op.scope):
            continue
        column = f"`{op.column}` of {quoted(op.table)}" if op.column else quoted(op.table)
        ref_opts = elixir.keyword_pairs(ref)
        suggestion = None
        if not elixir.is_false_literal(ref_opts.get("validate")):
            message = (
                f"foreign key on {column} is validated as it is added: every row is checked "
                "while writes to both tables are blocked"
            )
            source = elixir.text(ref)
            if "validate" not in ref_opts and source.endswith(")"):
                suggestion = suggest(ctx, op.node, ref, source[:-1] + ", validate: false)")
        elif _validated_here(migration, op.table, op.scope):
            message = (
                f"foreign key on {column} is added with `validate: false` but validated in the "
                "same migration, so the lock is held for the whole validation anyway"
            )
        else:
            continue
        found = emit(ctx, FOREIGN_KEY, op.node, message, fix=_FK_FIX, suggestion=suggestion)
        if found is not None:
            yield found
    for sql_op, statement in statements(ctx, ("add_fk", "add_fk_not_valid")):
        if not migration.existing(statement.table, sql_op.scope):
            continue
        if statement.kind == "add_fk_not_valid" and not _validated_here(
            migration, statement.table, sql_op.scope
        ):
            continue
        found = emit(
            ctx,
            FOREIGN_KEY,
            sql_op.node,
            f"raw FOREIGN KEY on {quoted(statement.table)} is validated in this migration, "
            "blocking writes to both tables while every row is checked",
            fix="add it `NOT VALID`; VALIDATE CONSTRAINT in a later migration",
            sql=True,
        )
        if found is not None:
            yield found


def _checks(ctx: FileContext) -> Iterator[Finding]:
    migration = model(ctx)
    for op in migration.constraint_ops:
        if op.verb != "create" or op.kind != "check" or not active(ctx, op.scope):
            continue
        if not migration.existing(op.table, op.scope):
            continue
        name = f"`{op.name}` " if op.name else ""
        if op.validate:
            message = (
                f"check constraint {name}on {quoted(op.table)} is validated as it is added: "
                "every row is scanned under an ACCESS EXCLUSIVE lock"
            )
        elif _validated_here(migration, op.table, op.scope):
            message = (
                f"check constraint {name}on {quoted(op.table)} is added with `validate: false` "
                "but validated in the same migration, so the lock is held for the scan anyway"
            )
        else:
            continue
        found = emit(ctx, CHECK, op.node, message, fix=_CHECK_FIX)
        if found is not None:
            yield found
    for sql_op, statement in statements(ctx, ("add_check", "add_check_not_valid")):
        if not migration.existing(statement.table, sql_op.scope):
            continue
        if statement.kind == "add_check_not_valid" and not _validated_here(
            migration, statement.table, sql_op.scope
        ):
            continue
        found = emit(
            ctx,
            CHECK,
            sql_op.node,
            f"raw CHECK constraint on {quoted(statement.table)} is validated in this "
            "migration, scanning every row under an ACCESS EXCLUSIVE lock",
            fix="add it `NOT VALID`; VALIDATE CONSTRAINT in a later migration",
            sql=True,
        )
        if found is not None:
            yield found


def _unique(ctx: FileContext) -> Iterator[Finding]:
    migration = model(ctx)
    for op in migration.constraint_ops:
        if op.verb != "create" or op.kind != "exclude" or not active(ctx, op.scope):
            continue
        if not migration.existing(op.table, op.scope):
            continue
        found = emit(
            ctx,
            UNIQUE,
            op.node,
            f"exclusion constraint on existing table {quoted(op.table)} builds its index "
            "under an ACCESS EXCLUSIVE lock (it cannot be built concurrently)",
            fix="run it in a maintenance window, or enforce the rule in a trigger or in code",
        )
        if found is not None:
            yield found
    for sql_op, statement in statements(ctx, ("add_unique", "add_exclude")):
        if not migration.existing(statement.table, sql_op.scope):
            continue
        found = emit(
            ctx,
            UNIQUE,
            sql_op.node,
            f"raw UNIQUE/PRIMARY KEY/EXCLUDE constraint on {quoted(statement.table)} builds its "
            "index under an ACCESS EXCLUSIVE lock, blocking reads and writes",
            fix=(
                "`create unique_index(..., concurrently: true)` in its own migration, then "
                "`ALTER TABLE ... ADD CONSTRAINT name UNIQUE USING INDEX index_name`"
            ),
            sql=True,
        )
        if found is not None:
            yield found


_HEAD = "defmodule Shop.Repo.Migrations.Example do\n  use Ecto.Migration\n\n"


def _example(body: str) -> str:
    return _HEAD + body + "end\n"


FOREIGN_KEY = Rule(
    id="L5.migration-foreign-key-validated",
    severity=Severity.WARNING,
    title="Foreign key added to an existing table without validate: false",
    explanation=(
        "`add :customer_id, references(:customers)` in an `alter` adds a FOREIGN KEY that "
        "PostgreSQL validates at once: it reads every row while holding a SHARE ROW EXCLUSIVE "
        "lock on both tables, so writes to both wait. Recipe: add it with "
        "`references(:customers, validate: false)` (only new rows are checked), then in a "
        'later migration `execute "ALTER TABLE orders VALIDATE CONSTRAINT '
        'orders_customer_id_fkey"`, which lets reads and writes through. A `references` '
        "inside `create table` is safe and not reported."
    ),
    bad_example=_example(
        "  def change do\n"
        "    alter table(:orders) do\n"
        "      add :customer_id, references(:customers)\n"
        "    end\n"
        "  end\n"
    ),
    good_example=_example(
        "  def change do\n"
        "    alter table(:orders) do\n"
        "      add :customer_id, references(:customers, validate: false)\n"
        "    end\n"
        "  end\n"
    ),
    applies_to=MIGRATION,
    excellent_migrations=("column_reference_added",),
    example_path=EXAMPLE_PATH,
    check=memoized(_foreign_keys),
)

CHECK = Rule(
    id="L5.migration-check-constraint-validated",
    severity=Severity.WARNING,
    title="Check constraint added to an existing table without validate: false",
    explanation=(
        '`create constraint(:orders, :positive_total, check: "total > 0")` scans every row '
        "under an ACCESS EXCLUSIVE lock, blocking reads and writes for the whole scan. Recipe: "
        "pass `validate: false` (only new rows are checked), then in a later migration "
        '`execute "ALTER TABLE orders VALIDATE CONSTRAINT positive_total"`, which takes a '
        "lock that lets traffic through. A constraint on a table created in the same "
        "migration is safe and not reported."
    ),
    bad_example=_example(
        "  def change do\n"
        '    create constraint(:orders, :positive_total, check: "total > 0")\n'
        "  end\n"
    ),
    good_example=_example(
        "  def change do\n"
        '    create constraint(:orders, :positive_total, check: "total > 0", validate: false)\n'
        "  end\n"
    ),
    applies_to=MIGRATION,
    excellent_migrations=("check_constraint_added",),
    example_path=EXAMPLE_PATH,
    check=memoized(_checks),
)

UNIQUE = Rule(
    id="L5.migration-unique-constraint",
    severity=Severity.WARNING,
    title="Unique or exclusion constraint added to an existing table",
    explanation=(
        "ALTER TABLE ... ADD CONSTRAINT ... UNIQUE (or PRIMARY KEY, or EXCLUDE) builds its "
        "index while holding an ACCESS EXCLUSIVE lock: nothing can read or write the table "
        "until the build ends. Recipe for uniqueness: `create unique_index(..., "
        "concurrently: true)` in its own migration, then, if a named constraint is needed, "
        "`ALTER TABLE t ADD CONSTRAINT name UNIQUE USING INDEX index_name` (instant). An "
        "exclusion constraint cannot be built concurrently: plan a maintenance window. "
        "(strong_migrations: add_unique_constraint, add_exclusion_constraint; squawk: "
        "disallowed-unique-constraint.)"
    ),
    bad_example=_example(
        "  def change do\n"
        '    execute "ALTER TABLE coupons ADD CONSTRAINT coupons_code_key UNIQUE (code)"\n'
        "  end\n"
    ),
    good_example=(
        "defmodule Shop.Repo.Migrations.Example do\n"
        "  use Ecto.Migration\n"
        "  @disable_ddl_transaction true\n"
        "  @disable_migration_lock true\n"
        "\n"
        "  def change do\n"
        "    create unique_index(:coupons, [:code], concurrently: true)\n"
        "  end\n"
        "end\n"
    ),
    applies_to=MIGRATION,
    example_path=EXAMPLE_PATH,
    check=memoized(_unique),
)

RULES = (FOREIGN_KEY, CHECK, UNIQUE)
