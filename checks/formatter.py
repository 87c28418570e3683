"""Authoritative syntax errors and `mix format` parity through a resident Elixir helper.

tree-sitter tells us *where* a file is broken but not what the compiler will say, and it cannot
tell whether a file is formatted: only Elixir's own `Code.format_string!/2` can. Spawning `elixir`
per file costs 0.25-0.45 s, so `ElixirHelper` keeps one BEAM (`elixir_helper.exs`) and streams
batches of files to it over a length-prefixed binary protocol; the helper formats a batch on all
schedulers. It never evaluates project code: `.formatter.exs` and `mix.exs` are executable Elixir,
so this module reads them *statically* with tree-sitter and only accepts literals, and the
formatter options that `import_deps` would pull from compiled deps come from bundled tables.

Formatter output drifts between Elixir releases (1.15 rewrote charlists, 1.18 added parens around
`--`), so callers should downgrade formatter findings to notices when the project asks for a newer
Elixir than the helper runs (`project_needs_newer_elixir`).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import select
import shutil
import signal
import struct
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Final

from tree_sitter import Node

from checks.elixir import (
    attribute_name,
    attribute_value,
    enclosing_def,
    function_head,
    keyword_key,
    parse,
    string_literal,
    walk,
)
from checks.elixir import text as node_text

HELPER_SCRIPT: Final = Path(__file__).with_name("elixir_helper.exs")
DEFAULT_LINE_LENGTH: Final = 98

Locals = tuple[tuple[str, int | None], ...]


@dataclass(frozen=True)
class ElixirSyntaxError:
    line: int
    column: int | None
    message: str


@dataclass(frozen=True)
class FormatResult:
    """The helper's verdict on one file; exactly one of the three fields is set."""

    syntax_error: ElixirSyntaxError | None = None  # what the compiler's parser reports
    formatted: str | None = None  # what `mix format` would write
    error: str | None = None  # helper failure for this file: "timeout", "crash: ..."


_ANY_ARITY: Final = 255  # wire value for "every arity" (`:*`); real arities stop at 255


@dataclass(frozen=True)
class FormatterOptions:
    """The `mix format` options the helper honours (the rest only matter for plugins/inputs)."""

    line_length: int = DEFAULT_LINE_LENGTH
    locals_without_parens: Locals = ()  # arity None means any arity (`:*`)

    def __post_init__(self) -> None:
        # Validated here because they travel as fixed-width integers in the request frame.
        if not 1 <= self.line_length <= 0xFFFF:
            raise ValueError(f"line_length out of range: {self.line_length}")
        for name, arity in self.locals_without_parens:
            if not name or len(name.encode()) > 255:
                raise ValueError(f"invalid local name: {name!r}")
            if arity is not None and not 0 <= arity < _ANY_ARITY:
                raise ValueError(f"invalid arity for {name}: {arity}")


def _arities(spec: Mapping[str, tuple[int, int]]) -> Locals:
    """Expand `{"add": (2, 3)}` (the `add: 2, add: 3` of a dep's export) to one pair per arity."""
    return tuple((name, arity) for name, (lo, hi) in spec.items() for arity in range(lo, hi + 1))


