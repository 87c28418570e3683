"""L6 observable: context functions that change data without telling anyone.

A Phoenix context (`lib/<app>/...`, not `lib/<app>_web/`) is the application layer, where the
ladder wants business events: "order placed", "user deleted". A public function that writes
through `Repo.insert/update/delete` (directly or via the module's private helpers) and neither
logs nor emits telemetry leaves operators with Ecto's per-query timings only: they can see that
SQL ran, not which business operation failed or how often.

Advisory (a notice) by default: teams that want it enforced raise the severity in
`.github/ladder.yml`.
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

WRITES = frozenset(
    {
        "insert",
        "insert!",
        "update",
        "update!",
        "delete",
        "delete!",
        "insert_or_update",
        "insert_or_update!",
        "insert_all",
        "update_all",
        "delete_all",
    }
)
# Every write through a Repo reads `Repo.insert...`/`update...`/`delete...` in the source.
_WRITE_TEXT = re.compile(rb"Repo\.(?:insert|update|delete)")
_CONTEXT_PATH = re.compile(r"(?:^|/)lib/(?P<app>[^/]+)/")


def _is_repo(module: str) -> bool:
    return module == "Repo" or module.endswith(".Repo")


def _is_context_file(path: str) -> bool:
    m = _CONTEXT_PATH.search(path)
    return (
        m is not None and not m.group("app").endswith("_web") and (not path.endswith("/repo.ex"))
    )


def _check(ctx: FileContext) -> Iterator[Finding]:
    if not _is_context_file(ctx.path) or _WRITE_TEXT.search(ctx.source) is None:
        return
    writes = [n for (mod, fun), n in ctx.index.remote_calls_where(_write_key) if fun in WRITES]
    if not writes:
        return
    positions = obs.Positions(writes)
    for module in ctx.modules:
        yield from _module(ctx, module, positions)


def _write_key(module: str, fun: str) -> bool:
    return fun in WRITES and _is_repo(module)


class _LocalCalls:
    """The calls of some local names (and `&name/arity` captures of them), in source order:
    which names are called in a byte range, by binary search instead of a walk."""

    def __init__(self, ctx: FileContext, names: set[str]) -> None:
        pairs = [(c.start_byte, name) for name in names for c in ctx.index.calls_named(name)]
        pairs += [p for p in _captures(ctx) if p[1] in names]
        pairs.sort()
        self.starts = [p[0] for p in pairs]
        self.names = [p[1] for p in pairs]

    def within(self, start: int, end: int) -> list[str]:
        lo = bisect.bisect_left(self.starts, start)
        return self.names[lo : bisect.bisect_left(self.starts, end, lo)]


def _captures(ctx: FileContext) -> list[tuple[int, str]]:
    """(offset, name) of every `&name/arity` of the file (the `&` operators, from the index)."""

    def build() -> list[tuple[int, str]]:
        source = ctx.source
        if b"&" not in source:
            return []
        found: list[tuple[int, str]] = []
        for node in ctx.index.nodes("unary_operator"):
            start = node.start_byte
            if source[start] != _AMPERSAND:
                continue
            captured = _captured_local(node)
            if captured is not None:
                found.append((start, captured))
        return found

    return ctx.shared("l6.captures", build)


_AMPERSAND = ord("&")


def _module(ctx: FileContext, module: elixir.Module, writes: obs.Positions) -> Iterator[Finding]:
    if not module.functions:
        return
    local = _LocalCalls(ctx, {f.name for f in module.functions})
    # name -> (writes, calls, body ranges); whether a function observes is asked only for the
    # functions a writing public function reaches.
    facts: dict[str, tuple[bool, set[str], list[tuple[int, int]]]] = {}
    for function in module.functions:
        write = False
        calls: set[str] = set()
        bodies: list[tuple[int, int]] = []
        for clause in function.clauses:
            node = clause.node
            write = write or writes.any_within(node.start_byte, node.end_byte)
            body = clause.body
            if body is None:
                continue
            start, end = body.start_byte, body.end_byte
            bodies.append((start, end))
            calls.update(local.within(start, end))
        old = facts.get(function.name)
        if old is not None:
            write, calls, bodies = old[0] or write, old[1] | calls, old[2] + bodies
        facts[function.name] = (write, calls, bodies)
    observes: dict[str, bool] = {}
    for function in module.functions:
        if not function.public or function.impl:
            continue
        reach = _reach(function.name, facts)
        if not any(facts[name][0] for name in reach):
            continue
        if any(_observes(ctx, name, facts, observes) for name in reach):
            continue
        yield ctx.finding(
            CONTEXT_UNOBSERVED,
            function.node,
            f"{module.name}.{function.name}/{function.arities[0]} writes through Repo but "
            "emits no telemetry and no log: operators see SQL timings, not the business "
            "operation",
            end_line=elixir.line_of(function.node),
            fix="wrap it in `:telemetry.span([:my_app, :orders, :create], meta, fn -> ... end)` "
            "or log the outcome with metadata",
        )


# Text every observing call holds (`obs.is_observing_call`): a log/telemetry module, a tracker,
# `raise`/`reraise`/`throw`/`exit`, or a word of a local reporting helper's name.
_OBSERVING_TEXT = re.compile(
    rb"[Ll]ogger|[Tt]elemetry|Sentry|Honeybadger|Appsignal|Bugsnag|Rollbax|ErrorTracker"
    rb"|NewRelic|Spandex|Tracer|Datadog|Instrument|raise|throw|exit"
    rb"|log|emit|instrument|report|notify|track|alert"
)


def _observes(
    ctx: FileContext,
    name: str,
    facts: dict[str, tuple[bool, set[str], list[tuple[int, int]]]],
    known: dict[str, bool],
) -> bool:
    """Whether a body of the function calls something that observes (cached in `known`)."""
    found = known.get(name)
    if found is None:
        source = ctx.source
        bodies = [r for r in facts[name][2] if _OBSERVING_TEXT.search(source, *r) is not None]
        if bodies:
            observing = obs.observing_calls(ctx)
            found = any(observing.any_within(start, end) for start, end in bodies)
        else:
            found = False
        known[name] = found
    return found


def _captured_local(node: Node) -> str | None:
    """`&helper/1` (passed to Enum.map, Multi.run, ...) is a call of `helper` too."""
    op = node.child_by_field_name("operator")
    operand = node.child_by_field_name("operand")
    if op is None or op.type != "&" or operand is None or operand.type != "binary_operator":
        return None
    left = operand.child_by_field_name("left")
    return elixir.text(left) if left is not None and left.type == "identifier" else None


def _reach(name: str, facts: dict[str, tuple[bool, set[str], list[tuple[int, int]]]]) -> set[str]:
    """`name` and the local functions it calls, transitively (those defined in the module)."""
    seen: set[str] = set()
    stack = [name]
    while stack:
        current = stack.pop()
        if current in seen or current not in facts:
            continue
        seen.add(current)
        stack.extend(facts[current][1])
    return seen


CONTEXT_UNOBSERVED = Rule(
    id="L6.context-unobserved",
    severity=Severity.NOTICE,
    title="Context function writes data but emits no telemetry or log",
    explanation=(
        "Ecto reports query timings, but not the business operation around them: which "
        "order failed to be placed, how many sign-ups happened this hour. A public context "
        "function (module under `lib/<app>/`) that writes through `Repo.insert/update/delete` "
        "should emit a telemetry event (`:telemetry.span/3`) or log the outcome with "
        "metadata, so the application layer is observable. Advisory by default; raise the "
        "severity in `.github/ladder.yml` to enforce it."
    ),
    bad_example=(
        "defmodule Shop.Orders do\n"
        '  @moduledoc "Orders."\n'
        "  def create_order(attrs) do\n"
        "    %Order{}\n"
        "    |> Order.changeset(attrs)\n"
        "    |> Repo.insert()\n"
        "  end\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.Orders do\n"
        '  @moduledoc "Orders."\n'
        "  def create_order(attrs) do\n"
        "    :telemetry.span([:shop, :orders, :create], %{}, fn ->\n"
        "      result = %Order{} |> Order.changeset(attrs) |> Repo.insert()\n"
        "      {result, %{ok: match?({:ok, _}, result)}}\n"
        "    end)\n"
        "  end\n"
        "end\n"
    ),
    applies_to=LIB,
    example_path="lib/shop/orders.ex",
    check=_check,
)

RULES = (CONTEXT_UNOBSERVED,)
