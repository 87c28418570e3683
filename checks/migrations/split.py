"""Several dangerous operations in one migration: the ladder's core principle is one dangerous
step per migration, so each runs, fails, is retried and is rolled back on its own.

The rule asks the other migration rules what they found (honouring configuration and
suppression comments, so a step the team has assured does not count) and adds the two kinds of
step that must be alone even when each is safe: a concurrent index build (its migration runs
without a transaction, so any other step is left half-done when it fails) and a data backfill
(in a transaction it holds the locks of every DDL next to it until the last row is written).
"""

from __future__ import annotations

from collections.abc import Iterator

from tree_sitter import Node

from checks import elixir
from checks.context import FileContext
from checks.migrations import columns, constraints, data, indexes, tables
from checks.migrations._model import (
    EXAMPLE_PATH,
    MIGRATION,
    Scope,
    active,
    model,
    statements,
)
from checks.model import Finding, Rule, Severity

# What each dangerous rule's step is called in the message.
LABELS: dict[str, str] = {
    indexes.NOT_CONCURRENT.id: "a non-concurrent index change",
    columns.COLUMN_DEFAULT.id: "a column default that rewrites the table",
    columns.REQUIRED_COLUMN.id: "a new NOT NULL column",
    columns.REMOVED.id: "removing a column",
    columns.RENAMED.id: "renaming a column",
    columns.TYPE_CHANGED.id: "changing a column type",
    columns.NOT_NULL.id: "adding NOT NULL",
    tables.DROPPED.id: "dropping a table",
    tables.RENAMED.id: "renaming a table",
    constraints.FOREIGN_KEY.id: "validating a foreign key",
    constraints.CHECK.id: "validating a check constraint",
    constraints.UNIQUE.id: "adding a unique or exclusion constraint",
}
DANGER_RULES: tuple[Rule, ...] = tuple(
    rule
    for module in (indexes, columns, tables, constraints)
    for rule in module.RULES
    if rule.id in LABELS
)
BACKFILL = "a data backfill"
CONCURRENT = "a concurrent index build (runs without a transaction)"
SCHEMA = "other schema changes inside the backfill's transaction"


def _scope_at(scopes: list[Scope], line: int) -> Scope | None:
    for scope in scopes:
        node = scope.node
        if node is not None and elixir.line_of(node) <= line <= elixir.end_line_of(node):
            return scope
    return None


def _suppressed(ctx: FileContext, finding: Finding, rule: Rule) -> bool:
    return any(s.covers(finding, rule) for s in ctx.suppressions)


def _steps(ctx: FileContext) -> dict[bool, dict[str, list[int]]]:
    """Dangerous steps by direction (rollback or not), then by label, with their lines."""
    migration = model(ctx)
    steps: dict[bool, dict[str, list[int]]] = {False: {}, True: {}}

    def add(rollback: bool, label: str, line: int) -> None:
        steps[rollback].setdefault(label, []).append(line)

    def direction(line: int) -> bool:
        scope = _scope_at(migration.scopes, line)
        return scope is not None and scope.rollback

    for rule in DANGER_RULES:
        if not ctx.config.enabled(rule) or not ctx.config.severity(rule).blocks:
            continue
        for finding in rule.check(ctx) if rule.check is not None else ():
            if not _suppressed(ctx, finding, rule):
                add(direction(finding.line), LABELS[rule.id], finding.line)
    for finding in data.DATA.check(ctx) if data.DATA.check is not None else ():
        if not _suppressed(ctx, finding, data.DATA):
            add(direction(finding.line), BACKFILL, finding.line)
    for op in migration.index_ops:
        if op.concurrently and active(ctx, op.scope):
            add(op.scope.rollback, CONCURRENT, elixir.line_of(op.node))
    kinds = ("create_index_concurrently", "drop_index_concurrently")
    for sql_op, _statement in statements(ctx, kinds):
        add(sql_op.scope.rollback, CONCURRENT, elixir.line_of(sql_op.node))
    for rollback, found in steps.items():
        if BACKFILL not in found:
            continue
        counted = {line for lines in found.values() for line in lines}
        for node, scope in _schema_changes(ctx):
            line = elixir.line_of(node)
            if scope.rollback == rollback and line not in counted:
                add(rollback, SCHEMA, line)
    return steps


