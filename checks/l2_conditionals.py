"""L2 conditionals: the `if`/`unless`/`cond`/`with` shapes credo --strict rejects.

Each rule follows the credo check it names: `unless ... else` (Refactor.UnlessWithElse), a
negated `unless` condition (Refactor.NegatedConditionsInUnless), `if !x ... else`
(Refactor.NegatedConditionsWithElse), a `cond` with one condition and a catch-all
(Refactor.CondStatements), a `with` that is a `case` in disguise (Readability.WithSingleClause)
and a pattern match inside an `if`/`unless` condition (Refactor.MatchInCondition).
"""

from __future__ import annotations

from collections.abc import Iterator

from tree_sitter import Node

from checks import elixir
from checks.context import FileContext
from checks.l2_support import (
    CODE_KINDS,
    block_calls,
    code_after,
    condition,
    has_else,
    head_arguments,
    is_binary,
    is_block_call,
    is_unary,
    left,
    sorted_ops,
    source,
    stab_clauses,
    unwrap_parens,
)
from checks.model import Finding, Rule, Severity


def _negated(node: Node | None) -> bool:
    return is_unary(unwrap_parens(node), "!", "not")


def _with_else_text(ctx: FileContext, name: str) -> Iterator[Node]:
    """Block calls `name` whose text holds `else` (an `else` block or an `else:` keyword
    needs it), in source order; the text test spares the tree for most of them."""
    calls = ctx.index.calls_named(name)
    if not calls:
        return
    src = source(ctx)
    wanted = (name,)
    for call in calls:
        if src.find(b"else", call.start_byte, call.end_byte) != -1 and is_block_call(
            call, wanted
        ):
            yield call


def _negation_first(src: bytes, call: Node, name: str) -> bool:
    """Whether the first argument of `name ...` may be `!x` or `not x` (parentheses skipped):
    false only when the text shows it cannot."""
    at = code_after(src, call.start_byte + len(name))
    while 0 <= at < len(src) and src[at] == 40:  # "("
        at = code_after(src, at + 1)
    return at == -1 or src[at : at + 1] == b"!" or src.startswith(b"not", at)


def _unless_with_else(ctx: FileContext) -> Iterator[Finding]:
    for call in _with_else_text(ctx, "unless"):
        if has_else(call):
            yield ctx.finding(
                UNLESS_WITH_ELSE,
                call,
                "`unless` with an `else` branch: the reader must negate the condition twice",
                end_line=elixir.line_of(call),
                fix="swap the branches and use `if`",
            )


def _negated_unless(ctx: FileContext) -> Iterator[Finding]:
    calls = ctx.index.calls_named("unless")
    if not calls:
        return
    src = source(ctx)
    for call in calls:
        if not _negation_first(src, call, "unless") or not is_block_call(call, ("unless",)):
            continue
        if _negated(condition(call)):
            yield ctx.finding(
                NEGATED_UNLESS,
                call,
                "`unless` with a negated condition is a double negative",
                end_line=elixir.line_of(call),
                fix="use `if` with the positive condition",
            )


def _negated_with_else(ctx: FileContext) -> Iterator[Finding]:
    calls = ctx.index.calls_named("if")
    if not calls:
        return
    src = source(ctx)
    for call in calls:
        if not _negation_first(src, call, "if"):
            continue
        if src.find(b"else", call.start_byte, call.end_byte) == -1:
            continue
        if not is_block_call(call, ("if",)):
            continue
        if has_else(call) and _negated(condition(call)):
            yield ctx.finding(
                NEGATED_WITH_ELSE,
                call,
                "`if` with a negated condition and an `else` branch",
                end_line=elixir.line_of(call),
                fix="drop the negation and swap the branches (happy path first)",
            )


def _cond_statements(ctx: FileContext) -> Iterator[Finding]:
    if not ctx.index.calls_named("cond"):
        return
    for call in block_calls(ctx, ("cond",)):
        clauses = stab_clauses(elixir.do_block(call))
        if len(clauses) <= 2 and any(_always_matches(c) for c in clauses):
            yield ctx.finding(
                COND_STATEMENTS,
                call,
                f"`cond` with {len(clauses)} clause{'s' if len(clauses) != 1 else ''} "
                "including the catch-all: this is an `if ... else`",
                end_line=elixir.line_of(call),
                fix="use `if condition do ... else ... end`",
            )


def _always_matches(stab: Node) -> bool:
    head = stab.child_by_field_name("left")
    parts = [c for c in head.named_children if c.type != "comment"] if head else []
    if len(parts) != 1:
        return False
    part = parts[0]
    if part.type == "boolean":
        return elixir.text(part) == "true"
    return part.type == "identifier" and elixir.text(part).startswith("_")


