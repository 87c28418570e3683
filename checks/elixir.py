"""Parse Elixir once with tree-sitter-elixir and give the reviewers a shared, cheap view of it.

Measured on this machine (bench/throughput.py): a tree-sitter query costs about one full C
traversal of the tree whatever it captures, and a Python-side walk of every node costs half as
much as the parse itself. So the engine runs ONE compiled query per file that captures every
node kind a reviewer dispatches on, and files the captures into an `Index`; rules ask the
index (`calls_named("def")`, `remote_calls("Repo", "query")`, `attributes("spec")`) instead
of walking. Everything else here is small node helpers that encode the grammar's pitfalls
(no `arguments`/`do_block` fields, three shapes of function head, `keyword` text with a colon).
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import tree_sitter_elixir
from tree_sitter import Language, Node, Parser, Query, QueryCursor, Tree

LANGUAGE = Language(tree_sitter_elixir.language())

_local = threading.local()


def parser() -> Parser:
    """One parser per thread: tree-sitter parsers are not safe to share across threads."""
    p: Parser | None = getattr(_local, "parser", None)
    if p is None:
        p = Parser(LANGUAGE)
        _local.parser = p
    return p


def parse(source: bytes) -> Tree:
    return parser().parse(source)


# One traversal, every capture the reviewers dispatch on. Keep capture names stable: the Index
# files nodes by them.
_INDEX_QUERY = Query(
    LANGUAGE,
    """
(call) @call
(binary_operator) @binary_operator
(unary_operator) @unary_operator
(stab_clause) @stab_clause
(anonymous_function) @anonymous_function
(sigil) @sigil
(interpolation) @interpolation
""",
)

DEF_KINDS = frozenset({"def", "defp", "defmacro", "defmacrop", "defguard", "defguardp"})
PUBLIC_DEF_KINDS = frozenset({"def", "defmacro", "defguard"})
MODULE_KINDS = frozenset({"defmodule", "defprotocol", "defimpl"})
BLOCK_KEYWORDS = frozenset(
    {"if", "unless", "case", "cond", "fn", "for", "with", "try", "receive"}
)


def text(node: Node | None) -> str:
    if node is None:
        return ""
    raw = node.text
    return raw.decode("utf-8", "replace") if raw is not None else ""


def line_of(node: Node) -> int:
    """1-based line of the node's start."""
    return node.start_point.row + 1


def end_line_of(node: Node) -> int:
    """1-based last line of the node (a node that swallows a newline ends on the line before)."""
    end = node.end_point
    if end.column == 0 and end.row > node.start_point.row:
        return end.row
    return end.row + 1


def column_of(node: Node) -> int:
    """1-based column (in bytes, as tree-sitter counts)."""
    return node.start_point.column + 1


def call_target(node: Node) -> Node | None:
    return node.child_by_field_name("target") if node.type == "call" else None


def local_name(node: Node) -> str | None:
    """`foo` for `foo(...)`/`foo do ... end`; None for remote calls and non-calls."""
    target = call_target(node)
    if target is not None and target.type == "identifier":
        return text(target)
    return None


def remote_name(node: Node) -> tuple[str, str] | None:
    """("Repo", "query") for `Repo.query(...)`, (":crypto", "hash") for `:crypto.hash(...)`."""
    target = call_target(node)
    if target is None or target.type != "dot":
        return None
    left = target.child_by_field_name("left")
    right = target.child_by_field_name("right")
    if left is None or right is None or right.type != "identifier":
        return None
    if left.type in ("alias", "atom"):
        return text(left), text(right)
    return None


def arguments_node(node: Node) -> Node | None:
    # A call's named children are: target, then arguments if any, then a do_block if any.
    # Indexing avoids building the children list (this is on every rule's hot path).
    if node.type != "call":
        for child in node.named_children:
            if child.type == "arguments":
                return child
        return None
    if node.named_child_count < 2:
        return None
    second = node.named_child(1)
    if second is not None and second.type == "arguments":
        return second
    return None


