"""L1 formatted: no line longer than the project's line length.

The limit is the formatter's own (`line_length` in .formatter.exs or `formatter: {line_length}`
in the Ladder config, 98 by default), not credo's 120: L1 is "what `mix format` writes", and a
line the formatter would wrap is a formatting problem. When the Elixir helper ran, a long line
that `mix format` rewrites is already reported by L1.format with the fix as a suggestion, so
this rule keeps only what the formatter leaves long: comments, long names, unbreakable
expressions. Like credo's Readability.MaxLineLength it ignores lines whose overflow is inside a
string, heredoc or sigil (the formatter never splits literals) and lines carrying a URL.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from checks.context import FileContext
from checks.l1_support import (
    byte_column,
    in_literal,
    lines_changed_by_formatter,
)
from checks.model import Finding, Rule, Severity

# `\n` then more than `limit` characters that are not: a line that may be too long. Scanning the
# text this way is cheaper than measuring every line (lines are separate objects in memory).
_LONG_AFTER_NEWLINE: dict[int, re.Pattern[str]] = {}


def _may_exceed(text: str, limit: int) -> bool:
    """Whether some line of `text` (a `\r` before the `\n` included) is longer than `limit`."""
    first = text.find("\n")
    if first > limit or (first == -1 and len(text) > limit):
        return True
    pattern = _LONG_AFTER_NEWLINE.get(limit)
    if pattern is None:
        pattern = re.compile(f"\n[^\n]{{{limit + 1}}}")
        _LONG_AFTER_NEWLINE[limit] = pattern
    return pattern.search(text) is not None


_URL = re.compile(r"\b(?:[a-z][a-z0-9+.-]*://|www\.)\S+", re.IGNORECASE)


def _check(ctx: FileContext) -> Iterable[Finding]:
    return _found(ctx) if _may_exceed(ctx.text, ctx.line_length) else ()


def _found(ctx: FileContext) -> Iterator[Finding]:
    limit = ctx.line_length
    lines = ctx.lines
    if not lines or max(map(len, lines)) <= limit:
        return
    rewritten: set[int] | None = None
    for index, line in enumerate(lines):
        length = len(line)
        if length <= limit:
            continue
        if any(m.end() > limit for m in _URL.finditer(line)):
            continue
        if in_literal(ctx, index, byte_column(line, limit)):
            continue
        if rewritten is None:
            rewritten = lines_changed_by_formatter(ctx)
        if index + 1 in rewritten:
            continue  # L1.format reports it, with the formatter's version as a suggestion
        yield ctx.finding(
            LINE_TOO_LONG,
            index + 1,
            f"line is {length} characters long, over the limit of {limit} "
            "(the formatter's line_length)",
            column=limit + 1,
            fix="break the expression over several lines, shorten names, or move the comment",
        )


LINE_TOO_LONG = Rule(
    id="L1.line-too-long",
    severity=Severity.ERROR,
    title="Line longer than the formatter's line length",
    explanation=(
        "Lines longer than the project's formatter `line_length` (98 unless .formatter.exs "
        "or the Ladder config says otherwise) scroll off side-by-side diffs and review "
        "panes. The formatter wraps code but never comments, long literals or long names, so "
        "those are reported here. Overflow inside a string, heredoc or sigil and lines "
        "holding a URL are ignored, as in credo's Readability.MaxLineLength; when the Elixir "
        "helper ran, lines that `mix format` rewrites are reported by L1.format instead."
    ),
    bad_example=(
        "defmodule Shop.Cart do\n"
        "  # The total is the sum of the item prices, after discounts, coupons, loyalty "
        "points, gift cards and taxes.\n"
        "  def total(items), do: Enum.sum(items)\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.Cart do\n"
        "  # The total is the sum of the item prices, after discounts, coupons, loyalty\n"
        "  # points, gift cards and taxes.\n"
        "  def total(items), do: Enum.sum(items)\n"
        "end\n"
    ),
    credo=("Readability.MaxLineLength",),
    runs_on_broken_files=True,
    check=_check,
)

RULES = (LINE_TOO_LONG,)
