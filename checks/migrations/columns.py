"""Columns: defaults that rewrite the table, required columns, removals, renames, type changes,
NOT NULL on existing columns, and `:json`.

Each rule looks only at `alter table(...)` of a table the migration did not create: a column
defined inside `create table(...)` (or in an `alter` of a table created a few lines above) cannot
lock or break anything yet. Only `modify` calls that really change the type are type changes:
the old type comes from `from:` or from the matching `modify` in `def down`, and a `modify`
whose evident purpose is `null:`, `default:` or a reference is not one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from tree_sitter import Node

from checks import elixir
from checks.context import FileContext
from checks.migrations._model import (
    EXAMPLE_PATH,
    MIGRATION,
    ColumnOp,
    ColumnType,
    Migration,
    active,
    column_type,
    emit,
    existing_table_findings,
    memoized,
    model,
    quoted,
    rewrites,
    statements,
    suggest,
)
from checks.model import Finding, Rule, Severity

# Functions whose value PostgreSQL 11+ can store once in the catalog (STABLE or IMMUTABLE).
# Any other function in a default is treated as volatile, as squawk does.
NON_VOLATILE = frozenset(
    {
        *("now", "current_timestamp", "current_date", "current_time", "localtimestamp"),
        *("localtime", "transaction_timestamp", "statement_timestamp", "timezone"),
        *("date_trunc", "make_interval", "make_date", "lower", "upper", "coalesce", "nullif"),
        *("greatest", "least", "concat", "length", "abs", "round", "to_jsonb", "array", "cast"),
        *("jsonb_build_object", "json_build_object", "jsonb_build_array", "json_build_array"),
    }
)
_FUNCTION = re.compile(r"([A-Za-z_][\w.]*)\s*\(")
_INTENT_KEYS = ("null", "default", "comment")
_UNKNOWN = "its current type"


def _existing_alters(ctx: FileContext, verbs: tuple[str, ...]) -> Iterator[ColumnOp]:
    migration = model(ctx)
    for op in migration.column_ops:
        if (
            op.verb in verbs
            and not op.new_table
            and active(ctx, op.scope)
            and migration.existing(op.table, op.scope)
        ):
            yield op


def _where(op: ColumnOp) -> str:
    column = f"`{op.column}`" if op.column else "a column"
    return f"{column} of {quoted(op.table)}"


# --- defaults ---------------------------------------------------------------------------------


def volatile_default(node: Node | None) -> str | None:
    """The volatile function a `default:` calls (`random()`), or None for a constant default."""
    if node is None or node.type != "call" or elixir.local_name(node) != "fragment":
        return None
    sql = elixir.string_literal(elixir.call_args(node)[0]) if elixir.call_args(node) else None
    if sql is None:
        return "an expression Ladder cannot read"
    for name in _FUNCTION.findall(sql):
        bare = name.rsplit(".", 1)[-1].lower()
        if bare not in NON_VOLATILE:
            return f"{bare}()"
    return None


def _column_default(ctx: FileContext) -> Iterator[Finding]:
    version = int(ctx.config.migrations.postgres_version)
    for op in _existing_alters(ctx, ("add", "timestamps")):
        default = op.opts.get("default")
        if default is None:
            continue
        volatile = volatile_default(default)
        what = "timestamps()" if op.verb == "timestamps" else _where(op)
        if volatile is not None:
            message = (
                f"adding {what} with a volatile default ({volatile}) rewrites every row "
                "under an ACCESS EXCLUSIVE lock, on every PostgreSQL version"
            )
            fix = (
                "add the column without a default; set the default in a later migration; "
                "backfill existing rows in batches outside the migration"
            )
        elif version < 11:
            message = (
                f"adding {what} with a default rewrites the whole table under an ACCESS "
                f"EXCLUSIVE lock on PostgreSQL {version} (only 11+ stores constant defaults "
                "without a rewrite)"
            )
            fix = (
                "add the column without a default; `modify` it to set the default in a second "
                "migration; backfill existing rows in batches"
            )
        else:
            continue
        found = emit(ctx, COLUMN_DEFAULT, op.node, message, fix=fix)
        if found is not None:
            yield found


def _required_column(ctx: FileContext) -> Iterator[Finding]:
    for op in _existing_alters(ctx, ("add", "timestamps")):
        if "default" in op.opts:
            continue
        if op.verb == "timestamps":
            null = op.opts.get("null")
            if null is not None and elixir.text(null) == "true":
                continue
            message = (
                f"`timestamps()` on existing table {quoted(op.table)} adds NOT NULL "
                "inserted_at/updated_at without a default: the migration fails on any existing "
                "row, and old code inserting rows breaks"
            )
            fix = (
                "use `timestamps(null: true)`, backfill, then add NOT NULL with the "
                "check-constraint recipe (or give a constant default on PostgreSQL 11+)"
            )
        elif elixir.is_false_literal(op.opts.get("null")):
            message = (
                f"adding {_where(op)} as NOT NULL without a default fails on any existing row "
                "and breaks running code that inserts without it"
            )
            fix = (
                "add it nullable (or with a constant default), deploy code that writes it, "
                "backfill, then add NOT NULL with the check-constraint recipe"
            )
        else:
            continue
        found = emit(ctx, REQUIRED_COLUMN, op.node, message, fix=fix)
        if found is not None:
            yield found


# --- removals and renames -------------------------------------------------------------------


def _removed(ctx: FileContext) -> Iterator[Finding]:
    fix = (
        "first deploy the schema without the field (and no query using it); drop the column "
        "in a later migration"
    )
    for op in _existing_alters(ctx, ("remove",)):
        found = emit(
            ctx,
            REMOVED,
            op.node,
            f"removing {_where(op)}: instances still running the old code select it (Ecto "
            "names every schema field in its queries) and fail until they are replaced",
            fix=fix,
        )
        if found is not None:
            yield found
    migration = model(ctx)
    for sql_op, statement in statements(ctx, ("drop_column",)):
        if migration.existing(statement.table, sql_op.scope):
            found = emit(
                ctx,
                REMOVED,
                sql_op.node,
                f"raw `DROP COLUMN {statement.column}` on {quoted(statement.table)} breaks "
                "instances still running code that selects it",
                fix=fix,
                sql=True,
            )
            if found is not None:
                yield found


def _renamed(ctx: FileContext) -> Iterator[Finding]:
    return existing_table_findings(
        ctx,
        RENAMED,
        verb="rename_column",
        sql_kind="rename_column",
        message=lambda op: (
            f"renaming column {op.detail} of {quoted(op.table)}: running instances still use "
            "the old name and fail until they are replaced"
        ),
        sql_message=lambda statement: (
            f"raw `RENAME COLUMN {statement.column}` on {quoted(statement.table)} breaks "
            "running instances that use the old name"
        ),
        fix=(
            "keep the column name and rename the field in the schema with "
            "`field :new_name, :type, source: :old_name`; or add a new column, write both, "
            "backfill, move reads, then drop the old one"
        ),
    )


# --- type changes and NOT NULL ------------------------------------------------------------------


def _old_definition(migration: Migration, op: ColumnOp) -> tuple[Node | None, dict[str, Node]]:
    """The column as it was: `from:` (`:string`, `{:string, null: true}`, `references(...)`),
    else the `modify` of the same column in the opposite function (`def down` for `def up`)."""
    source = op.opts.get("from")
    if source is not None:
        if source.type == "tuple":
            items = [c for c in source.named_children if c.type != "comment"]
            opts = elixir.keyword_pairs(items[1]) if len(items) > 1 else {}
            return (items[0] if items else None), opts
        return source, {}
    opposite = {"up": "down", "down": "up"}.get(op.scope.name)
    if opposite is not None:
        for other in migration.column_ops:
            if (
                other.verb == "modify"
                and other.scope.name == opposite
                and other.table == op.table
                and other.column == op.column
            ):
                return other.type_node, other.opts
    return None, {}


def _type_change(migration: Migration, op: ColumnOp) -> tuple[str, str] | None:
    """(old, new) labels when this `modify` changes the type in a way that rewrites the table."""
    new = column_type(op.type_node, op.opts)
    if new is None or new.references:
        return None
    old_node, old_opts = _old_definition(migration, op)
    if old_node is None:
        # No old type known: a modify that sets null/default/comment is about those.
        if any(key in op.opts for key in _INTENT_KEYS):
            return None
        return _UNKNOWN, new.label()
    old = column_type(old_node, old_opts)
    if old is None:
        return None
    if old.references:
        old = ColumnType(old.base)
    if not rewrites(old, new):
        return None
    return old.label(), new.label()


def _type_changed(ctx: FileContext) -> Iterator[Finding]:
    migration = model(ctx)
    fix = (
        "add a new column of the new type, write to both, backfill in batches, move reads "
        "to it, then drop the old column (safe widenings: varchar to text, longer varchar)"
    )
    for op in _existing_alters(ctx, ("modify",)):
        change = _type_change(migration, op)
        if change is None:
            continue
        old, new = change
        hint = "" if old != _UNKNOWN else "; for a safe widening, give the old type in `from:`"
        found = emit(
            ctx,
            TYPE_CHANGED,
            op.node,
            f"changing the type of {_where(op)} from {old} to {new} rewrites the table and "
            "its indexes under an ACCESS EXCLUSIVE lock; running code may not expect the type",
            fix=fix + hint,
        )
        if found is not None:
            yield found
    for sql_op, statement in statements(ctx, ("type_change",)):
        if migration.existing(statement.table, sql_op.scope):
            found = emit(
                ctx,
                TYPE_CHANGED,
                sql_op.node,
                f"raw `ALTER COLUMN {statement.column} TYPE` on {quoted(statement.table)} can "
                "rewrite the table under an ACCESS EXCLUSIVE lock",
                fix=fix,
                sql=True,
            )
            if found is not None:
                yield found


def _recipe_finished(migration: Migration, op_table: str | None, scope_name: str) -> bool:
    """Whether this function also validates or drops a constraint on the table: the last step
    of the check-constraint recipe, where SET NOT NULL reuses the validated constraint."""
    for constraint in migration.constraint_ops:
        if (
            constraint.verb == "drop"
            and constraint.table == op_table
            and constraint.scope.name == scope_name
        ):
            return True
    for sql_op in migration.sql_ops:
        if sql_op.scope.name != scope_name or sql_op.scope.rollback:
            continue
        for statement in sql_op.statements or ():
            if statement.kind == "validate" and statement.table == op_table:
                return True
    return False


def _not_null_message(ctx: FileContext, where: str) -> tuple[str, str]:
    version = int(ctx.config.migrations.postgres_version)
    message = (
        f"setting NOT NULL on {where} scans the whole table under an ACCESS EXCLUSIVE lock, "
        "blocking reads and writes"
    )
    if version >= 12:
        fix = (
            'add `create constraint(table, :col_not_null, check: "col IS NOT NULL", '
            "validate: false)`; backfill; in a later migration VALIDATE CONSTRAINT, then "
            '`execute "ALTER TABLE t ALTER COLUMN col SET NOT NULL"` and drop the constraint'
        )
    else:
        fix = (
            'on PostgreSQL < 12 SET NOT NULL always scans: add a `check: "col IS NOT NULL"` '
            "constraint with `validate: false`, backfill, VALIDATE it in a later migration and "
            "keep it instead of NOT NULL (or set `migrations.postgres_version` if you run 12+)"
        )
    return message, fix


def _not_null(ctx: FileContext) -> Iterator[Finding]:
    migration = model(ctx)
    version = int(ctx.config.migrations.postgres_version)
    for op in _existing_alters(ctx, ("modify",)):
        if not elixir.is_false_literal(op.opts.get("null")):
            continue
        _old, old_opts = _old_definition(migration, op)
        if elixir.is_false_literal(old_opts.get("null")):
            continue
        if version >= 12 and _recipe_finished(migration, op.table, op.scope.name):
            continue
        message, fix = _not_null_message(ctx, _where(op))
        found = emit(ctx, NOT_NULL, op.node, message, fix=fix)
        if found is not None:
            yield found
    for sql_op, statement in statements(ctx, ("set_not_null",)):
        if not migration.existing(statement.table, sql_op.scope):
            continue
        if version >= 12 and _recipe_finished(migration, statement.table, sql_op.scope.name):
            continue
        where = f"`{statement.column}` of {quoted(statement.table)} (raw SQL)"
        message, fix = _not_null_message(ctx, where)
        found = emit(ctx, NOT_NULL, sql_op.node, message, fix=fix, sql=True)
        if found is not None:
            yield found


def _json(ctx: FileContext) -> Iterator[Finding]:
    for op in model(ctx).column_ops:
        if op.verb != "add" or not active(ctx, op.scope) or op.type_node is None:
            continue
        if op.type_node.type != "atom" or elixir.text(op.type_node) != ":json":
            continue
        found = emit(
            ctx,
            JSON,
            op.node,
            f"{_where(op)} is `:json`: it stores text, has no equality operator (DISTINCT, "
            "GROUP BY and UNION fail) and cannot be indexed with GIN",
            fix="use `:map` (jsonb), unless key order and duplicate keys must be preserved",
            suggestion=suggest(ctx, op.node, op.type_node, ":map"),
        )
        if found is not None:
            yield found


_HEAD = "defmodule Shop.Repo.Migrations.Example do\n  use Ecto.Migration\n\n"


def _example(body: str) -> str:
    return _HEAD + body + "end\n"


COLUMN_DEFAULT = Rule(
    id="L5.migration-column-default",
    severity=Severity.WARNING,
    title="Column added with a default that rewrites the table",
    explanation=(
        "Adding a column with a default to an existing table rewrites every row under an "
        "ACCESS EXCLUSIVE lock on PostgreSQL before 11, and on every version when the default "
        'is volatile (`fragment("random()")`, `gen_random_uuid()`, `clock_timestamp()`); '
        "PostgreSQL 11+ stores a constant (or stable, like `now()`) default in the catalog "
        "without touching the rows. Recipe: add the column without a default, set the "
        "default with `modify` in a second migration (it applies to new rows only), and "
        "backfill existing rows in batches outside the migration. Set "
        "`migrations.postgres_version` in .github/ladder.yml to your server's version "
        "(default 11)."
    ),
    bad_example=_example(
        "  def change do\n"
        "    alter table(:orders) do\n"
        '      add :reference, :uuid, default: fragment("gen_random_uuid()")\n'
        "    end\n"
        "  end\n"
    ),
    good_example=_example(
        "  def change do\n"
        "    alter table(:orders) do\n"
        '      add :status, :string, default: "pending"\n'
        "      add :reference, :uuid\n"
        "    end\n"
        "  end\n"
    ),
    applies_to=MIGRATION,
    excellent_migrations=("column_added_with_default", "column_volatile_default"),
    example_path=EXAMPLE_PATH,
    check=memoized(_column_default),
)

REQUIRED_COLUMN = Rule(
    id="L5.migration-required-column",
    severity=Severity.WARNING,
    title="NOT NULL column without a default added to an existing table",
    explanation=(
        "`add :col, :type, null: false` without a default on a table that has rows fails "
        "the migration (the existing rows would hold NULL), and once it runs, instances "
        "still on the old code insert rows without the column and crash. The same holds for "
        "`timestamps()` in an `alter`. Recipe: add the column nullable, or with a constant "
        "default on PostgreSQL 11+; deploy code that always writes it; backfill; then add "
        "NOT NULL with the check-constraint recipe. (squawk: adding-required-field.)"
    ),
    bad_example=_example(
        "  def change do\n"
        "    alter table(:orders) do\n"
        "      add :currency, :string, null: false\n"
        "    end\n"
        "  end\n"
    ),
    good_example=_example(
        "  def change do\n"
        "    alter table(:orders) do\n"
        '      add :currency, :string, null: false, default: "EUR"\n'
        "    end\n"
        "  end\n"
    ),
    applies_to=MIGRATION,
    example_path=EXAMPLE_PATH,
    check=memoized(_required_column),
)

REMOVED = Rule(
    id="L5.migration-column-removed",
    severity=Severity.WARNING,
    title="Column removed while running code may still read it",
    explanation=(
        "During a deploy the old release keeps serving while the migration runs, and Ecto "
        "selects every field of a schema by name: once the column is gone, those instances "
        "fail on every query of that schema. Recipe: first deploy the code without the field "
        "(remove it from the schema and every query, or mark it `load_in_query: false`), "
        "then drop the column in a migration of a later deploy, and mark that step with "
        "`# excellent_migrations:safety-assured-for-next-line column_removed` or a "
        "`# ladder:disable-next-line` comment saying the field is gone."
    ),
    bad_example=_example(
        "  def change do\n"
        "    alter table(:orders) do\n"
        "      remove :legacy_total, :decimal\n"
        "    end\n"
        "  end\n"
    ),
    good_example=_example(
        "  def change do\n"
        "    alter table(:orders) do\n"
        "      # excellent_migrations:safety-assured-for-next-line column_removed\n"
        "      remove :legacy_total, :decimal\n"
        "    end\n"
        "  end\n"
    ),
    applies_to=MIGRATION,
    excellent_migrations=("column_removed",),
    example_path=EXAMPLE_PATH,
    check=memoized(_removed),
)

RENAMED = Rule(
    id="L5.migration-column-renamed",
    severity=Severity.WARNING,
    title="Column renamed while running code uses the old name",
    explanation=(
        "Renaming a column is instant for the database and breaks every instance still "
        "running the old release, which reads and writes the old name. In Ecto the rename is "
        "rarely needed: rename the field and keep the column with "
        "`field :new_name, :type, source: :old_name`. If the column itself must change: add "
        "the new column, write to both, backfill, move reads, and drop the old one in a "
        "later deploy."
    ),
    bad_example=_example(
        "  def change do\n    rename table(:orders), :total, to: :amount\n  end\n"
    ),
    good_example=_example(
        "  def change do\n"
        "    alter table(:orders) do\n"
        "      add :amount, :decimal\n"
        "    end\n"
        "  end\n"
    ),
    applies_to=MIGRATION,
    excellent_migrations=("column_renamed",),
    example_path=EXAMPLE_PATH,
    check=memoized(_renamed),
)

TYPE_CHANGED = Rule(
    id="L5.migration-column-type-changed",
    severity=Severity.WARNING,
    title="Column type changed in place",
    explanation=(
        "`modify` with a new type runs ALTER COLUMN TYPE, which rewrites the table and "
        "rebuilds its indexes under an ACCESS EXCLUSIVE lock (reads and writes wait), and "
        "running code may not cope with the new type. PostgreSQL skips the rewrite for a few "
        "widenings (varchar to text, a longer varchar, more numeric or timestamp precision): "
        "give the old type with `from:` and Ladder recognises them. Otherwise: add a new "
        "column, write to both, backfill in batches, move reads, drop the old column. A "
        "`modify` that only sets `null:`, `default:` or a reference is not a type change."
    ),
    bad_example=_example(
        "  def change do\n"
        "    alter table(:orders) do\n"
        "      modify :quantity, :bigint, from: :integer\n"
        "    end\n"
        "  end\n"
    ),
    good_example=_example(
        "  def change do\n"
        "    alter table(:orders) do\n"
        "      modify :note, :text, from: :string\n"
        "    end\n"
        "  end\n"
    ),
    applies_to=MIGRATION,
    excellent_migrations=("column_type_changed",),
    example_path=EXAMPLE_PATH,
    check=memoized(_type_changed),
)

NOT_NULL = Rule(
    id="L5.migration-not-null-added",
    severity=Severity.WARNING,
    title="NOT NULL added to an existing column",
    explanation=(
        "`modify :col, :type, null: false` runs SET NOT NULL, which scans the whole table "
        "under an ACCESS EXCLUSIVE lock. Recipe (PostgreSQL 12+): `create constraint(:table, "
        ':col_not_null, check: "col IS NOT NULL", validate: false)`; backfill; in a later '
        'migration `execute "ALTER TABLE table VALIDATE CONSTRAINT col_not_null"`, then '
        '`execute "ALTER TABLE table ALTER COLUMN col SET NOT NULL"` (PostgreSQL uses the '
        "valid constraint and skips the scan; prefer it to `modify`, which restates the type) "
        "and drop the constraint; that last migration is not reported. Before 12 the scan "
        "cannot be avoided: keep the validated check constraint instead."
    ),
    bad_example=_example(
        "  def change do\n"
        "    alter table(:orders) do\n"
        "      modify :customer_id, :bigint, null: false, from: {:bigint, null: true}\n"
        "    end\n"
        "  end\n"
    ),
    good_example=_example(
        "  def change do\n"
        "    create constraint(:orders, :customer_id_not_null,\n"
        '             check: "customer_id IS NOT NULL",\n'
        "             validate: false\n"
        "           )\n"
        "  end\n"
    ),
    applies_to=MIGRATION,
    excellent_migrations=("not_null_added",),
    example_path=EXAMPLE_PATH,
    check=memoized(_not_null),
)

JSON = Rule(
    id="L5.migration-json-column",
    severity=Severity.NOTICE,
    title="Column added as :json instead of :map (jsonb)",
    explanation=(
        "PostgreSQL's `json` stores the raw text: it has no equality operator, so SELECT "
        "DISTINCT, GROUP BY and UNION on the table fail, it cannot take a GIN index, and every "
        "read re-parses it. `jsonb` (Ecto's `:map`) has none of those problems. Keep `:json` "
        "only when key order or duplicate keys must survive, and say so in a suppression."
    ),
    bad_example=_example(
        "  def change do\n"
        "    alter table(:orders) do\n"
        "      add :payload, :json\n"
        "    end\n"
        "  end\n"
    ),
    good_example=_example(
        "  def change do\n    alter table(:orders) do\n      add :payload, :map\n    end\n  end\n"
    ),
    applies_to=MIGRATION,
    excellent_migrations=("json_column_added",),
    example_path=EXAMPLE_PATH,
    check=memoized(_json),
)

RULES = (COLUMN_DEFAULT, REQUIRED_COLUMN, REMOVED, RENAMED, TYPE_CHANGED, NOT_NULL, JSON)