# `export: [locals_without_parens: ...]` of each dep's .formatter.exs, as `import_deps` would see
# them (import is not transitive: ecto_sql exports only the migration DSL). Where releases differ,
# the union: an extra entry only keeps paren-less calls paren-less, it never removes parens.
DEPS_LOCALS_WITHOUT_PARENS: Final[Mapping[str, Locals]] = {
    "ecto": _arities(
        {
            "from": (2, 2),
            "field": (1, 3),
            "timestamps": (1, 1),
            "belongs_to": (2, 3),
            "has_one": (2, 3),
            "has_many": (2, 3),
            "many_to_many": (2, 3),
            "embeds_one": (2, 4),
            "embeds_many": (2, 4),
        }
    ),
    "ecto_sql": _arities(
        {
            "add": (2, 3),
            "add_if_not_exists": (2, 3),
            "alter": (2, 2),
            "create": (1, 2),
            "create_if_not_exists": (1, 2),
            "drop": (1, 2),
            "drop_if_exists": (1, 2),
            "execute": (1, 2),
            "modify": (2, 3),
            "remove": (1, 3),
            "remove_if_exists": (2, 2),
            "rename": (2, 3),
            "timestamps": (1, 1),
        }
    ),
    "phoenix": _arities(
        {
            "intercept": (1, 1),
            "connect": (3, 4),
            "delete": (3, 4),
            "forward": (2, 4),
            "get": (3, 4),
            "head": (3, 4),
            "match": (4, 5),
            "options": (3, 4),
            "patch": (3, 4),
            "pipeline": (2, 2),
            "pipe_through": (1, 1),
            "post": (3, 4),
            "put": (3, 4),
            "resources": (2, 4),
            "trace": (4, 4),
            "action_fallback": (1, 1),
            "plug": (1, 2),
            "socket": (2, 3),
            "channel": (2, 3),
            "assert_broadcast": (2, 3),
            "assert_push": (2, 3),
            "assert_reply": (2, 4),
            "refute_broadcast": (2, 3),
            "refute_push": (2, 3),
            "refute_reply": (2, 4),
            "assert_error_sent": (2, 2),
            "attr": (2, 3),
            "live": (2, 4),
            "live_dashboard": (1, 2),
            "on_mount": (1, 1),
        }
    ),
    "phoenix_live_view": _arities(
        {"attr": (2, 3), "live": (2, 4), "on_mount": (1, 1), "slot": (1, 3)}
    ),
    "plug": _arities(
        {
            "plug": (1, 2),
            "forward": (2, 4),
            "match": (2, 3),
            "get": (2, 3),
            "head": (2, 3),
            "post": (2, 3),
            "put": (2, 3),
            "patch": (2, 3),
            "delete": (2, 3),
            "options": (2, 3),
        }
    ),
}


@dataclass(frozen=True)
class FormatterConfig:
    """What a project's `.formatter.exs` says, as far as it can be read without running it."""

    line_length: int | None = None
    locals_without_parens: Locals = ()
    import_deps: tuple[str, ...] = ()
    plugins: tuple[str, ...] = ()  # e.g. Styler: its rewrites cannot be reproduced here
    problems: tuple[str, ...] = ()  # keys not read literally or not applied: output may differ
    inputs: tuple[str, ...] = ()
    subdirectories: tuple[str, ...] = ()  # each has its own .formatter.exs (e.g. migrations)

    @property
    def unknown_deps(self) -> tuple[str, ...]:
        """`import_deps` entries without a bundled table: their DSL calls may gain parens."""
        return tuple(d for d in self.import_deps if d not in DEPS_LOCALS_WITHOUT_PARENS)

    def options(self) -> FormatterOptions:
        """The options `mix format` would use: our locals plus the bundled exports of each
        `import_deps` entry (unknown deps add nothing; see `unknown_deps`)."""
        merged = dict.fromkeys(self.locals_without_parens)
        for dep in self.import_deps:
            merged.update(dict.fromkeys(DEPS_LOCALS_WITHOUT_PARENS.get(dep, ())))
        return FormatterOptions(
            line_length=self.line_length or DEFAULT_LINE_LENGTH,
            locals_without_parens=tuple(merged),
        )


# --- reading .formatter.exs without evaluating it --------------------------------------------


@dataclass(frozen=True)
class _Atom:
    name: str


@dataclass(frozen=True)
class _Alias:
    name: str


class _NotLiteral(Exception):
    """Raised by `_value` for anything but the literal subset; carries the offending source."""


_Value = int | str | bool | None | _Atom | _Alias | list["_Value"] | tuple["_Value", ...]


def _snippet(node: Node) -> str:
    raw = " ".join(node_text(node).split())
    return raw if len(raw) <= 60 else raw[:57] + "..."


def _integer(raw: str) -> int:
    digits = raw.replace("_", "")
    return int(digits, 0) if digits[:2].lower() in ("0x", "0o", "0b") else int(digits)


