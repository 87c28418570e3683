"""L0 compiles cleanly: no unused variables, no unused aliases.

Both mirror warnings of the Elixir compiler, and the ladder's L0 gate is
`mix compile --warnings-as-errors`, so each of them fails the build there. tree-sitter cannot
expand macros, so both rules are deliberately conservative: a false "unused" on code that
compiles cleanly would teach people to ignore the rule, while a miss only defers the warning to
the compiler.

Unused variables are found in two steps, because a Python walk of every function body would
cost more than parsing the file:

1. Every binding of a clause is collected from the binding sites the shared index already holds
   (the def's parameters, `=`, the `<-` of `for`/`with`, and the patterns of `case`, `receive`,
   `fn`, `try` and `with ... else` clauses); patterns are small, so walking them is cheap, and
   the commonest ones (`x = ...`, `{:ok, user} ->`, a plain parameter) are read from the text
   without asking the tree at all. How a `->` clause binds comes from its owner (a `fn`, or a
   `case`/`cond`/... call of the index), which lists its clauses in one call. Each bound name
   is then looked up in the clause's text with a substring search (a regular expression over
   every clause costs a third of the parse). A name whose every mention is a binding is unused;
   a name bound once and mentioned again is used (code that compiles cannot use a variable
   outside the scope of its only binding). Mentions in strings and comments count too, which
   can only hide a finding, never invent one.
2. Only a name that is bound several times *and* mentioned elsewhere needs real scoping (the
   first `x` of `x = 1; x = 2; x`, or `reason` bound in two `case` clauses and used in one).
   When each binding heads a `->` clause that plainly uses it (one more mention, a plain
   identifier outside any pattern), nothing can be unused. Otherwise those names alone are
   tracked through a scope-aware walk of the clause, which skips every subtree whose text does
   not contain them.

Clauses that use `quote`, `unquote`, `var!` or `binding()` are skipped: they can reach variables
in ways no syntax tree shows (asked only of clauses that would be reported or walked).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter

from tree_sitter import Node

from checks import elixir
from checks.context import FileContext
from checks.l2_support import clauses_by_start
from checks.model import Finding, Rule, Severity

CLAUSE_KINDS = ("def", "defp", "defmacro", "defmacrop")

# Clauses that can touch variables without naming them where tree-sitter can see it.
_OPAQUE = re.compile(
    rb"\bquote\b(?=\s*(?:do\b|\(|[a-z_]+:))|\bunquote(?:_splicing)?\(|\bvar!|\bbinding\("
)
# Sigils such as ~H read `assigns` implicitly.
_UPPER_SIGIL = re.compile(rb"~[A-Z]")
# Words in the opaque text of a sigil (HEEx in ~H): each is taken as a use.
_TEXT_TOKEN = re.compile(r"[a-z_][A-Za-z0-9_]*[?!]?")

# Constructs whose `->` clauses bind patterns; `cond` and unknown macros get expressions.
_PATTERN_OWNERS = frozenset({"case", "receive", "fn"})
_BLOCK_OWNERS = frozenset({"try", *CLAUSE_KINDS})  # implicit try in a def body


@dataclass(eq=False)
class _Binding:
    name: str
    node: Node
    used: bool = False


Env = dict[str, _Binding]


def operator(node: Node) -> str:
    op = node.child_by_field_name("operator")
    return op.type if op is not None else ""


def _call_args(call: Node) -> list[Node]:
    """`elixir.call_args`, safe on a call that has only a target (`user.name`)."""
    if call.named_child_count < 2:
        return []
    return elixir.call_args(call)


def _kw(call: Node) -> dict[str, Node]:
    args = _call_args(call)
    if args and args[-1].type == "keywords":
        return elixir.keyword_pairs(args[-1])
    return {}


def _statements(container: Node | None) -> list[Node]:
    if container is None:
        return []
    return [
        c
        for c in container.named_children
        if c.type not in ("comment", "else_block", "rescue_block", "catch_block", "after_block")
    ]


def _sub_block(block: Node | None, kind: str) -> Node | None:
    if block is None:
        return None
    for child in block.named_children:
        if child.type == kind:
            return child
    return None


def _stabs(container: Node | None) -> list[Node]:
    if container is None:
        return []
    return [c for c in container.named_children if c.type == "stab_clause"]


def stab_mode(stab: Node) -> str | None:
    """How the left side of a `->` clause binds: "pattern", "rescue", or None (expressions)."""
    parent = stab.parent
    if parent is None:
        return None
    if parent.type == "anonymous_function":
        return "pattern"
    if parent.type == "do_block":
        owner = elixir.local_name(parent.parent) if parent.parent is not None else None
        if owner in _PATTERN_OWNERS:
            return "pattern"
        if owner == "for" and parent.parent is not None and "reduce" in _kw(parent.parent):
            return "pattern"
        return None
    if parent.type in ("else_block", "catch_block", "rescue_block"):
        block = parent.parent
        owner_call = block.parent if block is not None else None
        owner = elixir.local_name(owner_call) if owner_call is not None else None
        if parent.type == "else_block" and owner in ("with", *_BLOCK_OWNERS):
            return "pattern"
        if parent.type == "catch_block" and owner in _BLOCK_OWNERS:
            return "pattern"
        if parent.type == "rescue_block" and owner in _BLOCK_OWNERS:
            return "rescue"
    return None


class _Walker:
    """Binds and uses names the way the Elixir compiler scopes them.

    `tracked` limits the work to a few names (None: every name); a subtree whose source text
    mentions none of them cannot affect them and is skipped without being visited.
    """

    def __init__(self, src: bytes, tracked: frozenset[str] | None) -> None:
        self.src = src
        self.tracked = tracked
        self.needles = [n.encode() for n in tracked] if tracked is not None else []
        self.bindings: list[_Binding] = []

    # -- plumbing ------------------------------------------------------------------------

    def relevant(self, node: Node) -> bool:
        if self.tracked is None:
            return True
        start, end = node.start_byte, node.end_byte
        return any(self.src.find(n, start, end) != -1 for n in self.needles)

    def wanted(self, name: str) -> bool:
        return not name.startswith("_") and (self.tracked is None or name in self.tracked)

    def use(self, name: str, env: Mapping[str, _Binding]) -> None:
        binding = env.get(name)
        if binding is not None:
            binding.used = True

    @staticmethod
    def commit(env: Env, bound: Env) -> None:
        env.update(bound)

    # -- clauses ---------------------------------------------------------------------------

    def clause(self, clause: elixir.FunctionClause) -> None:
        env: Env = {}
        bound: Env = {}
        for param in clause.params:
            self.pattern(param, env, bound)
        self.commit(env, bound)
        if clause.guard is not None:
            self.expr(clause.guard, env)
        body = clause.body
        if body is None:
            return
        if body.type == "do_block":
            self.try_blocks(body, env)
        else:
            self.expr(body, dict(env))

    def try_blocks(self, block: Node, env: Env) -> None:
        """A `do` block with optional rescue/catch/else/after (`try`, or a def's implicit try)."""
        self.statements(_statements(block), dict(env))
        for stab in _stabs(_sub_block(block, "else_block")):
            self.stab(stab, env, "pattern")
        for stab in _stabs(_sub_block(block, "rescue_block")):
            self.stab(stab, env, "rescue")
        for stab in _stabs(_sub_block(block, "catch_block")):
            self.stab(stab, env, "pattern")
        after = _sub_block(block, "after_block")
        if after is not None:
            self.statements(_statements(after), dict(env))

    def statements(self, nodes: Sequence[Node], env: Env) -> None:
        for node in nodes:
            self.expr(node, env)

    def stab(self, stab: Node, env: Env, mode: str | None) -> None:
        if not self.relevant(stab):
            return
        scope = dict(env)
        left = stab.child_by_field_name("left")
        guard: Node | None = None
        if left is not None and left.type == "binary_operator" and operator(left) == "when":
            guard = left.child_by_field_name("right")
            left = left.child_by_field_name("left")
        if left is not None:
            items = (
                [c for c in left.named_children if c.type != "comment"]
                if left.type == "arguments"
                else [left]
            )
            if mode is None:
                self.statements(items, scope)
            else:
                bound: Env = {}
                for item in items:
                    if mode == "rescue":
                        self.rescue_pattern(item, scope, bound)
                    else:
                        self.pattern(item, scope, bound)
                self.commit(scope, bound)
        if guard is not None:
            self.expr(guard, scope)
        right = stab.child_by_field_name("right")
        if right is not None:
            self.statements(_statements(right), scope)

    # -- patterns --------------------------------------------------------------------------

    def pattern(self, node: Node, env: Env, bound: Env) -> None:
        """Bind the variables of a pattern into `bound`; pins, keys and guards are uses."""
        if not self.relevant(node):
            return
        kind = node.type
        if kind == "identifier":
            name = elixir.text(node)
            if not self.wanted(name):
                return
            previous = bound.get(name)
            if previous is not None:
                previous.used = True  # `{x, x}`: the second one matches the first
                return
            binding = _Binding(name, node)
            bound[name] = binding
            self.bindings.append(binding)
            return
        if kind == "unary_operator":
            op = operator(node)
            operand = node.child_by_field_name("operand")
            if op == "@" or operand is None:
                return
            if op == "^":
                self.expr(operand, env)
            else:
                self.pattern(operand, env, bound)
            return
        if kind == "binary_operator":
            self.binary_pattern(node, env, bound)
            return
        if kind == "map":
            for child in node.named_children:
                if child.type == "struct":
                    # `%module{} = value` binds `module`; `%User{}` names an alias.
                    for part in child.named_children:
                        if part.type == "identifier":
                            self.pattern(part, env, bound)
                else:
                    self.pattern(child, env, bound)
            return
        if kind in ("call", "interpolation", "access_call", "dot"):
            self.expr(node, {**env, **bound})
            return
        if kind == "sigil":
            self.sigil(node, {**env, **bound})
            return
        if kind == "comment":
            return
        for child in node.named_children:
            self.pattern(child, env, bound)

    def binary_pattern(self, node: Node, env: Env, bound: Env) -> None:
        op = operator(node)
        left = node.child_by_field_name("left")
        right = node.child_by_field_name("right")
        if op == "when":
            if left is not None:
                self.pattern(left, env, bound)
            if right is not None:
                self.expr(right, {**env, **bound})
        elif op == "::":
            # `data::binary-size(len)`: the right side is a type; `len` is a use.
            if left is not None:
                self.pattern(left, env, bound)
            if right is not None:
                self.uses_in(right, {**env, **bound})
        elif op == "=>":
            if left is not None:
                self.expr(left, env)
            if right is not None:
                self.pattern(right, env, bound)
        elif op == "\\\\":
            if left is not None:
                self.pattern(left, env, bound)
            if right is not None:
                self.expr(right, env)
        elif op == "in":
            # Not a pattern anywhere but `rescue e in X` (handled there): read it as uses.
            self.uses_in(node, env)
        else:
            if left is not None:
                self.pattern(left, env, bound)
            if right is not None:
                self.pattern(right, env, bound)

    def rescue_pattern(self, node: Node, env: Env, bound: Env) -> None:
        if node.type == "binary_operator" and operator(node) == "in":
            left = node.child_by_field_name("left")
            if left is not None:
                self.pattern(left, env, bound)
        elif node.type == "identifier":
            self.pattern(node, env, bound)

    def uses_in(self, node: Node, env: Mapping[str, _Binding]) -> None:
        for ident in elixir.identifiers(node):
            self.use(elixir.text(ident), env)

    def sigil(self, node: Node, env: Mapping[str, _Binding]) -> None:
        """Sigil content is opaque to tree-sitter (HEEx in ~H): every word in it is a use."""
        for word in _TEXT_TOKEN.findall(elixir.text(node)):
            self.use(word, env)

    # -- expressions -----------------------------------------------------------------------

    def expr(self, node: Node, env: Env) -> None:
        if not self.relevant(node):
            return
        kind = node.type
        if kind == "identifier":
            self.use(elixir.text(node), env)
        elif kind == "binary_operator":
            left = node.child_by_field_name("left")
            right = node.child_by_field_name("right")
            if operator(node) == "=":
                if right is not None:
                    self.expr(right, env)
                if left is not None:
                    bound: Env = {}
                    self.pattern(left, env, bound)
                    self.commit(env, bound)
                return
            if left is not None:
                self.expr(left, env)
            if right is not None:
                self.expr(right, env)
        elif kind == "unary_operator":
            self.unary(node, env)
        elif kind == "call":
            self.call(node, env)
        elif kind == "anonymous_function":
            for stab in _stabs(node):
                self.stab(stab, env, "pattern")
        elif kind == "sigil":
            self.sigil(node, env)
        elif kind == "stab_clause":
            self.stab(node, env, None)
        elif kind in ("comment", "keyword", "atom", "alias", "quoted_content"):
            return
        else:
            for child in node.named_children:
                self.expr(child, env)

    def unary(self, node: Node, env: Env) -> None:
        op = operator(node)
        operand = node.child_by_field_name("operand")
        if op == "@" or operand is None:
            return
        if op == "&" and operand.type == "binary_operator" and operator(operand) == "/":
            target = operand.child_by_field_name("left")
            if target is not None and target.type == "identifier":
                return  # `&fun/1` names a function
        self.expr(operand, env)

    def call(self, node: Node, env: Env) -> None:
        name = elixir.local_name(node)
        if name in ("case", "receive"):
            self.case_like(node, env, name)
        elif name == "cond":
            block = elixir.do_block(node)
            for stab in _stabs(block):
                self.stab(stab, env, None)
        elif name == "try":
            block = elixir.do_block(node)
            if block is not None:
                self.try_blocks(block, env)
            else:
                self.generic(node, env)
        elif name == "for":
            self.comprehension(node, env)
        elif name == "with":
            self.with_(node, env)
        elif name in ("if", "unless"):
            self.conditional(node, env)
        else:
            self.generic(node, env)

    def case_like(self, node: Node, env: Env, name: str) -> None:
        block = elixir.do_block(node)
        if block is None:
            self.generic(node, env)
            return
        for arg in _call_args(node):
            self.expr(arg, env)
        for stab in _stabs(block):
            self.stab(stab, env, "pattern")
        if name == "receive":
            for stab in _stabs(_sub_block(block, "after_block")):
                self.stab(stab, env, None)

    def conditional(self, node: Node, env: Env) -> None:
        block = elixir.do_block(node)
        for arg in _call_args(node):
            if arg.type == "keywords":
                for value in elixir.keyword_pairs(arg).values():
                    self.expr(value, dict(env))
            else:
                self.expr(arg, env)
        if block is not None:
            self.statements(_statements(block), dict(env))
            else_block = _sub_block(block, "else_block")
            if else_block is not None:
                self.statements(_statements(else_block), dict(env))

    def comprehension(self, node: Node, env: Env) -> None:
        scope = dict(env)
        reduce = False
        inline_do: Node | None = None
        for arg in _call_args(node):
            if arg.type == "keywords":
                for key, value in elixir.keyword_pairs(arg).items():
                    if key == "do":
                        inline_do = value
                    elif key == "reduce":
                        reduce = True
                        self.expr(value, env)
                    else:
                        self.expr(value, scope)
            elif arg.type == "binary_operator" and operator(arg) == "<-":
                self.generate(arg, scope)
            elif arg.type == "bitstring":
                for part in arg.named_children:
                    if part.type == "binary_operator" and operator(part) == "<-":
                        self.generate(part, scope)
                    else:
                        self.expr(part, scope)
            else:
                self.expr(arg, scope)
        if inline_do is not None:
            self.expr(inline_do, dict(scope))
        block = elixir.do_block(node)
        if block is not None:
            if reduce:
                for stab in _stabs(block):
                    self.stab(stab, scope, "pattern")
            else:
                self.statements(_statements(block), dict(scope))

    def generate(self, arrow: Node, scope: Env) -> None:
        right = arrow.child_by_field_name("right")
        left = arrow.child_by_field_name("left")
        if right is not None:
            self.expr(right, scope)
        if left is not None:
            bound: Env = {}
            self.pattern(left, scope, bound)
            self.commit(scope, bound)

    def with_(self, node: Node, env: Env) -> None:
        scope = dict(env)
        inline: dict[str, Node] = {}
        for arg in _call_args(node):
            if arg.type == "keywords":
                inline.update(elixir.keyword_pairs(arg))
            elif arg.type == "binary_operator" and operator(arg) == "<-":
                self.generate(arg, scope)
            else:
                self.expr(arg, scope)
        block = elixir.do_block(node)
        if block is not None:
            self.statements(_statements(block), dict(scope))
            for stab in _stabs(_sub_block(block, "else_block")):
                self.stab(stab, env, "pattern")
        if "do" in inline:
            self.expr(inline["do"], dict(scope))
        if "else" in inline:
            self.expr(inline["else"], dict(env))

    def generic(self, node: Node, env: Env) -> None:
        target = node.child_by_field_name("target")
        if target is not None and target.type == "dot":
            left = target.child_by_field_name("left")
            if left is not None:
                self.expr(left, env)
        elif target is not None and target.type != "identifier":
            self.expr(target, env)
        for arg in _call_args(node):
            self.expr(arg, env)  # bindings in arguments stay visible after the call
        block = elixir.do_block(node)
        if block is not None:
            self.unknown_block(block, env)

    def unknown_block(self, block: Node, env: Env) -> None:
        """The do-block of a macro we do not know. It may or may not open a scope, so a name
        bound inside is treated both ways: it stays visible afterwards (a later use counts),
        and the binding it shadows is taken as used."""
        for part in (block, *(c for c in block.named_children if c.type.endswith("_block"))):
            scope = dict(env)
            for node in _statements(part):
                self.expr(node, scope)
            for name, binding in scope.items():
                previous = env.get(name)
                if previous is not binding:
                    if previous is not None:
                        previous.used = True
                    env[name] = binding


# --- the cheap pass: bindings from the index, mentions by substring search -------------------

_IDENT_BYTES = frozenset(
    b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"
) | frozenset(range(0x80, 0x100))
_DOT, _AT, _COLON, _PAREN = ord("."), ord("@"), ord(":"), ord("(")
_QMARK, _BANG, _EQ = ord("?"), ord("!"), ord("=")
# Inside a pattern, these nodes hold expressions (or names that are not variables).
_NOT_PATTERN = frozenset(
    {"call", "dot", "interpolation", "access_call", "sigil", "comment", "string", "charlist"}
)


def _used_elsewhere(text: bytes, name: bytes, bound_at: set[int], first: int) -> bool:
    """Whether `name` occurs in `text` where a variable could be *used*: anywhere but the
    binding offsets `bound_at`, and not as `x.name`, `@name`, `:name`, `name(`, `name:` or part
    of a longer word. Erring towards "used" is safe (it only hides a finding), so mentions in
    strings and comments count. Uses mostly follow the first binding, so the search starts
    there and wraps around."""
    size = len(name)
    end_of_text = len(text)
    for lo, hi in ((first, end_of_text), (0, first)):
        at = text.find(name, lo, hi)
        while at != -1:
            end = at + size
            if at not in bound_at:
                before = text[at - 1] if at else 32
                after = text[end] if end < end_of_text else 32
                ok = before not in _IDENT_BYTES and before not in (_AT, _COLON)
                if ok and before == _DOT:
                    ok = at >= 2 and text[at - 2] == _DOT  # `0..name` is a range, `x.name` not
                if ok and (after in _IDENT_BYTES or after == _PAREN):
                    ok = False
                elif ok and after in (_QMARK, _BANG):
                    ok = end + 1 < end_of_text and text[end + 1] == _EQ  # `x!=y` may read `x`
                elif ok and after == _COLON:
                    ok = end + 1 < end_of_text and text[end + 1] == _COLON  # `name::8`
                if ok:
                    return True
            at = text.find(name, end, hi)
    return False


def _collect(
    node: Node,
    src: bytes,
    out: Bindings,
    seen: set[bytes],
    stab: Node | None,
    mode: str | None,
) -> None:
    """Add the variables one pattern binds; a name repeated inside the pattern (`{x, x}`)
    matches rather than binds, so it is dropped again (it is used)."""
    stack = [node]
    while stack:
        current = stack.pop()
        kind = current.type
        if kind == "identifier":
            start = current.start_byte
            if src[start] == 0x5F:  # "_"
                continue
            name = src[start : current.end_byte]
            if name in seen:
                if name in out and out[name] and out[name][-1][0] != start:
                    out[name].pop()  # `{x, x}`: the second `x` uses the first
                seen.discard(name)
                seen.add(b"\x00" + name)
            elif b"\x00" + name not in seen:
                seen.add(name)
                out.setdefault(name, []).append((start, current, stab, mode))
            continue
        if kind in _NOT_PATTERN:
            continue
        if kind == "unary_operator":
            if operator(current) in ("^", "@", "&"):
                continue
        elif kind == "binary_operator":
            op = operator(current)
            if op in ("when", "::", "\\\\"):
                left = current.child_by_field_name("left")
                if left is not None:
                    stack.append(left)
                continue
            if op == "=>":
                right = current.child_by_field_name("right")
                if right is not None:
                    stack.append(right)
                continue
            if op == "in":
                continue
        elif kind == "pair":
            value = current.child_by_field_name("value")
            if value is not None:
                stack.append(value)
            continue
        stack.extend(current.named_children)


# (start, end, pattern node or None, is a lone identifier, the `->` clause it heads, its mode).
# A lone identifier read from the text (`x = ...`) has no node until it must be reported.
Site = tuple[int, int, "Node | None", bool, "Node | None", "str | None"]

# `name =` at the start of a match: the left side is that one identifier (a longer left side
# would continue before the `=`; `==`, `=~` and `=>` are other operators).
_IDENT_MATCH = re.compile(rb"([a-z_][A-Za-z0-9_]*+[?!]?+)[ \t]*=(?![=~>])")
# Words that read like identifiers but are literals or operators in the grammar.
_NOT_IDENTIFIERS = frozenset(
    {
        b"true",
        b"false",
        b"nil",
        b"when",
        b"and",
        b"or",
        b"not",
        b"in",
        b"fn",
        b"do",
        b"end",
        b"else",
        b"after",
        b"catch",
        b"rescue",
    }
)


def _stab_modes(ctx: FileContext) -> dict[int, tuple[Node, str | None]]:
    """How the `->` clauses of the common constructs bind, keyed by start byte: found from
    their owners (anonymous functions and the index's case/receive/for/cond/with/try calls),
    which list their clauses in one call instead of asking every clause for its parent."""
    modes: dict[int, tuple[Node, str | None]] = {}
    # A child starting where one of the file's `->` clauses starts is that clause (a start
    # offset is cheaper to read than a node's type).
    clause_starts = {s.start_byte for s in ctx.index.nodes("stab_clause")}

    def claim(container: Node | None, mode: str | None) -> None:
        if container is not None:
            for child in container.named_children:
                start = child.start_byte
                if start in clause_starts:
                    modes[start] = (child, mode)

    for fn in ctx.index.nodes("anonymous_function"):
        claim(fn, "pattern")
    index = ctx.index
    for name in ("case", "receive", "for", "cond", "with", "try"):
        for call in index.calls_named(name):
            block = elixir.do_block(call)
            if block is None:
                continue
            if name in ("case", "receive"):
                claim(block, "pattern")
            elif name == "for":
                claim(block, "pattern" if "reduce" in _kw(call) else None)
            else:
                claim(block, None)
            if name in ("with", "try", "receive"):
                for sub in block.named_children:
                    kind = sub.type
                    if kind == "else_block":
                        claim(sub, "pattern")
                    elif kind == "after_block":
                        claim(sub, None)
                    elif name == "try" and kind == "catch_block":
                        claim(sub, "pattern")
                    elif name == "try" and kind == "rescue_block":
                        claim(sub, "rescue")
    return modes


def _sites(ctx: FileContext, src: bytes) -> list[Site]:
    """The file's binding patterns from the shared index, in source order. Each index list is
    already sorted; on a tie (`%{} = m ->`) the enclosing pattern must come first, so stab
    clauses go before generators before matches and the sort is stable."""
    found: list[Site] = []
    stabs = ctx.index.nodes("stab_clause")
    if stabs:
        modes: dict[int, tuple[Node, str | None]] | None = None
        head = _STAB_HEAD.match
        for stab in stabs:
            start = stab.start_byte
            # A simple pattern right before `->` is read from the text: most bind no variable
            # at all (`:ok ->`, `{:error, _} ->`) and need nothing else.
            simple = head(src, start)
            if simple is not None:
                words = _simple_words(src[start : simple.end()])
                if words is not None and not words:
                    continue
            else:
                words = None
            if modes is None:
                modes = _stab_modes(ctx)
            claimed = modes.get(start)
            # Unclaimed: def-level rescue/catch/else, unknown macros.
            mode = claimed[1] if claimed is not None and claimed[0] == stab else stab_mode(stab)
            if mode is None:
                continue
            if words is not None and simple is not None and mode == "pattern":
                found.append((start, simple.end(), None, False, stab, mode))
                continue
            left = stab.child_by_field_name("left")
            if left is None:
                continue
            if left.type == "binary_operator" and operator(left) == "when":
                left = left.child_by_field_name("left") or left
            if mode == "pattern":
                found.append((left.start_byte, left.end_byte, left, False, stab, mode))
                continue
            # rescue: `e ->` or `e in [A, B] ->` bind `e`; `A ->` binds nothing
            for item in left.named_children if left.type == "arguments" else [left]:
                if item.type == "binary_operator" and operator(item) == "in":
                    item = item.child_by_field_name("left") or item
                if item.type == "identifier":
                    found.append((item.start_byte, item.end_byte, item, True, stab, mode))
    generators: list[Site] = []
    for name in ("for", "with"):
        for call in ctx.index.calls_named(name):
            for arg in _call_args(call):
                kind = arg.type
                if kind == "binary_operator":
                    if operator(arg) == "<-":
                        _generator_site(arg, generators)
                elif kind == "bitstring":
                    for part in arg.named_children:
                        if part.type == "binary_operator" and operator(part) == "<-":
                            _generator_site(part, generators)
    if generators:
        generators.sort(key=itemgetter(0))
        found += generators
    match = _IDENT_MATCH.match
    for node in ctx.index.binary_operators("="):
        start = node.start_byte
        m = match(src, start)
        if m is not None and m.group(1) not in _NOT_IDENTIFIERS:
            found.append((start, m.end(1), None, True, None, None))
            continue
        left = node.child_by_field_name("left")
        if left is not None:
            found.append((left.start_byte, left.end_byte, left, False, None, None))
    found.sort(key=itemgetter(0))
    return found


def _generator_site(arrow: Node, out: list[Site]) -> None:
    left = arrow.child_by_field_name("left")
    if left is not None:
        out.append((left.start_byte, left.end_byte, left, False, None, None))


# name -> (start byte, identifier or None, the `->` clause of the pattern, its mode) per binding
Bindings = dict[bytes, list[tuple[int, "Node | None", "Node | None", "str | None"]]]


# Patterns simple enough to read from the text: one identifier, or a flat tuple or list of
# atoms, identifiers, aliases and integers (`{:ok, user}`, `[head | tail]`). Their variables
# are exactly their identifiers; anything else (maps, strings, pins, nesting) asks the tree.
_ITEM = rb"(?::[A-Za-z_][A-Za-z0-9_]*+[?!]?+|[A-Za-z_][A-Za-z0-9_]*+[?!]?+|[0-9][A-Za-z0-9_]*+)"
_SIMPLE_PATTERN = re.compile(
    rb"[a-z_][A-Za-z0-9_]*+[?!]?+|"
    rb"\{\s*(?:" + _ITEM + rb"\s*(?:,\s*" + _ITEM + rb"\s*)*)?\}|"
    rb"\[\s*(?:" + _ITEM + rb"\s*(?:[,|]\s*" + _ITEM + rb"\s*)*)?\]"
)
# A simple pattern heading a `->` clause alone (a guard or more patterns may follow `when`
# or a comma in ways only the tree tells).
_STAB_HEAD = re.compile(rb"(?:" + _SIMPLE_PATTERN.pattern + rb")(?=[ \t\r\n]*+->)")
_PATTERN_WORD = re.compile(rb"(?<![:A-Za-z0-9_?!])[a-z_][A-Za-z0-9_]*+[?!]?+")
# Words of a simple pattern that are literals (skipped) or keywords (the text is not simple).
_LITERAL_WORDS = frozenset({b"true", b"false", b"nil"})


_MISS: tuple[tuple[int, bytes], ...] = ((-1, b""),)
# Pattern text -> its variables (offset in the text, name), or None when not simple. Patterns
# repeat across a project (`{:ok, user}`), so reading each once pays.
_WORDS: dict[bytes, tuple[tuple[int, bytes], ...] | None] = {}


def _simple_words(text: bytes) -> tuple[tuple[int, bytes], ...] | None:
    """The variables a simple pattern binds, in text order (offset, name); `_` names and
    literals are left out. None when the pattern is not simple (the tree must be asked)."""
    hit = _WORDS.get(text, _MISS)
    if hit is not _MISS:
        return hit
    result: tuple[tuple[int, bytes], ...] | None = None
    if _SIMPLE_PATTERN.fullmatch(text) is not None:
        words = [(m.start(), m.group()) for m in _PATTERN_WORD.finditer(text)]
        if not any(w in _NOT_IDENTIFIERS and w not in _LITERAL_WORDS for _at, w in words):
            result = tuple((at, w) for at, w in words if w[0] != 0x5F and w not in _LITERAL_WORDS)
    if len(_WORDS) >= 50_000:
        _WORDS.clear()
    _WORDS[text] = result
    return result


def _bind_words(
    words: tuple[tuple[int, bytes], ...],
    base: int,
    out: Bindings,
    seen: set[bytes],
    stab: Node | None,
    mode: str | None,
) -> None:
    """`_collect` for the variables of a simple pattern starting at `base`, with no nodes
    (one is looked up if a variable is reported)."""
    for offset, name in words:
        at = base + offset
        if name in seen:
            entries = out.get(name)
            if entries and entries[-1][0] != at:
                entries.pop()  # `{x, x}`: the second `x` uses the first
            seen.discard(name)
            seen.add(b"\x00" + name)
        elif b"\x00" + name not in seen:
            seen.add(name)
            out.setdefault(name, []).append((at, None, stab, mode))


def _clause_bindings(
    clause: elixir.FunctionClause, sites: Sequence[Site], src: bytes
) -> Bindings:
    """Every variable the clause binds: parameters, then each site not nested in another."""
    bindings: Bindings = {}
    covered = -1
    cached = _WORDS.get
    head = clause.head
    params = clause.params
    if head is not None and params:
        seen: set[bytes] = set()  # `def same(x, x)` matches its second `x`
        for param in params:
            start, end = param.start_byte, param.end_byte
            text = src[start:end]
            words = cached(text, _MISS)
            if words is _MISS:
                words = _simple_words(text)
            if words is None:
                _collect(param, src, bindings, seen, None, None)
                continue
            if len(words) == 1:
                offset, name = words[0]
                if offset == 0 and len(name) == end - start and name not in seen:
                    seen.add(name)  # a plain parameter binds even after `{x, x}` (as before)
                    bindings.setdefault(name, []).append((start, None, None, None))
                    continue
            _bind_words(words, start, bindings, seen, None, None)
        covered = head.end_byte
    for start, end, node, lone, stab, mode in sites:
        if start < covered:
            continue  # inside a pattern already collected (`%{} = params` in a head)
        covered = end
        if lone:  # `x = ...`, the commonest pattern
            if src[start] != 0x5F:  # "_"
                bindings.setdefault(src[start:end], []).append((start, node, stab, mode))
            continue
        text = src[start:end]
        words = cached(text, _MISS)
        if words is _MISS:
            words = _simple_words(text)
        if words is not None:
            if words:
                _bind_words(words, start, bindings, set(), stab, mode)
        elif node is not None:
            _collect(node, src, bindings, set(), stab, mode)
    return bindings


def _unused_variables(ctx: FileContext) -> Iterator[Finding]:
    # The clauses with a body (bodiless heads declare defaults; their names are never
    # "unused"), shared with the L2 metrics, which measure the same ones.
    clauses = clauses_by_start(ctx)
    if not clauses:
        return
    src = ctx.source or ctx.text.encode("utf-8")
    quotes = [(q.start_byte, q.end_byte) for q in ctx.index.calls_named("quote")]
    sites = _sites(ctx, src)
    count = len(sites)
    opaque: list[bool] = []  # whether the file may hold `quote`, `var!`... (looked up once)
    i = 0
    for measured in clauses:
        clause = measured.clause
        start, end = measured.start, measured.end
        while i < count and sites[i][0] < start:
            i += 1
        j = i
        while j < count and sites[j][0] < end:
            j += 1
        if quotes and any(a <= start < b for a, b in quotes):
            continue
        mine = sites[i:j]
        bindings = _clause_bindings(clause, mine, src)
        if bindings:
            found = _clause_findings(ctx, src, clause, bindings, mine, opaque)
            if found:
                yield from found


def _is_opaque(src: bytes, text: bytes, gate: list[bool]) -> bool:
    """Whether a clause uses `quote`, `unquote`, `var!` or `binding()`: such a clause is not
    judged. Asked only of clauses that would be reported or walked (it can only silence
    them), with a file-level text test first."""
    if not gate:
        gate.append(b"quote" in src or b"var!" in src or b"binding(" in src)
    return gate[0] and _OPAQUE.search(text) is not None


_DOT_BYTE, _AT_BYTE, _COLON_BYTE, _PAREN_BYTE = 46, 64, 58, 40
# A mention is plainly a use unless a word, `@`, `:` or `.` comes right before it, or a word,
# `(`, `:`, `?` or `!` right after it (those need `_used_elsewhere`'s finer reading).
_NOT_BEFORE_USE = _IDENT_BYTES | frozenset(b"@:.")
_NOT_AFTER_USE = _IDENT_BYTES | frozenset(b"(:?!")


def _clause_findings(
    ctx: FileContext,
    src: bytes,
    clause: elixir.FunctionClause,
    bindings: Bindings,
    sites: Sequence[Site],
    opaque: list[bool],
) -> list[Finding]:
    base = clause.node.start_byte
    text = src[base : clause.node.end_byte]
    implicit_assigns = b"~" in text and _UPPER_SIGIL.search(text) is not None
    unused: list[_Binding] = []
    tracked: set[str] = set()
    find = text.find
    size_text = len(text)
    for name, entries in bindings.items():
        if not entries or (implicit_assigns and name == b"assigns"):
            continue
        first = entries[0][0] - base
        if len(entries) == 1:
            # The usual case, inlined: the next mention after the binding is a use.
            size = len(name)
            at = find(name, first + size)
            if at != -1:
                after_at = at + size
                if text[at - 1] not in _NOT_BEFORE_USE and (
                    after_at >= size_text or text[after_at] not in _NOT_AFTER_USE
                ):
                    continue
            offsets = {first}
        else:
            offsets = {e[0] - base for e in entries}
        if not _used_elsewhere(text, name, offsets, first):
            for at, node, _stab, _mode in entries:
                if node is None:
                    node = ctx.root.descendant_for_byte_range(at, at + len(name))
                if node is not None:
                    unused.append(_Binding(name.decode(), node))
        elif len(entries) >= 2 and not all(
            stab is not None
            and mode == "pattern"
            and _obviously_used(ctx, src, name, at, stab, sites)
            for at, _node, stab, mode in entries
        ):
            # Bound several times and used somewhere: real scoping decides which binding the
            # uses see (the first `x` of `x = 1; x = 2; x`, or `reason` bound by two case
            # clauses and used in one). Only those names are followed through the clause.
            # (When every binding heads a `->` clause, whose scope is that clause alone, and
            # each clause plainly uses its binding, the walk would find nothing to report.)
            tracked.add(name.decode())
    if not unused and not tracked:
        return []
    if _is_opaque(src, text, opaque):
        return []
    if tracked:
        walker = _Walker(src, frozenset(tracked))
        walker.clause(clause)
        unused.extend(b for b in walker.bindings if not b.used)
    if not unused:
        return []
    seen: set[int] = set()
    found: list[Finding] = []
    for binding in sorted(unused, key=lambda b: b.node.start_byte):
        if binding.node.start_byte not in seen:
            seen.add(binding.node.start_byte)
            found.append(_finding(ctx, binding))
    return found


def _in_attribute(ctx: FileContext, src: bytes, base: int, start: int, end: int) -> bool:
    """Whether [start, end) lies inside a module attribute expression (`@x ...`, never walked)
    of the clause starting at `base` (a clause is never inside one)."""
    if src.rfind(b"@", base, start) == -1:
        return False  # no `@` before it in the clause: nothing can enclose it
    spans = ctx.shared("l0.attribute_spans", lambda: _attribute_spans(ctx, src))
    return any(a <= start and end <= b for a, b in spans)


# Calls whose walk visits only some of their parts (a `cond`'s clauses, a `with`'s `do:` and
# `else:`...): a use inside one of them is only seen by walking.
_PARTIAL_WALKS = ("case", "cond", "for", "if", "receive", "try", "unless", "with")


def _partial_spans(ctx: FileContext) -> list[tuple[int, int]]:
    def build() -> list[tuple[int, int]]:
        return [(n.start_byte, n.end_byte) for n in ctx.index.calls_named(*_PARTIAL_WALKS)]

    return ctx.shared("l0.partial_spans", build)


def _attribute_spans(ctx: FileContext, src: bytes) -> list[tuple[int, int]]:
    return [
        (n.start_byte, n.end_byte)
        for n in ctx.index.nodes("unary_operator")
        if src[n.start_byte] == 64  # "@"
    ]


def _obviously_used(
    ctx: FileContext,
    src: bytes,
    name: bytes,
    bound_at: int,
    stab: Node,
    sites: Sequence[Site],
) -> bool:
    """Whether a walk of the clause would find the variable `name` bound at `bound_at` in the
    pattern of `stab` used (or never reach it): besides the binding, the `->` clause mentions
    the name exactly once where an identifier can stand, outside every pattern and every
    construct the walk visits only in part, and the tree has a plain identifier there (not a
    call name, `x.name`, `@name` or `&name/1`). With no other mention nothing can shadow the
    binding, and the walk reaches the use whenever it reaches the clause."""
    start, end = stab.start_byte, stab.end_byte
    for site in sites:
        if site[0] < start < site[1]:
            return False  # a `->` clause inside a pattern binds differently
    size = len(name)
    use = -1
    at = src.find(name, start, end)
    while at != -1:
        after_at = at + size
        before = src[at - 1]
        after = src[after_at] if after_at < len(src) else 32
        if before not in _IDENT_BYTES and after not in _IDENT_BYTES:
            if before == _DOT_BYTE and src[at - 2] != _DOT_BYTE:
                pass  # `x.name`: never a variable
            elif before == _AT_BYTE or after == _PAREN_BYTE:
                pass  # `@name`, `name(`: never a variable
            elif before == _COLON_BYTE and src[at - 2] != _COLON_BYTE:
                pass  # `:name`: an atom
            elif after == _COLON_BYTE and src[after_at + 1 : after_at + 2] != b":":
                pass  # `name:`: a keyword
            elif at != bound_at:
                if use != -1:
                    return False  # mentioned twice: a walk must sort out the scopes
                use = at
        at = src.find(name, at + 1, end)
    if use == -1:
        return False
    for site in sites:
        if site[0] <= use < site[1]:
            return False
    for a, b in _partial_spans(ctx):
        if start < a <= use < b:
            return False
    if _in_attribute(ctx, src, start, use, use + size):
        return False
    node = ctx.root.descendant_for_byte_range(use, use + size)
    if node is None or node.type != "identifier" or node.start_byte != use:
        return False
    parent = node.parent
    if parent is None:
        return False
    kind = parent.type
    if kind == "call":
        return parent.child_by_field_name("target") != node
    if kind == "dot":
        return parent.child_by_field_name("right") != node
    if kind == "unary_operator":
        return operator(parent) != "@"
    if kind == "binary_operator" and operator(parent) == "/":
        holder = parent.parent  # `&name/1` names a function
        return not (
            holder is not None
            and holder.type == "unary_operator"
            and operator(holder) == "&"
            and parent.child_by_field_name("left") == node
        )
    return True


def _finding(ctx: FileContext, binding: _Binding) -> Finding:
    node = binding.node
    row, col = node.start_point.row, node.start_point.column
    suggestion: str | None = None
    if row < len(ctx.lines):
        raw = ctx.lines[row].encode("utf-8")
        # Only when the line is the binding's own line (`ctx.lines` also splits on form feeds).
        if raw[col : col + len(binding.name.encode())] == binding.name.encode():
            suggestion = (raw[:col] + b"_" + raw[col:]).decode("utf-8", "replace")
    return ctx.finding(
        UNUSED_VARIABLE,
        node,
        f'variable "{binding.name}" is unused: the Elixir compiler warns about it, so '
        "`mix compile --warnings-as-errors` fails",
        fix=f"use it, remove it, or prefix it with an underscore (`_{binding.name}`)",
        suggestion=suggestion,
    )


# --- unused aliases --------------------------------------------------------------------------


@dataclass(frozen=True)
class _AliasDef:
    name: str  # the short name code refers to (`C` for `alias A.B, as: C`)
    full: str
    node: Node  # where to report


def _alias_defs(call: Node, module_name: str | None) -> list[_AliasDef]:
    args = _call_args(call)
    if not args:
        return []
    options = _kw(call)
    warn = options.get("warn")
    if warn is not None and elixir.is_false_literal(warn):
        return []
    target = args[0]
    if "as" in options:
        as_node = options["as"]
        if as_node.type != "alias":
            return []
        return [_AliasDef(elixir.text(as_node), elixir.text(target), as_node)]
    if target.type == "alias":
        full = elixir.text(target)
        if "." not in full:
            return []  # `alias Keyword` aliases a name to itself: the compiler never warns
        return [_AliasDef(full.rsplit(".", 1)[-1].strip(), full, target)]
    if target.type == "dot":
        left = target.child_by_field_name("left")
        right = target.child_by_field_name("right")
        if left is None or right is None:
            return []
        if right.type == "tuple":  # alias A.{B, C.D}
            found = []
            for item in right.named_children:
                if item.type == "alias":
                    full = f"{elixir.text(left)}.{elixir.text(item)}"
                    found.append(_AliasDef(full.rsplit(".", 1)[-1], full, item))
            return found
        if right.type == "alias" and left.type in ("alias", "identifier"):
            full = f"{elixir.text(left)}.{elixir.text(right)}"
            return [_AliasDef(full.rsplit(".", 1)[-1], full, right)]
        return []
    if target.type == "identifier" and elixir.text(target) == "__MODULE__" and module_name:
        return [_AliasDef(module_name.rsplit(".", 1)[-1], module_name, target)]
    return []


# `alias Some.Module` and nothing else (checked against the call's end): the directive's name
# is the last segment, read from the text without asking the tree.
_PLAIN_ALIAS = re.compile(
    rb"alias[ \t]+[A-Z][A-Za-z0-9_]*+(?:\.[A-Z][A-Za-z0-9_]*+)*\.([A-Z][A-Za-z0-9_]*+)"
)


def _unused_aliases(ctx: FileContext) -> Iterator[Finding]:
    calls = ctx.index.calls_named("alias")
    if not calls:
        return
    src = ctx.source or ctx.text.encode("utf-8")
    quotes = [(q.start_byte, q.end_byte) for q in ctx.index.calls_named("quote")]
    plain = _PLAIN_ALIAS.match
    root = ctx.root
    for call in calls:
        start, end = call.start_byte, call.end_byte
        if quotes and any(a <= start and end <= b for a, b in quotes):
            continue  # expanded where the macro is used, hygienically
        scope_end = _module_statement_scope(ctx, call)
        if scope_end is None:
            parent = call.parent
            if parent is None or parent.type not in ("do_block", "source", "body", "block"):
                continue  # `alias` as a value or an argument is not a directive
            scope_end = parent.end_byte
        m = plain(src, start)
        if (
            m is not None
            and m.end() == end
            and _referenced(root, src, m.group(1), end, scope_end)
        ):
            continue  # the commonest directive, and it is used
        module = _module_name(ctx, call)
        for alias in _alias_defs(call, module):
            if not _referenced(root, src, alias.name.encode(), end, scope_end):
                yield ctx.finding(
                    UNUSED_ALIAS,
                    alias.node,
                    f"unused alias {alias.name} ({alias.full}): the Elixir compiler warns "
                    "about it, so `mix compile --warnings-as-errors` fails",
                    fix="remove it (or use it); `warn: false` keeps an alias only macros use",
                )


def _module_statement_scope(ctx: FileContext, call: Node) -> int | None:
    """The end of the module's `do` block when `call` is one of its statements (the usual
    place of a directive), else None. Spares asking the tree for the call's parent."""
    start = call.start_byte
    best: elixir.Module | None = None
    for module in ctx.modules:
        if module.node.start_byte <= start < module.node.end_byte:
            best = module  # modules are outermost first: the last hit is the innermost
    if best is None:
        return None
    for stmt in best.statements:
        at = stmt.start_byte
        if at == start:
            return best.node.end_byte if stmt == call else None
        if at > start:
            return None
    return None


def _module_name(ctx: FileContext, call: Node) -> str | None:
    best: elixir.Module | None = None
    for module in ctx.modules:
        if module.node.start_byte <= call.start_byte < module.node.end_byte:
            best = module  # modules are outermost first: the last hit is the innermost
    return best.name if best is not None else None


def _referenced(root: Node, src: bytes, name: bytes, start: int, end: int) -> bool:
    """Whether `name` is used as an alias between `start` and `end`: in code (an alias node:
    calls, structs, types, other directives) or inside a sigil (HEEx components). Mentions in
    comments and plain strings do not count, as for the compiler."""
    size = len(name)
    at = src.find(name, start, end)
    while at != -1:
        before = src[at - 1] if at else 32
        after = src[at + size] if at + size < len(src) else 32
        if (
            before not in _IDENT_BYTES
            and before not in (_DOT, _COLON)
            and (after not in _IDENT_BYTES)
        ):
            node = root.descendant_for_byte_range(at, at + size)
            kind = _reference_kind(node)
            if kind != "text":
                return True
        at = src.find(name, at + 1, end)
    return False


def _reference_kind(node: Node | None) -> str:
    """`text` for a mention inside a comment, a plain string or an atom; `code` otherwise
    (anything unclassifiable counts as code: staying conservative)."""
    while node is not None:
        kind = node.type
        if kind in ("alias", "sigil"):
            return "code"
        if kind in ("comment", "string", "charlist", "quoted_atom", "atom"):
            return "text"
        if kind in ("quoted_content", "escape_sequence"):
            node = node.parent
            continue
        return "code"
    return "code"


UNUSED_VARIABLE = Rule(
    id="L0.unused-variable",
    severity=Severity.ERROR,
    title="Unused variable",
    explanation=(
        "A variable bound in a function clause (a parameter, a `=` match, a `<-` of `with` or "
        "`for`, a `case`/`fn`/`receive` pattern, `rescue e in ...`) and never used makes the "
        "Elixir compiler warn, so `mix compile --warnings-as-errors` — the L0 gate — fails. It "
        "is also often a bug: the value was meant to be used. Prefix the name with an "
        "underscore (`_reason`) when it documents a value you deliberately ignore. Pins "
        "(`^x`) and guards count as uses; clauses using `quote`, `var!` or `binding()` are "
        "not judged."
    ),
    bad_example=(
        "defmodule Shop.Orders do\n"
        "  def place(order, opts) do\n"
        "    case Repo.insert(order) do\n"
        "      {:ok, saved} -> {:ok, saved}\n"
        "      {:error, changeset} -> {:error, :invalid}\n"
        "    end\n"
        "  end\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.Orders do\n"
        "  def place(order, _opts) do\n"
        "    case Repo.insert(order) do\n"
        "      {:ok, saved} -> {:ok, saved}\n"
        "      {:error, _changeset} -> {:error, :invalid}\n"
        "    end\n"
        "  end\n"
        "end\n"
    ),
    check=_unused_variables,
)

UNUSED_ALIAS = Rule(
    id="L0.unused-alias",
    severity=Severity.ERROR,
    title="Unused alias",
    explanation=(
        "An `alias` that nothing after it refers to makes the Elixir compiler warn "
        '("unused alias"), so `mix compile --warnings-as-errors` — the L0 gate — fails. '
        "References count in code, struct names, typespecs, nested directives and inside "
        "sigils such as `~H` (where `<Components.button>` lives); mentions in comments and "
        "plain strings do not. `alias Mod, warn: false` is respected."
    ),
    bad_example=(
        "defmodule Shop.Orders do\n"
        "  alias Shop.{Cart, Repo}\n"
        "\n"
        "  def get(id), do: Repo.get(Shop.Order, id)\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.Orders do\n"
        "  alias Shop.Repo\n"
        "\n"
        "  def get(id), do: Repo.get(Shop.Order, id)\n"
        "end\n"
    ),
    check=_unused_aliases,
)

RULES = (UNUSED_VARIABLE, UNUSED_ALIAS)
