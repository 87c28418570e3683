"""Shared machinery of the L5 (secure) reviewers: where a value comes from, and template code.

Sobelow's confidence model, which the L5 rules follow: a sink (SQL, `raw`, `File.read`, ...)
is dangerous when its argument holds a *variable*. Inside a controller action, a variable that
is bound by the action's `params` argument (or read from `conn.params`) is attacker-controlled
for sure: **high** confidence, reported as an error. Any other variable might be: **medium**,
a warning. Values with no variable at all (literals, module attributes) are not reported.

The analysis is deliberately local: one function clause, assignments followed in source order
(`x = params["f"]`, `%{"id" => id} = params`, `path = Path.join(dir, x)`). That is what sobelow
does too, and it keeps the cost to one walk of one function body, cached per file and shared by
every L5 rule.

Templates (`.heex`/`.eex` files) are not parsed as Elixir by the engine, and `~H`/`~E` sigil
contents are opaque strings in the tree; `template_expressions` finds the Elixir inside
`<%= ... %>` and HEEx `{...}` and gives each expression its absolute line and column, so a
rule can parse the expression on its own and report the right place.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from tree_sitter import Node, Tree

from checks import elixir
from checks.context import FileContext
from checks.model import Severity

HIGH = "high"
MEDIUM = "medium"

# `conn.params`, `conn.body_params`, ... are the request's own data.
CONN_PARAM_FIELDS = frozenset({"params", "body_params", "query_params", "path_params"})

# LiveView callbacks whose argument (by position) is the client's data, like a controller's.
LIVE_PARAM_CALLBACKS: dict[tuple[str, int], int] = {
    ("handle_event", 3): 1,
    ("handle_params", 3): 0,
    ("mount", 3): 0,
}

# Identifiers that are not variables: special forms and compile-time pseudo variables.
_NOT_VARIABLES = frozenset({"__MODULE__", "__ENV__", "__DIR__", "__CALLER__", "__STACKTRACE__"})


@dataclass(frozen=True)
class Origin:
    """Why a sink argument is suspicious: its confidence and the variable that makes it so."""

    confidence: str  # HIGH or MEDIUM
    name: str
    reason: str

    @property
    def severity(self) -> Severity:
        return Severity.ERROR if self.confidence == HIGH else Severity.WARNING

    def describe(self) -> str:
        """'high confidence: `id` comes from the action's params'."""
        return f"{self.confidence} confidence: `{self.name}` {self.reason}"


@dataclass
class ClauseFlow:
    """What one function clause does with its variables: which carry request data (HIGH)."""

    high: dict[str, str] = field(default_factory=dict)  # name -> reason
    # Variables assigned from a string built by interpolation or `<>`: name -> the building node.
    built_strings: dict[str, Node] = field(default_factory=dict)
    # Every assignment `name = value` (last one wins): for rules that follow a variable back.
    assigned: dict[str, Node] = field(default_factory=dict)


# --- call arguments ---------------------------------------------------------------------


# --- which modules a file calls remotely -------------------------------------------------


def calls_module(ctx: FileContext, *modules: str) -> bool:
    """Whether the file calls a function of any of `modules` remotely (`Repo` for
    `Repo.query(...)`, `:crypto`): lets a rule whose sinks all live elsewhere skip the file."""
    called = ctx.index.remote_modules
    return any(module in called for module in modules)


def calls_module_ending(ctx: FileContext, suffix: str) -> bool:
    """Whether the file calls a function of a module whose name ends with `suffix` (`.Repo`)."""
    return any(module.endswith(suffix) for module in ctx.index.remote_modules)


def remote_modules_matching(ctx: FileContext, pattern: re.Pattern[str]) -> list[str]:
    """The modules the file calls remotely whose whole name `pattern` matches."""
    return [module for module in ctx.index.remote_modules if pattern.fullmatch(module)]


def remote_calls_of(
    ctx: FileContext, names: Iterable[tuple[str, str]]
) -> list[tuple[tuple[str, str], Node]]:
    """`ctx.index.remote_calls_where(lambda m, f: (m, f) in names)`, asked only of the modules
    the file calls: (name, call) pairs in source order."""
    called = ctx.index.remote_modules
    index = ctx.index
    found = [
        (name, node)
        for name in names
        if name[0] in called
        for node in index.remote_calls(name[0], name[1])
    ]
    found.sort(key=lambda item: item[1].start_byte)
    return found