def _value(node: Node, env: Mapping[str, _Value]) -> _Value:
    """The value of a literal expression: lists, tuples, keyword lists, atoms, aliases, strings,
    integers, names bound earlier in the file, and `++` of those. Nothing is evaluated."""
    kind = node.type
    if kind == "integer":
        return _integer(node_text(node))
    if kind == "boolean":
        return node_text(node) == "true"
    if kind == "nil":
        return None
    if kind == "alias":
        return _Alias(node_text(node))
    if kind == "atom":
        return _Atom(node_text(node).removeprefix(":"))
    if kind == "quoted_atom":
        literal = string_literal(node.named_children[0]) if node.named_children else None
        if literal is None:
            raise _NotLiteral(_snippet(node))
        return _Atom(literal)
    if kind == "string":
        literal = string_literal(node)
        if literal is None:
            raise _NotLiteral(_snippet(node))
        return literal
    if kind == "identifier" and node_text(node) in env:
        return env[node_text(node)]
    if kind == "list":
        items: list[_Value] = []
        for child in node.named_children:
            if child.type == "keywords":
                items.extend(_value(p, env) for p in child.named_children if p.type == "pair")
            elif child.type != "comment":
                items.append(_value(child, env))
        return items
    if kind == "tuple":
        return tuple(_value(c, env) for c in node.named_children if c.type != "comment")
    if kind == "pair":
        value = node.child_by_field_name("value")
        if value is None:
            raise _NotLiteral(_snippet(node))
        return (_Atom(keyword_key(node)), _value(value, env))
    if kind == "binary_operator" and _operator(node) == "++":
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        if left is not None and right is not None:
            lhs, rhs = _value(left, env), _value(right, env)
            if isinstance(lhs, list) and isinstance(rhs, list):
                return lhs + rhs
    raise _NotLiteral(_snippet(node))


def _operator(node: Node) -> str | None:
    op = node.child_by_field_name("operator")
    return op.type if op is not None else None


def read_formatter_exs(text: str) -> FormatterConfig:
    """Read `.formatter.exs` statically: its last expression must be a keyword list, or a name
    bound to one by a top-level `name = ...`. Keys the bot uses whose values are not literals
    are listed in `problems` and left at their defaults rather than guessed."""
    tree = parse(text.encode("utf-8", "surrogateescape"))
    problems: list[str] = []
    if tree.root_node.has_error:
        problems.append("syntax error in .formatter.exs")
    statements = [c for c in tree.root_node.named_children if c.type != "comment"]
    if not statements:
        problems.append("empty .formatter.exs")
        return FormatterConfig(problems=tuple(problems))
    env: dict[str, _Value] = {}
    for stmt in statements[:-1]:
        left, right = stmt.child_by_field_name("left"), stmt.child_by_field_name("right")
        if _operator(stmt) == "=" and left and left.type == "identifier" and right:
            try:
                env[node_text(left)] = _value(right, env)
            except _NotLiteral:  # a later use of the name then reports it as not literal
                env.pop(node_text(left), None)
    entries: dict[str, _Value] = {}
    for key, value in _config_pairs(statements[-1], env, problems):
        if key not in _READ_KEYS and key not in _IRRELEVANT_KEYS:
            problems.append(f"{key}: not applied by the bot")
        entries.setdefault(key, value)
    return _config_from(entries, problems)


