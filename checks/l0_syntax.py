"""L0 compiles cleanly: the file parses.

A file that does not parse cannot compile, so nothing above L0 can be trusted for it; the engine
skips the structural reviewers on such a file and this rule says why, once per file (a single
unclosed bracket makes every later line an error, and listing those would hide the one mistake).

When the Elixir helper ran, its `Code.string_to_quoted/2` verdict is the compiler's own and is
reported verbatim. Without it the message is reconstructed from tree-sitter's ERROR and MISSING
nodes: tree-sitter knows where it gave up and which token it expected, and scanning the tokens
of an ERROR node for unbalanced openers recovers what Elixir would call the missing terminator.
The two parsers disagree on a few inputs (tree-sitter accepts a stray `end`), so when the helper
says a file parses, its word wins and tree-sitter's errors are not reported.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from tree_sitter import Node

from checks import elixir
from checks.context import FileContext
from checks.model import Finding, Rule, Severity

# Closer -> the opener it ends. Quotes close themselves.
_CLOSERS = {")": "(", "]": "[", "}": "{", ">>": "<<", "end": "do"}
_OPENERS = frozenset({"(", "[", "{", "<<", "do", "fn"})
_QUOTES = frozenset({'"', '"""', "'", "'''"})

_QUOTE_WORDS = {
    '"': "string",
    '"""': "heredoc",
    "'": "charlist",
    "'''": "charlist heredoc",
}


@dataclass(frozen=True)
class _Problem:
    line: int
    column: int
    message: str


def _check(ctx: FileContext) -> Iterator[Finding]:
    result = ctx.format_result
    if result is not None and result.syntax_error is not None:
        err = result.syntax_error
        line = _clamp(ctx, err.line)
        message = " ".join(err.message.split())
        yield ctx.finding(
            SYNTAX_ERROR,
            line,
            f"syntax error (Elixir's parser): {message}",
            column=err.column or 1,
            fix="fix the syntax; nothing else in this file can be reviewed until it parses",
        )
        return
    if result is not None and result.formatted is not None:
        return  # the compiler's parser accepted the file: tree-sitter's doubts do not count
    if ctx.kind == "template" or not ctx.root.has_error:
        return
    problem = describe(ctx.root)
    if problem is None:
        return
    yield ctx.finding(
        SYNTAX_ERROR,
        _clamp(ctx, problem.line),
        f"syntax error: {problem.message}",
        column=problem.column,
        fix="fix the syntax; nothing else in this file can be reviewed until it parses",
    )


def _clamp(ctx: FileContext, line: int) -> int:
    """Parsers report errors at end of file on the line after the last one; keep it real."""
    return max(1, min(line, len(ctx.lines) or 1))


def describe(root: Node) -> _Problem | None:
    """A readable account of the first syntax error tree-sitter found under `root`."""
    errors = elixir.error_nodes(root)
    if not errors:
        return None
    node = errors[0]
    if node.is_missing:
        return _missing(node)
    return _error(node)


def _missing(node: Node) -> _Problem:
    expected = node.type
    line, col = elixir.line_of(node), elixir.column_of(node)
    parent = node.parent
    opener_word = _CLOSERS.get(expected)
    if expected == "end" and parent is not None and parent.type == "anonymous_function":
        opener_word = "fn"
    if expected in _QUOTES:
        opener_word = expected
    opener = _find_token(parent, opener_word) if parent is not None and opener_word else None
    if opener is not None:
        what = (
            f"the {_QUOTE_WORDS[expected]} starting on line {elixir.line_of(opener)}"
            if expected in _QUOTES
            else f"the `{opener_word}` on line {elixir.line_of(opener)}"
        )
        return _Problem(line, col, f"missing `{expected}`: {what} is never closed")
    return _Problem(line, col, f"missing `{expected}`")


def _find_token(parent: Node, word: str) -> Node | None:
    for child in parent.children:
        if not child.is_named and child.type == word:
            return child
    return None