def has_parens(call: Node) -> bool:
    """Whether a call has literal parentheses (`foo(x)` vs `foo x`)."""
    args = arguments_node(call)
    return args is not None and args.child_count > 0 and args.children[0].type == "("


def call_args(node: Node) -> list[Node]:
    """Positional and keyword arguments of a call, in order (trailing `keywords` is one)."""
    args = arguments_node(node)
    if args is None:
        return []
    return [c for c in args.named_children if c.type != "comment"]


def do_block(node: Node) -> Node | None:
    count = node.named_child_count
    if count == 0:
        return None
    last = node.named_child(count - 1)
    if last is not None and last.type == "do_block":
        return last
    if last is not None and last.type == "comment":
        for child in node.named_children:
            if child.type == "do_block":
                return child
    return None


def block_statements(block: Node | None) -> list[Node]:
    """Statements of a do_block (its own body, not the else/rescue/... blocks nested in it)."""
    if block is None:
        return []
    return [
        c
        for c in block.named_children
        if c.type not in ("comment", "else_block", "rescue_block", "catch_block", "after_block")
    ]


def keyword_key(pair: Node) -> str:
    """`do` for the key of `do: x` (the grammar keeps the colon and trailing space)."""
    key = pair.child_by_field_name("key")
    raw = text(key).strip()
    if raw.endswith(":"):
        raw = raw[:-1]
    if raw.startswith('"') and raw.endswith('"'):
        raw = raw[1:-1]
    return raw


def keyword_pairs(node: Node | None) -> dict[str, Node]:
    """Map the keys of a `keywords` node (or a call's trailing keywords) to their value nodes."""
    if node is None:
        return {}
    if node.type == "call":
        args = call_args(node)
        node = args[-1] if args and args[-1].type == "keywords" else None
        if node is None:
            return {}
    if node.type == "list":
        kws = [c for c in node.named_children if c.type == "keywords"]
        node = kws[0] if kws else None
        if node is None:
            return {}
    if node.type != "keywords":
        return {}
    pairs: dict[str, Node] = {}
    for pair in node.named_children:
        if pair.type == "pair":
            value = pair.child_by_field_name("value")
            if value is not None:
                pairs.setdefault(keyword_key(pair), value)
    return pairs


def inline_do(node: Node) -> Node | None:
    """The value of `do:` in `def f(x), do: x`."""
    return keyword_pairs(node).get("do")


def attribute_name(node: Node) -> str | None:
    """`spec` for `@spec ...`, `moduledoc` for `@moduledoc ...`; None for other nodes."""
    if node.type != "unary_operator":
        return None
    op = node.child_by_field_name("operator")
    if op is None or op.type != "@":
        return None
    operand = node.child_by_field_name("operand")
    if operand is None:
        return None
    if operand.type == "call":
        return local_name(operand)
    if operand.type == "identifier":
        return text(operand)
    return None


def attribute_value(node: Node) -> Node | None:
    """The first argument of `@name value` (None for a bare `@name` read)."""
    operand = node.child_by_field_name("operand")
    if operand is None or operand.type != "call":
        return None
    args = call_args(operand)
    return args[0] if args else None


def is_false_literal(node: Node | None) -> bool:
    return node is not None and node.type == "boolean" and text(node) == "false"


def string_literal(node: Node | None) -> str | None:
    """The text of a string without interpolation (heredocs included); None otherwise."""
    if node is None or node.type not in ("string", "charlist"):
        return None
    parts: list[str] = []
    for child in node.named_children:
        if child.type == "interpolation":
            return None
        if child.type in ("quoted_content", "escape_sequence"):
            parts.append(text(child))
    return "".join(parts)


def is_literal(node: Node) -> bool:
    """A compile-time constant: no variable, call or interpolation anywhere inside."""
    if node.type in ("integer", "float", "atom", "boolean", "nil", "char", "quoted_atom"):
        return node.type != "quoted_atom" or not any(
            c.type == "interpolation" for c in node.named_children
        )
    if node.type in ("string", "charlist"):
        return all(c.type != "interpolation" for c in node.named_children)
    if node.type == "sigil":
        return all(c.type != "interpolation" for c in node.named_children)
    if node.type in ("list", "tuple", "keywords", "pair", "map", "map_content", "keyword"):
        return all(is_literal(c) for c in node.named_children if c.type != "comment")
    return node.type == "alias"


