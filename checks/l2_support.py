"""Shared machinery of the L2 (static analysis) and L3 (tested) reviewers.

Most L2 rules measure *function clauses* (length, nesting, complexity, ABC size) or look at the
shape of one construct (`if`, `|>`, `cond`). Walking every clause body once per rule would cost
a full Python traversal of the tree per rule, so the per-clause figures come from the shared
index instead: its node lists are sorted by position, so the calls, operators or `fn`s of one
clause are a slice found by binary search over start offsets (`SortedNodes.within`), and the
node that contains a given node is found the same way (`Spans.owner`). Clauses, sorted lists
and filtered calls are cached for the file under review and shared by every rule that asks;
cheap upper bounds (a subtree's node count, the number of candidates in a clause) skip the
exact computation for the many small functions that cannot reach a limit.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Collection, Sequence
from functools import partial
from operator import attrgetter
from typing import Any, TypeVar

from tree_sitter import Node

from checks import elixir
from checks.context import FileContext
from checks.model import FileKind, Rule

# The definitions credo's function metrics look at (guards are one expression, not measured).
METRIC_DEF_KINDS = ("def", "defp", "defmacro", "defmacrop")

# Macros that take a `do` block (or `do:`) and whose body is not a plain call argument.
BLOCK_MACROS = frozenset(
    {"if", "unless", "case", "cond", "for", "with", "try", "receive", "quote"}
)

# Credo's Refactor.Nesting counts these (plus anonymous functions).
NESTING_MACROS = ("if", "unless", "case", "cond", "for", "with")

# Kinds of code the L2 rules review (credo's default `included`: lib/, test/, apps/*/...).
CODE_KINDS: frozenset[FileKind] = frozenset({"lib", "test", "test_support"})
LIB_KINDS: frozenset[FileKind] = frozenset({"lib"})
TEST_KINDS: frozenset[FileKind] = frozenset({"test"})

T = TypeVar("T")

# Sort key of nodes in source order (C-level, for the hot paths).
START = attrgetter("start_byte")

# --- node helpers ---------------------------------------------------------------------------


def operator(node: Node) -> str:
    """The operator of a binary/unary operator node (`|>`, `=`, `!`, `not`, ...)."""
    op = node.child_by_field_name("operator")
    return op.type if op is not None else ""


def is_binary(node: Node | None, *ops: str) -> bool:
    return node is not None and node.type == "binary_operator" and operator(node) in ops


def is_unary(node: Node | None, *ops: str) -> bool:
    return node is not None and node.type == "unary_operator" and operator(node) in ops


def left(node: Node) -> Node | None:
    return node.child_by_field_name("left")


def right(node: Node) -> Node | None:
    return node.child_by_field_name("right")


def unwrap_parens(node: Node | None) -> Node | None:
    """`(x)` is a `block` holding one expression: look through it."""
    while node is not None and node.type == "block":
        inner = [c for c in node.named_children if c.type != "comment"]
        if len(inner) != 1:
            return node
        node = inner[0]
    return node


def is_block_call(node: Node, names: Collection[str] = BLOCK_MACROS) -> bool:
    """A call such as `if ... do ... end` or `if ..., do: ...` (not a variable named `if`)."""
    if node.type != "call" or elixir.local_name(node) not in names:
        return False
    last = node.named_child(node.named_child_count - 1)
    if last.type == "do_block":
        return True
    if last.type != "arguments" or last.named_child_count == 0:
        return False
    keywords = last.named_child(last.named_child_count - 1)
    return keywords.type == "keywords" and "do" in elixir.keyword_pairs(keywords)


def head_arguments(call: Node) -> list[Node]:
    """The arguments of a block macro before its `do`: the condition of `if`, the clauses of
    `with`/`for` (a trailing `do:`/`else:` keyword list is not part of the head)."""
    args = elixir.call_args(call)
    if args and args[-1].type == "keywords" and "do" in elixir.keyword_pairs(args[-1]):
        args = args[:-1]
    return args


def condition(call: Node) -> Node | None:
    args = head_arguments(call)
    return args[0] if args else None


def has_else(call: Node) -> bool:
    block = elixir.do_block(call)
    if block is not None:
        return any(c.type == "else_block" for c in block.named_children)
    return "else" in elixir.keyword_pairs(call)


def stab_clauses(block: Node | None) -> list[Node]:
    if block is None:
        return []
    return [c for c in block.named_children if c.type == "stab_clause"]


def is_def_head(call: Node) -> bool:
    """Whether `call` is the `name(args)` head of a def (so `def dbg(x)` is not a `dbg` call)."""
    parent = call.parent
    if parent is not None and is_binary(parent, "when") and left(parent) == call:
        parent = parent.parent
    if parent is None or parent.type != "arguments":
        return False
    owner = parent.parent
    return owner is not None and elixir.local_name(owner) in elixir.DEF_KINDS


def is_attribute_operand(call: Node) -> bool:
    """`@dbg x` / `@spec ...`: the call is the operand of a module attribute."""
    parent = call.parent
    return parent is not None and is_unary(parent, "@")


# --- function clauses -----------------------------------------------------------------------


class Clause:
    """One def/defp/defmacro/defmacrop clause with a body, as the metrics see it.

    A plain slotted class: thousands are built per megabyte, and frozen dataclasses are slow
    to construct. `start`/`end` are the clause's byte range (read once, compared often);
    `clause` is the parsed clause itself (parameters, head, guard)."""

    __slots__ = ("arity", "body", "clause", "end", "kind", "name", "node", "start")

    def __init__(self, clause: elixir.FunctionClause, body: Node) -> None:
        node = clause.node
        self.node = node
        self.clause = clause
        self.kind = clause.kind
        self.name = clause.name
        self.arity = clause.max_arity
        self.body = body
        self.start: int = node.start_byte
        self.end: int = node.end_byte

    @property
    def label(self) -> str:
        return f"{self.name}/{self.arity}"

    @property
    def line(self) -> int:
        return int(self.node.start_point.row) + 1

    @property
    def end_line(self) -> int:
        return elixir.end_line_of(self.node)


class FunctionFacts:
    """What several rules read off every function of a file, gathered in one pass over the
    module model: the measured clauses, every function's name (one per line) and the largest
    arity of any clause."""

    __slots__ = ("clauses", "max_arity", "names")

    def __init__(self, ctx: FileContext) -> None:
        found: list[Clause] = []
        names: list[str] = []
        max_arity = 0
        metric = METRIC_DEF_KINDS
        for module in ctx.modules:
            for function in module.functions:
                names.append(function.name)
                measured = function.kind in metric
                for clause in function.clauses:
                    if clause.max_arity > max_arity:
                        max_arity = clause.max_arity
                    if measured:
                        body = clause.body
                        if body is not None:
                            found.append(Clause(clause, body))
        self.clauses = found
        self.names = "\n".join(names) + "\n" if names else ""
        self.max_arity = max_arity


def function_facts(ctx: FileContext) -> FunctionFacts:
    return ctx.shared("l2.function_facts", partial(FunctionFacts, ctx))


def clauses(ctx: FileContext) -> list[Clause]:
    """Every measured clause of the file's modules, module by module (cached per file).

    Built from `ctx.modules`, which the L4/L7 reviewers parse anyway; definitions generated
    inside `quote` blocks are part of their macro, as in credo.
    """
    return function_facts(ctx).clauses


def clauses_by_start(ctx: FileContext) -> list[Clause]:
    """`clauses(ctx)` in source order (nested modules interleave with their parents)."""

    def build() -> list[Clause]:
        found = clauses(ctx)
        return sorted(found, key=_CLAUSE_START) if len(found) > 1 else found

    return ctx.shared("l2.clauses_by_start", build)


_CLAUSE_START = attrgetter("start")


class Spans:
    """Innermost-containing lookup over byte ranges that nest or are disjoint (defs, tests)."""

    def __init__(self, nodes: Sequence[Node]) -> None:
        ordered = sorted(nodes, key=lambda n: (n.start_byte, -n.end_byte))
        self.nodes = ordered
        self.starts = [n.start_byte for n in ordered]

    def owner(self, node: Node) -> int | None:
        """Index (in `self.nodes`) of the innermost range containing `node`, or None."""
        i = bisect.bisect_right(self.starts, node.start_byte) - 1
        while i >= 0:
            candidate = self.nodes[i]
            if (
                candidate.end_byte >= node.end_byte
                and candidate.start_byte <= node.start_byte
                and candidate != node
            ):
                return i
            i -= 1
        return None


def clause_spans(ctx: FileContext) -> Spans:
    """The lookup that tells which clause (index into `clauses(ctx)`) contains a node."""
    return ctx.shared("l2.clause_spans", lambda: Spans([c.node for c in clauses(ctx)]))


class SortedNodes:
    """Index nodes of one kind (sorted by start byte, as the index keeps them), sliceable by
    byte range with a binary search over their start offsets."""

    def __init__(self, nodes: Sequence[Node]) -> None:
        self.nodes = nodes
        self.starts = [n.start_byte for n in nodes]

    def _bounds(self, outer: Node) -> tuple[int, int]:
        lo = bisect.bisect_left(self.starts, outer.start_byte)
        return lo, bisect.bisect_left(self.starts, outer.end_byte, lo)

    def within(self, outer: Node) -> Sequence[Node]:
        """The nodes that start inside `outer` (hence are its descendants)."""
        lo, hi = self._bounds(outer)
        return self.nodes[lo:hi]

    def count_within(self, outer: Node) -> int:
        lo, hi = self._bounds(outer)
        return hi - lo

    def between(self, start: int, end: int) -> Sequence[Node]:
        """The nodes that start in the byte range [start, end)."""
        lo = bisect.bisect_left(self.starts, start)
        return self.nodes[lo : bisect.bisect_left(self.starts, end, lo)]

    def any_between(self, start: int, end: int) -> bool:
        i = bisect.bisect_left(self.starts, start)
        return i < len(self.starts) and self.starts[i] < end


def sorted_nodes(ctx: FileContext, key: str, nodes: Callable[[], Sequence[Node]]) -> SortedNodes:
    """A per-file SortedNodes for `nodes()` (sorted by start byte), shared under `key`."""
    return ctx.shared(f"l2.sorted.{key}", lambda: SortedNodes(nodes()))


def block_calls(ctx: FileContext, names: Sequence[str]) -> list[Node]:
    """Calls of these block macros that really are blocks (`if x do`, `if x, do:`), in source
    order; cached per file and name, so several rules asking for `if` filter it once."""
    found: list[Node] = []
    for name in names:
        found += ctx.shared(f"l2.block.{name}", partial(_block_calls, ctx, name))
    if len(names) > 1:
        found.sort(key=START)
    return found


def _block_calls(ctx: FileContext, name: str) -> list[Node]:
    wanted = (name,)
    return [n for n in ctx.index.calls_named(name) if is_block_call(n, wanted)]


def statements(container: Node) -> list[Node]:
    """The statements of a do/else/after block, a stab clause body or a `(a; b)` block."""
    return [
        c
        for c in container.named_children
        if c.type not in ("comment", "else_block", "rescue_block", "catch_block", "after_block")
        and c.type != "stab_clause"
    ]


SEQUENCE_TYPES = frozenset({"do_block", "else_block", "after_block", "body", "block", "source"})


# --- cheap per-file plumbing ------------------------------------------------------------------

_DERIVED: dict[tuple[int, str, str, int], tuple[object, Any]] = {}


def derived(ctx: FileContext, rule: Rule, name: str, build: Callable[[Any], T]) -> T:
    """`build(ctx.param(rule, name))`, computed once per configuration (sets, compiled
    patterns... that a rule would otherwise rebuild for every file)."""
    config = ctx.config
    key = (id(config), rule.id, name, id(build))
    hit = _DERIVED.get(key)
    if hit is not None and hit[0] is config:
        value: T = hit[1]
        return value
    value = build(ctx.param(rule, name))
    if len(_DERIVED) >= 4096:
        _DERIVED.clear()
    _DERIVED[key] = (config, value)
    return value


def source(ctx: FileContext) -> bytes:
    """The UTF-8 bytes of the file (what tree-sitter offsets index), without re-encoding."""
    return ctx.source or ctx.text.encode("utf-8")


# Byte classes of the source, one C-level `translate` shared by the rules that scan the text:
# lower-case letters become `a`, upper-case `A`, digits and `_` become `0`, everything else
# (punctuation, whitespace, non-ASCII bytes) a space. Substring searches over it find humps
# (`aA`, `0A`), digit runs (`00000`) and word ends (` `) at C speed.
_CLASS_TABLE = bytes.maketrans(
    bytes(range(256)),
    bytes(
        97 if 97 <= b <= 122 else 65 if 65 <= b <= 90 else 48 if 48 <= b <= 57 or b == 95 else 32
        for b in range(256)
    ),
)


def byte_classes(ctx: FileContext) -> bytes:
    """The file's bytes mapped to classes (see `_CLASS_TABLE`), computed once per file."""
    return ctx.shared("l2.classes", lambda: source(ctx).translate(_CLASS_TABLE))


