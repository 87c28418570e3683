"""Inline suppressions end to end through the engine (checks/suppress.py applied by
checks/ladder.py): Ladder's own comments and the credo, sobelow and excellent_migrations ones a
codebase already has.

Test-only rules make the expectations exact: each reports a marker on every line it appears on,
so a test reads as "these lines were reported, those were suppressed". They are registered for
the engine by the `test_rules` fixture (the engine looks rules up by id in the registry).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from checks import ladder
from checks.config import Config
from checks.context import FileContext, SourceFile
from checks.l4_specs import SPEC_MISSING, STRUCT_TYPE
from checks.l7_docs import DOC_MISSING, MODULEDOC_MISSING
from checks.model import Finding, Rule, Severity
from checks.sources import prepare


def _marker_lines(ctx: FileContext, marker: str) -> Iterator[int]:
    for number, line in enumerate(ctx.lines, start=1):
        if marker in line and not line.lstrip().startswith("#"):
            yield number


def _mark(rule: Rule, marker: str):
    def check(ctx: FileContext) -> Iterator[Finding]:
        for number in _marker_lines(ctx, marker):
            yield ctx.finding(rule, number, f"{marker} here")

    return check


def _sql(ctx: FileContext) -> Iterator[Finding]:
    for call in ctx.index.remote_calls("Repo", "query"):
        yield ctx.finding(SQL, call, "Repo.query")


def _removed(ctx: FileContext) -> Iterator[Finding]:
    for call in ctx.index.calls_named("remove"):
        yield ctx.finding(COLUMN_REMOVED, call, "column removed")


def _rule(rule_id: str, check, **overlaps) -> Rule:
    return Rule(
        id=rule_id,
        severity=Severity.WARNING,
        title="Test-only rule",
        explanation="A rule that exists only in this test module to observe suppressions. " * 2,
        bad_example="",
        good_example="",
        check=check,
        **overlaps,
    )


# Overlaps credo's Warning.IoInspect: credo comments about that check (or all checks) apply.
CREDO_MARK: Rule = _rule(
    "L2.zz-test-credo-mark",
    lambda ctx: _mark(CREDO_MARK, "inspect_me()")(ctx),
    credo=("Warning.IoInspect",),
)
# Overlaps nothing: only ladder comments apply.
PLAIN_MARK: Rule = _rule("L2.zz-test-plain-mark", lambda ctx: _mark(PLAIN_MARK, "mark()")(ctx))
SQL: Rule = _rule("L5.zz-test-sql-query", _sql, sobelow=("SQL.Query",))
COLUMN_REMOVED: Rule = _rule(
    "L5.zz-test-column-removed",
    _removed,
    excellent_migrations=("column_removed",),
    applies_to=frozenset({"migration"}),
)
TEST_RULES = (CREDO_MARK, PLAIN_MARK, SQL, COLUMN_REMOVED)

MIGRATION = "priv/repo/migrations/20240101000000_drop_name.exs"


def reported(rules, source: str, path: str = "lib/shop.ex") -> list[tuple[int, str]]:
    """(line, rule id) of every finding left after suppressions, in line order."""
    config = Config()
    item = prepare(path, source.encode(), config)
    assert isinstance(item, SourceFile), item
    outcome = ladder.review([item], config, rules=list(rules), jobs=1)
    assert not outcome.crashed, outcome.crashed
    return sorted((f.line, f.rule) for f in outcome.findings)


CREDO = CREDO_MARK.id
PLAIN = PLAIN_MARK.id
BOTH = (CREDO_MARK, PLAIN_MARK)


# --- ladder:disable-next-line / -line / -file --------------------------------------------


def test_disable_next_line_covers_the_next_code_line_only():
    source = f"mark()\n# ladder:disable-next-line {PLAIN} -- known noise\nmark()\nmark()\n"
    assert reported([PLAIN_MARK], source) == [(1, PLAIN), (4, PLAIN)]


def test_chained_comment_lines_all_apply_to_the_next_code_line():
    source = (
        f"# ladder:disable-next-line {PLAIN} -- one reason\n"
        "# a plain comment in between\n"
        f"# ladder:disable-next-line {CREDO} -- another reason\n"
        "\n"
        "mark(); inspect_me()\n"
        "mark(); inspect_me()\n"
    )
    assert reported(BOTH, source) == [(6, CREDO), (6, PLAIN)]


def test_disable_next_line_of_another_rule_suppresses_nothing():
    source = f"# ladder:disable-next-line {CREDO} -- other rule\nmark()\n"
    assert reported([PLAIN_MARK], source) == [(2, PLAIN)]


def test_disable_line_as_a_trailing_comment():
    source = (
        f"mark(); inspect_me() # ladder:disable-line {PLAIN} -- known noise\n"
        "mark(); inspect_me()\n"
    )
    assert reported(BOTH, source) == [(1, CREDO), (2, CREDO), (2, PLAIN)]


def test_a_suppression_without_names_covers_every_rule():
    source = "mark(); inspect_me() # ladder:disable-line -- generated line\nmark()\n"
    assert reported(BOTH, source) == [(2, PLAIN)]


def test_several_rules_comma_or_space_separated():
    commas = f"# ladder:disable-next-line {PLAIN}, {CREDO} -- both\nmark(); inspect_me()\n"
    assert reported(BOTH, commas) == []
    spaces = f"# ladder:disable-next-line {PLAIN} {CREDO} -- both\nmark(); inspect_me()\n"
    assert reported(BOTH, spaces) == []


def test_a_suppression_without_reason_still_suppresses():
    """The missing reason is reported by L7.suppression-reason-missing, not by keeping the
    finding: a team fixing the reason should not see the original finding reappear."""
    source = f"# ladder:disable-next-line {PLAIN}\nmark()\n"
    assert reported([PLAIN_MARK], source) == []


def test_disable_file_with_a_glob():
    source = (
        "# ladder:disable-file L4.* -- legacy module, typing tracked in #42\n"
        "defmodule Shop.Item do\n"
        '  @moduledoc "Doc."\n'
        "  defstruct [:sku]\n"
        "  def price(item), do: item\n"
        "end\n"
    )
    rules = [SPEC_MISSING, STRUCT_TYPE, DOC_MISSING]
    assert reported(rules, source) == [(5, "L7.doc-missing")]


def test_disable_file_placed_anywhere_covers_the_whole_file():
    source = f"mark()\nmark()\n# ladder:disable-file {PLAIN} -- fixture file\n"
    assert reported([PLAIN_MARK], source) == []


def test_glob_that_matches_only_other_rules_suppresses_nothing():
    source = "# ladder:disable-file L5.* -- wrong level\nmark()\n"
    assert reported([PLAIN_MARK], source) == [(2, PLAIN)]


@pytest.mark.parametrize(
    "source",
    [
        f'x = "# ladder:disable-next-line {PLAIN} -- in a string"\nmark()\n',
        f'x = """\n# ladder:disable-file {PLAIN} -- in a heredoc\n"""\nmark()\n',
        f"x = ~S(# ladder:disable-line {PLAIN} -- in a sigil); mark()\n",
        f"x = 'charlist # ladder:disable-line {PLAIN} -- x'; mark()\n",
    ],
)
def test_a_suppression_inside_a_literal_is_not_a_suppression(source):
    assert len(reported([PLAIN_MARK], source)) == 1