def _config_pairs(
    node: Node, env: Mapping[str, _Value], problems: list[str]
) -> Iterator[tuple[str, _Value]]:
    """(key, value) of the configuration list, pair by pair, so that one non-literal value
    (say `line_length: max_len()`) costs that key only and is reported by name."""
    if node.type == "list":
        elements: list[Node] = []
        for child in node.named_children:
            if child.type == "keywords":
                elements.extend(c for c in child.named_children if c.type == "pair")
            elif child.type != "comment":
                elements.append(child)
    elif node.type == "identifier" and isinstance(env.get(node_text(node)), list):
        yield from _pairs_of(env[node_text(node)], problems)
        return
    else:
        problems.append(f"the configuration is not a keyword list: {_snippet(node)}")
        return
    for element in elements:
        value_node = element.child_by_field_name("value") if element.type == "pair" else None
        key = keyword_key(element) if element.type == "pair" else None
        try:
            if key is not None and value_node is not None:
                yield key, _value(value_node, env)
            else:
                yield from _pairs_of([_value(element, env)], problems)
        except _NotLiteral as exc:
            if key is None or key in _READ_KEYS:
                problems.append(f"{key or 'entry'}: not a literal: {exc}")
            elif key not in _IRRELEVANT_KEYS:
                problems.append(f"{key}: not applied by the bot")


def _pairs_of(items: _Value, problems: list[str]) -> Iterator[tuple[str, _Value]]:
    for item in items if isinstance(items, list) else [items]:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], _Atom):
            yield item[0].name, item[1]
        else:
            problems.append(f"not a keyword entry: {item!r}")


_READ_KEYS: Final = frozenset(
    {"line_length", "locals_without_parens", "import_deps", "plugins", "inputs", "subdirectories"}
)
# Keys that never change how `.ex`/`.exs` code is formatted (`export` is for dependants,
# `heex_line_length` for the HEEx plugin). Any other key, e.g. `force_do_end_blocks`, changes
# the output in ways the helper does not reproduce, so it is reported in `problems`.
_IRRELEVANT_KEYS: Final = frozenset({"export", "heex_line_length"})


def _config_from(entries: Mapping[str, _Value], problems: list[str]) -> FormatterConfig:
    line_length = entries.get("line_length")
    if line_length is not None and (
        not isinstance(line_length, int) or isinstance(line_length, bool) or line_length <= 0
    ):
        problems.append(f"line_length: not a positive integer: {line_length!r}")
        line_length = None
    locals_: list[tuple[str, int | None]] = []
    for item in _list_entry(entries, "locals_without_parens", problems):
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], _Atom):
            name, arity = item[0].name, item[1]
            if isinstance(arity, int) and not isinstance(arity, bool) and 0 <= arity < _ANY_ARITY:
                locals_.append((name, arity))
                continue
            if arity == _Atom("*"):
                locals_.append((name, None))
                continue
        problems.append(f"locals_without_parens: not a name: arity pair: {item!r}")
    deps = [d.name for d in _list_entry(entries, "import_deps", problems) if isinstance(d, _Atom)]
    plugins = [
        p.name if isinstance(p, _Alias) else f":{p.name}"
        for p in _list_entry(entries, "plugins", problems)
        if isinstance(p, _Alias | _Atom)
    ]
    return FormatterConfig(
        line_length=line_length if isinstance(line_length, int) else None,
        locals_without_parens=tuple(locals_),
        import_deps=tuple(deps),
        plugins=tuple(plugins),
        problems=tuple(problems),
        inputs=_strings(_list_entry(entries, "inputs", problems)),
        subdirectories=_strings(_list_entry(entries, "subdirectories", problems)),
    )


def _list_entry(entries: Mapping[str, _Value], key: str, problems: list[str]) -> list[_Value]:
    value = entries.get(key)
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, str) and key == "inputs":  # `inputs: "lib/**/*.ex"` is allowed
        return [value]
    problems.append(f"{key}: not a list: {value!r}")
    return []


def _strings(values: list[_Value]) -> tuple[str, ...]:
    return tuple(v for v in values if isinstance(v, str))


# --- Elixir version requirements ----------------------------------------------------------