# --- modules -----------------------------------------------------------------------------


def is_controller(module: elixir.Module) -> bool:
    """A Phoenix controller: named `...Controller`, or `use MyAppWeb, :controller`."""
    if module.name.endswith("Controller"):
        return True
    return _uses_kind(module, (":controller",)) or "Phoenix.Controller" in module.used_modules()


def is_live(module: elixir.Module) -> bool:
    """A LiveView or LiveComponent (`use MyAppWeb, :live_view`, `use Phoenix.LiveView`)."""
    used = module.used_modules()
    if "Phoenix.LiveView" in used or "Phoenix.LiveComponent" in used:
        return True
    return _uses_kind(module, (":live_view", ":live_component"))


def _uses_kind(module: elixir.Module, kinds: tuple[str, ...]) -> bool:
    for use in module.uses():
        found = elixir.call_args(use)
        if len(found) >= 2 and found[1].type == "atom" and elixir.text(found[1]) in kinds:
            return True
    return False


def is_router(module: elixir.Module) -> bool:
    return module.name.endswith("Router") or _uses_kind(module, (":router",))


# --- variables ----------------------------------------------------------------------------


def variables(node: Node) -> Iterator[Node]:
    """Identifier nodes of `node` that are variables (not call names, fields or attributes)."""
    stack = [node]
    while stack:
        current = stack.pop()
        kind = current.type
        if kind == "identifier":
            if _is_variable(current):
                yield current
            continue
        if kind == "unary_operator":
            op = current.child_by_field_name("operator")
            if op is not None and op.type == "@":
                continue  # module attribute / template assign: not a local variable
        if kind == "call":
            target = current.child_by_field_name("target")
            if target is not None and target.type == "dot":
                left = target.child_by_field_name("left")
                if left is not None:
                    stack.append(left)  # `x.field`, `x.fun(...)`: only the receiver
                args = elixir.arguments_node(current)
                if args is not None:
                    stack.append(args)
                continue
        if kind in ("keyword", "quoted_content", "alias", "atom", "comment"):
            continue
        stack.extend(reversed(current.named_children))


def _is_variable(node: Node) -> bool:
    name = elixir.text(node)
    if name in _NOT_VARIABLES or name.startswith("_"):
        return False
    parent = node.parent
    if parent is None:
        return True
    if parent.type == "call" and parent.child_by_field_name("target") == node:
        return False
    return not (parent.type == "dot" and parent.child_by_field_name("right") == node)


def conn_params_access(node: Node) -> Node | None:
    """The `conn.params` (or body/query/path params) read inside `node`, if any."""
    for n in elixir.walk(node):
        if n.type != "call" or elixir.arguments_node(n) is not None:
            continue
        target = n.child_by_field_name("target")
        if target is None or target.type != "dot":
            continue
        left = target.child_by_field_name("left")
        right = target.child_by_field_name("right")
        if (
            left is not None
            and right is not None
            and left.type == "identifier"
            and elixir.text(left) == "conn"
            and elixir.text(right) in CONN_PARAM_FIELDS
        ):
            return n
    return None


def is_built_string(node: Node) -> bool:
    """A string built at run time: interpolation, or `<>` with a non-literal side."""
    if node.type == "string":
        return any(c.type == "interpolation" for c in node.named_children)
    if node.type == "binary_operator":
        op = node.child_by_field_name("operator")
        if op is not None and op.type == "<>":
            return not elixir.is_literal(node.child_by_field_name("left") or node) or (
                not elixir.is_literal(node.child_by_field_name("right") or node)
            )
    return False


# --- per-clause flow (cached per file) ----------------------------------------------------


def _file_cache(ctx: FileContext) -> dict[object, object]:
    """A cache that lives exactly as long as the file's context (in its memo)."""
    data: dict[object, object] = ctx.memo.setdefault("security-flow", {})
    return data