def _with_single_clause(ctx: FileContext) -> Iterator[Finding]:
    for call in _with_else_text(ctx, "with"):
        head = head_arguments(call)
        if any(elixir.local_name(h) == "unquote_splicing" for h in head):
            continue
        matches = sum(1 for h in head if is_binary(h, "<-"))
        if matches <= 1 and has_else(call):
            yield ctx.finding(
                WITH_SINGLE_CLAUSE,
                call,
                "`with` has a single `<-` clause and an `else`: it is a `case`",
                end_line=elixir.line_of(call),
                fix="rewrite it as `case expr do pattern -> ...; other -> ... end`",
            )


def _match_in_condition(ctx: FileContext) -> Iterator[Finding]:
    calls = ctx.index.calls_named("if", "unless")
    if not calls:
        return
    equals = sorted_ops(ctx, "=")
    if not equals.nodes:
        return
    allow_tagged = bool(ctx.param(MATCH_IN_CONDITION, "allow_tagged_tuples"))
    for call in calls:
        # A match in the condition is one of the `=` operators inside the call.
        if not equals.any_between(call.start_byte, call.end_byte):
            continue
        if not is_block_call(call, ("if", "unless")):
            continue
        cond = condition(call)
        if cond is None or not equals.any_between(cond.start_byte, cond.end_byte):
            continue
        top = unwrap_parens(cond)
        for node in _matches(cond):
            if node == top and _simple_assignment(node, allow_tagged):
                continue
            if node != top and allow_tagged and _tagged_assignment(node):
                continue
            kind = elixir.local_name(call)
            yield ctx.finding(
                MATCH_IN_CONDITION,
                node,
                f"pattern match `{_short(node)}` inside an `{kind}` condition",
                end_line=elixir.line_of(node),
                fix="use `case` to match, or bind the value on the line before",
            )


def _matches(node: Node) -> Iterator[Node]:
    """`=` operators in a condition, not looking into anonymous functions."""
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == "anonymous_function":
            continue
        if is_binary(current, "="):
            yield current
        stack.extend(reversed(current.named_children))


def _simple_assignment(match: Node, allow_tagged: bool) -> bool:
    """`if x = f()` binds a value and tests its truthiness: credo allows it."""
    lhs = left(match)
    if lhs is not None and lhs.type == "identifier":
        return True
    return allow_tagged and _tagged_assignment(match)


def _tagged_assignment(match: Node) -> bool:
    lhs = left(match)
    if lhs is None or lhs.type != "tuple":
        return False
    items = [c for c in lhs.named_children if c.type != "comment"]
    return len(items) == 2 and items[0].type == "atom" and items[1].type == "identifier"


def _short(node: Node) -> str:
    raw = " ".join(elixir.text(node).split())
    return raw if len(raw) <= 40 else raw[:37] + "..."


UNLESS_WITH_ELSE = Rule(
    id="L2.unless-with-else",
    severity=Severity.WARNING,
    title="Unless with an else branch",
    explanation=(
        "`unless ... else` makes the reader negate the condition for the first branch and "
        "negate it back for the second. An `if` with the branches swapped says the same thing "
        "directly (credo's Refactor.UnlessWithElse)."
    ),
    bad_example=(
        "defmodule Shop.Gate do\n"
        '  @moduledoc "Gate."\n'
        "  def open(user) do\n"
        "    unless user.banned do\n"
        "      :open\n"
        "    else\n"
        "      :closed\n"
        "    end\n"
        "  end\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.Gate do\n"
        '  @moduledoc "Gate."\n'
        "  def open(user) do\n"
        "    if user.banned do\n"
        "      :closed\n"
        "    else\n"
        "      :open\n"
        "    end\n"
        "  end\n"
        "end\n"
    ),
    applies_to=CODE_KINDS,
    credo=("Refactor.UnlessWithElse",),
    check=_unless_with_else,
)

NEGATED_UNLESS = Rule(
    id="L2.negated-unless",
    severity=Severity.WARNING,
    title="Unless with a negated condition",
    explanation=(
        "`unless !valid?` is a double negative that every reader has to untangle; "
        "`if valid?` says the same. Reported as credo's Refactor.NegatedConditionsInUnless."
    ),
    bad_example=(
        "defmodule Shop.Gate do\n"
        '  @moduledoc "Gate."\n'
        "  def check(user) do\n"
        "    unless !user.active, do: :ok\n"
        "  end\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.Gate do\n"
        '  @moduledoc "Gate."\n'
        "  def check(user) do\n"
        "    if user.active, do: :ok\n"
        "  end\n"
        "end\n"
    ),
    applies_to=CODE_KINDS,
    credo=("Refactor.NegatedConditionsInUnless",),
    check=_negated_unless,
)