def required_elixir(mix_exs_text: str) -> str | None:
    """The `elixir: "~> 1.15"` requirement of `def project` in mix.exs, read statically (also
    through a module attribute, `elixir: @elixir_requirement`); None when absent or computed."""
    tree = parse(mix_exs_text.encode("utf-8", "surrogateescape"))
    attributes: dict[str, str] = {}
    found: list[tuple[bool, Node]] = []
    for node in walk(tree.root_node):
        name = attribute_name(node)
        literal = string_literal(attribute_value(node)) if name is not None else None
        if name is not None and literal is not None:
            attributes.setdefault(name, literal)
        elif node.type == "pair" and keyword_key(node) == "elixir":
            found.append((not _in_project_def(node), node))
    for _, pair in sorted(found, key=lambda item: item[0]):
        value = pair.child_by_field_name("value")
        literal = string_literal(value)
        if literal is None and value is not None and attribute_name(value) is not None:
            operand = value.child_by_field_name("operand")
            literal = attributes.get(node_text(operand)) if operand is not None else None
        if literal is not None:
            return literal.strip()
    return None


def _in_project_def(node: Node) -> bool:
    definition = enclosing_def(node)
    head = function_head(definition) if definition is not None else None
    return head is not None and head[0] == "project"


@dataclass(frozen=True)
class _Version:
    """A version in Elixir's `Version` order: pre-releases sort before their release."""

    major: int
    minor: int
    patch: int
    pre: tuple[str, ...]
    parts: int  # 2 for `~> 1.15` (any 1.x from 1.15), 3 for `~> 1.15.2` (1.15.x only)

    @property
    def key(self) -> tuple[tuple[int, int, int], int, tuple[tuple[int, int, str], ...]]:
        ids = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in self.pre)
        return (self.major, self.minor, self.patch), 0 if self.pre else 1, ids


_VERSION: Final = re.compile(
    r"(\d+)\.(\d+)(?:\.(\d+))?(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z.-]+)?"
)
_OPERATOR: Final = re.compile(r"(~>|==|!=|>=|<=|>|<)")


def _parse_version(raw: str) -> _Version:
    match = _VERSION.fullmatch(raw.strip())
    if match is None:
        raise ValueError(f"invalid version: {raw!r}")
    major, minor, patch, pre = match.groups()
    return _Version(
        int(major),
        int(minor),
        int(patch or 0),
        tuple(pre.split(".")) if pre else (),
        3 if patch is not None else 2,
    )


_Clause = tuple[str, _Version]


def _parse_requirement(requirement: str) -> list[list[_Clause]]:
    """`~> 1.15 or >= 2.0.0 and < 3.0.0` -> alternatives (or) of conjunctions (and)."""
    tokens = _OPERATOR.sub(r" \1 ", requirement).split()
    alternatives: list[list[_Clause]] = [[]]
    expect_clause = True
    op = "=="
    for token in tokens:
        if not expect_clause and token in ("and", "or"):
            if token == "or":
                alternatives.append([])
            expect_clause = True
        elif expect_clause and _OPERATOR.fullmatch(token):
            op = token
        elif expect_clause:
            alternatives[-1].append((op, _parse_version(token)))
            op, expect_clause = "==", False
        else:
            raise ValueError(f"invalid requirement: {requirement!r}")
    if expect_clause:
        raise ValueError(f"invalid requirement: {requirement!r}")
    return alternatives


def _matches(version: _Version, op: str, bound: _Version) -> bool:
    v, b = version.key, bound.key
    if op == "~>":
        upper = (bound.major + 1, 0, 0) if bound.parts == 2 else (bound.major, bound.minor + 1, 0)
        # Comparing triples also rejects pre-releases of the upper bound (2.0.0-rc < 2.0.0).
        return v >= b and v[0] < upper
    return {
        "==": v == b,
        "!=": v != b,
        ">": v > b,
        ">=": v >= b,
        "<": v < b,
        "<=": v <= b,
    }[op]


def version_satisfies(version: str, requirement: str) -> bool:
    """Elixir `Version.match?/2` semantics (`~>`, comparisons, `and`/`or`; pre-releases allowed).
    Raises ValueError for a malformed version or requirement."""
    parsed = _parse_version(version)
    return any(
        all(_matches(parsed, op, bound) for op, bound in clauses)
        for clauses in _parse_requirement(requirement)
    )