def walk(node: Node) -> Iterator[Node]:
    """Every named descendant of `node` (itself included), depth first, in source order."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        children = current.named_children
        stack.extend(reversed(children))


def ancestors(node: Node) -> Iterator[Node]:
    parent = node.parent
    while parent is not None:
        yield parent
        parent = parent.parent


def identifiers(node: Node) -> Iterator[Node]:
    for n in walk(node):
        if n.type == "identifier":
            yield n


def error_nodes(root: Node) -> list[Node]:
    """ERROR and MISSING nodes, outermost first, in source order."""
    found: list[Node] = []
    if not root.has_error:
        return found
    stack = [root]
    while stack:
        n = stack.pop()
        if n.is_error or n.is_missing:
            found.append(n)
            continue
        if n.has_error:
            stack.extend(reversed(n.children))
    found.sort(key=lambda n: (n.start_byte, n.end_byte))
    return found


# A local call's target is an identifier at the very start of the call node. Reading it from
# the source with a regex costs a third of asking tree-sitter for the target node and its text
# (measured: the index's name grouping was a third of a review's Python time).
# Possessive quantifiers: backtracking into `user` of `user.name` must not yield a call "use".
_LOCAL_TARGET = re.compile(rb"([a-z_][A-Za-z0-9_]*+[?!]?+)(?=\s*[^.\s]|\s*$|\s*\.\.)")


# `Repo.query!(`, `Ecto.Adapters.SQL.query(`, `:crypto.hash(`, `Mod.fun` (no parens). The module
# is an alias path or an atom; a name followed by `.` and a letter continues a chain instead.
_REMOTE_TARGET = re.compile(
    rb"((?:[A-Z][A-Za-z0-9_]*+)(?:\.[A-Z][A-Za-z0-9_]*+)*+|:[a-z_][A-Za-z0-9_]*+)"
    rb"\.([a-z_][A-Za-z0-9_]*+[?!]?+)(?!\.?[A-Za-z0-9_])"
)


# `@doc`, `@spec`... at a unary operator's start: the attribute's name.
_ATTRIBUTE = re.compile(rb"@([a-z_][A-Za-z0-9_]*+)(?![A-Za-z0-9_?!])")

# Both in one pattern, so each call costs one match.
_CALL_TARGET = re.compile(_LOCAL_TARGET.pattern + b"|" + _REMOTE_TARGET.pattern)


@dataclass
class Index:
    """The nodes a file's reviewers dispatch on, from one query, grouped lazily by name."""

    by_type: dict[str, list[Node]]
    source: bytes = b""
    _merges: dict[tuple[str, ...], list[Node]] = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, tree: Tree, source: bytes | None = None) -> Index:
        captures = QueryCursor(_INDEX_QUERY).captures(tree.root_node)
        by_type = {name: sorted(nodes, key=_start) for name, nodes in captures.items()}
        return cls(by_type, source if source is not None else tree.root_node.text or b"")

    def nodes(self, kind: str) -> list[Node]:
        return self.by_type.get(kind, [])

    @cached_property
    def _innermost_calls(self) -> list[Node]:
        """Calls minus those sharing their start with a call nested inside them.

        `foo(x).bar` and `Mod.fun().field` are outer calls whose target is a dot on an inner
        call starting at the same byte; the source text at that byte names the inner call, so
        only the innermost (shortest) call of such a run may be filed under that name.
        """
        kept: list[Node] = []
        previous: Node | None = None
        for call in self.nodes("call"):
            if previous is not None and previous.start_byte == call.start_byte:
                if call.end_byte < previous.end_byte:
                    kept[-1] = call
                    previous = call
                continue
            kept.append(call)
            previous = call
        return kept

    @cached_property
    def _calls_by_name(self) -> tuple[dict[str, list[Node]], dict[tuple[str, str], list[Node]]]:
        """Local calls by name and remote calls by (module, function), in one pass."""
        local: dict[str, list[Node]] = defaultdict(list)
        remote: dict[tuple[str, str], list[Node]] = defaultdict(list)
        source = self.source
        match = _CALL_TARGET.match
        for call in self._innermost_calls:
            m = match(source, call.start_byte)
            if m is None:
                continue
            name, module, function = m.groups()
            if name is not None:
                # `not x`, `fn`... are operators or other nodes, never a call's target.
                if name not in _RESERVED_BYTES:
                    local[name.decode()].append(call)
            else:
                remote[(module.decode(), function.decode())].append(call)
        return local, remote

    @cached_property
    def _local_calls(self) -> dict[str, list[Node]]:
        return self._calls_by_name[0]

    @cached_property
    def _remote_calls(self) -> dict[tuple[str, str], list[Node]]:
        # `Repo.query!(`, `:crypto.hash(`: read from the source at the call's start.
        return self._calls_by_name[1]

    @cached_property
    def remote_modules(self) -> frozenset[str]:
        """Every module the file calls a function of (`Repo`, `Ecto.Adapters.SQL`, `:crypto`):
        a rule whose sinks all live in absent modules skips the file with one lookup."""
        return frozenset(module for module, _ in self._remote_calls)

    @cached_property
    def _attributes(self) -> dict[str, list[Node]]:
        grouped: dict[str, list[Node]] = defaultdict(list)
        source = self.source
        match = _ATTRIBUTE.match
        for node in self.nodes("unary_operator"):
            m = match(source, node.start_byte)
            if m is not None:
                grouped[m.group(1).decode()].append(node)
            elif source[node.start_byte : node.start_byte + 1] == b"@":
                # `@ doc` with a space, or an odd operand: ask the tree.
                name = attribute_name(node)
                if name is not None:
                    grouped[name].append(node)
        return grouped

    @cached_property
    def _binary_by_op(self) -> dict[str, list[Node]]:
        grouped: dict[str, list[Node]] = defaultdict(list)
        for node in self.nodes("binary_operator"):
            op = node.child_by_field_name("operator")
            if op is not None:
                grouped[op.type].append(node)
        return grouped

    # The lists these return are shared by every rule of the file: read them, never mutate.

    def calls_named(self, *names: str) -> list[Node]:
        """Local calls (`def`, `if`, `raw(...)`) with any of these names, in source order."""
        if len(names) == 1:
            return self._local_calls.get(names[0]) or []
        return self._merged(("local", *names), [self._local_calls.get(n, _EMPTY) for n in names])

    def remote_calls(self, module: str, *functions: str) -> list[Node]:
        """Remote calls `Module.fun(...)` (module spelled as written: "Repo", ":crypto")."""
        if len(functions) == 1:
            return self._remote_calls.get((module, functions[0])) or []
        lists = [self._remote_calls.get((module, f), _EMPTY) for f in functions]
        return self._merged(("remote", module, *functions), lists)

    def _merged(self, key: tuple[str, ...], lists: list[list[Node]]) -> list[Node]:
        """Several name lists merged in source order, once per file and key."""
        found = self._merges.get(key)
        if found is None:
            present = [nodes for nodes in lists if nodes]
            if len(present) <= 1:
                found = present[0] if present else []
            else:
                found = sorted((n for nodes in present for n in nodes), key=_start)
            self._merges[key] = found
        return found

    def remote_calls_where(
        self, predicate: Callable[[str, str], bool]
    ) -> list[tuple[tuple[str, str], Node]]:
        """Every remote call with its (module, function), filtered by `predicate(mod, fun)`."""
        found = [
            (key, n)
            for key, nodes in self._remote_calls.items()
            if predicate(*key)
            for n in nodes
        ]
        found.sort(key=lambda item: _start(item[1]))
        return found

    def attributes(self, name: str) -> list[Node]:
        return self._attributes.get(name, [])

    def binary_operators(self, *ops: str) -> list[Node]:
        """Binary operators (`|>`, `=`, `<-`, `when`...) with any of these operators."""
        if len(ops) == 1:
            return self._binary_by_op.get(ops[0]) or []
        return self._merged(("binary", *ops), [self._binary_by_op.get(o, _EMPTY) for o in ops])


