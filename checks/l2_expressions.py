"""L2 expressions: operations with a constant result, expensive emptiness checks, large numbers
without underscores, and `apply` where the arity is known.

These follow credo's Warning.OperationWithConstantResult / OperationOnSameValues /
BoolOperationOnSameValues, Warning.ExpensiveEmptyEnumCheck, Readability.LargeNumbers and
Refactor.Apply with their defaults.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from tree_sitter import Node

from checks import elixir
from checks.context import FileContext
from checks.l2_support import (
    CODE_KINDS,
    START,
    byte_classes,
    is_binary,
    is_unary,
    left,
    operator,
    right,
    source,
    unwrap_parens,
)
from checks.model import Finding, Rule, Severity

SAME_VALUE_OPS = (
    "-",
    "/",
    "==",
    "!=",
    "===",
    "!==",
    "<",
    ">",
    "<=",
    ">=",
    "and",
    "or",
    "&&",
    "||",
)
ZERO_COMPARISONS = ("==", "!=", "===", "!==", ">", ">=", "<", "<=")


def _constant_result(ctx: FileContext) -> Iterator[Finding]:
    found: list[tuple[Node, str]] = []
    for node in ctx.index.binary_operators("*"):
        for side, other in ((right(node), left(node)), (left(node), right(node))):
            if side is None or other is None or side.type != "integer":
                continue
            value = elixir.text(side).replace("_", "")
            if value == "0":
                found.append((node, "always 0"))
                break
            if value == "1":
                found.append((node, f"always `{_short(other)}`"))
                break
    for node in ctx.index.binary_operators(*SAME_VALUE_OPS):
        lhs, rhs = left(node), right(node)
        if lhs is None or rhs is None or not _same(lhs, rhs):
            continue
        if not _impure(lhs):
            op = operator(node)
            found.append((node, f"always the same: both sides of `{op}` are `{_short(lhs)}`"))
    for node, result in sorted(found, key=lambda item: item[0].start_byte):
        if _in_spec_or_capture(node):
            continue
        yield ctx.finding(
            CONSTANT_RESULT,
            node,
            f"`{_short(node)}` is {result}",
            end_line=elixir.line_of(node),
            fix="write the result directly, or fix the operand that was meant",
        )


def _same(a: Node, b: Node) -> bool:
    """Same source text (the formatter normalises spacing, so bytes are compared)."""
    if a.end_byte - a.start_byte != b.end_byte - b.start_byte or a.type != b.type:
        return False
    return a.text == b.text


def _impure(node: Node) -> bool:
    """Two calls of a function may differ (`rand() - rand()`): only compare plain data."""
    return any(
        n.type == "call" and elixir.arguments_node(n) is not None for n in elixir.walk(node)
    )


def _in_spec_or_capture(node: Node) -> bool:
    for anc in elixir.ancestors(node):
        if is_unary(anc, "&"):
            return True
        if is_unary(anc, "@") and elixir.attribute_name(anc) in ("spec", "type", "typep"):
            return True
        if anc.type in ("do_block", "source"):
            return False
    return False


def _short(node: Node) -> str:
    raw = " ".join(elixir.text(node).split())
    return raw if len(raw) <= 40 else raw[:37] + "..."


# --- expensive emptiness checks -------------------------------------------------------------


def _size_call(node: Node | None) -> str | None:
    """`length` or `Enum.count` when `node` computes a size (directly or ending a pipe)."""
    node = unwrap_parens(node)
    if node is None:
        return None
    piped = 0
    if is_binary(node, "|>"):
        node = right(node)
        piped = 1
        if node is None:
            return None
    if node.type != "call":
        return None
    arity = len(elixir.call_args(node)) + piped
    if elixir.local_name(node) == "length" and arity == 1:
        return "length"
    if elixir.remote_name(node) == ("Enum", "count") and arity in (1, 2):
        return "Enum.count" if arity == 1 else "Enum.count/2"
    return None


def _integer(node: Node | None) -> int | None:
    node = unwrap_parens(node)
    if node is None or node.type != "integer":
        return None
    try:
        return int(elixir.text(node).replace("_", ""), 0)
    except ValueError:
        return None


def _expensive_empty(ctx: FileContext) -> Iterator[Finding]:
    src = source(ctx)
    if not ctx.index.calls_named("length") and b"count" not in src:
        return  # no `length(...)` call nor `Enum.count(...)` (however spaced) anywhere
    find = src.find
    for node in ctx.index.binary_operators(*ZERO_COMPARISONS):
        # The comparison must name the size function and hold a 0 or a 1.
        start, end = node.start_byte, node.end_byte
        if (find(b"length", start, end) == -1 and find(b"count", start, end) == -1) or (
            find(b"0", start, end) == -1 and find(b"1", start, end) == -1
        ):
            continue
        op = operator(node)
        lhs, rhs = left(node), right(node)
        size, number = _size_call(lhs), _integer(rhs)
        if size is None:
            size, number = _size_call(rhs), _integer(lhs)
            op = {">": "<", "<": ">", ">=": "<=", "<=": ">="}.get(op, op)
        if size is None or number is None:
            continue
        if not (number == 0 or (number == 1 and op in (">=", "<"))):
            continue
        if size == "Enum.count/2":
            better = "`Enum.any?/2` (or `not Enum.any?/2`)"
        elif _in_guard(node):
            better = "a comparison with `[]` (`list == []` / `list != []`)"
        else:
            better = "`Enum.empty?/1` (or `list == []`)"
        shown = "Enum.count" if size.startswith("Enum") else size
        yield ctx.finding(
            EXPENSIVE_EMPTY,
            node,
            f"`{_short(node)}` counts every element to test emptiness: use {better}",
            end_line=elixir.line_of(node),
            fix=f"replace the `{shown}` comparison with {better}",
        )


def _in_guard(node: Node) -> bool:
    for anc in elixir.ancestors(node):
        if is_binary(anc, "when"):
            return True
        if anc.type in ("do_block", "body", "source"):
            return False
    return False


# --- large numbers --------------------------------------------------------------------------

NUMBER = re.compile(rb"\d[\d_]{4,}")


def _underscored(digits: str) -> str:
    """Group digits by three from the right: 1234567 becomes 1_234_567."""
    groups: list[str] = []
    while len(digits) > 3:
        groups.append(digits[-3:])
        digits = digits[:-3]
    groups.append(digits)
    return "_".join(reversed(groups))


def _large_numbers(ctx: FileContext) -> Iterator[Finding]:
    # Every match of NUMBER is five digits or `_` in a row: five `0`s in the byte classes.
    if b"00000" not in byte_classes(ctx):
        return
    data = source(ctx)
    threshold = int(ctx.param(LARGE_NUMBER, "only_greater_than"))
    trailing = [int(t) for t in ctx.param(LARGE_NUMBER, "trailing_digits")]
    root = ctx.root
    for match in NUMBER.finditer(data):
        before = data[match.start() - 1 : match.start()] if match.start() else b""
        if before and (before.isalnum() or before in b"_."):
            continue  # inside a word, or the decimals of a float
        # An integer or float starting here has this digit run as the part before any `.`,
        # `e` or `E`: the verdict can be read from the text before the tree is asked.
        whole = match.group().decode()
        digits = whole.replace("_", "")
        if not digits.isdigit() or int(digits) <= threshold:
            continue
        accepted = {_underscored(digits)}
        for t in trailing:
            if 0 < t < len(digits):
                accepted.add(f"{_underscored(digits[:-t])}_{digits[-t:]}")
        if whole in accepted:
            continue
        node = root.descendant_for_byte_range(match.start(), match.end())
        if node is None or node.type not in ("integer", "float"):
            continue
        if node.start_byte != match.start():
            continue
        source_text = elixir.text(node)
        if re.split(r"[.eE]", source_text, maxsplit=1)[0] != whole:
            continue  # the grammar's numbers never differ from their digit run here
        expected = _underscored(digits) + source_text[len(whole) :]
        yield ctx.finding(
            LARGE_NUMBER,
            node,
            f"write `{source_text}` as `{expected}` so its size can be read at a glance",
            end_line=elixir.line_of(node),
            fix=f"write `{expected}`",
        )


# --- apply ----------------------------------------------------------------------------------


def _apply(ctx: FileContext) -> Iterator[Finding]:
    calls = ctx.index.calls_named("apply") + list(ctx.index.remote_calls("Kernel", "apply"))
    if not calls:
        return
    for call in sorted(calls, key=START):
        args = elixir.call_args(call)
        if len(args) == 2:
            fun, arguments = args
            known = fun.type == "identifier"
            suggestion = f"{elixir.text(fun)}.(...)"
        elif len(args) == 3:
            module, fun, arguments = args
            if elixir.text(module) == "__MODULE__":
                continue
            known = fun.type == "atom"
            suggestion = f"{elixir.text(module)}.{elixir.text(fun).lstrip(':')}(...)"
        else:
            continue
        if not known or arguments.type != "list" or _has_tail(arguments):
            continue
        yield ctx.finding(
            APPLY,
            call,
            f"`apply` with a literal argument list: call `{suggestion}` directly",
            end_line=elixir.line_of(call),
            fix=f"write `{suggestion}` with the arguments in place",
        )


def _has_tail(lst: Node) -> bool:
    return any(is_binary(c, "|") for c in lst.named_children)


CONSTANT_RESULT = Rule(
    id="L2.constant-result",
    severity=Severity.ERROR,
    title="Operation with a constant result",
    explanation=(
        "`x * 0` is always 0, `x * 1` is always x, and `a - a`, `a == a` or `a && a` compare "
        "a value with itself. Such expressions are leftovers of a debugging session or a "
        "typo for another operand (credo's Warning.OperationWithConstantResult, "
        "OperationOnSameValues and BoolOperationOnSameValues). Operands containing function "
        "calls are not compared, as two calls may return different values."
    ),
    bad_example=(
        "defmodule Shop.Prices do\n"
        '  @moduledoc "Prices."\n'
        "  def total(price, qty), do: price * qty * 1\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.Prices do\n"
        '  @moduledoc "Prices."\n'
        "  def total(price, qty), do: price * qty\n"
        "end\n"
    ),
    applies_to=CODE_KINDS,
    credo=(
        "Warning.OperationWithConstantResult",
        "Warning.OperationOnSameValues",
        "Warning.BoolOperationOnSameValues",
    ),
    check=_constant_result,
)

EXPENSIVE_EMPTY = Rule(
    id="L2.expensive-empty-check",
    severity=Severity.WARNING,
    title="Emptiness tested by counting with length or Enum.count",
    explanation=(
        "`length(list) == 0` and `Enum.count(enum) > 0` walk the whole collection to learn "
        "whether it has one element. `list == []`, `Enum.empty?/1` or `Enum.any?/2` answer in "
        "constant time (credo's Warning.ExpensiveEmptyEnumCheck; comparisons with 1 such as "
        "`length(l) >= 1` count too)."
    ),
    bad_example=(
        "defmodule Shop.Cart do\n"
        '  @moduledoc "Carts."\n'
        "  def empty?(cart), do: length(cart.items) == 0\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.Cart do\n"
        '  @moduledoc "Carts."\n'
        "  def empty?(cart), do: cart.items == []\n"
        "end\n"
    ),
    applies_to=CODE_KINDS,
    credo=("Warning.ExpensiveEmptyEnumCheck",),
    check=_expensive_empty,
)

LARGE_NUMBER = Rule(
    id="L2.large-number",
    severity=Severity.WARNING,
    title="Large number without digit separators",
    explanation=(
        "`86400000` takes counting; `86_400_000` is read at a glance. Numbers above 9999 are "
        "written with underscores every three digits (credo's Readability.LargeNumbers, same "
        "`only_greater_than` and `trailing_digits` parameters). Hex, octal and binary literals "
        "are not checked."
    ),
    bad_example=(
        'defmodule Shop.Session do\n  @moduledoc "Sessions."\n  def ttl_ms, do: 86400000\nend\n'
    ),
    good_example=(
        'defmodule Shop.Session do\n  @moduledoc "Sessions."\n  def ttl_ms, do: 86_400_000\nend\n'
    ),
    applies_to=CODE_KINDS,
    params={"only_greater_than": 9999, "trailing_digits": ()},
    credo=("Readability.LargeNumbers",),
    check=_large_numbers,
)

APPLY = Rule(
    id="L2.apply-known-arity",
    severity=Severity.WARNING,
    title="Apply with a literal argument list",
    explanation=(
        "`apply(fun, [a, b])` and `apply(mod, :fun, [a])` hide a plain call behind "
        "reflection: the compiler cannot check the arity and readers cannot search for the "
        "call. When the arguments are a literal list, write `fun.(a, b)` or `mod.fun(a)` "
        "(credo's Refactor.Apply)."
    ),
    bad_example=(
        "defmodule Shop.Hooks do\n"
        '  @moduledoc "Hooks."\n'
        "  def run(module, order), do: apply(module, :after_place, [order])\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.Hooks do\n"
        '  @moduledoc "Hooks."\n'
        "  def run(module, order), do: module.after_place(order)\n"
        "end\n"
    ),
    applies_to=CODE_KINDS,
    credo=("Refactor.Apply",),
    check=_apply,
)

RULES = (CONSTANT_RESULT, EXPENSIVE_EMPTY, LARGE_NUMBER, APPLY)
