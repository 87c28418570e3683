"""Shared helpers of the L6 (observable) reviewers: what counts as making a failure visible.

An error branch is "observed" when it logs (`Logger.*`, `:logger`), emits telemetry
(`:telemetry.*`, a `*Telemetry` module), reports to an error tracker (Sentry, Honeybadger,
AppSignal, ...), or passes the failure on (`raise`, `reraise`, `throw`, `exit`). Rules judge
one branch body at a time, so walking it is cheap.
"""

from __future__ import annotations

from tree_sitter import Node

from checks import elixir

LOG_MODULES = frozenset({"Logger", ":logger", ":telemetry", "Telemetry", ":error_logger"})
TRACKER_PREFIXES = (
    "Sentry",
    "Honeybadger",
    "Appsignal",
    "Bugsnag",
    "Rollbax",
    "ErrorTracker",
    "NewRelic",
    "Spandex",
    "OpenTelemetry",
    "Tracer",
    "Datadog",
    "Instrument",
)
RAISING = frozenset({"raise", "reraise", "throw", "exit"})
# Words in a local helper's name that say it reports (`log_failure`, `emit_error`, `report`).
LOCAL_LOGGERS = frozenset(
    {"log", "logs", "telemetry", "emit", "instrument", "report", "notify", "track", "alert"}
)


def is_observing_call(node: Node) -> bool:
    """A call that logs, emits telemetry, reports to a tracker or raises."""
    if node.type != "call":
        return False
    name = elixir.remote_name(node)
    if name is not None:
        module, fun = name
        if module in LOG_MODULES or module.endswith(("Telemetry", "Logger")):
            return True
        if module.startswith(TRACKER_PREFIXES):
            return True
        return (module, fun) in (("Kernel", "raise"), ("Kernel", "reraise"), (":erlang", "raise"))
    local = elixir.local_name(node)
    if local is None:
        return False
    if local in RAISING:
        return True
    return any(word in LOCAL_LOGGERS for word in local.rstrip("!?").split("_"))


def observes(body: Node | None) -> bool:
    """Whether anything in `body` makes the failure visible or passes it on."""
    if body is None:
        return False
    return any(is_observing_call(n) for n in elixir.walk(body))


def is_error_pattern(node: Node) -> bool:
    """`{:error, ...}` or `:error` as a clause pattern (also under `when` guards)."""
    if node.type == "binary_operator":
        op = node.child_by_field_name("operator")
        if op is not None and op.type == "when":
            left = node.child_by_field_name("left")
            return left is not None and is_error_pattern(left)
        if op is not None and op.type == "=":
            return any(
                is_error_pattern(side)
                for side in (node.child_by_field_name("left"), node.child_by_field_name("right"))
                if side is not None
            )
    if node.type == "atom":
        return elixir.text(node) == ":error"
    return elixir.is_tagged_tuple(node, ":error")


def clause_patterns(stab: Node) -> list[Node]:
    """The patterns of a stab clause (`{:error, e} ->` gives one, `:exit, _ ->` two)."""
    left = stab.child_by_field_name("left")
    if left is None:
        return []
    if left.type == "arguments":
        return [c for c in left.named_children if c.type != "comment"]
    return [left]


def bound_names(pattern: Node) -> set[str]:
    """Variables a pattern binds (underscored names excluded: they say "ignored")."""
    names: set[str] = set()
    for n in elixir.walk(pattern):
        if n.type != "identifier":
            continue
        name = elixir.text(n)
        parent = n.parent
        if name.startswith("_") or name in ("when",):
            continue
        if parent is not None and parent.type == "unary_operator":
            continue  # ^pinned: not bound here
        if (
            parent is not None
            and parent.type == "call"
            and parent.child_by_field_name("target") == n
        ):
            continue
        names.add(name)
    return names


def uses_any(body: Node | None, names: set[str]) -> bool:
    if body is None or not names:
        return False
    return any(n.type == "identifier" and elixir.text(n) in names for n in elixir.walk(body))


def is_discard(node: Node) -> bool:
    """`_` or `_anything`: a pattern that throws the value away."""
    return node.type == "identifier" and elixir.text(node).startswith("_")


def is_constant(node: Node) -> bool:
    """A literal result that carries no information about a failure (`nil`, `:ok`, `[]`...)."""
    if elixir.is_tagged_tuple(node, ":error") or (
        node.type == "atom" and elixir.text(node) == ":error"
    ):
        return False
    return elixir.is_literal(node)
