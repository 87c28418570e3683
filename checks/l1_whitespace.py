"""L1 formatted: no trailing whitespace, no tab indentation.

Both are things `mix format` removes, reported on their own so they are visible without the
Elixir helper, and with the exact fix attached. They mirror credo's Readability.TrailingWhiteSpace
and Consistency.TabsOrSpaces, so existing `credo:disable-*` comments keep working, and like
credo they leave the content of strings, heredocs and sigils alone: a heredoc may end a line
with spaces on purpose, and the formatter never touches it either.

When the Elixir helper ran, a line that `mix format` rewrites anyway is left to L1.format,
whose suggestion fixes the whole line (and L1.format leaves pure trailing-whitespace changes to
this rule), so no line gets two competing suggestions.

Both rules are pure text: they run on files that do not parse, and they skip the whole file in
C (a substring test) when it has no trailing blank or no tab at all, which is the common case.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from checks.context import FileContext
from checks.l1_support import (
    byte_column,
    in_literal,
    lines_changed_by_formatter,
)
from checks.model import Finding, Rule, Severity

# The regex engine finds these two-character needles faster than `in` does (spaces are
# everywhere, and `in` stops at each of them); a tab-free file needs no tab search at all.
_SPACE_NEWLINE = re.compile(" \n")
_SPACE_RETURN = re.compile(" \r")


def _trailing_whitespace(ctx: FileContext) -> Iterator[Finding]:
    text = ctx.text
    tabs = "\t" in text
    clean = (
        _SPACE_NEWLINE.search(text) is None
        and not (tabs and "\t\n" in text)
        and not text.endswith((" ", "\t"))
    )
    if clean and text.find("\r", 0, 4096) != -1:  # CRLF endings (mixed: see L1.format)
        clean = _SPACE_RETURN.search(text) is None and not (tabs and "\t\r" in text)
    if clean:
        return
    rewritten: set[int] | None = None
    for index, line in enumerate(ctx.lines):
        if not line.endswith((" ", "\t")):
            continue
        stripped = line.rstrip(" \t")
        if in_literal(ctx, index, byte_column(line, len(stripped))):
            continue
        if rewritten is None:
            rewritten = lines_changed_by_formatter(ctx)
        if index + 1 in rewritten:
            continue  # inside an L1.format hunk, whose suggestion fixes the whole line
        yield ctx.finding(
            TRAILING_WHITESPACE,
            index + 1,
            "trailing whitespace at the end of the line",
            column=len(stripped) + 1,
            fix="delete the spaces/tabs at the end of the line (mix format does)",
            suggestion=stripped,
        )


def _tab_indentation(ctx: FileContext) -> Iterator[Finding]:
    if "\t" not in ctx.text:
        return
    for index, line in enumerate(ctx.lines):
        if not line.startswith((" ", "\t")):
            continue
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        if "\t" not in indent or indent == line:
            continue  # no tab, or a blank line (trailing whitespace reports those)
        if in_literal(ctx, index, 0):
            continue  # heredoc content: its indentation is data
        yield ctx.finding(
            TAB_INDENTATION,
            index + 1,
            "line is indented with a tab; Elixir code is indented with two spaces",
            column=indent.index("\t") + 1,
            fix="indent with spaces (mix format re-indents the whole file)",
        )


TRAILING_WHITESPACE = Rule(
    id="L1.trailing-whitespace",
    severity=Severity.ERROR,
    title="Trailing whitespace",
    explanation=(
        "Spaces or tabs at the end of a line are invisible noise that editors and `mix format` "
        "strip, so they show up later as unrelated changes in someone else's diff; "
        "`mix format --check-formatted` fails on them. Whitespace inside strings, heredocs and "
        "sigils is content and is left alone, as credo's Readability.TrailingWhiteSpace does. "
        "Each finding carries the stripped line as a suggestion."
    ),
    bad_example="defmodule Shop.Cart do  \n  def total(items), do: Enum.sum(items)\nend\n",
    good_example="defmodule Shop.Cart do\n  def total(items), do: Enum.sum(items)\nend\n",
    credo=("Readability.TrailingWhiteSpace",),
    runs_on_broken_files=True,
    check=_trailing_whitespace,
)

TAB_INDENTATION = Rule(
    id="L1.tab-indentation",
    severity=Severity.ERROR,
    title="Indented with tabs",
    explanation=(
        "Elixir code is indented with two spaces: that is what `mix format` writes, so a "
        "tab-indented line fails `mix format --check-formatted` and renders at a different "
        "width in every editor and in GitHub's diff view. Tabs inside heredocs and strings are "
        "content and are not reported. Overlaps credo's Consistency.TabsOrSpaces, which only "
        "asks for consistency; the ladder asks for the formatter's choice."
    ),
    bad_example="defmodule Shop.Cart do\n\tdef total(items), do: Enum.sum(items)\nend\n",
    good_example="defmodule Shop.Cart do\n  def total(items), do: Enum.sum(items)\nend\n",
    credo=("Consistency.TabsOrSpaces",),
    runs_on_broken_files=True,
    check=_tab_indentation,
)

RULES = (TRAILING_WHITESPACE, TAB_INDENTATION)
