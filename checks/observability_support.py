"""Shared helpers of the L6 (observable) reviewers: what counts as making a failure visible.

An error branch is "observed" when it logs (`Logger.*`, `:logger`), emits telemetry
(`:telemetry.*`, a `*Telemetry` module), reports to an error tracker (Sentry, Honeybadger,
AppSignal, ...), or passes the failure on (`raise`, `reraise`, `throw`, `exit`). Rules judge
one branch body at a time, so walking it is cheap.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from operator import attrgetter

from tree_sitter import Node

from checks import elixir
from checks.context import FileContext

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


def _observing_remote(module: str, fun: str) -> bool:
    """`is_observing_call` for a remote call `module.fun(...)`, from its names alone."""
    if module in LOG_MODULES or module.endswith(("Telemetry", "Logger")):
        return True
    if module.startswith(TRACKER_PREFIXES):
        return True
    return (module, fun) in (("Kernel", "raise"), ("Kernel", "reraise"), (":erlang", "raise"))


def _observing_local(name: str) -> bool:
    """`is_observing_call` for a local call `name(...)`, from its name alone."""
    if name in RAISING:
        return True
    return any(word in LOCAL_LOGGERS for word in name.rstrip("!?").split("_"))


# Pieces of text every observing local helper's name contains (`log` covers `logs`).
_LOGGER_PIECES: tuple[bytes, ...] = (
    b"log",
    b"telemetry",
    b"emit",
    b"instrument",
    b"report",
    b"notify",
    b"track",
    b"alert",
)
_NAME_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_NAME_START = frozenset(b"abcdefghijklmnopqrstuvwxyz_")


def _local_logger_names(source: bytes) -> set[str]:
    """Names in the source that `_observing_local` accepts (a superset of the local calls that
    log): every word holding one of the pieces, read around each occurrence of the piece."""
    names: set[str] = set()
    size = len(source)
    for piece in _LOGGER_PIECES:
        i = source.find(piece)
        while i >= 0:
            start = i
            while start > 0 and source[start - 1] in _NAME_BYTES:
                start -= 1
            end = i + len(piece)
            while end < size and source[end] in _NAME_BYTES:
                end += 1
            if source[start] in _NAME_START:
                name = source[start:end].decode()
                if _observing_local(name):
                    names.add(name)
                    if end < size and source[end] in b"?!":
                        names.add(name + chr(source[end]))
            i = source.find(piece, end)
    return names


_START = attrgetter("start_byte")


class Positions:
    """Start offsets of nodes, sorted: which of them lie in a byte range, by binary search."""

    __slots__ = ("nodes", "starts")

    def __init__(self, nodes: Sequence[Node]) -> None:
        self.nodes = nodes
        self.starts = [n.start_byte for n in nodes]

    def any_within(self, start: int, end: int) -> bool:
        i = bisect.bisect_left(self.starts, start)
        return i < len(self.starts) and self.starts[i] < end


def observing_calls(ctx: FileContext) -> Positions:
    """Every call of the file that `is_observing_call` accepts, in source order (from the
    index, never by walking; shared by the L6 rules)."""

    def build() -> Positions:
        found = [n for _key, n in ctx.index.remote_calls_where(_observing_remote)]
        names = _local_logger_names(ctx.source) | RAISING
        found += ctx.index.calls_named(*names)
        found.sort(key=_START)
        return Positions(found)

    return ctx.shared("l6.observing_calls", build)


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