# Words that start a node at a call's position without being its target (`not x`, `fn`).
_RESERVED_BYTES = frozenset(
    {b"not", b"and", b"or", b"in", b"when", b"fn", b"do", b"end", b"true", b"false", b"nil"}
)
_EMPTY: list[Node] = []  # a default for lookups that is never handed out


def _start(node: Node) -> int:
    return node.start_byte


# --- modules and functions ---------------------------------------------------------------


@dataclass
class FunctionClause:
    """One `def`/`defp`/... call. Clauses of one function are grouped in `Function`."""

    kind: str
    name: str
    node: Node
    head: Node | None  # the `name(args)` call or bare identifier
    params: list[Node]
    guard: Node | None
    body: Node | None  # do_block, or the value of `do:`
    min_arity: int
    max_arity: int

    @property
    def line(self) -> int:
        return line_of(self.node)

    @property
    def public(self) -> bool:
        return self.kind in PUBLIC_DEF_KINDS


@dataclass
class Function:
    """Consecutive clauses of one name (arities may differ) with the attributes before them."""

    kind: str
    name: str
    clauses: list[FunctionClause]
    doc: Node | None = None  # the @doc attribute node, if any
    impl: bool = False  # preceded by @impl (anything but `@impl false`)
    spec_attrs: list[Node] = field(default_factory=list)

    @property
    def public(self) -> bool:
        return self.kind in PUBLIC_DEF_KINDS

    @property
    def node(self) -> Node:
        return self.clauses[0].node

    @property
    def arities(self) -> list[int]:
        found: set[int] = set()
        for clause in self.clauses:
            found.update(range(clause.min_arity, clause.max_arity + 1))
        return sorted(found)


