"""L2 pipes: a pipeline of one step, a pipe into an anonymous function, and Enum pipelines that
walk a collection twice where one function walks it once.

The ladder enables credo's Readability.SinglePipe (off in credo's default config) with credo's
own defaults: a pipe starting with a zero-arity call, a list or a map is still reported, a
single pipe into a block (`x |> case do`) is allowed (`allow_blocks: true`). The Enum rule
covers credo's Refactor.MapJoin, FilterCount, FilterFilter, RejectReject and MapMap, in both the
piped and the nested form (`Enum.join(Enum.map(l, f))`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator

from tree_sitter import Node

from checks import elixir
from checks.context import FileContext
from checks.l2_support import (
    BLOCK_MACROS,
    CODE_KINDS,
    code_after,
    code_before,
    derived,
    ends_with_token,
    is_binary,
    is_block_call,
    left,
    pipes,
    right,
    source,
)
from checks.model import Finding, Rule, Severity


def _single_pipe(ctx: FileContext) -> Iterator[Finding]:
    found = pipes(ctx)
    if not found:
        return
    # The pipes of one pipeline `a |> f() |> g()` nest along their left operands, so they all
    # start at the same byte (operands binding tighter than `|>` cannot hold a pipe without
    # parentheses). Only a pipe whose start no other pipe shares can be a single step.
    starts = [p.start_byte for p in found]
    counts = Counter(starts)
    if len(counts) == len(starts):
        singles: list[Node] = found
    else:
        singles = [p for p, s in zip(found, starts, strict=True) if counts[s] == 1]
    if not singles:
        return
    allow_zero = bool(ctx.param(SINGLE_PIPE, "allow_0_arity_functions"))
    allow_blocks = bool(ctx.param(SINGLE_PIPE, "allow_blocks"))
    allow_lists = bool(ctx.param(SINGLE_PIPE, "allow_lists"))
    allow_maps = bool(ctx.param(SINGLE_PIPE, "allow_maps"))
    for pipe in singles:
        lhs, rhs = left(pipe), right(pipe)
        if lhs is None or rhs is None or is_binary(lhs, "|>"):
            continue
        parent = pipe.parent
        if is_binary(parent, "|>") and parent is not None and left(parent) == pipe:
            continue
        if allow_zero and lhs.type == "call" and not elixir.call_args(lhs):
            continue
        if allow_blocks and is_block_call(rhs, BLOCK_MACROS):
            continue
        if (allow_lists and lhs.type == "list") or (allow_maps and lhs.type == "map"):
            continue
        replacement = _direct_call(lhs, rhs)
        yield ctx.finding(
            SINGLE_PIPE,
            pipe,
            "a pipeline of a single step: call the function directly",
            fix=f"write `{replacement}`" if replacement else "call the function directly",
            suggestion=_suggestion(ctx, pipe, replacement),
            end_line=elixir.line_of(pipe),
        )


def _direct_call(lhs: Node, rhs: Node) -> str | None:
    """`f(x, a)` for `x |> f(a)`; None when the right side is not a plain call."""
    value = elixir.text(lhs)
    if "\n" in value:
        return None
    if rhs.type == "identifier":
        return f"{elixir.text(rhs)}({value})"
    if rhs.type != "call" or is_block_call(rhs):
        return None
    target = elixir.call_target(rhs)
    if target is None or (target.type == "dot" and target.child_by_field_name("left") is None):
        return None
    if target.type == "dot":
        dot_left = target.child_by_field_name("left")
        if dot_left is not None and dot_left.type not in ("alias", "atom", "identifier"):
            return None
    args = [elixir.text(a) for a in elixir.call_args(rhs)]
    if any("\n" in a for a in args) or elixir.do_block(rhs) is not None:
        return None
    return f"{elixir.text(target)}({', '.join([value, *args])})"


def _suggestion(ctx: FileContext, pipe: Node, replacement: str | None) -> str | None:
    """The whole line with the pipe replaced, when the pipe sits on one line."""
    if replacement is None or pipe.start_point.row != pipe.end_point.row:
        return None
    row = pipe.start_point.row
    if row >= len(ctx.lines):
        return None
    raw = ctx.lines[row].encode("utf-8")
    start, end = pipe.start_point.column, pipe.end_point.column
    return (raw[:start] + replacement.encode("utf-8") + raw[end:]).decode("utf-8", "replace")


def _pipe_into_fn(ctx: FileContext) -> Iterator[Finding]:
    fns = ctx.index.nodes("anonymous_function")
    if not fns or not pipes(ctx):
        return
    src = source(ctx)
    found: list[tuple[Node, Node]] = []
    for fn in fns:
        # `x |> (fn ... end).()`: only `(`s and whitespace separate the `|>` from the `fn`.
        i = code_before(src, fn.start_byte)
        while i >= 0 and src[i] == 40:  # "("
            i = code_before(src, i)
        if i != -2 and (i < 1 or src[i - 1 : i + 1] != b"|>"):
            continue
        hit = _piped_fn_call(fn)
        if hit is not None:
            found.append(hit)
    if len(found) > 1:  # report in the order of the pipes, as the index lists them
        order = {pipe.id: i for i, pipe in enumerate(pipes(ctx))}
        found.sort(key=lambda item: order[item[0].id])
    for _pipe, rhs in found:
        yield ctx.finding(
            PIPE_INTO_FN,
            rhs,
            "pipe into an anonymous function call `(fn ... end).()`",
            end_line=elixir.line_of(rhs),
            fix="name the step as a private function (or use `then/2`)",
        )


def _piped_fn_call(fn: Node) -> tuple[Node, Node] | None:
    """(pipe, call) when `fn` is the callee of `(fn ... end).()` on the right of a `|>`."""
    callee = fn
    holder = callee.parent
    while holder is not None and holder.type == "block" and holder.named_child_count == 1:
        callee, holder = holder, holder.parent
    if holder is None or holder.type != "dot" or holder.child_by_field_name("left") != callee:
        return None
    rhs = holder.parent
    if rhs is None or rhs.type != "call" or rhs.child_by_field_name("target") != holder:
        return None
    pipe = rhs.parent
    if pipe is None or not is_binary(pipe, "|>") or right(pipe) != rhs:
        return None
    return pipe, rhs


# (first, second) -> advice; the key is how `pairs` names it in the configuration.
ENUM_PAIRS: dict[str, tuple[str, str, str, str]] = {
    "map|>join": ("map", "join", "Refactor.MapJoin", "use `Enum.map_join/3`"),
    "filter|>count": (
        "filter",
        "count",
        "Refactor.FilterCount",
        "use `Enum.count/2` with the filter function",
    ),
    "filter|>filter": (
        "filter",
        "filter",
        "Refactor.FilterFilter",
        "combine both conditions in one `Enum.filter/2`",
    ),
    "reject|>reject": (
        "reject",
        "reject",
        "Refactor.RejectReject",
        "combine both conditions in one `Enum.reject/2`",
    ),
    "map|>map": ("map", "map", "Refactor.MapMap", "compose both functions in one `Enum.map/2`"),
    "filter|>reject": (
        "filter",
        "reject",
        "Refactor.FilterReject",
        "combine both conditions in one `Enum.filter/2`",
    ),
    "reject|>filter": (
        "reject",
        "filter",
        "Refactor.RejectFilter",
        "combine both conditions in one `Enum.filter/2`",
    ),
    "map|>into": ("map", "into", "Refactor.MapInto", "use `Enum.into/3` with the mapper"),
}
DEFAULT_PAIRS = ("map|>join", "filter|>count", "filter|>filter", "reject|>reject", "map|>map")

# Arity of the second call in the piped form (None: any); the nested form has one more.
PIPED_ARITY: dict[str, int | None] = {"count": 0, "into": 1}


def _enum_fun(node: Node | None) -> str | None:
    if node is None or node.type != "call" or node.named_child_count < 1:
        return None
    name = elixir.remote_name(node)
    if name is None or name[0] != "Enum":
        return None
    return name[1]


# `Enum.fun` as the index reads a remote call's target from its text.
_ENUM_FUNCTION = re.compile(rb"Enum\.([a-z_][A-Za-z0-9_]*+[?!]?+)")
# `Enum.fun` at a call's start, up to where its arguments begin.
_ENUM_HEAD = re.compile(rb"Enum[ \t]*\.[ \t]*[a-z_][A-Za-z0-9_]*[?!]?")


def _may_follow_enum(src: bytes, call: Node, enum_ends: set[int]) -> bool:
    """Whether the text allows `call` to take an `Enum.` call as its first argument or to be
    piped from one: false only when the step before `|>` is not such a call (the index knows
    where each one ends) and the first argument does not open with `Enum`."""
    piped = ends_with_token(src, call.start_byte, b"|>")
    if piped is None:
        return True
    if piped:
        bar = code_before(src, call.start_byte) - 1  # the `|` of `|>`
        last = code_before(src, bar)
        if last < 0 or last + 1 in enum_ends or _spaced_enum_call(src, last + 1):
            return True
    head = _ENUM_HEAD.match(src, call.start_byte)
    if head is None:
        return True
    at = head.end()
    if src[at : at + 1] == b"(":
        at += 1
    first = code_after(src, at)
    return first == -1 or src.startswith(b"Enum", first)


def _spaced_enum_call(src: bytes, end: int) -> bool:
    """Whether an `Enum . fun` written with space or a comment around the dot (a remote call
    for the tree, not for the index) may end at `end`: some `Enum` since the last `|>`."""
    start = max(src.rfind(b"|>", 0, end), 0)
    at = src.find(b"Enum", start, end)
    while at != -1:
        after = src[at + 4 : at + 5]
        if after in _GAP or (after == b"." and src[at + 5 : at + 6] in _GAP):
            return True
        at = src.find(b"Enum", at + 4, end)
    return False


_GAP = frozenset({b" ", b"\t", b"\n", b"\r", b"\f", b"\v", b"#", b"\\"})


def _enum_settings(
    pairs: Iterable[str],
) -> tuple[dict[tuple[str, str], str], tuple[str, ...], tuple[str, ...]]:
    """(wanted (first, second) -> key, the second functions, the first functions)."""
    wanted = {(ENUM_PAIRS[key][0], ENUM_PAIRS[key][1]): key for key in pairs if key in ENUM_PAIRS}
    seconds = tuple(sorted({pair[1] for pair in wanted}))
    firsts = tuple(sorted({pair[0] for pair in wanted}))
    return wanted, seconds, firsts


def _enum_pipeline(ctx: FileContext) -> Iterator[Finding]:
    wanted, seconds, firsts = derived(ctx, ENUM_PIPELINE, "pairs", _enum_settings)
    if not wanted:
        return
    calls = ctx.index.remote_calls("Enum", *seconds)
    if not calls:
        return
    src = source(ctx)
    enum_ends = {n.end_byte for n in ctx.index.remote_calls("Enum", *firsts)}
    for call in calls:
        if not _may_follow_enum(src, call, enum_ends):
            continue
        # The index filed the call under the function its text names after `Enum.`.
        named = _ENUM_FUNCTION.match(src, call.start_byte)
        if named is None:
            continue
        fun2 = named.group(1).decode()
        parent = call.parent
        piped = parent is not None and is_binary(parent, "|>") and right(parent) == call
        expected = PIPED_ARITY.get(fun2)
        if piped and parent is not None:
            previous = left(parent)
            first = (
                right(previous)
                if previous is not None and is_binary(previous, "|>")
                else previous
            )
        else:
            args = elixir.arguments_node(call)
            first = args.named_child(0) if args is not None and args.named_child_count else None
            expected = None if expected is None else expected + 1
        fun1 = _enum_fun(first)
        if first is None or fun1 is None or (fun1, fun2) not in wanted:
            continue
        if expected is not None and len(elixir.call_args(call)) != expected:
            continue
        key = wanted[(fun1, fun2)]
        advice = ENUM_PAIRS[key][3]
        yield ctx.finding(
            ENUM_PIPELINE,
            first,
            f"`Enum.{fun1}` followed by `Enum.{fun2}` walks the collection twice: {advice}",
            end_line=elixir.end_line_of(call),
            fix=advice,
        )


SINGLE_PIPE = Rule(
    id="L2.single-pipe",
    severity=Severity.WARNING,
    title="Pipeline of a single step",
    explanation=(
        "A pipe is for passing data through several steps; `x |> f()` is `f(x)` with an extra "
        "operator to read. The ladder asks for credo's Readability.SinglePipe (off in credo's "
        "default config) with credo's defaults: `allow_0_arity_functions`, `allow_lists` and "
        "`allow_maps` are false, `allow_blocks` (a single pipe into `case`/`if`/...) is true."
    ),
    bad_example=(
        "defmodule Shop.Names do\n"
        '  @moduledoc "Names."\n'
        "  def clean(name), do: name |> String.trim()\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.Names do\n"
        '  @moduledoc "Names."\n'
        "  def clean(name), do: String.trim(name)\n"
        "  def slug(name), do: name |> String.trim() |> String.downcase()\n"
        "end\n"
    ),
    applies_to=CODE_KINDS,
    params={
        "allow_0_arity_functions": False,
        "allow_blocks": True,
        "allow_lists": False,
        "allow_maps": False,
    },
    credo=("Readability.SinglePipe",),
    check=_single_pipe,
)

PIPE_INTO_FN = Rule(
    id="L2.pipe-into-anonymous-function",
    severity=Severity.WARNING,
    title="Pipe into an anonymous function call",
    explanation=(
        "`|> (fn x -> ... end).()` hides a step of the pipeline in punctuation. Give the step "
        "a name as a private function, or use `then/2` (credo's "
        "Readability.PipeIntoAnonymousFunctions)."
    ),
    bad_example=(
        "defmodule Shop.Prices do\n"
        '  @moduledoc "Prices."\n'
        "  def gross(net) do\n"
        "    net\n"
        "    |> (fn n -> n * 1.2 end).()\n"
        "    |> Float.round(2)\n"
        "  end\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.Prices do\n"
        '  @moduledoc "Prices."\n'
        "  def gross(net) do\n"
        "    net\n"
        "    |> with_tax()\n"
        "    |> Float.round(2)\n"
        "  end\n"
        "\n"
        "  defp with_tax(n), do: n * 1.2\n"
        "end\n"
    ),
    applies_to=CODE_KINDS,
    credo=("Readability.PipeIntoAnonymousFunctions",),
    check=_pipe_into_fn,
)

ENUM_PIPELINE = Rule(
    id="L2.enum-pipeline-inefficient",
    severity=Severity.WARNING,
    title="Two Enum passes where one function does both",
    explanation=(
        "`Enum.map |> Enum.join`, `Enum.filter |> Enum.count`, `filter |> filter`, "
        "`reject |> reject` and `map |> map` build an intermediate list and walk the data "
        "twice; `Enum.map_join/3`, `Enum.count/2` or one combined function do it in one pass "
        "(credo's Refactor.MapJoin, FilterCount, FilterFilter, RejectReject, MapMap). The "
        "`pairs` parameter lists the patterns; `filter|>reject`, `reject|>filter` and "
        "`map|>into` can be added."
    ),
    bad_example=(
        "defmodule Shop.Tags do\n"
        '  @moduledoc "Tags."\n'
        "  def render(tags) do\n"
        "    tags\n"
        "    |> Enum.map(& &1.name)\n"
        '    |> Enum.join(", ")\n'
        "  end\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.Tags do\n"
        '  @moduledoc "Tags."\n'
        "  def render(tags) do\n"
        '    Enum.map_join(tags, ", ", & &1.name)\n'
        "  end\n"
        "end\n"
    ),
    applies_to=CODE_KINDS,
    params={"pairs": DEFAULT_PAIRS},
    credo=tuple(ENUM_PAIRS[key][2] for key in ENUM_PAIRS),
    check=_enum_pipeline,
)

RULES = (SINGLE_PIPE, PIPE_INTO_FN, ENUM_PIPELINE)