def _schema_changes(ctx: FileContext) -> Iterator[tuple[Node, Scope]]:
    """DDL steps on tables that existed before the migration."""
    migration = model(ctx)
    for index in migration.index_ops:
        if migration.existing(index.table, index.scope) and active(ctx, index.scope):
            yield index.node, index.scope
    for column in migration.column_ops:
        existing = not column.new_table and migration.existing(column.table, column.scope)
        if existing and active(ctx, column.scope):
            yield column.node, column.scope
    for table in migration.table_ops:
        if migration.existing(table.table, table.scope) and active(ctx, table.scope):
            yield table.node, table.scope
    for constraint in migration.constraint_ops:
        existing = migration.existing(constraint.table, constraint.scope)
        if existing and active(ctx, constraint.scope):
            yield constraint.node, constraint.scope


def _anchor(ctx: FileContext, rollback: bool, first_line: int) -> Node | None:
    """The `def change`/`def up`/`def down` the steps belong to."""
    wanted = ("down",) if rollback else ("change", "up")
    for scope in model(ctx).scopes:
        if scope.name in wanted and scope.node is not None:
            return scope.node
    around = _scope_at(model(ctx).scopes, first_line)
    return around.node if around is not None else None


def _separate(found: dict[str, list[int]]) -> bool:
    """Two kinds of step on different lines: one statement with two dangers cannot be split."""
    kinds = list(found.values())
    return any(
        a != b
        for i, first in enumerate(kinds)
        for second in kinds[i + 1 :]
        for a in first
        for b in second
    )


def _lines(lines: list[int]) -> str:
    unique = sorted(set(lines))
    return ("line " if len(unique) == 1 else "lines ") + ", ".join(map(str, unique))


def _split(ctx: FileContext) -> Iterator[Finding]:
    if "all" in model(ctx).assured:
        return
    for rollback, found in _steps(ctx).items():
        if not _separate(found):
            continue
        ordered = sorted(found.items(), key=lambda item: min(item[1]))
        anchor = _anchor(ctx, rollback, min(ordered[0][1]))
        if anchor is None:
            continue
        parts = [f"{label} ({_lines(lines)})" for label, lines in ordered]
        listed = ", ".join(parts[:-1]) + f" and {parts[-1]}"
        yield ctx.finding(
            SPLIT,
            elixir.line_of(anchor),
            f"this migration combines {len(parts)} kinds of dangerous step: {listed}; "
            "give each its own migration",
            fix="move each listed step into its own migration, in the order they must deploy",
            column=elixir.column_of(anchor),
        )


SPLIT = Rule(
    id="L5.migration-split",
    severity=Severity.WARNING,
    title="Several dangerous operations in one migration",
    explanation=(
        "The ladder's rule for migrations: separate dangerous operations into distinct "
        "migrations, so each runs while the app serves traffic, and each fails, is retried "
        "and is rolled back on its own. This rule lists the steps of one migration that the "
        "other rules consider dangerous (ignoring suppressed ones), plus the steps that "
        "must run alone even when safe: a concurrent index build, whose migration has no "
        "transaction to undo its neighbours when it fails, and a data backfill, which in a "
        "transaction holds every lock of the DDL beside it until the last row is written. "
        "Recipe: one migration per listed step, deployed in order (backfills in batches in "
        "their own data migration)."
    ),
    bad_example=(
        "defmodule Shop.Repo.Migrations.Example do\n"
        "  use Ecto.Migration\n"
        "\n"
        "  def up do\n"
        "    alter table(:orders) do\n"
        "      add :status, :string\n"
        "    end\n"
        "\n"
        "    execute \"UPDATE orders SET status = 'paid' WHERE paid_at IS NOT NULL\"\n"
        "  end\n"
        "\n"
        "  def down do\n"
        "    alter table(:orders) do\n"
        "      remove :status\n"
        "    end\n"
        "  end\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.Repo.Migrations.Example do\n"
        "  use Ecto.Migration\n"
        "\n"
        "  def change do\n"
        "    alter table(:orders) do\n"
        "      add :status, :string\n"
        "    end\n"
        "  end\n"
        "end\n"
    ),
    applies_to=MIGRATION,
    example_path=EXAMPLE_PATH,
    check=_split,
)

RULES = (SPLIT,)