def project_needs_newer_elixir(helper_version: str, requirement: str) -> bool:
    """Whether every alternative of the requirement starts above the helper's Elixir (helper
    1.14.0, `~> 1.15`), i.e. the project is formatted by a newer formatter than ours and our
    formatter findings may be drift. Upper bounds are ignored: an older project is formatted
    the same by the newer helper far more often. Raises ValueError when malformed."""
    helper = _parse_version(helper_version)

    def below(op: str, bound: _Version) -> bool:
        if op in ("==", ">=", "~>"):
            return helper.key < bound.key
        return op == ">" and helper.key <= bound.key

    return all(
        any(below(op, bound) for op, bound in clauses)
        for clauses in _parse_requirement(requirement)
    )


# --- the helper process -----------------------------------------------------------------------


class _Timeout(Exception):
    """The helper missed a request's deadline (hung, or stopped)."""


class _Died(Exception):
    """The helper exited, closed a pipe, or answered something undecodable."""


# The BEAM otherwise spins its schedulers for a while after each request, stealing the CPU
# the Python side is using to run the tree-sitter reviewers.
_ERL_FLAGS: Final = "+sbwt none +sbwtdcpu none +sbwtdio none"
_STARTUP_TIMEOUT: Final = 30.0
_STDERR_TAIL: Final = 4096
# Passed through to the helper; the rest of the bot's environment (tokens) is not. ASDF_/MISE_
# keep version-manager shims working; ERL_CRASH_DUMP_SECONDS=0 stops crash dumps in the cwd.
_ENV_KEEP: Final = ("PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "LC_CTYPE")
_ENV_PREFIXES: Final = ("ASDF_", "MISE_")


def _helper_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in _ENV_KEEP or k.startswith(_ENV_PREFIXES)}
    env.setdefault("LANG", "C.UTF-8")  # else the BEAM warns about latin1 filename encoding
    env["ERL_CRASH_DUMP_SECONDS"] = "0"
    return env


def _drain(stream: IO[bytes], tail: bytearray) -> None:
    """Keep the last bytes of the helper's stderr for crash messages; an undrained pipe would
    block the helper once the tokenizer printed 64 KiB of warnings. The thread closes the pipe
    itself at EOF: closing it from outside could hand its fd number to another file mid-read."""
    with stream:
        fd = stream.fileno()
        while chunk := os.read(fd, 65536):
            tail.extend(chunk)
            del tail[:-_STDERR_TAIL]


def _wait_fd(fd: int, event: int, deadline: float) -> None:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise _Timeout
    poller = select.poll()
    poller.register(fd, event)
    if not poller.poll(remaining * 1000):
        raise _Timeout


def _encode_request(
    files: Sequence[tuple[str, str]], options: FormatterOptions, ms: int
) -> bytes:
    parts = [
        struct.pack(">cIHH", b"C", ms, options.line_length, len(options.locals_without_parens))
    ]
    for name, arity in options.locals_without_parens:
        raw = name.encode()
        parts.append(
            struct.pack(">H", len(raw)) + raw + bytes([_ANY_ARITY if arity is None else arity])
        )
    parts.append(struct.pack(">I", len(files)))
    for path, source in files:
        raw_path = path.encode("utf-8", "surrogateescape")[:0xFFFF]  # only used in messages
        raw_src = source.encode("utf-8", "surrogateescape")
        parts.append(struct.pack(">H", len(raw_path)) + raw_path)
        parts.append(struct.pack(">I", len(raw_src)))
        parts.append(raw_src)
    return b"".join(parts)


def _decode_result(item: object) -> FormatResult:
    if isinstance(item, dict):
        if isinstance(item.get("formatted"), str):
            return FormatResult(formatted=item["formatted"])
        err = item.get("syntax_error")
        if isinstance(err, dict):
            column = err.get("column")
            return FormatResult(
                syntax_error=ElixirSyntaxError(
                    line=int(err.get("line") or 1),
                    column=column if isinstance(column, int) else None,
                    message=str(err.get("message", "")),
                )
            )
        if isinstance(item.get("error"), str):
            return FormatResult(error=item["error"])
    return FormatResult(error=f"crash: unexpected reply {item!r:.200}")