def module_of(ctx: FileContext, node: Node) -> elixir.Module | None:
    """The innermost module of the file containing `node`."""
    best: elixir.Module | None = None
    for module in ctx.modules:
        inside = module.node.start_byte <= node.start_byte < module.node.end_byte
        if inside and (best is None or module.node.start_byte >= best.node.start_byte):
            best = module
    return best


def clause_of(node: Node) -> elixir.FunctionClause | None:
    """The function clause (def/defp/...) around `node`."""
    def_call = elixir.enclosing_def(node)
    return elixir.parse_clause(def_call) if def_call is not None else None


def flow(ctx: FileContext, clause: elixir.FunctionClause) -> ClauseFlow:
    cache = _file_cache(ctx)
    key = ("flow", clause.node.id)
    found = cache.get(key)
    if isinstance(found, ClauseFlow):
        return found
    result = _compute_flow(ctx, clause)
    cache[key] = result
    return result


def _request_params(ctx: FileContext, clause: elixir.FunctionClause) -> list[tuple[Node, str]]:
    """The clause's parameters that carry request data, with the reason to say in messages."""
    if not clause.public:
        return []
    module = module_of(ctx, clause.node)
    if module is None:
        return []
    controller, live = _module_kind(ctx, module)
    found: list[tuple[Node, str]] = []
    if controller and len(clause.params) == 2:
        found.append((clause.params[1], "comes from the action's params"))
    if live:
        position = LIVE_PARAM_CALLBACKS.get((clause.name, len(clause.params)))
        if position is not None:
            found.append((clause.params[position], f"comes from the {clause.name} params"))
    return found


def _module_kind(ctx: FileContext, module: elixir.Module) -> tuple[bool, bool]:
    """(is a controller, is a LiveView), cached per module."""
    cache = _file_cache(ctx)
    key = ("kind", module.node.id)
    found = cache.get(key)
    if isinstance(found, tuple):
        return found[0], found[1]
    kind = _kind_from_uses(ctx, module)
    cache[key] = kind
    return kind


def _kind_from_uses(ctx: FileContext, module: elixir.Module) -> tuple[bool, bool]:
    """is_controller/is_live from the index's `use` calls (no scan of the module's body)."""
    start, end = module.node.start_byte, module.node.end_byte
    controller = module.name.endswith("Controller")
    live = False
    for use in ctx.index.calls_named("use"):
        if not start <= use.start_byte < end or module_of(ctx, use) is not module:
            continue
        found = elixir.call_args(use)
        if not found:
            continue
        target = elixir.text(found[0])
        kind = elixir.text(found[1]) if len(found) > 1 and found[1].type == "atom" else ""
        controller = controller or kind == ":controller" or target == "Phoenix.Controller"
        live = (
            live
            or kind in (":live_view", ":live_component")
            or target
            in (
                "Phoenix.LiveView",
                "Phoenix.LiveComponent",
            )
        )
    return controller, live


def _assignments_in(ctx: FileContext, node: Node) -> list[Node]:
    """The `=` operators inside `node`, from the shared index (no walk of the body)."""
    cache = _file_cache(ctx)
    found = cache.get("assignments")
    if not isinstance(found, tuple):
        matches = ctx.index.binary_operators("=")
        found = (matches, [n.start_byte for n in matches])
        cache["assignments"] = found
    matches, starts = found
    lo = bisect.bisect_left(starts, node.start_byte)
    hi = bisect.bisect_left(starts, node.end_byte)
    return list(matches[lo:hi])


def _compute_flow(ctx: FileContext, clause: elixir.FunctionClause) -> ClauseFlow:
    result = ClauseFlow()
    for param, reason in _request_params(ctx, clause):
        for var in variables(param):
            result.high.setdefault(elixir.text(var), reason)
    if clause.body is None:
        return result
    assignments = _assignments_in(ctx, clause.body)
    if not assignments:
        return result
    # Request data can only flow into a variable from a param or from `conn.*params`.
    track = bool(result.high) or b"params" in (clause.body.text or b"")
    for node in assignments:
        left = node.child_by_field_name("left")
        right = node.child_by_field_name("right")
        if left is None or right is None:
            continue
        if left.type == "identifier":
            result.assigned[elixir.text(left)] = right
            if is_built_string(right):
                result.built_strings[elixir.text(left)] = right
        if not track:
            continue
        source = _high_source(right, result)
        if source is not None:
            for var in variables(left):
                result.high.setdefault(elixir.text(var), f"is derived from {source}")
    return result