@dataclass
class Module:
    """A `defmodule` and what it declares directly (nested modules are separate Modules)."""

    name: str
    node: Node
    statements: list[Node]
    functions: list[Function]
    parent: Module | None = None
    moduledoc: Node | None = None
    specs: dict[tuple[str, int], list[Node]] = field(default_factory=dict)
    types: dict[str, Node] = field(default_factory=dict)  # @type/@typep/@opaque names

    @property
    def line(self) -> int:
        return line_of(self.node)

    def uses(self) -> list[Node]:
        return [s for s in self.statements if local_name(s) == "use"]

    def used_modules(self) -> list[str]:
        found: list[str] = []
        for use in self.uses():
            args = call_args(use)
            if args and args[0].type == "alias":
                found.append(text(args[0]))
        return found

    def attribute_nodes(self, name: str) -> list[Node]:
        return [s for s in self.statements if attribute_name(s) == name]

    def local_calls(self, *names: str) -> list[Node]:
        wanted = set(names)
        return [s for s in self.statements if local_name(s) in wanted]


def function_head(def_call: Node) -> tuple[str, Node | None, list[Node], Node | None] | None:
    """Split the first argument of a def into (name, head, params, guard); None if malformed."""
    args = call_args(def_call)
    return _split_head(args[0]) if args else None


def _split_head(head: Node) -> tuple[str, Node | None, list[Node], Node | None] | None:
    guard: Node | None = None
    if head.type == "binary_operator":
        op = head.child_by_field_name("operator")
        if op is not None and op.type == "when":
            guard = head.child_by_field_name("right")
            head = head.child_by_field_name("left") or head
    if head.type == "identifier":
        return text(head), head, [], guard
    if head.type == "call":
        name = local_name(head)
        if name is None:
            return None
        return name, head, call_args(head), guard
    # Operator definitions like `def a + b` or `def unquote(name)(x)`: not a plain name.
    return None


def _is_default(param: Node) -> bool:
    if param.type != "binary_operator":
        return False
    op = param.child_by_field_name("operator")
    return op is not None and op.type == "\\\\"


