"""L2 function size: clauses longer than the ladder's 40 lines, too many parameters, and a high
ABC size (assignments, branches, conditions).

Length is the ladder's own rule (credo has none): a clause that does not fit on a screen does
more than one thing. Arity follows credo's Refactor.FunctionArity (max 8, default arguments
count); ABC size follows the idea of credo's Refactor.ABCSize (max 30) and is a notice only,
as that check is tagged controversial in credo itself.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterator

from tree_sitter import Node

from checks import elixir
from checks.context import FileContext
from checks.l2_support import (
    BLOCK_MACROS,
    CODE_KINDS,
    START,
    Clause,
    SortedNodes,
    clauses,
    function_facts,
    operator,
    sorted_nodes,
    source,
)
from checks.model import Finding, Rule, Severity

# Template sigils: markup is not logic, so its lines do not make a function "long".
TEMPLATE_SIGILS = ("H", "F", "L", "E", "LVN")


def _long_functions(ctx: FileContext) -> Iterator[Finding]:
    found = clauses(ctx)
    if not found:
        return
    max_lines = int(ctx.param(FUNCTION_TOO_LONG, "max_lines"))
    # A clause spans one line more than the newlines inside it, at most: counting them in the
    # source is cheaper than asking the tree for the rows of every clause.
    src = source(ctx)
    count = src.count
    long = [
        c
        for c in found
        if count(b"\n", c.start, c.end) >= max_lines and c.end_line - c.line + 1 > max_lines
    ]
    if not long:
        return
    excluded = set(ctx.param(FUNCTION_TOO_LONG, "exclude_sigils"))
    markup = SortedNodes([s for s in ctx.index.nodes("sigil") if _sigil_name(s) in excluded])
    for clause in long:
        template_lines = sum(
            elixir.end_line_of(s) - elixir.line_of(s) for s in markup.within(clause.node)
        )
        length = clause.end_line - clause.line + 1 - template_lines
        if length <= max_lines:
            continue
        note = f", not counting {template_lines} template lines" if template_lines else ""
        yield ctx.finding(
            FUNCTION_TOO_LONG,
            clause.node,
            f"{clause.kind} {clause.label} is {length} lines long (max {max_lines}{note})",
            fix="extract the steps into well-named private functions, or chain them with `with`",
        )


def _sigil_name(sigil: Node) -> str:
    for child in sigil.named_children:
        if child.type == "sigil_name":
            return elixir.text(child)
    return ""


def _arity(ctx: FileContext) -> Iterator[Finding]:
    max_arity = int(ctx.param(FUNCTION_ARITY, "max_arity"))
    if function_facts(ctx).max_arity <= max_arity:
        return
    ignore_defp = bool(ctx.param(FUNCTION_ARITY, "ignore_defp"))
    for module in ctx.modules:
        for function in module.functions:
            for clause in function.clauses:
                if clause.max_arity > max_arity:
                    break
            else:
                continue  # no clause takes more parameters than allowed
            if ignore_defp and function.kind in ("defp", "defmacrop"):
                continue
            arity = max(c.max_arity for c in function.clauses)
            yield ctx.finding(
                FUNCTION_ARITY,
                function.node,
                f"{function.kind} {function.name} takes {arity} parameters (max {max_arity})",
                end_line=elixir.line_of(function.node),
                fix="group related parameters into a map, struct or keyword list of options",
            )


# --- ABC size -------------------------------------------------------------------------------

COMPARISONS = frozenset({"==", "!=", "===", "!==", "<", ">", "<=", ">=", "=~"})
BOOLEANS = frozenset({"and", "or", "&&", "||"})
NEGATIONS = frozenset({"!", "not"})
# Not branches: definitions and the control-flow macros (counted as conditions instead).
NOT_BRANCHES = frozenset(elixir.DEF_KINDS | BLOCK_MACROS | {"__MODULE__", "fn"})
ECTO_QUERY_MACROS = frozenset({"from", "where", "select", "join"})


class _AbcIndex:
    """The file's indexed nodes by kind, sliceable by clause, and the excluded calls.

    The calls (most of a file's indexed nodes) are sliced by a binary search on the list
    itself until a clause needs the exact count: listing every call's offset costs more than
    bounding the few clauses that get that far."""

    KINDS = ("binary_operator", "unary_operator", "call", "stab_clause")
    SMALL_KINDS = ("binary_operator", "unary_operator", "stab_clause")

    def __init__(self, ctx: FileContext) -> None:
        self.ctx = ctx
        index = ctx.index
        # Operators and clauses are few: one sorted list of their starts serves every bound.
        small = [n.start_byte for kind in self.SMALL_KINDS for n in index.nodes(kind)]
        small.sort()
        self.small = small
        self.calls = index.nodes("call")
        self._by_kind: dict[str, SortedNodes] | None = None
        self._skipped: list[tuple[int, int]] | None = None

    @property
    def by_kind(self) -> dict[str, SortedNodes]:
        if self._by_kind is None:
            self._by_kind = {kind: _indexed(self.ctx, kind) for kind in self.KINDS}
        return self._by_kind

    @property
    def skipped(self) -> list[tuple[int, int]]:
        if self._skipped is None:
            ctx = self.ctx
            excluded = set(ctx.param(ABC_SIZE, "excluded_functions"))
            if _imports_ecto_query(ctx):
                excluded |= ECTO_QUERY_MACROS
            self._skipped = _excluded_ranges(ctx, excluded)
        return self._skipped

    def upper_bound(self, clause: Clause) -> int:
        """a + b + c can never exceed the number of indexed nodes in the body."""
        body = clause.body
        start, end = body.start_byte, body.end_byte
        calls, small = self.calls, self.small
        lo = bisect_left(calls, start, key=START)
        count = bisect_left(calls, end, lo, key=START) - lo
        lo = bisect_left(small, start)
        return count + bisect_left(small, end, lo) - lo


def abc_size(
    ctx: FileContext, clause: Clause, index: _AbcIndex | None = None
) -> tuple[int, int, int]:
    """(assignments, branches, conditions) of one clause body."""
    index = index or _AbcIndex(ctx)
    skipped = index.skipped
    body = clause.body
    a = b = c = 0
    for node in index.by_kind["binary_operator"].within(body):
        op = operator(node)
        if op in ("=", "<-"):
            a += not _in_ranges(node, skipped)
        elif op in COMPARISONS or op in BOOLEANS:
            c += not _in_ranges(node, skipped)
    for node in index.by_kind["unary_operator"].within(body):
        if operator(node) in NEGATIONS:
            c += not _in_ranges(node, skipped)
    for node in index.by_kind["call"].within(body):
        if _in_ranges(node, skipped):
            continue
        if _is_branch(node):
            b += 1
        elif _is_condition_call(node):
            c += 1
    for node in index.by_kind["stab_clause"].within(body):
        if _is_condition_clause(node):
            c += not _in_ranges(node, skipped)
    return a, b, c


def _indexed(ctx: FileContext, kind: str) -> SortedNodes:
    return sorted_nodes(ctx, kind, lambda: ctx.index.nodes(kind))


def _is_branch(call: Node) -> bool:
    """A function call: local or remote with parentheses/arguments, not a field access."""
    name = elixir.local_name(call)
    if name is not None:
        return name not in NOT_BRANCHES and elixir.arguments_node(call) is not None
    target = elixir.call_target(call)
    if target is None:
        return False
    if target.type == "dot":
        lhs = target.child_by_field_name("left")
        # `user.name` (no arguments, variable on the left) is a field access, not a call.
        return elixir.arguments_node(call) is not None or (
            lhs is not None and lhs.type in ("alias", "atom")
        )
    return True


def _is_condition_call(call: Node) -> bool:
    name = elixir.local_name(call)
    return name in ("if", "unless", "try", "with") and elixir.arguments_node(call) is not None


def _is_condition_clause(stab: Node) -> bool:
    """Each clause of case/cond/receive/with-else/rescue/catch is a condition; fn clauses not."""
    parent = stab.parent
    return parent is not None and parent.type in (
        "do_block",
        "else_block",
        "rescue_block",
        "catch_block",
    )


def _imports_ecto_query(ctx: FileContext) -> bool:
    for node in ctx.index.calls_named("import"):
        args = elixir.call_args(node)
        if args and elixir.text(args[0]) == "Ecto.Query":
            return True
    return False


def _excluded_ranges(ctx: FileContext, names: set[str]) -> list[tuple[int, int]]:
    if not names:
        return []
    return [(n.start_byte, n.end_byte) for n in ctx.index.calls_named(*sorted(names))]


def _in_ranges(node: Node, ranges: list[tuple[int, int]]) -> bool:
    return any(start <= node.start_byte and node.end_byte <= end for start, end in ranges)


def _abc(ctx: FileContext) -> Iterator[Finding]:
    found = clauses(ctx)
    if not found:
        return
    max_size = float(ctx.param(ABC_SIZE, "max_size"))
    small = 2 * max_size
    index: _AbcIndex | None = None
    for clause in found:
        # Every counted node (call, operator, clause) owns at least one more node of the tree
        # (its name or operator token), so a body with few descendants cannot reach the limit;
        # tree-sitter knows a subtree's size without walking it.
        if clause.body.descendant_count <= small or _is_using(clause):
            continue
        index = index or _AbcIndex(ctx)
        if index.upper_bound(clause) <= max_size:
            continue
        a, b, c = abc_size(ctx, clause, index)
        size = round(math.sqrt(a * a + b * b + c * c))
        if size <= max_size:
            continue
        yield ctx.finding(
            ABC_SIZE,
            clause.node,
            f"{clause.kind} {clause.label} has an ABC size of {size} (max {max_size:g}: "
            f"{a} assignments, {b} calls, {c} conditions)",
            fix="split the function: each part should assign, call and decide less",
        )


def _is_using(clause: Clause) -> bool:
    return clause.kind == "defmacro" and clause.name == "__using__"


FUNCTION_TOO_LONG = Rule(
    id="L2.function-too-long",
    severity=Severity.WARNING,
    title="Function clause longer than 40 lines",
    explanation=(
        "A function clause that does not fit on a screen almost always does several things: "
        "readers must keep its whole state in their heads, and tests cannot reach its middle. "
        "The ladder's limit is 40 lines from `def` to `end` (credo has no such check); lines "
        "of `~H` templates are not counted, as markup is not logic. Tunable: `max_lines`, "
        "`exclude_sigils`."
    ),
    bad_example=(
        "defmodule Shop.Report do\n"
        '  @moduledoc "Reports."\n'
        "  def build(rows) do\n"
        + "".join(f"    step{i} = rows\n" for i in range(40))
        + "    rows\n"
        "  end\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.Report do\n"
        '  @moduledoc "Reports."\n'
        "  def build(rows) do\n"
        "    rows\n"
        "    |> normalize()\n"
        "    |> summarize()\n"
        "  end\n"
        "\n"
        "  defp normalize(rows), do: rows\n"
        "  defp summarize(rows), do: rows\n"
        "end\n"
    ),
    applies_to=CODE_KINDS,
    params={"max_lines": 40, "exclude_sigils": TEMPLATE_SIGILS},
    check=_long_functions,
)

FUNCTION_ARITY = Rule(
    id="L2.function-arity",
    severity=Severity.WARNING,
    title="Function with more than 8 parameters",
    explanation=(
        "A function that takes many parameters is hard to call correctly (which argument goes "
        "where?) and usually mixes concerns. As credo's Refactor.FunctionArity, more than 8 "
        "parameters (default arguments included) is reported, once per function. Tunable: "
        "`max_arity`, `ignore_defp`."
    ),
    bad_example=(
        "defmodule Shop.Mailer do\n"
        '  @moduledoc "Mail."\n'
        "  def send(a, b, c, d, e, f, g, h, i), do: {a, b, c, d, e, f, g, h, i}\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.Mailer do\n"
        '  @moduledoc "Mail."\n'
        "  def send(%{to: to} = message, opts \\\\ []), do: {to, message, opts}\n"
        "end\n"
    ),
    applies_to=CODE_KINDS,
    params={"max_arity": 8, "ignore_defp": False},
    credo=("Refactor.FunctionArity",),
    check=_arity,
)

ABC_SIZE = Rule(
    id="L2.abc-size",
    severity=Severity.NOTICE,
    title="Function with a high ABC size",
    explanation=(
        "ABC size is the length of the vector (assignments, branches = calls, conditions) of "
        "a clause. A high value means the function binds, calls and decides a lot at once, "
        "and is a hint to split it. Informational (a notice), as credo's Refactor.ABCSize is "
        "tagged controversial; its `max_size` of 30 is the default. Calls to Ecto's "
        "`from/where/select/join` are not counted when the file imports Ecto.Query."
    ),
    bad_example=(
        "defmodule Shop.Checkout do\n"
        '  @moduledoc "Checkout."\n'
        "  def run(cart, user) do\n"
        + "".join(
            f"    v{i} = if check{i}(cart) == user.id, do: call{i}(cart, user), else: nil\n"
            for i in range(12)
        )
        + "    {v0, v11}\n"
        "  end\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.Checkout do\n"
        '  @moduledoc "Checkout."\n'
        "  def run(cart, user) do\n"
        "    with {:ok, cart} <- validate(cart), do: charge(cart, user)\n"
        "  end\n"
        "end\n"
    ),
    applies_to=CODE_KINDS,
    params={"max_size": 30, "excluded_functions": ()},
    credo=("Refactor.ABCSize",),
    check=_abc,
)

RULES = (FUNCTION_TOO_LONG, FUNCTION_ARITY, ABC_SIZE)