def pipes(ctx: FileContext) -> list[Node]:
    return ctx.index.binary_operators("|>")


def sorted_ops(ctx: FileContext, op: str) -> SortedNodes:
    """The binary operators `op` of the file as a SortedNodes, shared per file."""
    return sorted_nodes(ctx, f"binop.{op}", partial(ctx.index.binary_operators, op))


_SPACE = frozenset(b" \t\r\n\f\v")


def code_before(src: bytes, pos: int) -> int:
    """Index of the last byte of code before `pos` (whitespace skipped), or -1 at the start of
    the file; -2 when the text cannot tell: a comment may sit in between (a line crossed on
    the way contains `#`), or a `\\` line continuation or non-ASCII byte ends the gap."""
    i = pos - 1
    crossed = False
    while i >= 0:
        byte = src[i]
        if byte not in _SPACE:
            break
        if byte == 10:
            crossed = True
        i -= 1
    if i >= 0 and (src[i] == 92 or src[i] >= 128):
        return -2
    if crossed and i >= 0 and src.rfind(b"#", src.rfind(b"\n", 0, i) + 1, i + 1) != -1:
        return -2
    return i


def code_after(src: bytes, pos: int) -> int:
    """Index of the first byte of code at or after `pos`, skipping whitespace and comments;
    -1 when the text cannot tell (a `\\` line continuation or a non-ASCII byte)."""
    size = len(src)
    i = pos
    while i < size:
        byte = src[i]
        if byte == 35:  # "#": a comment runs to the end of the line
            nl = src.find(b"\n", i)
            if nl == -1:
                return size
            i = nl + 1
        elif byte in _SPACE:
            i += 1
        elif byte == 92 or byte >= 128:
            return -1
        else:
            return i
    return size


def ends_with_token(src: bytes, pos: int, token: bytes) -> bool | None:
    """Whether the code before `pos` ends with `token`; None when the text cannot tell."""
    i = code_before(src, pos)
    if i == -2:
        return None
    start = i + 1 - len(token)
    return start >= 0 and src[start : i + 1] == token