def parse_clause(def_call: Node, kind: str | None = None) -> FunctionClause | None:
    """The clause a def/defp/... call defines; `kind` may be passed when already known."""
    kind = kind or local_name(def_call)
    if kind not in DEF_KINDS:
        return None
    args = call_args(def_call)
    head = _split_head(args[0]) if args else None
    if head is None:
        return None
    name, head_node, params, guard = head
    defaults = sum(1 for p in params if p.type == "binary_operator" and _is_default(p))
    body: Node | None = do_block(def_call)
    if body is None and len(args) > 1 and args[-1].type == "keywords":
        body = keyword_pairs(args[-1]).get("do")
    return FunctionClause(
        kind=kind,
        name=name,
        node=def_call,
        head=head_node,
        params=params,
        guard=guard,
        body=body,
        min_arity=len(params) - defaults,
        max_arity=len(params),
    )


def _spec_key(spec_attr: Node) -> tuple[str, int] | None:
    value = attribute_value(spec_attr)
    if value is None:
        return None
    # `@spec f(a) :: r when a: t` nests the `::` inside a `when`.
    while value.type == "binary_operator":
        op = value.child_by_field_name("operator")
        if op is not None and op.type == "::":
            break
        left = value.child_by_field_name("left")
        if left is None:
            return None
        value = left
    if value.type != "binary_operator":
        return None
    left = value.child_by_field_name("left")
    if left is None:
        return None
    if left.type == "identifier":
        return text(left), 0
    if left.type == "call":
        name = local_name(left)
        if name is None:
            return None
        return name, len(call_args(left))
    return None


def spec_key(spec_attr: Node) -> tuple[str, int] | None:
    """(name, arity) that a `@spec`/`@callback` attribute describes."""
    return _spec_key(spec_attr)


def _module_name(defmodule: Node) -> str | None:
    args = call_args(defmodule)
    if not args:
        return None
    first = args[0]
    if first.type == "alias":
        return text(first)
    if first.type == "atom":
        return text(first)
    return None


def modules(index: Index) -> list[Module]:
    """Every `defmodule` of the file, outermost first, with functions grouped and attributed."""
    result: list[Module] = []
    by_node: dict[int, Module] = {}
    for node in index.calls_named("defmodule"):
        name = _module_name(node)
        block = do_block(node)
        if name is None or block is None or _inside_quote(node):
            continue
        parent = None
        for anc in ancestors(node):
            if anc.type == "call" and anc.id in by_node:
                parent = by_node[anc.id]
                break
        full = name if parent is None or name.startswith(":") else f"{parent.name}.{name}"
        module = _build_module(full, node, block_statements(block), parent, index.source)
        by_node[node.id] = module
        result.append(module)
    return result


def _inside_quote(node: Node) -> bool:
    """A defmodule inside `quote` is a template for generated code, not a module of the file."""
    return any(anc.type == "call" and local_name(anc) == "quote" for anc in ancestors(node))


_STATEMENT_LEAD = re.compile(rb"@?[a-z_][A-Za-z0-9_]*+")