# Calls of these modules return (a piece of) their input: data flows through them. Any other
# call (`Repo.get!(Export, id)`, `Accounts.fetch(id)`) is a lookup whose result is not the
# request's own text, so the value it returns is not treated as request data.
CARRIER_MODULES = frozenset(
    {"Path", "String", "Map", "Keyword", "Enum", "List", "URI", "Base", "Access", "Kernel"}
)
_CARRIER_OPERATORS = frozenset({"<>", "++", "||", "|>", "="})


def _is_carrier_call(node: Node | None) -> bool:
    if node is None or node.type != "call":
        return False
    name = elixir.remote_name(node)
    if name is not None:
        return name[0] in CARRIER_MODULES
    return elixir.local_name(node) in ("to_string", "hd", "elem")


def _high_source(node: Node, state: ClauseFlow) -> str | None:
    """The request-data variable whose content `node` carries (through access, fields,
    interpolation, `<>` and data-preserving standard functions), if any."""
    kind = node.type
    if kind == "identifier":
        name = elixir.text(node)
        return f"`{name}` (request params)" if name in state.high else None
    if kind == "call":
        if conn_params_access(node) is node:
            return "`conn.params`"
        target = node.child_by_field_name("target")
        if target is not None and target.type == "dot":
            left = target.child_by_field_name("left")
            if elixir.arguments_node(node) is None:  # field access `x.path`
                return _high_source(left, state) if left is not None else None
            if left is None or left.type != "alias" or elixir.text(left) not in CARRIER_MODULES:
                return None
        elif elixir.local_name(node) not in ("to_string", "hd", "elem"):
            return None
        parts = elixir.call_args(node)
    elif kind == "binary_operator":
        op = node.child_by_field_name("operator")
        if op is None or op.type not in _CARRIER_OPERATORS:
            return None
        if op.type == "|>" and not _is_carrier_call(node.child_by_field_name("right")):
            return None
        parts = [
            c
            for c in (node.child_by_field_name("left"), node.child_by_field_name("right"))
            if c is not None
        ]
    elif kind in (
        "access_call",
        "string",
        "interpolation",
        "list",
        "tuple",
        "map",
        "map_content",
        "keywords",
        "pair",
        "arguments",
        "block",
    ):
        parts = list(node.named_children)
    else:
        return None
    for part in parts:
        found = _high_source(part, state)
        if found is not None:
            return found
    return None


def origin(ctx: FileContext, node: Node) -> Origin | None:
    """How confident we are that the value of `node` (a sink's argument) is attacker-supplied;
    None when it holds no variable at all (a literal, a module attribute, a call of constants)."""
    params_read = conn_params_access(node)
    if params_read is not None:
        return Origin(HIGH, elixir.text(params_read), "is the request's params")
    clause = clause_of(node)
    state = flow(ctx, clause) if clause is not None else ClauseFlow()
    first: Node | None = None
    for var in variables(node):
        name = elixir.text(var)
        if name in state.high:
            return Origin(HIGH, name, state.high[name])
        if first is None:
            first = var
    if first is None:
        return None
    return Origin(MEDIUM, elixir.text(first), "is a variable not traced to request params")


def high_origin(ctx: FileContext, node: Node) -> Origin | None:
    """Like `origin`, but only for values that come from the request (HIGH confidence)."""
    found = origin(ctx, node)
    return found if found is not None and found.confidence == HIGH else None


# --- templates ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Expression:
    """Elixir code inside a template: its text and where it starts (1-based line, column)."""

    code: str
    line: int
    column: int

    def position(self, node: Node) -> tuple[int, int]:
        """Absolute (line, column) of a node of `parse(self.code)`."""
        row, col = node.start_point.row, node.start_point.column
        return self.line + row, (self.column + col if row == 0 else col + 1)


_EEX_TAG = re.compile(r"<%(?!%)(?P<mark>=|#|!--)?(?P<code>.*?)(?:--)?%>", re.DOTALL)