def _error(node: Node) -> _Problem:
    unbalanced = _unbalanced(node)
    if unbalanced is not None:
        return unbalanced
    named = [c for c in node.children if c.is_named and c.type != "comment"]
    if (
        len(named) == len(node.children) == 1
        and not named[0].has_error
        and named[0].type not in ("operator_identifier", "keyword")
    ):
        # tree-sitter wrapped a complete expression: the mistake is what follows it.
        following = _next_token(node)
        where = f"`{_snippet(following)}`" if following is not None else "the end of the file"
        return _Problem(
            elixir.line_of(node),
            elixir.column_of(node),
            f"unexpected {where} after `{_snippet(named[0])}`",
        )
    first = _first_leaf(node)
    return _Problem(
        elixir.line_of(first), elixir.column_of(first), f"unexpected `{_snippet(first)}`"
    )


def _unbalanced(node: Node) -> _Problem | None:
    """Scan the tokens of an ERROR node for an opener whose closer never comes.

    Complete, error-free named children are balanced by construction and skipped whole; the
    scan descends only into children that themselves contain errors.
    """
    stack: list[Node] = []
    for token in _tokens(node):
        kind = token.type
        if kind in _QUOTES:
            if stack and stack[-1].type == kind:
                stack.pop()
            else:
                stack.append(token)
        elif kind in _OPENERS:
            stack.append(token)
        elif kind in _CLOSERS:
            wanted = _CLOSERS[kind]
            if stack and (stack[-1].type == wanted or (kind == "end" and stack[-1].type == "fn")):
                stack.pop()
                continue
            if not stack:
                return _Problem(
                    elixir.line_of(token), elixir.column_of(token), f"unexpected `{kind}`"
                )
            opener = stack[-1]
            return _Problem(
                elixir.line_of(token),
                elixir.column_of(token),
                f"unexpected `{kind}`: {_opened(opener)} is never closed",
            )
    if stack:
        opener = stack[-1]
        return _Problem(
            elixir.line_of(opener),
            elixir.column_of(opener),
            f"{_opened(opener)} is never closed",
        )
    return None


def _opened(opener: Node) -> str:
    kind = opener.type
    if kind in _QUOTES:
        return f"the {_QUOTE_WORDS[kind]} starting on line {elixir.line_of(opener)}"
    return f"the `{kind}` on line {elixir.line_of(opener)}"


def _tokens(node: Node) -> Iterator[Node]:
    for child in node.children:
        if child.is_named and not child.has_error and child.type != "ERROR":
            # A string's content between an unmatched quote and EOF is still content.
            continue
        if child.child_count == 0:
            if not child.is_missing:
                yield child
            continue
        yield from _tokens(child)


def _first_leaf(node: Node) -> Node:
    while node.child_count:
        node = node.children[0]
    return node


def _next_token(node: Node) -> Node | None:
    current: Node | None = node
    while current is not None:
        sibling = current.next_sibling
        if sibling is not None:
            return _first_leaf(sibling)
        current = current.parent
    return None


def _snippet(node: Node) -> str:
    raw = elixir.text(node).strip().splitlines()
    first = raw[0].strip() if raw else ""
    return first if len(first) <= 30 else first[:27] + "..."


SYNTAX_ERROR = Rule(
    id="L0.syntax-error",
    severity=Severity.ERROR,
    title="File does not parse",
    explanation=(
        "A file with a syntax error cannot compile, so the first rung of the ladder "
        "(`mix compile --warnings-as-errors`) fails and no other reviewer can say anything "
        "reliable about it. The message comes from Elixir's own parser when the Elixir helper "
        "runs, and is reconstructed from tree-sitter's error recovery otherwise (the missing "
        "`end`, the unclosed bracket or string, the unexpected token). One finding per file: "
        "a single unclosed bracket breaks every line after it."
    ),
    bad_example=("defmodule Shop.Cart do\n  def total(items) do\n    Enum.sum(items)\nend\n"),
    good_example=(
        "defmodule Shop.Cart do\n  def total(items) do\n    Enum.sum(items)\n  end\nend\n"
    ),
    file_level=True,
    runs_on_broken_files=True,
    check=_check,
)

RULES = (SYNTAX_ERROR,)
