"""L1 formatted: the file is exactly what `mix format` would write.

Only Elixir's own formatter can say that, so this rule needs the Elixir helper: without it the
rule is reported as not run and L1 as skipped, never as passed. The helper formats the file
with the project's `.formatter.exs` options (line length, `locals_without_parens`, the exports
of `import_deps`), and each region where the file differs becomes one finding anchored on the
original lines, with the formatted text as a GitHub suggestion when it is short enough to
review. Differences that are nothing but trailing whitespace are left to
L1.trailing-whitespace, so no line is reported twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from checks.context import FileContext
from checks.l1_support import format_hunks, formatter_lines
from checks.model import Finding, Rule, Severity

FIX = "run `mix format` (or apply the suggestion)"


def _check(ctx: FileContext) -> Iterable[Finding]:
    result = ctx.format_result
    if result is None or result.formatted is None or result.formatted == ctx.text:
        return ()  # no helper, or nothing to change: without starting a generator
    return _found(ctx)


def _found(ctx: FileContext) -> Iterator[Finding]:
    formatted = formatter_lines(ctx)
    result = ctx.format_result
    if formatted is None or result is None or result.formatted is None:
        return
    if result.formatted == ctx.text:
        return
    limit = int(ctx.param(FORMAT, "max_suggestion_lines"))
    lines = ctx.lines
    if formatted != lines:
        for hunk in format_hunks(lines, formatted):
            where = (
                f"line {hunk.start}"
                if hunk.start == hunk.end
                else f"lines {hunk.start}-{hunk.end}"
            )
            size = max(hunk.end - hunk.start + 1, len(hunk.replacement))
            yield ctx.finding(
                FORMAT,
                hunk.start,
                f"not formatted as `mix format` would write it ({where})",
                end_line=hunk.end,
                fix=FIX,
                suggestion="\n".join(hunk.replacement) if size <= limit else None,
            )
        return
    # Same lines, different bytes: line endings or the newline at the end of the file.
    if "\r" in ctx.text and "\r" not in result.formatted:
        yield ctx.finding(
            FORMAT,
            1,
            "line endings are CRLF; `mix format` writes LF (\\n)",
            fix="convert the file to LF line endings (or run `mix format`)",
        )
    elif not ctx.text.endswith("\n") and result.formatted.endswith("\n"):
        last = max(1, len(lines))
        yield ctx.finding(
            FORMAT,
            last,
            "no newline at the end of the file; `mix format` ends every file with one",
            fix=FIX,
        )


FORMAT = Rule(
    id="L1.format",
    severity=Severity.ERROR,
    title="Not formatted as mix format would write it",
    explanation=(
        "L1 of the ladder is `mix format --check-formatted`: one layout for every file, so "
        "diffs show only real changes and reviews never argue about style. Each region that "
        "differs from what Elixir's formatter (with the project's .formatter.exs line length "
        "and `locals_without_parens`) would write is one finding, with the formatted text as a "
        "suggestion when the region is short. Needs the `elixir` executable; formatter plugins "
        "such as Styler cannot run here, and an Elixir older than the project's turns these "
        "findings into notices (formatter output changes between releases)."
    ),
    bad_example=("defmodule Shop.Cart do\n  def total( items ),do: Enum.sum(items)\nend\n"),
    good_example=("defmodule Shop.Cart do\n  def total(items), do: Enum.sum(items)\nend\n"),
    params={"max_suggestion_lines": 20},
    needs_elixir=True,
    file_level=True,
    # Only the helper's verdict matters; it is authoritative even where tree-sitter stumbles.
    runs_on_broken_files=True,
    check=_check,
)

RULES = (FORMAT,)