def test_suppression_next_to_a_string_that_contains_a_hash():
    source = f'x = "#tag"; mark() # ladder:disable-line {PLAIN} -- real comment\n'
    assert reported([PLAIN_MARK], source) == []


# --- credo ----------------------------------------------------------------------------


def test_credo_next_line_without_a_check_covers_only_rules_with_a_credo_overlap():
    source = "# credo:disable-for-next-line\nmark(); inspect_me()\ninspect_me()\n"
    assert reported(BOTH, source) == [(2, PLAIN), (3, CREDO)]


def test_credo_next_line_is_literally_the_next_line():
    source = "# credo:disable-for-next-line\n\ninspect_me()\n"
    assert reported([CREDO_MARK], source) == [(3, CREDO)]


def test_credo_comment_naming_the_overlapping_check():
    named = "# credo:disable-for-next-line Credo.Check.Warning.IoInspect\ninspect_me()\n"
    assert reported([CREDO_MARK], named) == []
    regex = "# credo:disable-for-next-line /ioinspect/\ninspect_me()\n"
    assert reported([CREDO_MARK], regex) == []
    other = "# credo:disable-for-next-line Credo.Check.Readability.Specs\ninspect_me()\n"
    assert reported([CREDO_MARK], other) == [(2, CREDO)]


def test_credo_this_file():
    source = "inspect_me()\n# credo:disable-for-this-file\ninspect_me(); mark()\n"
    assert reported(BOTH, source) == [(3, PLAIN)]
    named = "# credo:disable-for-this-file Credo.Check.Readability.ModuleDoc\ninspect_me()\n"
    assert reported([CREDO_MARK], named) == [(2, CREDO)]


