"""L2 unused results: a call to a pure function whose value is thrown away.

Elixir data is immutable: `Map.put(user, :name, n)` on a line of its own changes nothing, it
returns a new map that nobody reads. That is almost always a bug (the author expected mutation)
and credo reports it for Enum, String, Map, List, Keyword, Tuple, Path and Regex
(Warning.Unused*Operation). `Enum.each/2` is the one function called for its effect.

A value is used when it is bound (`=`, `<-`), passed to a call or operator, piped onward,
returned (the last expression of a function, followed up through if/case/fn bodies), or part of
a block macro's head (`if Map.has_key?(...)`). It is unused when it is a statement that is not
the last one of its block, or sits in a `try`'s `after`. Functions ending in `!`
(`Keyword.validate!/2`, `Map.fetch!/2`) are exempt: a statement calling one is there for the
exception it raises when the data is wrong.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from tree_sitter import Node

from checks import elixir
from checks.context import FileContext
from checks.l2_support import (
    BLOCK_MACROS,
    CODE_KINDS,
    SEQUENCE_TYPES,
    Spans,
    clause_spans,
    clauses,
    code_after,
    code_before,
    derived,
    is_binary,
    right,
    source,
    statements,
)
from checks.model import Finding, Rule, Severity

MODULES = ("Enum", "String", "Map", "List", "Keyword", "Tuple", "Path", "Regex")
BODY_KEYS = frozenset({"do", "else", "after", "rescue", "catch"})


def _allowed_pairs(allowed: Iterable[object]) -> frozenset[tuple[str, str]]:
    """`Mod.fun` entries as (Mod, fun) pairs: a function name has no dot."""
    return frozenset(
        (str(a).rsplit(".", 1)[0], str(a).rsplit(".", 1)[1]) for a in allowed if "." in str(a)
    )


def _unused(ctx: FileContext) -> Iterator[Finding]:
    modules = derived(ctx, UNUSED_RESULT, "modules", frozenset)
    allowed = derived(ctx, UNUSED_RESULT, "allow", _allowed_pairs)
    candidates = ctx.index.remote_calls_where(
        lambda m, f: m in modules and f[-1] != "!" and (m, f) not in allowed
    )
    if not candidates:
        return
    src = source(ctx)
    spans: Spans | None = None
    bodies: set[int] | None = None
    for (module, fun), call in candidates:
        start = call.start_byte
        if _used_by_text(src, start, call.end_byte):
            continue
        before = code_before(src, start)
        if before >= 0 and src[before] == 58:  # ":" ends a keyword: `do: call`
            # The whole `do:` body of a def starts here (or the call opens it): a function
            # returns that value.
            if bodies is None:
                bodies = {c.body.start_byte for c in clauses(ctx)}
            if start in bodies:
                continue
        if not _discarded(call):
            continue
        spans = spans or clause_spans(ctx)
        if spans.owner(call) is None:
            continue
        piped = is_binary(call.parent, "|>") and right(call.parent) == call  # type: ignore[arg-type]
        arity = len(elixir.call_args(call)) + (1 if piped else 0)
        yield ctx.finding(
            UNUSED_RESULT,
            call,
            f"the result of `{module}.{fun}/{arity}` is discarded: {module} functions return "
            "a new value and change nothing",
            end_line=elixir.line_of(call),
            fix="bind the result (`x = ...`) or remove the call",
        )


# Bytes a call's name or an accessed variable ends with: `f(`, `x[`.
_WORD_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def _used_by_text(src: bytes, start: int, end: int) -> bool:
    """Whether the text around a call shows its value is used.

    * Followed by `|>`: the call, or the expression it ends, is the left side of that pipe
      (a node ending there cannot be a statement that some other statement follows).
    * After an operator ending in `=` (a match or a comparison), as the first argument
      `f(call` or the key `x[call`, or as a keyword's value `key: call`: the call's parent
      is that operator, the call arguments, the access or the keyword pair, or something the
      call starts (an operator, a call, a dot). All of them use the value.
    """
    after = code_after(src, end)
    if after >= 0 and src.startswith(b"|>", after):
        return True
    at = code_before(src, start)
    if at < 1:
        return False
    byte = src[at]
    prev = src[at - 1]
    if byte == 61:  # "=", unless it is the char literal `?=` / `?\\=`
        return prev != 63 and prev != 92
    if byte in (40, 91):  # "(", "["
        if prev in _WORD_BYTES:
            return True  # `f(`, `x[`
        if prev in (63, 33):  # "?", "!": `valid?(` only when a name ends there
            return at > 1 and src[at - 2] in _WORD_BYTES
        if prev == 46 and byte == 40:  # `fun.(`, not the range `1..(`
            return at > 1 and src[at - 2] != 46
        return False
    if byte == 58:  # ":"
        # A keyword value `key: call` (a map's or a call's option) is kept, unless the key
        # names a body (`do:`, `else:`...) whose value may be dropped.
        word = _KEYWORD_BEFORE.search(src, max(at - 40, 0), at)
        return word is not None and word.group(1) not in _BODY_KEYS_BYTES
    return False


# The word of a keyword `word:` ending right before a given offset.
_KEYWORD_BEFORE = re.compile(rb"(?<![A-Za-z0-9_?!:\"'])([a-z_][A-Za-z0-9_]*[?!]?)\Z")
_BODY_KEYS_BYTES = frozenset(k.encode() for k in BODY_KEYS)


def _discarded(call: Node) -> bool:
    """Follow the value of `call` upwards until something uses or drops it."""
    node = call
    while True:
        parent = node.parent
        if parent is None:
            return False
        kind = parent.type
        if kind == "binary_operator":
            if is_binary(parent, "|>") and right(parent) == node:
                node = parent
                continue
            return False  # bound, compared, passed on: used
        if kind == "arguments":
            return False  # a call argument, or the head of if/case/with/for
        if kind == "pair":
            owner = _keyword_owner(parent)
            if owner is None or elixir.keyword_key(parent) not in BODY_KEYS:
                return False
            if _returns(owner):
                return False
            node = owner  # `if x, do: Map.put(...)`: the value is the macro's value
            continue
        if kind in SEQUENCE_TYPES:
            items = statements(parent)
            if kind == "after_block" or (items and items[-1] != node):
                return True
            if kind == "source":
                return False
            nxt = _leave_sequence(parent)
            if nxt is None:
                return False
            node = nxt
            continue
        if kind in ("stab_clause", "call", "dot", "access_call", "keywords"):
            return False
        node = parent  # tuples, lists, maps, unary operators: the container carries it


def _keyword_owner(pair: Node) -> Node | None:
    keywords = pair.parent
    args = keywords.parent if keywords is not None else None
    owner = args.parent if args is not None else None
    return owner if owner is not None and owner.type == "call" else None


def _returns(owner: Node) -> bool:
    """Whether the last value of this call's body is the result of something that keeps it:
    a function definition returns it, a `quote` turns it into code."""
    return elixir.local_name(owner) in elixir.DEF_KINDS | {"quote"}


def _leave_sequence(container: Node) -> Node | None:
    """The node whose value is the last statement of `container`, or None when kept."""
    kind = container.type
    if kind == "block":
        return container  # `(a; b)`: the block's value
    if kind == "body":
        stab = container.parent
        holder = stab.parent if stab is not None else None
        if holder is None:
            return None
        if holder.type == "anonymous_function":
            return holder
        return _block_owner(holder)
    return _block_owner(container)


def _block_owner(block: Node) -> Node | None:
    """From a do/else/rescue/catch block to the call that owns it (None if it keeps values)."""
    if block.type in ("else_block", "rescue_block", "catch_block", "after_block"):
        parent = block.parent
        if parent is None:
            return None
        block = parent
    owner = block.parent
    if owner is None or owner.type != "call" or _returns(owner):
        return None
    name = elixir.local_name(owner)
    if name in BLOCK_MACROS:
        return owner
    return None  # `test "..." do`, `describe`, DSL blocks: not a value we can follow


UNUSED_RESULT = Rule(
    id="L2.unused-result",
    severity=Severity.ERROR,
    title="Result of a pure function discarded",
    explanation=(
        "Elixir data is immutable, so `Map.put(map, k, v)`, `String.trim(s)` or "
        "`Enum.map(list, f)` on a line of their own do nothing: they return a new value that "
        "is dropped. It is almost always a bug (the code meant `map = Map.put(...)`), or an "
        "`Enum.map` used for side effects where `Enum.each` is meant. Modules checked: Enum, "
        "String, Map, List, Keyword, Tuple, Path, Regex (credo's Warning.Unused*Operation); "
        "`!` functions such as `Keyword.validate!/2` are called for their check and are exempt."
    ),
    bad_example=(
        "defmodule Shop.Users do\n"
        '  @moduledoc "Users."\n'
        "  def rename(user, name) do\n"
        "    Map.put(user, :name, name)\n"
        "    user\n"
        "  end\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.Users do\n"
        '  @moduledoc "Users."\n'
        "  def rename(user, name) do\n"
        "    user = Map.put(user, :name, name)\n"
        "    user\n"
        "  end\n"
        "end\n"
    ),
    applies_to=CODE_KINDS,
    params={"modules": MODULES, "allow": ("Enum.each",)},
    credo=tuple(f"Warning.Unused{m}Operation" for m in MODULES),
    check=_unused,
)

RULES = (UNUSED_RESULT,)
