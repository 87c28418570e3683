"""Tables: dropped or renamed while the running release still uses them.

Both are instant in the database and break every instance still on the old code, which is
exactly the window a rolling deploy has. The ladder's recipe is the same as for a column:
remove (or repoint) the code first, change the database in a later deploy.
"""

from __future__ import annotations

from collections.abc import Iterator

from checks.context import FileContext
from checks.migrations._model import (
    EXAMPLE_PATH,
    MIGRATION,
    existing_table_findings,
    memoized,
    quoted,
)
from checks.model import Finding, Rule, Severity

_DROP_FIX = (
    "first deploy code that no longer uses the table (schema module and queries removed); "
    "drop it in a migration of a later deploy"
)
_RENAME_FIX = (
    'keep the table and point the renamed schema at it (`schema "old_name"`); or create '
    "the new table, write to both, backfill, move reads, then drop the old one"
)


def _dropped(ctx: FileContext) -> Iterator[Finding]:
    return existing_table_findings(
        ctx,
        DROPPED,
        verb="drop",
        sql_kind="drop_table",
        message=lambda op: (
            f"dropping table {quoted(op.table)}: instances still running the old code query "
            "it and fail, and the data is gone for good"
        ),
        sql_message=lambda statement: (
            f"raw `DROP TABLE {statement.table or ''}` breaks instances still using it"
        ),
        fix=_DROP_FIX,
    )


def _renamed(ctx: FileContext) -> Iterator[Finding]:
    return existing_table_findings(
        ctx,
        RENAMED,
        verb="rename",
        sql_kind="rename_table",
        message=lambda op: (
            f"renaming table {quoted(op.table)} to `{op.detail}`: running instances still use "
            "the old name and fail until they are replaced"
        ),
        sql_message=lambda statement: (
            f"raw `ALTER TABLE {statement.table or ''} RENAME TO` breaks running instances"
        ),
        fix=_RENAME_FIX,
    )


DROPPED = Rule(
    id="L5.migration-table-dropped",
    severity=Severity.WARNING,
    title="Table dropped while running code may still use it",
    explanation=(
        "During a rolling deploy the old release serves traffic while the migration runs; "
        "if it still has the schema module and queries for the table, every one of them "
        "fails once the table is dropped, and the data cannot come back without a restore. "
        "Recipe: deploy the code without the table first, drop it in a migration of a later "
        "deploy, and mark that step with `# excellent_migrations:safety-assured-for-next-line "
        "table_dropped` or a `# ladder:disable-next-line` comment giving the reason."
    ),
    bad_example=(
        "defmodule Shop.Repo.Migrations.DropCoupons do\n"
        "  use Ecto.Migration\n"
        "\n"
        "  def change do\n"
        "    drop table(:coupons)\n"
        "  end\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.Repo.Migrations.DropCoupons do\n"
        "  use Ecto.Migration\n"
        "\n"
        "  def change do\n"
        "    # ladder:disable-next-line L5.migration-table-dropped -- Shop.Coupon gone in v41\n"
        "    drop table(:coupons)\n"
        "  end\n"
        "end\n"
    ),
    applies_to=MIGRATION,
    excellent_migrations=("table_dropped",),
    example_path=EXAMPLE_PATH,
    check=memoized(_dropped),
)

RENAMED = Rule(
    id="L5.migration-table-renamed",
    severity=Severity.WARNING,
    title="Table renamed while running code uses the old name",
    explanation=(
        "Renaming a table is instant for the database and breaks every instance of the old "
        "release, whose schemas name the old table. An Ecto schema module can be renamed "
        'freely while it keeps `schema "old_name"`, so the table rarely needs renaming. If '
        "it must: create the new table, write to both, backfill, move reads, and drop the old "
        "table in a later deploy."
    ),
    bad_example=(
        "defmodule Shop.Repo.Migrations.RenameCarts do\n"
        "  use Ecto.Migration\n"
        "\n"
        "  def change do\n"
        "    rename table(:carts), to: table(:baskets)\n"
        "  end\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.Repo.Migrations.CreateBaskets do\n"
        "  use Ecto.Migration\n"
        "\n"
        "  def change do\n"
        "    create table(:baskets) do\n"
        "      add :customer_id, :bigint\n"
        "    end\n"
        "  end\n"
        "end\n"
    ),
    applies_to=MIGRATION,
    excellent_migrations=("table_renamed",),
    example_path=EXAMPLE_PATH,
    check=memoized(_renamed),
)

RULES = (DROPPED, RENAMED)
