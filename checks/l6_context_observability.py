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
_CONTEXT_PATH = re.compile(r"(?:^|/)lib/(?P<app>[^/]+)/")


def _is_repo(module: str) -> bool:
    return module == "Repo" or module.endswith(".Repo")


def _is_context_file(path: str) -> bool:
    m = _CONTEXT_PATH.search(path)
    return (
        m is not None and not m.group("app").endswith("_web") and (not path.endswith("/repo.ex"))
    )


def _check(ctx: FileContext) -> Iterator[Finding]:
    if not _is_context_file(ctx.path):
        return
    writes = [n for (mod, fun), n in ctx.index.remote_calls_where(_write_key) if fun in WRITES]
    if not writes:
        return
    for module in ctx.modules:
        yield from _module(ctx, module, writes)


def _write_key(module: str, fun: str) -> bool:
    return fun in WRITES and _is_repo(module)


def _module(ctx: FileContext, module: elixir.Module, writes: list[Node]) -> Iterator[Finding]:
    facts: dict[str, tuple[bool, bool, set[str]]] = {}  # name -> (writes, observes, calls)
    for function in module.functions:
        write = observe = False
        calls: set[str] = set()
        for clause in function.clauses:
            node = clause.node
            write = write or any(node.start_byte <= w.start_byte < node.end_byte for w in writes)
            for n in elixir.walk(clause.body) if clause.body is not None else ():
                if n.type == "unary_operator":
                    captured = _captured_local(n)
                    if captured is not None:
                        calls.add(captured)
                    continue
                if n.type != "call":
                    continue
                if obs.is_observing_call(n):
                    observe = True
                local = elixir.local_name(n)
                if local is not None:
                    calls.add(local)
        old = facts.get(function.name, (False, False, set()))
        facts[function.name] = (old[0] or write, old[1] or observe, old[2] | calls)
    for function in module.functions:
        if not function.public or function.impl:
            continue
        writes_data, observed = _reach(function.name, facts)
        if not writes_data or observed:
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


def _captured_local(node: Node) -> str | None:
    """`&helper/1` (passed to Enum.map, Multi.run, ...) is a call of `helper` too."""
    op = node.child_by_field_name("operator")
    operand = node.child_by_field_name("operand")
    if op is None or op.type != "&" or operand is None or operand.type != "binary_operator":
        return None
    left = operand.child_by_field_name("left")
    return elixir.text(left) if left is not None and left.type == "identifier" else None


def _reach(name: str, facts: dict[str, tuple[bool, bool, set[str]]]) -> tuple[bool, bool]:
    """Whether `name` (or a local function it calls, transitively) writes / observes."""
    seen: set[str] = set()
    stack = [name]
    writes = observed = False
    while stack:
        current = stack.pop()
        if current in seen or current not in facts:
            continue
        seen.add(current)
        write, observe, calls = facts[current]
        writes = writes or write
        observed = observed or observe
        stack.extend(calls)
    return writes, observed


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
