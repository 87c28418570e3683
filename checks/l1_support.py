"""Shared helpers of the L1 (formatted) text rules; no rules live here.

The text rules look at raw lines, but credo and `mix format` both leave the *content* of
strings, heredocs and sigils alone (a heredoc may legitimately end a line with spaces, a
`~H` template may hold a long URL), so they ask the tree whether a position is inside such a
literal. Lookups are done only for the few lines that already look suspicious, never per line.

The formatter rule and the line-length rule share the diff against the formatter's output: a
long line that `mix format` rewrites is reported once, as a formatting hunk with a suggestion.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass

from tree_sitter import Node

from checks.context import FileContext, split_lines

# Nodes whose text is data, not code: their lines are not reformatted by `mix format`.
LITERAL_TYPES = frozenset({"string", "charlist", "sigil", "quoted_atom", "quoted_keyword"})


def byte_column(line: str, chars: int) -> int:
    """The byte offset (tree-sitter's column) of character `chars` of `line`."""
    prefix = line[:chars]
    return len(prefix) if prefix.isascii() else len(prefix.encode("utf-8"))


def in_literal(ctx: FileContext, row: int, column: int) -> bool:
    """Whether the byte at (row, column), 0-based, is inside the content of a string,
    heredoc, charlist or sigil (code inside `#{...}` is not)."""
    if ctx.kind == "template":
        return False
    node: Node | None = ctx.root.descendant_for_point_range((row, column), (row, column + 1))
    while node is not None:
        kind = node.type
        if kind in ("quoted_content", "escape_sequence") or kind in LITERAL_TYPES:
            return True
        if kind == "interpolation" or kind == "comment":
            return False
        if node.is_named and kind not in ("ERROR",):
            return False
        node = node.parent
    return False


@dataclass(frozen=True)
class Hunk:
    """One region where the file differs from `mix format`'s output.

    `start`..`end` are 1-based original lines (inclusive) and `replacement` the formatted lines
    that replace exactly them; pure insertions and deletions are widened by unchanged lines
    so that a suggestion always has a line to replace and is never blank.
    """

    start: int
    end: int
    replacement: tuple[str, ...]


def _explained_by_trailing_whitespace(old: str, new: str) -> bool:
    return old != new and old.rstrip(" \t") == new


def _blank(lines: Sequence[str]) -> bool:
    return not any(line.strip() for line in lines)


def format_hunks(original: Sequence[str], formatted: Sequence[str]) -> list[Hunk]:
    """The hunks between two line lists; lines that differ only by trailing whitespace are
    trimmed from the edges of a hunk (L1.trailing-whitespace reports those)."""
    matcher = difflib.SequenceMatcher(None, original, formatted, autojunk=False)
    hunks: list[Hunk] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        while (
            i1 < i2 and j1 < j2 and _explained_by_trailing_whitespace(original[i1], formatted[j1])
        ):
            i1, j1 = i1 + 1, j1 + 1
        while (
            i1 < i2
            and j1 < j2
            and _explained_by_trailing_whitespace(original[i2 - 1], formatted[j2 - 1])
        ):
            i2, j2 = i2 - 1, j2 - 1
        if i1 == i2 and j1 == j2:
            continue
        replacement = list(formatted[j1:j2])
        if i1 == i2 or j1 == j2:
            # Pure insertion or deletion: take in unchanged neighbours until there is a line to
            # replace that is not blank (an empty suggestion would read as "delete the lines").
            while i1 > 0 and (i1 == i2 or _blank(replacement)):
                i1 -= 1
                replacement.insert(0, original[i1])
            while i2 < len(original) and (i1 == i2 or _blank(replacement)):
                replacement.append(original[i2])
                i2 += 1
        hunks.append(Hunk(start=i1 + 1, end=max(i1 + 1, i2), replacement=tuple(replacement)))
    return hunks


def formatter_lines(ctx: FileContext) -> list[str] | None:
    """The formatter's output as lines, or None when the helper did not format the file."""
    result = ctx.format_result
    if result is None or result.formatted is None:
        return None
    return split_lines(result.formatted)


def lines_changed_by_formatter(ctx: FileContext) -> set[int]:
    """1-based original lines inside a formatting hunk (empty when the file is formatted)."""
    formatted = formatter_lines(ctx)
    if formatted is None:
        return set()
    lines = ctx.lines
    if formatted == lines:
        return set()
    changed: set[int] = set()
    for hunk in format_hunks(lines, formatted):
        changed.update(range(hunk.start, hunk.end + 1))
    return changed
