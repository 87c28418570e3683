"""L6 observable: errors that are caught and then dropped without a trace.

Yuan et al. ("Simple Testing Can Prevent Most Critical Failures") found that 92% of
catastrophic failures in distributed systems came from mishandled errors, nearly all of them in
three shapes, which these rules look for:

* an error tuple matched and turned into a constant: `{:error, _} -> nil | :ok | []`;
* a catch-all `rescue _ ->` / `rescue e ->` or `catch :exit, _ ->` / `catch _, _ ->` that
  neither re-raises, logs, emits telemetry nor passes the reason on;
* a placeholder handler: `# TODO`/`# FIXME` inside an error branch;

plus `with ... else _ -> ...`, which throws away the reason of whichever step failed.

A branch that logs, emits telemetry, reports to an error tracker, raises, or uses the bound
error value is considered handled. L6 is advisory: these are notices unless a team raises them.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator

from tree_sitter import Node

from checks import elixir
from checks import observability_support as obs
from checks.context import FileContext
from checks.model import FileKind, Finding, Rule, Severity

LIB: frozenset[FileKind] = frozenset({"lib"})

_TODO = re.compile(r"#.*?\b(TODO|FIXME)\b")


def _kind(stab: Node) -> str:
    """Where a stab clause sits: rescue, catch, with_else, try_else or clause."""
    parent = stab.parent
    if parent is None:
        return "clause"
    if parent.type == "rescue_block":
        return "rescue"
    if parent.type == "catch_block":
        return "catch"
    if parent.type == "else_block":
        owner = parent.parent.parent if parent.parent is not None else None
        name = elixir.local_name(owner) if owner is not None else None
        return "with_else" if name == "with" else "try_else" if name == "try" else "clause"
    if parent.type == "block" and parent.parent is not None and parent.parent.type == "pair":
        pair = parent.parent
        owner = pair.parent.parent.parent if pair.parent and pair.parent.parent else None
        if (
            elixir.keyword_key(pair) == "else"
            and owner is not None
            and (elixir.local_name(owner) == "with")
        ):
            return "with_else"
    return "clause"


def _word_offsets(source: bytes, word: bytes, start: int = 0, end: int = -1) -> list[int]:
    """Offsets of `word` standing alone (not part of a longer name) in source[start:end]."""
    found: list[int] = []
    size = len(word)
    last = len(source) if end < 0 else end
    i = source.find(word, start, last)
    while i >= 0:
        stop = i + size
        if (i == 0 or source[i - 1] not in _NAME_BYTES) and (
            stop == len(source) or source[stop] not in _NAME_BYTES
        ):
            found.append(i)
        i = source.find(word, stop, last)
    return found


_NAME_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_BLOCK_WORDS = (b"rescue", b"catch", b"else")
_BLOCK_TYPES = frozenset({"rescue_block", "catch_block", "else_block"})


def _special_stabs(ctx: FileContext) -> dict[str, list[Node]]:
    """The stab clauses whose `_kind` is rescue, catch or with_else (try_else, judged like any
    clause, may be missing), in source order, found from the keywords that open their blocks
    instead of asking every stab clause of the file for its parent (a costly walk down from
    the root): a `rescue`/`catch`/`else` block starts with its keyword, and an `else:` keyword
    list value holds the word in its key. Only the `else` inside a `with` call is looked at."""

    def build() -> dict[str, list[Node]]:
        source = ctx.source
        root = ctx.root
        kinds: dict[str, list[Node]] = {}
        seen: set[int] = set()
        for word in _BLOCK_WORDS:
            if word == b"else":
                # Only an `else` of a `with` is special (a `try`'s else is judged as a clause):
                # the words inside the text of each `with` call (once each, withs may nest).
                inside: set[int] = set()
                for call in ctx.index.calls_named("with"):
                    start, end = call.start_byte, call.end_byte
                    if source.find(word, start, end) >= 0:
                        inside.update(_word_offsets(source, word, start, end))
                offsets = sorted(inside)
            else:
                offsets = _word_offsets(source, word)
            for at in offsets:
                node = root.named_descendant_for_byte_range(at, at + len(word))
                if node is None:
                    continue
                block: Node | None = node if node.type in _BLOCK_TYPES else None
                if block is None and word == b"else":
                    block = _else_value(node)
                if block is None or block.id in seen:
                    continue
                seen.add(block.id)
                for stab in block.named_children:
                    if stab.type != "stab_clause":
                        continue
                    kind = _kind(stab)
                    if kind != "clause":
                        kinds.setdefault(kind, []).append(stab)
        for stabs in kinds.values():
            stabs.sort(key=_start_of)
        return kinds

    return ctx.shared("l6.special_stabs", build)


def _else_value(node: Node) -> Node | None:
    """The `(a -> b)` block of an `else:` pair whose key holds the word at `node`."""
    pair: Node | None = node
    for _ in range(3):
        if pair is None or pair.type == "pair":
            break
        pair = pair.parent
    if pair is None or pair.type != "pair":
        return None
    value = pair.child_by_field_name("value")
    return value if value is not None and value.type == "block" else None


def _start_of(node: Node) -> int:
    return node.start_byte


def _body(stab: Node) -> Node | None:
    return stab.child_by_field_name("right")


def _returns_constant(body: Node | None) -> bool:
    tails = list(elixir.tail_expressions(body))
    return bool(tails) and all(obs.is_constant(t) for t in tails)


def _short(node: Node | None) -> str:
    raw = " ".join(elixir.text(node).split()) if node is not None else "nothing"
    return raw if len(raw) <= 30 else raw[:27] + "..."


# --- {:error, _} -> nil ---------------------------------------------------------------------


def _drops_reason(pattern: Node) -> bool:
    """`{:error, _}` / `{:error, reason}` (to be checked for use): the reason is not a literal
    (a clause for one specific error, `{:error, :not_found} -> nil`, is deliberate handling)."""
    if pattern.type == "binary_operator":
        op = pattern.child_by_field_name("operator")
        side = pattern.child_by_field_name("left")
        if op is not None and op.type in ("when", "=") and side is not None:
            return _drops_reason(side) or (
                op.type == "=" and _drops_reason(pattern.child_by_field_name("right") or side)
            )
        return False
    if not elixir.is_tagged_tuple(pattern, ":error"):
        return False
    items = [c for c in pattern.named_children if c.type != "comment"][1:]
    return any(not elixir.is_literal(item) for item in items) or not items


def _error_swallowed(ctx: FileContext) -> Iterator[Finding]:
    source = ctx.source
    if b":error" not in source:
        return
    # A pattern that drops an error reason holds the text `:error`: only the stab clauses with
    # `:error` before their arrow are looked at on the tree.
    errors = [m.start() for m in _ERROR_ATOM.finditer(source)]
    count, last = len(errors), errors[-1]
    for stab in ctx.index.nodes("stab_clause"):
        start = stab.start_byte
        if start > last:
            break  # stab clauses come sorted: none of the rest holds `:error`
        i = bisect.bisect_left(errors, start)
        end = stab.end_byte
        if i == count or errors[i] >= end:
            continue
        arrow = source.find(b"->", start, end)
        if arrow >= 0 and _UNSURE_HEAD.search(source, start, arrow) is None:
            # That arrow is the clause's own: the pattern is the text before it.
            if arrow <= errors[i]:
                continue  # no `:error` in the pattern
            if _ERROR_BODY.fullmatch(source, arrow + 2, end) is not None:
                continue  # the clause returns an error tuple: nothing is swallowed
        patterns = obs.clause_patterns(stab)
        if len(patterns) != 1 or not _drops_reason(patterns[0]):
            continue
        body = _body(stab)
        if not _returns_constant(body) or _kind(stab) in ("rescue", "catch"):
            continue
        if obs.uses_any(body, obs.bound_names(patterns[0])) or obs.observes(body):
            continue
        yield ctx.finding(
            ERROR_SWALLOWED,
            stab,
            f"`{_short(patterns[0])} -> {_short(body)}` drops the error: the caller gets a "
            "normal-looking value and nobody learns why it failed",
            end_line=elixir.line_of(stab),
            fix="return the error (`{:error, reason} -> {:error, reason}`), or log it with "
            "the reason in metadata before falling back",
        )


_ERROR_ATOM = re.compile(rb":error")
# A clause body that is one flat `{:error, ...}` tuple (its only tail, never a constant).
_ERROR_BODY = re.compile(rb"\s*\{\s*:error\s*(?:\}|,[^{}()\[\]\"'#~?]*\})\s*")
# Text before a stab clause's first `->` that may hide its real arrow (a string, comment,
# sigil, char literal, fn or do block holding `->`): such clauses are checked on the tree.
_UNSURE_HEAD = re.compile(rb"[\"'~#?]|fn|do")


# --- rescue / catch -------------------------------------------------------------------------


def _catch_all_rescue(pattern: Node) -> bool:
    return pattern.type == "identifier"


def _rescue_swallowed(ctx: FileContext) -> Iterator[Finding]:
    for stab in _special_stabs(ctx).get("rescue", ()):
        patterns = obs.clause_patterns(stab)
        if len(patterns) != 1 or not _catch_all_rescue(patterns[0]):
            continue
        body = _body(stab)
        if obs.uses_any(body, obs.bound_names(patterns[0])) or obs.observes(body):
            continue
        yield ctx.finding(
            RESCUE_SWALLOWED,
            stab,
            f"`rescue {_short(patterns[0])} -> {_short(body)}` catches every exception and "
            "hides it: no re-raise, no log, no telemetry, the exception is not passed on",
            end_line=elixir.line_of(stab),
            fix="rescue the specific exception (`e in Jason.DecodeError ->`), and log or "
            "return it (`{:error, Exception.message(e)}`); or let it crash",
        )


_CATCH_KINDS = frozenset({":exit", ":throw", ":error"})


def _catch_all(patterns: list[Node]) -> bool:
    """`_`, `:exit, _`, `_, _`, `kind, reason`: any value of (a whole class of) catches."""
    if not patterns or len(patterns) > 2:
        return False
    value = patterns[-1]
    if value.type != "identifier":
        return False
    if len(patterns) == 2:
        kind = patterns[0]
        return kind.type == "identifier" or (
            kind.type == "atom" and elixir.text(kind) in _CATCH_KINDS
        )
    return True


def _catch_swallowed(ctx: FileContext) -> Iterator[Finding]:
    for stab in _special_stabs(ctx).get("catch", ()):
        patterns = obs.clause_patterns(stab)
        if not _catch_all(patterns):
            continue
        body = _body(stab)
        bound: set[str] = set()
        for pattern in patterns:
            bound |= obs.bound_names(pattern)
        if obs.uses_any(body, bound) or obs.observes(body):
            continue
        shown = ", ".join(_short(p) for p in patterns)
        yield ctx.finding(
            CATCH_SWALLOWED,
            stab,
            f"`catch {shown} -> {_short(body)}` swallows every exit/throw of that kind: "
            "crashes, timeouts and shutdowns all look like success",
            end_line=elixir.line_of(stab),
            fix="match the specific reason (`:exit, {:timeout, _} ->`) and log or return it",
        )


# --- with ... else _ -> ---------------------------------------------------------------------


def _with_else(ctx: FileContext) -> Iterator[Finding]:
    for stab in _special_stabs(ctx).get("with_else", ()):
        patterns = obs.clause_patterns(stab)
        if len(patterns) != 1 or not obs.is_discard(patterns[0]):
            continue
        yield ctx.finding(
            WITH_ELSE,
            stab,
            f"`with ... else {_short(patterns[0])} -> {_short(_body(stab))}` erases which "
            "step failed and why",
            end_line=elixir.line_of(stab),
            fix="match the error shapes the steps return (`{:error, reason} -> ...`) or drop "
            "the else and let `with` return the failing value",
        )


# --- TODO/FIXME in an error branch -----------------------------------------------------------


def _error_branches(ctx: FileContext) -> Iterator[tuple[int, int]]:
    """Line ranges of error-handling code: rescue/catch/with-else blocks and error clauses."""
    seen: set[int] = set()
    kinds = {stab.id: kind for kind, stabs in _special_stabs(ctx).items() for stab in stabs}
    for stab in ctx.index.nodes("stab_clause"):
        kind = kinds.get(stab.id, "clause")
        if kind in ("rescue", "catch", "with_else"):
            block = stab.parent
            if block is not None and block.id not in seen:
                seen.add(block.id)
                yield elixir.line_of(block), elixir.end_line_of(block)
            continue
        patterns = obs.clause_patterns(stab)
        if len(patterns) == 1 and obs.is_error_pattern(patterns[0]):
            yield elixir.line_of(stab), elixir.end_line_of(stab)


def _todo(ctx: FileContext) -> Iterator[Finding]:
    if "TODO" not in ctx.text and "FIXME" not in ctx.text:
        return
    reported: set[int] = set()
    for first, last in _error_branches(ctx):
        for number in range(first, min(last, len(ctx.lines)) + 1):
            if number in reported:
                continue
            m = _TODO.search(ctx.lines[number - 1])
            if m is None or not _is_comment(ctx, number, m.start()):
                continue
            reported.add(number)
            yield ctx.finding(
                TODO_IN_ERROR,
                number,
                f"{m.group(1)} inside an error branch: a placeholder handler that was never "
                "written is how errors get lost in production",
                column=m.start() + 1,
                fix="handle the error now (return, log, or re-raise it) and delete the note",
            )


def _is_comment(ctx: FileContext, line: int, column: int) -> bool:
    node = ctx.root.descendant_for_point_range((line - 1, column), (line - 1, column + 1))
    return node is not None and node.type == "comment"


ERROR_SWALLOWED = Rule(
    id="L6.error-swallowed",
    severity=Severity.NOTICE,
    title="Error tuple matched and replaced by a constant",
    explanation=(
        "`{:error, _} -> nil` (or `:ok`, `[]`, `false`) turns a failure into a normal-looking "
        "value: the caller cannot tell, nothing is logged, and the reason is gone. Most "
        "catastrophic production failures start this way (Yuan et al.: 92% from error "
        "handling). Return the error, or log it with its reason in metadata before falling "
        "back. Matching one specific error (`{:error, :not_found} -> nil`) is deliberate and "
        "not reported."
    ),
    bad_example=(
        "defmodule Shop.Orders do\n"
        '  @moduledoc "Orders."\n'
        "  def place(changeset) do\n"
        "    case Repo.insert(changeset) do\n"
        "      {:ok, order} -> order\n"
        "      {:error, _changeset} -> nil\n"
        "    end\n"
        "  end\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.Orders do\n"
        '  @moduledoc "Orders."\n'
        "  def place(changeset) do\n"
        "    case Repo.insert(changeset) do\n"
        "      {:ok, order} -> {:ok, order}\n"
        "      {:error, changeset} -> {:error, changeset}\n"
        "    end\n"
        "  end\n"
        "end\n"
    ),
    applies_to=LIB,
    check=_error_swallowed,
)

RESCUE_SWALLOWED = Rule(
    id="L6.rescue-swallowed",
    severity=Severity.NOTICE,
    title="Catch-all rescue that hides the exception",
    explanation=(
        "`rescue _ -> ...` or `rescue e -> ...` catches every exception, including bugs "
        "(`FunctionClauseError`, `KeyError`) that should crash and be seen. When the branch "
        "neither re-raises, logs, emits telemetry nor returns the exception, the failure "
        "vanishes. Rescue the specific exception you expect and make it visible."
    ),
    bad_example=(
        "defmodule Shop.Rates do\n"
        '  @moduledoc "Rates."\n'
        "  def fetch(client) do\n"
        "    try do\n"
        "      client.get_rates()\n"
        "    rescue\n"
        "      _ -> %{}\n"
        "    end\n"
        "  end\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.Rates do\n"
        '  @moduledoc "Rates."\n'
        "  require Logger\n"
        "  def fetch(client) do\n"
        "    try do\n"
        "      client.get_rates()\n"
        "    rescue\n"
        "      e in Mint.TransportError ->\n"
        '        Logger.warning("rates unavailable", reason: Exception.message(e))\n'
        "        %{}\n"
        "    end\n"
        "  end\n"
        "end\n"
    ),
    applies_to=LIB,
    check=_rescue_swallowed,
)

CATCH_SWALLOWED = Rule(
    id="L6.catch-swallowed",
    severity=Severity.NOTICE,
    title="Catch-all catch that hides exits and throws",
    explanation=(
        "`catch :exit, _ -> :ok` or `catch _, _ -> nil` treats every exit (a crashed or "
        "timed-out GenServer call, a shutdown) as success. Nobody learns that the process on "
        "the other side is dying. Match the specific reason (`:exit, {:timeout, _}`) and log "
        "or return it."
    ),
    bad_example=(
        "defmodule Shop.Stock do\n"
        '  @moduledoc "Stock."\n'
        "  def reserve(server, sku) do\n"
        "    try do\n"
        "      GenServer.call(server, {:reserve, sku})\n"
        "    catch\n"
        "      :exit, _ -> :ok\n"
        "    end\n"
        "  end\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.Stock do\n"
        '  @moduledoc "Stock."\n'
        "  def reserve(server, sku) do\n"
        "    try do\n"
        "      GenServer.call(server, {:reserve, sku})\n"
        "    catch\n"
        "      :exit, {:timeout, _} -> {:error, :timeout}\n"
        "    end\n"
        "  end\n"
        "end\n"
    ),
    applies_to=LIB,
    check=_catch_swallowed,
)

TODO_IN_ERROR = Rule(
    id="L6.todo-in-error-branch",
    severity=Severity.NOTICE,
    title="TODO or FIXME inside an error branch",
    explanation=(
        "A `# TODO: handle this` in a `rescue`, `catch`, `with ... else` or `{:error, _}` "
        "branch marks an error handler that was never written, the second of the three "
        "patterns behind most catastrophic failures (Yuan et al.). The placeholder usually "
        "swallows the error until production finds it. Write the handling now."
    ),
    bad_example=(
        "defmodule Shop.Mailer do\n"
        '  @moduledoc "Mail."\n'
        "  def deliver(email) do\n"
        "    case Swoosh.Mailer.deliver(email) do\n"
        "      {:ok, _} -> :ok\n"
        "      {:error, reason} ->\n"
        "        # TODO: retry\n"
        "        {:error, reason}\n"
        "    end\n"
        "  end\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.Mailer do\n"
        '  @moduledoc "Mail."\n'
        "  def deliver(email) do\n"
        "    # TODO: move to Oban once the queue exists\n"
        "    case Swoosh.Mailer.deliver(email) do\n"
        "      {:ok, _} -> :ok\n"
        "      {:error, reason} -> {:error, reason}\n"
        "    end\n"
        "  end\n"
        "end\n"
    ),
    applies_to=LIB,
    check=_todo,
)

WITH_ELSE = Rule(
    id="L6.with-else-erases-reason",
    severity=Severity.NOTICE,
    title="With-else catch-all erases the failure reason",
    explanation=(
        "`with` returns the first value that does not match; an `else _ -> ...` clause "
        "replaces it, whatever it was, with one answer. Which step failed and why is lost, "
        "for the caller and for the logs. Match the error shapes you expect, or drop the "
        "`else` and let the failing value through."
    ),
    bad_example=(
        "defmodule Shop.Checkout do\n"
        '  @moduledoc "Checkout."\n'
        "  def run(cart) do\n"
        "    with {:ok, order} <- Orders.create(cart),\n"
        "         {:ok, _charge} <- Payments.charge(order) do\n"
        "      {:ok, order}\n"
        "    else\n"
        "      _ -> {:error, :checkout_failed}\n"
        "    end\n"
        "  end\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.Checkout do\n"
        '  @moduledoc "Checkout."\n'
        "  def run(cart) do\n"
        "    with {:ok, order} <- Orders.create(cart),\n"
        "         {:ok, _charge} <- Payments.charge(order) do\n"
        "      {:ok, order}\n"
        "    end\n"
        "  end\n"
        "end\n"
    ),
    applies_to=LIB,
    check=_with_else,
)

RULES = (ERROR_SWALLOWED, RESCUE_SWALLOWED, CATCH_SWALLOWED, TODO_IN_ERROR, WITH_ELSE)
