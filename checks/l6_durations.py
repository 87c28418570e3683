"""L6 observable: durations measured with the wall clock.

The wall clock (`System.system_time`, `DateTime.utc_now`, `:os.timestamp`) is adjusted by NTP,
leap-second smearing and VM migration: it can jump forwards or backwards, so the difference of
two readings can be negative or wildly wrong, and latency metrics built on it lie exactly when
the system is in trouble. `System.monotonic_time/0,1` only moves forward. `:telemetry.span/3`
measures with it for you.

A duration is recognised as the difference of two wall-clock readings taken in the same
function: `System.system_time(:ms) - start`, `DateTime.diff(DateTime.utc_now(), started_at)`,
`:timer.now_diff(:os.timestamp(), t0)`, where each side is a wall-clock call or a variable
assigned from one. `DateTime.diff(DateTime.utc_now(), user.inserted_at)` (an age, not a
measured duration) is not reported.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator

from tree_sitter import Node

from checks import elixir
from checks import security_support as sec
from checks.context import FileContext
from checks.model import FileKind, Finding, Rule, Severity

LIB: frozenset[FileKind] = frozenset({"lib"})

WALL_CLOCK = frozenset(
    {
        ("System", "system_time"),
        ("System", "os_time"),
        (":os", "timestamp"),
        (":os", "system_time"),
        (":erlang", "system_time"),
        (":erlang", "now"),
        (":erlang", "timestamp"),
        ("DateTime", "utc_now"),
        ("DateTime", "now"),
        ("DateTime", "now!"),
        ("NaiveDateTime", "utc_now"),
        ("NaiveDateTime", "local_now"),
        ("Time", "utc_now"),
    }
)
DIFFS = (
    ("DateTime", "diff"),
    ("NaiveDateTime", "diff"),
    ("Time", "diff"),
    (":timer", "now_diff"),
)


def _wall_call(node: Node) -> Node | None:
    """The wall-clock call an expression reads (`DateTime.utc_now() |> DateTime.to_unix()`)."""
    for n in elixir.walk(node):
        if n.type == "call":
            name = elixir.remote_name(n)
            if name in WALL_CLOCK:
                return n
        if n.type == "anonymous_function":
            return None
    return None


def _reading(node: Node, assigned: dict[str, Node]) -> Node | None:
    """The wall-clock call behind `node`: itself, or the value its variable was assigned."""
    if node.type == "identifier":
        value = assigned.get(elixir.text(node))
        return _wall_call(value) if value is not None else None
    if node.type == "call" and elixir.arguments_node(node) is None:
        return None  # a field such as `job.started_at`: stored, not measured here
    return _wall_call(node)


def _assignments(ctx: FileContext, node: Node) -> dict[str, Node]:
    clause = sec.clause_of(node)
    return sec.flow(ctx, clause).assigned if clause is not None else {}


def _check(ctx: FileContext) -> Iterator[Finding]:
    walls = ctx.index.remote_calls_where(_is_wall_clock)
    if not walls:
        return
    wall_starts = [n.start_byte for _key, n in walls]
    pairs: list[tuple[Node, Node, Node, str]] = []
    for node in ctx.index.binary_operators("-"):
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        if left is not None and right is not None:
            pairs.append((node, left, right, "subtracts"))
    for module, fun in DIFFS:
        for call in ctx.index.remote_calls(module, fun):
            args = elixir.call_args(call)
            if len(args) >= 2:
                pairs.append((call, args[0], args[1], f"`{module}.{fun}` diffs"))
    for at, left, right, verb in sorted(pairs, key=lambda p: p[0].start_byte):
        i = bisect.bisect_left(wall_starts, at.start_byte)
        if i == len(wall_starts) or wall_starts[i] >= at.end_byte:
            # No wall-clock call inside: each side can only be a variable assigned from one.
            if left.type != "identifier" or right.type != "identifier":
                continue
        elif (
            _wall_call(left) is None
            and _wall_call(right) is None
            and not (left.type == "identifier" or right.type == "identifier")
        ):
            continue
        assigned = _assignments(ctx, at)
        first = _reading(left, assigned)
        second = _reading(right, assigned)
        if first is None or second is None:
            continue
        name = elixir.remote_name(second) or elixir.remote_name(first)
        clock = f"{name[0]}.{name[1]}" if name else "the wall clock"
        yield ctx.finding(
            WALL_CLOCK_DURATION,
            at,
            f"{verb} two `{clock}` readings to measure a duration; the wall clock can jump "
            "(NTP, VM migration) and give negative or wrong latencies",
            fix="start = System.monotonic_time(); ...; System.convert_time_unit("
            "System.monotonic_time() - start, :native, :millisecond), or use :telemetry.span/3",
        )


def _is_wall_clock(module: str, fun: str) -> bool:
    return (module, fun) in WALL_CLOCK


WALL_CLOCK_DURATION = Rule(
    id="L6.wall-clock-duration",
    severity=Severity.NOTICE,
    title="Duration measured with the wall clock",
    explanation=(
        "`System.system_time`, `DateTime.utc_now` and `:os.timestamp` follow the wall clock, "
        "which NTP and VM migration move backwards and forwards. A duration computed from two "
        "readings can be negative or off by seconds, and latency metrics built on it are "
        "wrong exactly during incidents. Measure with `System.monotonic_time/0` (and "
        "`System.convert_time_unit/3`) or let `:telemetry.span/3` do it."
    ),
    bad_example=(
        "defmodule Shop.Import do\n"
        '  @moduledoc "Import."\n'
        "  require Logger\n"
        "  def run(rows) do\n"
        "    start = System.system_time(:millisecond)\n"
        "    Enum.each(rows, &insert/1)\n"
        "    elapsed = System.system_time(:millisecond) - start\n"
        '    Logger.info("import done", duration_ms: elapsed)\n'
        "  end\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.Import do\n"
        '  @moduledoc "Import."\n'
        "  require Logger\n"
        "  def run(rows) do\n"
        "    start = System.monotonic_time()\n"
        "    Enum.each(rows, &insert/1)\n"
        "    elapsed = System.monotonic_time() - start\n"
        "    ms = System.convert_time_unit(elapsed, :native, :millisecond)\n"
        '    Logger.info("import done", duration_ms: ms)\n'
        "  end\n"
        "end\n"
    ),
    applies_to=LIB,
    check=_check,
)

RULES = (WALL_CLOCK_DURATION,)