def test_credo_for_lines_counts_lines_after_or_before_the_comment():
    after = "# credo:disable-for-lines:2\ninspect_me()\ninspect_me()\ninspect_me()\n"
    assert reported([CREDO_MARK], after) == [(4, CREDO)]
    before = "inspect_me()\ninspect_me()\ninspect_me()\n# credo:disable-for-lines:-2\n"
    assert reported([CREDO_MARK], before) == [(1, CREDO)]


def test_credo_previous_line():
    source = "inspect_me()\ninspect_me()\n# credo:disable-for-previous-line\ninspect_me()\n"
    assert reported([CREDO_MARK], source) == [(1, CREDO), (4, CREDO)]


def test_credo_comments_reach_real_rules_through_their_declared_overlap():
    source = (
        "# credo:disable-for-this-file Credo.Check.Readability.ModuleDoc\n"
        "defmodule Shop.Cart do\n"
        "  # credo:disable-for-next-line Credo.Check.Readability.Specs\n"
        "  def total(cart), do: cart\n"
        "end\n"
    )
    rules = [MODULEDOC_MISSING, SPEC_MISSING, DOC_MISSING]
    assert reported(rules, source) == [(4, "L7.doc-missing")]


# --- sobelow_skip -----------------------------------------------------------------------


SOBELOW = (
    "defmodule Shop.Reports do\n"
    '  @moduledoc "Doc."\n'
    "  # sobelow_skip {names}\n"
    "  def monthly(month) do\n"
    '    Repo.query("SELECT 1")\n'
    "    mark()\n"
    '    Repo.query("SELECT #{{month}}")\n'
    "  end\n"
    "\n"
    "  def yearly do\n"
    '    Repo.query("SELECT 2")\n'
    "  end\n"
    "end\n"
)


def test_sobelow_skip_covers_the_whole_following_function_for_its_type():
    source = SOBELOW.format(names='["SQL.Query"]')
    assert reported([SQL, PLAIN_MARK], source) == [(6, PLAIN), (11, SQL.id)]


def test_sobelow_skip_of_a_parent_category_covers_its_types():
    assert reported([SQL], SOBELOW.format(names='["SQL"]')) == [(11, SQL.id)]


def test_sobelow_skip_of_another_type_covers_nothing():
    source = SOBELOW.format(names='["XSS.Raw", "Traversal"]')
    assert reported([SQL], source) == [(5, SQL.id), (7, SQL.id), (11, SQL.id)]


def test_sobelow_skip_does_not_cover_rules_without_a_sobelow_overlap():
    source = SOBELOW.format(names='["SQL.Query"]')
    assert (6, PLAIN) in reported([PLAIN_MARK], source)


# --- excellent_migrations ---------------------------------------------------------------


EXCELLENT = (
    "defmodule Shop.Repo.Migrations.DropName do\n"
    "  use Ecto.Migration\n"
    "\n"
    "  def change do\n"
    "    alter table(:users) do\n"
    "      {comment}\n"
    "      remove :name\n"
    "      remove :nickname\n"
    "    end\n"
    "  end\n"
    "end\n"
)


def test_excellent_migrations_safety_assured_for_next_line():
    source = EXCELLENT.format(
        comment="# excellent_migrations:safety-assured-for-next-line column_removed"
    )
    assert reported([COLUMN_REMOVED], source, path=MIGRATION) == [(8, COLUMN_REMOVED.id)]


def test_excellent_migrations_other_type_covers_nothing():
    source = EXCELLENT.format(
        comment="# excellent_migrations:safety-assured-for-next-line index_not_concurrently"
    )
    assert reported([COLUMN_REMOVED], source, path=MIGRATION) == [
        (7, COLUMN_REMOVED.id),
        (8, COLUMN_REMOVED.id),
    ]


def test_excellent_migrations_safety_assured_for_this_file():
    source = EXCELLENT.format(
        comment="# excellent_migrations:safety-assured-for-this-file column_removed"
    )
    assert reported([COLUMN_REMOVED], source, path=MIGRATION) == []


def test_excellent_migrations_comment_does_not_cover_rules_without_the_overlap():
    source = EXCELLENT.format(
        comment="# excellent_migrations:safety-assured-for-next-line column_removed"
    ).replace("remove :name", "remove :name; mark()")
    assert reported([PLAIN_MARK], source, path=MIGRATION) == [(7, PLAIN)]


def test_a_real_comment_after_a_look_alike_string_on_the_same_line():
    source = f'x = "# ladder:disable-line L1.x"; mark() # ladder:disable-line {PLAIN} -- real\n'
    assert reported([PLAIN_MARK], source) == []