def template_expressions(
    text: str, line: int = 1, column: int = 1, *, curly: bool = True
) -> Iterator[Expression]:
    """The Elixir expressions of an EEx/HEEx text starting at (line, column) of its file:
    `<% ... %>`/`<%= ... %>` tags (comments skipped) and, for HEEx, `{...}` interpolations."""
    taken: list[tuple[int, int]] = []
    for m in _EEX_TAG.finditer(text):
        taken.append((m.start(), m.end()))
        if m.group("mark") in ("#", "!--"):
            continue
        start = m.start("code")
        yield _expression(text, start, m.group("code"), line, column)
    if curly:
        yield from _curly_expressions(text, taken, line, column)


def _expression(text: str, start: int, code: str, line: int, column: int) -> Expression:
    before = text.count("\n", 0, start)
    col = column + start if before == 0 else start - text.rfind("\n", 0, start)
    return Expression(code, line + before, col)


def _curly_expressions(
    text: str, taken: list[tuple[int, int]], line: int, column: int
) -> Iterator[Expression]:
    i = text.find("{")
    while i != -1:
        if any(a <= i < b for a, b in taken):
            i = text.find("{", i + 1)
            continue
        end = _matching_brace(text, i)
        if end is None:
            return
        yield _expression(text, i + 1, text[i + 1 : end], line, column)
        i = text.find("{", end + 1)


def _matching_brace(text: str, start: int) -> int | None:
    depth = 0
    i = start
    quote: str | None = None
    while i < len(text):
        c = text[i]
        if quote is not None:
            if c == "\\":
                i += 2
                continue
            if c == quote:
                quote = None
        elif c in "\"'":
            quote = c
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return None


# Sigils whose content is an EEx/HEEx template, and those among them with `{...}` interpolation.
TEMPLATE_SIGILS = frozenset({"H", "E", "L", "F", "LVN"})
CURLY_SIGILS = frozenset({"H", "F", "LVN"})
CURLY_SUFFIXES = (".heex", ".sface")


def sigil_templates(ctx: FileContext) -> Iterator[tuple[str, Node]]:
    """(sigil name, content) for every `~H`/`~E`/... sigil of an Elixir file."""
    for sigil in ctx.index.nodes("sigil"):
        name = next((c for c in sigil.named_children if c.type == "sigil_name"), None)
        if name is None or elixir.text(name) not in TEMPLATE_SIGILS:
            continue
        for content in sigil.named_children:
            if content.type == "quoted_content":
                yield elixir.text(name), content


def file_templates(ctx: FileContext) -> Iterator[Expression]:
    """Every template expression of the file: the whole text of a template file, or the
    contents of its `~H`-like sigils for an Elixir file."""
    if ctx.kind == "template":
        yield from template_expressions(ctx.text, curly=ctx.path.endswith(CURLY_SUFFIXES))
        return
    for name, content in sigil_templates(ctx):
        yield from template_expressions(
            elixir.text(content),
            elixir.line_of(content),
            elixir.column_of(content),
            curly=name in CURLY_SIGILS,
        )


@lru_cache(maxsize=512)
def parse_expression(code: str) -> Tree:
    """Parse a template expression as Elixir (`for x <- xs do` fragments parse partially).
    Templates repeat the same expressions, and trees are read-only, so parses are shared."""
    return elixir.parse(code.encode("utf-8"))


# --- small node helpers -------------------------------------------------------------------


def is_remote(node: Node, modules: tuple[str, ...], functions: tuple[str, ...]) -> bool:
    name = elixir.remote_name(node)
    return name is not None and name[0] in modules and name[1] in functions


def pipe_subject(call: Node) -> Node | None:
    """For `x |> f(a)`, the piped `x` (the call's hidden first argument)."""
    parent = call.parent
    if parent is None or parent.type != "binary_operator":
        return None
    op = parent.child_by_field_name("operator")
    if op is None or op.type != "|>" or parent.child_by_field_name("right") != call:
        return None
    return parent.child_by_field_name("left")


def argument(call: Node, position: int) -> Node | None:
    """The argument at `position` counting a piped subject as argument 0."""
    found = elixir.call_args(call)
    subject = pipe_subject(call)
    if subject is not None:
        found = [subject, *found]
    return found[position] if position < len(found) else None
