"""L6 observable: telemetry that monitoring tools can rely on, and supervisors that show their
restarts.

The span convention (Keathley, "Telemetry Conventions"; what `:telemetry.span/3` emits):
an operation is three events `[:app, :thing, :start]`, `[:app, :thing, :stop]` and
`[:app, :thing, :exception]`. APM integrations, `Telemetry.Metrics` summaries and tracing
bridges all assume it, so a hand-rolled span named `[:app, :import, :begin]`/`[..., :done]`, or
a `:start` without its `:stop`, is invisible to them.

`:telemetry.span/3` itself is easy to misuse: its prefix must not end in `:start`/`:stop` (it
appends them), its metadata must be a map, and its function must return `{result, metadata}`
(or `{result, measurements, metadata}`).

A module that `use`s `Supervisor`/`DynamicSupervisor` restarts children silently unless
something logs or counts the restarts; the ladder asks to make that automation visible.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator

from tree_sitter import Node

from checks import elixir
from checks.context import FileContext
from checks.model import FileKind, Finding, Rule, Severity

LIB: frozenset[FileKind] = frozenset({"lib"})

SPAN_SUFFIXES = frozenset({":start", ":stop", ":exception"})
# Suffixes of hand-rolled spans, and the conventional word to use instead.
NON_CONVENTIONAL = {
    ":begin": ":start",
    ":started": ":start",
    ":starting": ":start",
    ":end": ":stop",
    ":ended": ":stop",
    ":finish": ":stop",
    ":finished": ":stop",
    ":done": ":stop",
    ":stopped": ":stop",
    ":complete": ":stop",
    ":completed": ":stop",
    ":error": ":exception",
    ":failed": ":exception",
    ":failure": ":exception",
    ":crash": ":exception",
}


def _atoms(node: Node) -> list[str] | None:
    """The atoms of a literal event name `[:a, :b]`; None when it is not a literal list."""
    if node.type != "list":
        return None
    items = [c for c in node.named_children if c.type != "comment"]
    if not items or any(i.type != "atom" for i in items):
        return None
    return [elixir.text(i) for i in items]


# A plain atom `:name` (letters, digits, `_`, then maybe `?`/`!`), and a call
# `:telemetry.execute([` + only such atoms + `]` + `,`/`)`: its first argument is that list.
# Anything else (quoted or `@` atoms, comments, expressions) is read on the tree.
_ATOM_TEXT = rb":[A-Za-z_][A-Za-z0-9_]*[?!]?"
_ATOM = re.compile(_ATOM_TEXT.decode())
_PLAIN_EVENT = re.compile(
    rb":telemetry\.execute\(\s*\[\s*("
    + _ATOM_TEXT
    + rb"(?:\s*,\s*"
    + _ATOM_TEXT
    + rb")*)\s*,?\s*\]\s*[,)]"
)


def _event_names(ctx: FileContext) -> Iterator[Finding]:
    calls = ctx.index.remote_calls(":telemetry", "execute")
    starts: dict[tuple[str, ...], Node] = {}
    ends: dict[tuple[str, ...], set[str]] = defaultdict(set)
    source = ctx.source
    for call in calls:
        plain = _PLAIN_EVENT.match(source, call.start_byte)
        if plain is not None:
            # `:telemetry.execute([:a, :b, :c], ...`: a literal list of plain atoms, read from
            # the text (what `_atoms` gives for it).
            atoms: list[str] | None = _ATOM.findall(plain.group(1).decode())
        else:
            args = elixir.call_args(call)
            if not args:
                continue
            name = args[0]
            if name.type in ("atom", "string"):
                yield ctx.finding(
                    TELEMETRY_EVENT,
                    call,
                    f"event name `{elixir.text(name)}` is not a list of atoms; handlers attach "
                    "to lists like `[:my_app, :orders, :created]`",
                    fix="name the event `[:my_app, :thing, :action]`",
                )
                continue
            atoms = _atoms(name)
        if atoms is None:
            continue
        last = atoms[-1]
        if last in NON_CONVENTIONAL:
            better = [*atoms[:-1], NON_CONVENTIONAL[last]]
            yield ctx.finding(
                TELEMETRY_EVENT,
                call,
                f"event `[{', '.join(atoms)}]` looks like a span phase but does not use the "
                f"`:start | :stop | :exception` convention; tools will not pair it",
                fix=f"name it `[{', '.join(better)}]`, or use `:telemetry.span/3`",
            )
            continue
        if last in SPAN_SUFFIXES:
            if len(atoms) < 3:
                yield ctx.finding(
                    TELEMETRY_EVENT,
                    call,
                    f"span event `[{', '.join(atoms)}]` has no application prefix: use "
                    f"`[:my_app, :thing, {last}]`",
                    fix="prefix span events with the app and the operation",
                )
                continue
            prefix = tuple(atoms[:-1])
            if last == ":start":
                starts.setdefault(prefix, call)
            else:
                ends[prefix].add(last)
    for prefix, call in starts.items():
        if ends.get(prefix):
            continue
        shown = ", ".join(prefix)
        yield ctx.finding(
            TELEMETRY_EVENT,
            call,
            f"`[{shown}, :start]` is emitted but no `[{shown}, :stop]` or `:exception` in this "
            "file: the span never closes, so no duration can be computed",
            fix=f"emit `[{shown}, :stop]` with a `duration` measurement, or use "
            ":telemetry.span/3",
        )


def _span_misuse(ctx: FileContext) -> Iterator[Finding]:
    for call in ctx.index.remote_calls(":telemetry", "span"):
        args = elixir.call_args(call)
        if len(args) < 3:
            continue
        prefix, metadata, fun = args[0], args[1], args[2]
        atoms = _atoms(prefix)
        if atoms is not None and atoms[-1] in SPAN_SUFFIXES:
            yield ctx.finding(
                TELEMETRY_SPAN,
                call,
                f"`:telemetry.span/3` prefix `[{', '.join(atoms)}]` already ends in "
                f"`{atoms[-1]}`; span appends `:start`/`:stop`/`:exception` itself",
                fix=f"use the prefix `[{', '.join(atoms[:-1])}]`",
            )
        elif prefix.type in ("atom", "string"):
            yield ctx.finding(
                TELEMETRY_SPAN,
                call,
                f"`:telemetry.span/3` prefix `{elixir.text(prefix)}` must be a list of atoms",
                fix="use a prefix like `[:my_app, :checkout]`",
            )
        if metadata.type in ("list", "keywords"):
            yield ctx.finding(
                TELEMETRY_SPAN,
                metadata,
                "`:telemetry.span/3` metadata must be a map, not a keyword list",
                fix="pass `%{...}`",
            )
        if fun.type == "anonymous_function":
            yield from _span_function(ctx, fun)


def _span_function(ctx: FileContext, fun: Node) -> Iterator[Finding]:
    for stab in (c for c in fun.named_children if c.type == "stab_clause"):
        for tail in elixir.tail_expressions(stab.child_by_field_name("right")):
            if tail.type == "tuple":
                size = len([c for c in tail.named_children if c.type != "comment"])
                if size in (2, 3):
                    continue
            elif not elixir.is_literal(tail):
                continue  # a call or variable may well return the right tuple
            yield ctx.finding(
                TELEMETRY_SPAN,
                tail,
                f"the `:telemetry.span/3` function returns `{_short(tail)}`; it must return "
                "`{result, metadata}` (or `{result, measurements, metadata}`)",
                fix="return `{result, %{}}`",
            )


def _short(node: Node) -> str:
    raw = " ".join(elixir.text(node).split())
    return raw if len(raw) <= 30 else raw[:27] + "..."


SUPERVISORS = ("Supervisor", "DynamicSupervisor", "PartitionSupervisor")


def _supervisors(ctx: FileContext) -> Iterator[Finding]:
    source = ctx.source
    # Every name in SUPERVISORS holds "Supervisor": only a `use` whose text holds it is parsed.
    if not any(
        source.find(b"Supervisor", u.start_byte, u.end_byte) >= 0 and _used(u) in SUPERVISORS
        for u in ctx.index.calls_named("use")
    ):
        return
    for module in ctx.modules:
        used = [u for u in module.uses() if _used(u) in SUPERVISORS]
        if not used:
            continue
        # Any Logger/telemetry use in the module counts (this includes Phoenix's generated
        # `MyAppWeb.Telemetry` supervisor, which is the telemetry setup itself).
        source = module.node.text or b""
        if any(marker in source for marker in _OBSERVING_MARKERS):
            continue
        yield ctx.finding(
            SUPERVISOR_RESTARTS,
            used[0],
            f"{module.name} restarts its children with no log or telemetry of the restarts: "
            "a child crash-looping every minute looks healthy",
            fix="emit `:telemetry.execute([:my_app, :supervisor, :restart], %{count: 1}, "
            "%{child: id})` (e.g. from the child's init) or attach a handler to the "
            "supervisor's reports",
        )


def _used(use: Node) -> str | None:
    args = elixir.call_args(use)
    return elixir.text(args[0]) if args and args[0].type == "alias" else None


_OBSERVING_MARKERS = (b"Logger.", b":telemetry", b"Telemetry", b":logger")


TELEMETRY_EVENT = Rule(
    id="L6.telemetry-event-name",
    severity=Severity.NOTICE,
    title="Telemetry event outside the start/stop/exception convention",
    explanation=(
        "Telemetry consumers (APM integrations, `Telemetry.Metrics`, tracing bridges) pair "
        "events by the span convention `[:app, :thing, :start | :stop | :exception]`, which "
        "is what `:telemetry.span/3` emits. Hand-rolled names such as `[..., :begin]` / "
        "`[..., :done]`, a `:start` with no `:stop` in the same module, or an event name that "
        "is not a list of atoms, are invisible to them. Use the convention or `span/3`."
    ),
    bad_example=(
        "defmodule Shop.Import do\n"
        '  @moduledoc "Import."\n'
        "  def run(rows) do\n"
        "    :telemetry.execute([:shop, :import, :begin], %{rows: length(rows)}, %{})\n"
        "    Enum.each(rows, &insert/1)\n"
        "    :telemetry.execute([:shop, :import, :done], %{}, %{})\n"
        "  end\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.Import do\n"
        '  @moduledoc "Import."\n'
        "  def run(rows) do\n"
        "    :telemetry.span([:shop, :import], %{rows: length(rows)}, fn ->\n"
        "      {Enum.each(rows, &insert/1), %{}}\n"
        "    end)\n"
        "  end\n"
        "end\n"
    ),
    applies_to=LIB,
    check=_event_names,
)

TELEMETRY_SPAN = Rule(
    id="L6.telemetry-span-misuse",
    severity=Severity.NOTICE,
    title="Telemetry span called with the wrong shapes",
    explanation=(
        "`:telemetry.span(prefix, metadata, fun)` appends `:start`/`:stop`/`:exception` to "
        "the prefix, wants metadata as a map, and needs `fun` to return `{result, "
        "metadata}` or `{result, measurements, metadata}`; anything else raises at run time "
        "or emits events named `[..., :stop, :stop]` that no handler listens to."
    ),
    bad_example=(
        "defmodule Shop.Checkout do\n"
        '  @moduledoc "Checkout."\n'
        "  def run(cart) do\n"
        "    :telemetry.span([:shop, :checkout, :start], %{}, fn ->\n"
        "      place(cart)\n"
        "    end)\n"
        "  end\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.Checkout do\n"
        '  @moduledoc "Checkout."\n'
        "  def run(cart) do\n"
        "    :telemetry.span([:shop, :checkout], %{cart_id: cart.id}, fn ->\n"
        "      result = place(cart)\n"
        "      {result, %{cart_id: cart.id}}\n"
        "    end)\n"
        "  end\n"
        "end\n"
    ),
    applies_to=LIB,
    check=_span_misuse,
)

SUPERVISOR_RESTARTS = Rule(
    id="L6.supervisor-restarts-unobserved",
    severity=Severity.NOTICE,
    title="Supervisor whose restarts nobody sees",
    explanation=(
        "OTP supervisors restart crashed children automatically, which is right, but "
        "invisible automation hides failing parts: a child that restarts fifty times an hour "
        "still 'works'. Log or emit telemetry for restarts (which child, why, how often) so "
        "restart frequency can be graphed and alerted on. Reported for modules that `use "
        "Supervisor`/`DynamicSupervisor` with no Logger or telemetry call."
    ),
    bad_example=(
        "defmodule Shop.WorkerSupervisor do\n"
        '  @moduledoc "Workers."\n'
        "  use Supervisor\n"
        "  def start_link(opts), do: Supervisor.start_link(__MODULE__, opts, name: __MODULE__)\n"
        "  @impl true\n"
        "  def init(_opts) do\n"
        "    Supervisor.init([Shop.Worker], strategy: :one_for_one)\n"
        "  end\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.WorkerSupervisor do\n"
        '  @moduledoc "Workers."\n'
        "  use Supervisor\n"
        "  def start_link(opts), do: Supervisor.start_link(__MODULE__, opts, name: __MODULE__)\n"
        "  @impl true\n"
        "  def init(_opts) do\n"
        "    :telemetry.execute([:shop, :worker_supervisor, :init], %{count: 1}, %{})\n"
        "    Supervisor.init([Shop.Worker], strategy: :one_for_one)\n"
        "  end\n"
        "end\n"
    ),
    applies_to=LIB,
    check=_supervisors,
)

RULES = (TELEMETRY_EVENT, TELEMETRY_SPAN, SUPERVISOR_RESTARTS)