def _build_module(
    name: str, node: Node, statements: list[Node], parent: Module | None, source: bytes
) -> Module:
    module = Module(name=name, node=node, statements=statements, functions=[], parent=parent)
    pending_doc: Node | None = None
    pending_impl = False
    pending_specs: list[Node] = []
    last: Function | None = None
    for stmt in statements:
        # Reading the leading token from the source is several times cheaper than asking
        # tree-sitter for operator/operand/target nodes, and most statements are defs or attrs.
        start = stmt.start_byte
        lead = _STATEMENT_LEAD.match(source, start)
        if lead is None:
            # `@ doc "..."` (unformatted) still is an attribute; nothing else matters here.
            attr = attribute_name(stmt)
            token = b"@" + attr.encode() if attr is not None else b""
        else:
            token = lead.group(0)
            attr = token[1:].decode() if token.startswith(b"@") else None
        if attr is not None and stmt.type == "unary_operator":
            if attr == "moduledoc" and module.moduledoc is None:
                module.moduledoc = stmt
            elif attr == "doc":
                pending_doc = stmt
            elif attr == "impl":
                pending_impl = not is_false_literal(attribute_value(stmt))
            elif attr == "spec":
                key = _spec_key(stmt)
                if key is not None:
                    module.specs.setdefault(key, []).append(stmt)
                pending_specs.append(stmt)
            elif attr in ("type", "typep", "opaque"):
                value = attribute_value(stmt)
                tname = _type_name(value)
                if tname is not None:
                    module.types.setdefault(tname, stmt)
            continue
        kind = token.decode()
        if kind not in DEF_KINDS or stmt.type != "call":
            continue
        clause = parse_clause(stmt, kind)
        if clause is None:
            continue
        if (
            last is not None
            and last.name == clause.name
            and last.kind == clause.kind
            and pending_doc is None
            and not pending_specs
        ):
            last.clauses.append(clause)
            last.impl = last.impl or pending_impl
        else:
            last = Function(
                kind=clause.kind,
                name=clause.name,
                clauses=[clause],
                doc=pending_doc,
                impl=pending_impl,
                spec_attrs=pending_specs,
            )
            module.functions.append(last)
        pending_doc, pending_impl, pending_specs = None, False, []
    return module


def _type_name(value: Node | None) -> str | None:
    if value is None or value.type != "binary_operator":
        return None
    left = value.child_by_field_name("left")
    if left is None:
        return None
    if left.type == "identifier":
        return text(left)
    if left.type == "call":
        return local_name(left)
    return None


def enclosing(node: Node, types: Sequence[str]) -> Node | None:
    for anc in ancestors(node):
        if anc.type in types:
            return anc
    return None


def enclosing_def(node: Node) -> Node | None:
    """The def/defp/... call containing `node`, if any."""
    for anc in ancestors(node):
        if anc.type == "call" and local_name(anc) in DEF_KINDS:
            return anc
    return None


def last_statement(body: Node | None) -> Node | None:
    """The value-producing expression of a do_block / body / stab clause right side."""
    if body is None:
        return None
    if body.type in ("do_block", "body", "block", "else_block", "after_block"):
        statements = [
            c
            for c in body.named_children
            if c.type
            not in ("comment", "else_block", "rescue_block", "catch_block", "after_block")
        ]
        return last_statement(statements[-1]) if statements else None
    return body


def tail_expressions(body: Node | None) -> Iterator[Node]:
    """Every expression a function body can return: the last statement, followed into the
    branches of if/unless/case/cond/with/try/receive (not into calls or anonymous functions)."""
    expr = last_statement(body)
    if expr is None:
        return
    if expr.type == "call" and local_name(expr) in (
        "if",
        "unless",
        "case",
        "cond",
        "with",
        "try",
        "receive",
    ):
        block = do_block(expr)
        inline = keyword_pairs(expr)
        if block is None and inline:
            for key in ("do", "else"):
                if key in inline:
                    yield from tail_expressions(inline[key])
            return
        if block is None:
            yield expr
            return
        stabs = [c for c in block.named_children if c.type == "stab_clause"]
        if stabs:
            for stab in stabs:
                yield from tail_expressions(stab.child_by_field_name("right"))
        else:
            yield from tail_expressions(block)
        for sub in block.named_children:
            if sub.type in ("else_block", "rescue_block", "catch_block"):
                sub_stabs = [c for c in sub.named_children if c.type == "stab_clause"]
                if sub_stabs:
                    for stab in sub_stabs:
                        yield from tail_expressions(stab.child_by_field_name("right"))
                else:
                    yield from tail_expressions(sub)
        return
    if expr.type == "binary_operator":
        op = expr.child_by_field_name("operator")
        if op is not None and op.type == "|>":
            yield expr
            return
    yield expr


def is_tagged_tuple(node: Node, tag: str) -> bool:
    """`{:error, ...}` for tag ":error"."""
    if node.type != "tuple":
        return False
    items = [c for c in node.named_children if c.type != "comment"]
    return bool(items) and items[0].type == "atom" and text(items[0]) == tag
