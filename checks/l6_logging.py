"""L6 observable: logs that can be searched and aggregated.

* `Logger.info("charged #{amount} for order #{id}")` makes every line unique: log backends
  cannot group, count or filter by `order_id`, and the values cannot be redacted. Put a fixed
  message and the values in metadata: `Logger.info("order charged", order_id: id)`.
* `IO.puts`/`IO.write` in library code bypasses Logger altogether: no level, no metadata, no
  timestamps, not captured by the log handlers or by `ExUnit.CaptureLog`. (`IO.inspect`, `dbg`
  and `IEx.pry` are debugging leftovers, reported at L2; not repeated here.) Mix tasks, whose
  output is meant for a terminal, are exempt.
"""

from __future__ import annotations

from collections.abc import Iterator

from tree_sitter import Node

from checks import elixir
from checks.context import FileContext
from checks.model import FileKind, Finding, Rule, Severity
from checks.paths import any_match

LIB: frozenset[FileKind] = frozenset({"lib"})

LOG_LEVELS = (
    "debug",
    "info",
    "notice",
    "warning",
    "warn",
    "error",
    "critical",
    "alert",
    "emergency",
)
IO_FUNCTIONS = ("puts", "write", "warn")


def _message(call: Node) -> Node | None:
    name = elixir.remote_name(call)
    args = elixir.call_args(call)
    position = 1 if name is not None and name[1] == "log" else 0
    if len(args) <= position:
        return None
    message = args[position]
    if message.type == "anonymous_function":  # lazy `fn -> "..." end`
        stabs = [c for c in message.named_children if c.type == "stab_clause"]
        return elixir.last_statement(stabs[0].child_by_field_name("right")) if stabs else None
    return message


def _interpolated(ctx: FileContext) -> Iterator[Finding]:
    source = ctx.source
    for call in ctx.index.remote_calls("Logger", *LOG_LEVELS, "log"):
        if source.find(b"#{", call.start_byte, call.end_byte) < 0:
            continue  # no interpolation anywhere in the call
        message = _message(call)
        if message is None or message.type != "string":
            continue
        values = [c for c in message.named_children if c.type == "interpolation"]
        if not values:
            continue
        shown = ", ".join(elixir.text(v)[2:-1].strip() for v in values[:3])
        yield ctx.finding(
            LOG_INTERPOLATION,
            call,
            f"log message interpolates {shown}: put values in metadata so logs can be "
            "grouped and filtered by them",
            fix='Logger.info("order charged", order_id: order.id, amount: amount)',
        )


def _exempt(ctx: FileContext, call: Node) -> bool:
    if any_match(ctx.path, ctx.param(IO_LOGGING, "allow_paths")):
        return True
    for module in ctx.modules:
        if not (module.node.start_byte <= call.start_byte < module.node.end_byte):
            continue
        if module.name.startswith("Mix.Tasks.") or "Mix.Task" in module.used_modules():
            return True
    return False


def _io(ctx: FileContext) -> Iterator[Finding]:
    for call in ctx.index.remote_calls("IO", *IO_FUNCTIONS):
        if _exempt(ctx, call):
            continue
        name = elixir.remote_name(call)
        fun = name[1] if name else "puts"
        yield ctx.finding(
            IO_LOGGING,
            call,
            f"`IO.{fun}` in library code writes past Logger: no level, no metadata, not "
            "captured by log handlers",
            fix='use Logger: `Logger.info("import finished", rows: count)`',
        )


LOG_INTERPOLATION = Rule(
    id="L6.log-interpolation",
    severity=Severity.NOTICE,
    title="Log message built by interpolation instead of metadata",
    explanation=(
        'A log line like `"charged #{amount} for #{order.id}"` is unique every time: log '
        "backends cannot group it, count it, alert on it or filter by order, and values "
        "cannot be redacted by key. Log a fixed message and pass the values as metadata "
        '(`Logger.info("order charged", order_id: id, amount: amount)`); configure the '
        "formatter's `metadata:` to print them."
    ),
    bad_example=(
        "defmodule Shop.Payments do\n"
        '  @moduledoc "Payments."\n'
        "  require Logger\n"
        "  def charged(order) do\n"
        '    Logger.info("charged #{order.total} for order #{order.id}")\n'
        "  end\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.Payments do\n"
        '  @moduledoc "Payments."\n'
        "  require Logger\n"
        "  def charged(order) do\n"
        '    Logger.info("order charged", order_id: order.id, amount: order.total)\n'
        "  end\n"
        "end\n"
    ),
    applies_to=LIB,
    check=_interpolated,
)

IO_LOGGING = Rule(
    id="L6.io-logging",
    severity=Severity.WARNING,
    title="IO.puts used for logging in library code",
    explanation=(
        "`IO.puts`/`IO.write` in application code print to standard output outside Logger: "
        "no level to filter on, no metadata, no timestamp, invisible to log handlers and "
        "shipping, and noise in tests. Use `Logger` with metadata. Mix tasks (`Mix.Tasks.*`, "
        "`use Mix.Task`) print for a terminal and are exempt, as are paths in the "
        "`allow_paths` parameter. `IO.inspect` is reported by the L2 debugging rule."
    ),
    bad_example=(
        "defmodule Shop.Import do\n"
        '  @moduledoc "Import."\n'
        "  def run(rows) do\n"
        "    Enum.each(rows, &insert/1)\n"
        '    IO.puts("imported rows")\n'
        "  end\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.Import do\n"
        '  @moduledoc "Import."\n'
        "  require Logger\n"
        "  def run(rows) do\n"
        "    Enum.each(rows, &insert/1)\n"
        '    Logger.info("import finished", rows: length(rows))\n'
        "  end\n"
        "end\n"
    ),
    applies_to=LIB,
    params={"allow_paths": ("lib/mix/**",)},
    check=_io,
)

RULES = (LOG_INTERPOLATION, IO_LOGGING)