class ElixirHelper:
    """One resident `elixir elixir_helper.exs`, restarted when it hangs, dies or has been fed
    enough untrusted input (atoms are never collected: recycle after `max_requests` batches or
    when the atom table passes `max_atoms`, far below the VM's 1,048,576 limit).

    `timeout` is the formatting budget per file, enforced inside the VM (the file gets
    error="timeout", the VM lives on). Python also bounds each whole request by the same budget
    per wave of files; a VM that misses that deadline is killed and respawned, and every file of
    the batch gets error="timeout". Calls from several threads are serialised.
    """

    version: str

    def __init__(
        self, executable: str, *, timeout: float, max_requests: int, max_atoms: int
    ) -> None:
        self.executable = executable
        self.timeout = timeout
        self.max_requests = max_requests
        self.max_atoms = max_atoms
        self.version = ""
        self.schedulers = 1
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr_tail = bytearray()
        self._drainer: threading.Thread | None = None
        self._requests = 0
        self._atoms = 0
        self._lock = threading.Lock()

    @classmethod
    def start(
        cls,
        executable: str | None = None,
        *,
        timeout: float = 20.0,
        max_requests: int = 500,
        max_atoms: int = 500_000,
    ) -> ElixirHelper | None:
        """A running helper, or None when Elixir is not installed or the VM will not start."""
        found = executable or shutil.which("elixir")
        if found is None:
            return None
        helper = cls(found, timeout=timeout, max_requests=max_requests, max_atoms=max_atoms)
        try:
            helper._spawn()
        except (OSError, _Died, _Timeout):
            helper._abandon()
            return None
        return helper

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def check_many(
        self, files: Sequence[tuple[str, str]], options: FormatterOptions, *, batch_size: int = 32
    ) -> list[FormatResult]:
        """One result per (path, source), in order. Batches keep every scheduler busy while
        bounding how much work one hung request can lose."""
        size = max(1, batch_size)
        results: list[FormatResult] = []
        with self._lock:  # one request in flight: frames from two threads would interleave
            for start in range(0, len(files), size):
                results.extend(self._check_batch(files[start : start + size], options))
        return results

    def close(self) -> None:
        """Close stdin (the helper exits 0 on EOF); kill it if it does not go quietly."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()
        try:
            proc.wait(timeout=2.0)
        except subprocess.TimeoutExpired:
            self._kill(proc)
        self._close_pipes(proc)

    def __enter__(self) -> ElixirHelper:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- internals --------------------------------------------------------------------------

    def _check_batch(
        self, files: Sequence[tuple[str, str]], options: FormatterOptions
    ) -> list[FormatResult]:
        if self._proc is not None and (
            self._requests >= self.max_requests or self._atoms > self.max_atoms
        ):
            self.close()
        ms = min(max(1, math.ceil(self.timeout * 1000)), 0xFFFFFFFF)
        payload = _encode_request(files, options, ms)
        reason = ""
        for _attempt in range(2):  # a VM that dies gets one respawn and retry per batch
            try:
                if not self.alive:
                    self._restart()
                waves = math.ceil(len(files) / max(1, self.schedulers))
                budget = self.timeout * waves + 2.0 + len(payload) / 5_000_000
                reply = self._request(payload, time.monotonic() + budget)
            except _Timeout:
                self._abandon()  # a hung VM would hang again on the same input: no retry
                return [FormatResult(error="timeout")] * len(files)
            except (_Died, OSError) as exc:
                reason = self._death_reason(exc)
                self._abandon()
                continue
            self._requests += 1
            return self._results(reply, len(files))
        return [FormatResult(error=f"crash: {reason}")] * len(files)

    def _results(self, reply: object, count: int) -> list[FormatResult]:
        if isinstance(reply, dict) and isinstance(reply.get("atom_count"), int):
            self._atoms = reply["atom_count"]
        items = reply.get("results") if isinstance(reply, dict) else None
        if not isinstance(items, list) or len(items) != count:
            detail = reply.get("error") if isinstance(reply, dict) else None
            return [FormatResult(error=f"crash: {detail or 'malformed reply'}")] * count
        return [_decode_result(item) for item in items]

    def _spawn(self) -> None:
        self._stderr_tail = bytearray()
        proc = subprocess.Popen(
            [self.executable, "--erl", _ERL_FLAGS, str(HELPER_SCRIPT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            bufsize=0,
            cwd=tempfile.gettempdir(),
            env=_helper_env(),
            start_new_session=True,  # so a kill reaches the whole VM process group
        )
        assert proc.stdin is not None
        assert proc.stdout is not None
        assert proc.stderr is not None
        os.set_blocking(proc.stdin.fileno(), False)
        os.set_blocking(proc.stdout.fileno(), False)
        self._drainer = threading.Thread(
            target=_drain, args=(proc.stderr, self._stderr_tail), daemon=True
        )
        self._drainer.start()
        self._proc = proc
        self._requests = 0
        reply = self._request(b"V", time.monotonic() + max(_STARTUP_TIMEOUT, self.timeout))
        if not isinstance(reply, dict) or not isinstance(reply.get("version"), str):
            raise _Died(f"unexpected handshake {reply!r:.200}")
        self.version = reply["version"]
        self.schedulers = int(reply.get("schedulers") or 1)
        self._atoms = int(reply.get("atom_count") or 0)

    def _restart(self) -> None:
        self._abandon()
        self._spawn()

    def _request(self, payload: bytes, deadline: float) -> object:
        proc = self._proc
        if proc is None or proc.stdin is None or proc.stdout is None:
            raise _Died("helper not running")
        self._write_all(proc.stdin.fileno(), struct.pack(">I", len(payload)) + payload, deadline)
        out = proc.stdout.fileno()
        (size,) = struct.unpack(">I", self._read_exact(out, 4, deadline))
        raw = self._read_exact(out, size, deadline)
        try:
            return json.loads(raw.decode("utf-8", "surrogateescape"))
        except ValueError as exc:
            raise _Died(f"undecodable reply: {exc}") from exc

    @staticmethod
    def _write_all(fd: int, data: bytes, deadline: float) -> None:
        view = memoryview(data)
        while view:
            _wait_fd(fd, select.POLLOUT, deadline)
            try:
                written = os.write(fd, view)
            except BlockingIOError:
                continue
            except OSError as exc:  # BrokenPipeError: the VM is gone
                raise _Died(f"helper stopped reading: {exc}") from exc
            view = view[written:]

    @staticmethod
    def _read_exact(fd: int, size: int, deadline: float) -> bytes:
        buf = bytearray()
        while len(buf) < size:
            _wait_fd(fd, select.POLLIN, deadline)
            try:
                chunk = os.read(fd, min(size - len(buf), 1 << 20))
            except BlockingIOError:
                continue
            if not chunk:
                raise _Died("helper exited")
            buf += chunk
        return bytes(buf)

    def _death_reason(self, exc: Exception) -> str:
        """The failure plus the exit status and last stderr line, once the VM has finished
        dying (its stdout closes a moment before it exits and its stderr is drained)."""
        proc, status = self._proc, None
        if proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                status = proc.wait(timeout=1.0)
        if self._drainer is not None:
            self._drainer.join(timeout=0.5)
        tail = bytes(self._stderr_tail).decode("utf-8", "replace").strip().splitlines()
        reason = f"{exc} (exit status {status})" if status is not None else str(exc)
        return f"{reason}: {tail[-1]}" if tail else reason

    def _abandon(self) -> None:
        """Kill the current VM without waiting for it to finish anything."""
        proc, self._proc = self._proc, None
        if proc is not None:
            self._kill(proc)
            self._close_pipes(proc)

    @staticmethod
    def _kill(proc: subprocess.Popen[bytes]) -> None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            proc.kill()
        proc.wait()

    @staticmethod
    def _close_pipes(proc: subprocess.Popen[bytes]) -> None:
        for stream in (proc.stdin, proc.stdout):  # stderr is closed by its `_drain` thread
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
