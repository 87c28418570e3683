"""L2 complexity: nesting deeper than 2 and cyclomatic complexity above 9 per function clause.

Both follow credo (Refactor.Nesting, Refactor.CyclomaticComplexity) with its defaults, so a team
that runs `mix credo --strict` sees the same clauses reported:

* nesting counts `if unless case cond fn for with` enclosing each other inside one clause body
  and reports the clause once, at its deepest construct;
* cyclomatic complexity is 1 per clause, +1 per `if unless for try and or && ||`, and +1 per
  clause of a `case`/`cond` (credo counts every clause, including the last); `__using__`
  macros are exempt.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator

from tree_sitter import Node

from checks import elixir
from checks.context import FileContext
from checks.l2_support import (
    CODE_KINDS,
    NESTING_MACROS,
    START,
    Clause,
    SortedNodes,
    block_calls,
    clauses,
    sorted_nodes,
    stab_clauses,
)
from checks.model import Finding, Rule, Severity

DOUBLE_CONDITIONS = ("if", "unless", "for", "try")
MULTIPLE_CONDITIONS = ("case", "cond")
BOOLEAN_OPERATORS = ("and", "or", "&&", "||")


def _count_named(ctx: FileContext, names: tuple[str, ...]) -> int:
    """How many calls have one of these names (each name's list is the index's own)."""
    named = ctx.index.calls_named
    return sum(len(named(name)) for name in names)


DECIDING_MACROS = DOUBLE_CONDITIONS + MULTIPLE_CONDITIONS


def _max_depth(spans: list[tuple[int, int]]) -> int:
    """How deeply these byte ranges (of tree nodes: nested or disjoint) nest."""
    spans.sort(key=lambda span: (span[0], -span[1]))
    ends: list[int] = []
    deepest = 0
    for start, end in spans:
        while ends and ends[-1] <= start:
            ends.pop()
        ends.append(end)
        if len(ends) > deepest:
            deepest = len(ends)
    return deepest


def _nest_nodes(ctx: FileContext) -> SortedNodes:
    def build() -> list[Node]:
        found = block_calls(ctx, NESTING_MACROS) + list(ctx.index.nodes("anonymous_function"))
        found.sort(key=START)
        return found

    return sorted_nodes(ctx, "nesting", build)


def _nesting(ctx: FileContext) -> Iterator[Finding]:
    ordered = clauses(ctx)
    if not ordered:
        return
    max_nesting = int(ctx.param(NESTING, "max_nesting"))
    # A clause's depth counts constructs that enclose each other; over every call named like
    # one (block or not) and every `fn` of the file, enclosing ranges can only nest deeper.
    fns = ctx.index.nodes("anonymous_function")
    if _count_named(ctx, NESTING_MACROS) + len(fns) <= max_nesting:
        return
    candidates = ctx.index.calls_named(*NESTING_MACROS)
    spans = [(n.start_byte, n.end_byte) for n in candidates]
    spans += [(n.start_byte, n.end_byte) for n in fns]
    if _max_depth(spans) <= max_nesting:
        return
    nest = _nest_nodes(ctx)
    if len(nest.nodes) <= max_nesting:
        return
    ids: set[int] | None = None
    for clause in ordered:
        inner = nest.within(clause.body)
        if len(inner) <= max_nesting:
            continue  # cannot be nested deeper than it has constructs
        if ids is None:
            ids = {n.id for n in nest.nodes}
        deepest: tuple[int, int, Node] | None = None
        for node in inner:
            depth = 1
            for anc in elixir.ancestors(node):
                if anc == clause.body:
                    break
                if anc.id in ids:
                    depth += 1
            key = (depth, elixir.line_of(node))
            if deepest is None or key >= deepest[:2]:
                deepest = (depth, key[1], node)
        if deepest is None or deepest[0] <= max_nesting:
            continue
        depth, _line, node = deepest
        what = "fn" if node.type == "anonymous_function" else elixir.local_name(node)
        yield ctx.finding(
            NESTING,
            node,
            f"{clause.kind} {clause.label} is nested {depth} levels deep at this `{what}` "
            f"(max {max_nesting})",
            end_line=elixir.line_of(node),
            fix="flatten with pattern-matching function heads, `with`, or a private function",
        )


def _decisions(ctx: FileContext) -> SortedNodes:
    def build() -> list[Node]:
        found: list[Node] = block_calls(ctx, DOUBLE_CONDITIONS + MULTIPLE_CONDITIONS)
        found += ctx.index.binary_operators(*BOOLEAN_OPERATORS)
        found.sort(key=START)
        return found

    return sorted_nodes(ctx, "complexity", build)


def complexity(ctx: FileContext, clause: Clause) -> int:
    """Cyclomatic complexity of one clause, counted as credo does (head and guard included)."""
    score = 1
    for node in _decisions(ctx).within(clause.node):
        if node.type == "binary_operator":
            score += 1
        elif elixir.local_name(node) in MULTIPLE_CONDITIONS:
            score += len(stab_clauses(elixir.do_block(node)))
        else:
            score += 1
    return score


def _cyclomatic(ctx: FileContext) -> Iterator[Finding]:
    found = clauses(ctx)
    if not found:
        return
    max_complexity = int(ctx.param(CYCLOMATIC, "max_complexity"))
    # Every possible decision: calls named like a decision (block or not), boolean operators
    # and `->` clauses. Counting them over-counts credo's score.
    stab_nodes = ctx.index.nodes("stab_clause")
    possible = _count_named(ctx, DECIDING_MACROS) + len(stab_nodes)
    if possible < max_complexity:
        booleans = ctx.index.binary_operators(*BOOLEAN_OPERATORS)
        if possible + len(booleans) < max_complexity:
            return  # the whole file cannot reach the maximum
    else:
        booleans = ctx.index.binary_operators(*BOOLEAN_OPERATORS)
    starts = [n.start_byte for n in ctx.index.calls_named(*DECIDING_MACROS)]
    starts += [n.start_byte for n in booleans]
    starts += [n.start_byte for n in stab_nodes]
    starts.sort()
    decisions: SortedNodes | None = None
    stabs: SortedNodes | None = None
    for clause in found:
        if bisect_left(starts, clause.end) - bisect_left(starts, clause.start) < max_complexity:
            continue  # 1 + every possible decision cannot exceed the maximum
        if clause.kind == "defmacro" and clause.name == "__using__":
            continue
        decisions = decisions or _decisions(ctx)
        stabs = stabs or sorted_nodes(ctx, "stab_clause", lambda: ctx.index.nodes("stab_clause"))
        bound = 1 + decisions.count_within(clause.node) + stabs.count_within(clause.node)
        if bound <= max_complexity:
            continue  # a decision adds 1, or one per clause: the score cannot be higher
        score = complexity(ctx, clause)
        if score <= max_complexity:
            continue
        yield ctx.finding(
            CYCLOMATIC,
            clause.node,
            f"{clause.kind} {clause.label} has a cyclomatic complexity of {score} "
            f"(max {max_complexity})",
            fix="split the decisions into pattern-matching clauses or smaller functions",
        )


NESTING = Rule(
    id="L2.nesting-too-deep",
    severity=Severity.WARNING,
    title="Code nested more than 2 levels deep",
    explanation=(
        "Every `if`, `case`, `cond`, `fn`, `for` or `with` inside another one multiplies the "
        "paths a reader must follow. As credo's Refactor.Nesting (max 2), the clause is "
        "reported once, at its deepest construct. Flatten with multi-clause functions, `with`, "
        "or by extracting the inner block into a named private function."
    ),
    bad_example=(
        "defmodule Shop.Stock do\n"
        '  @moduledoc "Stock."\n'
        "  def reserve(items) do\n"
        "    Enum.map(items, fn item ->\n"
        "      case item do\n"
        "        %{qty: qty} ->\n"
        "          if qty > 0, do: :ok, else: :empty\n"
        "      end\n"
        "    end)\n"
        "  end\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.Stock do\n"
        '  @moduledoc "Stock."\n'
        "  def reserve(items), do: Enum.map(items, &reserve_one/1)\n"
        "\n"
        "  defp reserve_one(%{qty: qty}) when qty > 0, do: :ok\n"
        "  defp reserve_one(_item), do: :empty\n"
        "end\n"
    ),
    applies_to=CODE_KINDS,
    params={"max_nesting": 2},
    credo=("Refactor.Nesting",),
    check=_nesting,
)

CYCLOMATIC = Rule(
    id="L2.cyclomatic-complexity",
    severity=Severity.WARNING,
    title="Function with cyclomatic complexity above 9",
    explanation=(
        "Cyclomatic complexity counts the independent paths through a function; each one "
        "needs a test, and past 9 the function is hard to test and to change safely. Counted "
        "as credo's Refactor.CyclomaticComplexity: 1 per clause, +1 per if/unless/for/try and "
        "per and/or/&&/||, +1 per case or cond clause."
    ),
    bad_example=(
        "defmodule Shop.Pricing do\n"
        '  @moduledoc "Prices."\n'
        "  def discount(user, cart) do\n"
        "    a = if user.vip and cart.big, do: 10, else: 0\n"
        "    b = if user.new or cart.first, do: 5, else: 0\n"
        "    c = if cart.coupon && cart.valid, do: 3, else: 0\n"
        "    case cart.kind do\n"
        "      :a -> a\n"
        "      :b -> b\n"
        "      :c -> c\n"
        "      _ -> 0\n"
        "    end\n"
        "  end\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.Pricing do\n"
        '  @moduledoc "Prices."\n'
        "  def discount(%{vip: true}, _cart), do: 10\n"
        "  def discount(_user, %{coupon: true}), do: 3\n"
        "  def discount(_user, _cart), do: 0\n"
        "end\n"
    ),
    applies_to=CODE_KINDS,
    params={"max_complexity": 9},
    credo=("Refactor.CyclomaticComplexity",),
    check=_cyclomatic,
)

RULES = (NESTING, CYCLOMATIC)