NEGATED_WITH_ELSE = Rule(
    id="L2.negated-condition-with-else",
    severity=Severity.WARNING,
    title="If with a negated condition and an else branch",
    explanation=(
        "`if !allowed? do A else B end` puts the exceptional path first and asks the reader "
        "to negate the condition; `if allowed? do B else A end` reads as the happy path "
        "followed by the exception (credo's Refactor.NegatedConditionsWithElse, `!` and `not`)."
    ),
    bad_example=(
        "defmodule Shop.Gate do\n"
        '  @moduledoc "Gate."\n'
        "  def check(user) do\n"
        "    if not user.allowed, do: {:error, :denied}, else: :ok\n"
        "  end\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.Gate do\n"
        '  @moduledoc "Gate."\n'
        "  def check(user) do\n"
        "    if user.allowed, do: :ok, else: {:error, :denied}\n"
        "  end\n"
        "end\n"
    ),
    applies_to=CODE_KINDS,
    credo=("Refactor.NegatedConditionsWithElse",),
    check=_negated_with_else,
)

COND_STATEMENTS = Rule(
    id="L2.cond-too-few-clauses",
    severity=Severity.WARNING,
    title="Cond with fewer than 3 clauses",
    explanation=(
        "A `cond` with one condition and a catch-all (`true ->`) is an `if ... else` written "
        "in a less familiar way. Use `cond` for three or more branches (credo's "
        "Refactor.CondStatements)."
    ),
    bad_example=(
        "defmodule Shop.Size do\n"
        '  @moduledoc "Sizes."\n'
        "  def label(n) do\n"
        "    cond do\n"
        "      n > 10 -> :big\n"
        "      true -> :small\n"
        "    end\n"
        "  end\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.Size do\n"
        '  @moduledoc "Sizes."\n'
        "  def label(n) do\n"
        "    if n > 10, do: :big, else: :small\n"
        "  end\n"
        "end\n"
    ),
    applies_to=CODE_KINDS,
    credo=("Refactor.CondStatements",),
    check=_cond_statements,
)

WITH_SINGLE_CLAUSE = Rule(
    id="L2.with-single-clause",
    severity=Severity.WARNING,
    title="With that has a single clause and an else",
    explanation=(
        "`with` exists to chain several matches and stop at the first failure. With one `<-` "
        "clause and an `else` it is exactly a `case`, which says so more plainly "
        "(credo's Readability.WithSingleClause)."
    ),
    bad_example=(
        "defmodule Shop.Users do\n"
        '  @moduledoc "Users."\n'
        "  def name(id) do\n"
        "    with {:ok, user} <- fetch(id) do\n"
        "      user.name\n"
        "    else\n"
        "      {:error, _} -> nil\n"
        "    end\n"
        "  end\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.Users do\n"
        '  @moduledoc "Users."\n'
        "  def name(id) do\n"
        "    case fetch(id) do\n"
        "      {:ok, user} -> user.name\n"
        "      {:error, _} -> nil\n"
        "    end\n"
        "  end\n"
        "end\n"
    ),
    applies_to=CODE_KINDS,
    credo=("Readability.WithSingleClause",),
    check=_with_single_clause,
)

MATCH_IN_CONDITION = Rule(
    id="L2.match-in-condition",
    severity=Severity.WARNING,
    title="Pattern match inside an if/unless condition",
    explanation=(
        "`if {:ok, x} = fetch()` mixes a match with a truthiness test: when the match fails "
        "it raises instead of taking the else branch. Use `case` to branch on a shape. A plain "
        "`if value = fetch()` binding is allowed, as in credo's Refactor.MatchInCondition; "
        "`allow_tagged_tuples` also allows `{:ok, x} = ...`."
    ),
    bad_example=(
        "defmodule Shop.Files do\n"
        '  @moduledoc "Files."\n'
        "  def load(path) do\n"
        "    if {:ok, body} = File.read(path), do: body\n"
        "  end\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.Files do\n"
        '  @moduledoc "Files."\n'
        "  def load(path) do\n"
        "    case File.read(path) do\n"
        "      {:ok, body} -> body\n"
        "      {:error, _} -> nil\n"
        "    end\n"
        "  end\n"
        "end\n"
    ),
    applies_to=CODE_KINDS,
    params={"allow_tagged_tuples": False},
    credo=("Refactor.MatchInCondition",),
    check=_match_in_condition,
)

RULES = (
    UNLESS_WITH_ELSE,
    NEGATED_UNLESS,
    NEGATED_WITH_ELSE,
    COND_STATEMENTS,
    WITH_SINGLE_CLAUSE,
    MATCH_IN_CONDITION,
)
