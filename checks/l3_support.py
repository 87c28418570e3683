"""Shared machinery of the L3 (tested) reviewers: what a test file tests and asserts, and what a
lib file exposes, reduced to small picklable summaries for the project-wide rules.

A test file "covers" a lib module when it sits at the conventional path
(`lib/shop/accounts.ex` -> `test/shop/accounts_test.exs`, `apps/x/lib/...` -> `apps/x/test/...`,
and, for Phoenix LiveView's generator layout, `lib/shop_web/live/user_live/index.ex` ->
`test/shop_web/live/user_live_test.exs`), or when it names the module (directly, through an
`alias`, or by being `<Module>Test`). Module names are found with a regular expression over the
test's text and expanded through its aliases, which is cheap and errs on the side of "covered".
"""

from __future__ import annotations

import re
from typing import Any

from tree_sitter import Node

from checks import elixir
from checks.context import FileContext
from checks.l2_support import (
    Spans,
    clause_spans,
    is_binary,
    is_block_call,
    is_def_head,
    left,
)

# Names of calls that assert (prefixes) or verify expectations (exact names).
ASSERT_PREFIXES = ("assert", "refute")
ASSERT_NAMES = frozenset({"flunk", "expect", "verify!", "verify_on_exit!", "match?"})
MOCK_MODULES = frozenset({"Mox", "Hammox", "Mimic", "Mock"})
MOCK_ASSERTIONS = frozenset({"expect", "verify!", "verify_on_exit!"})
# Local names that may be assertions, proposed from the text (then checked on the tree).
ASSERT_WORD = re.compile(
    r"\b(?:assert\w*|refute\w*|flunk|expect|verify!|verify_on_exit!|match\?)"
)

TEST_MACROS = ("test", "property")
# Macros whose branches are the value of the expression (followed by `tail_expressions` too).
TAIL_MACROS = frozenset({"if", "unless", "case", "cond", "with", "try", "receive"})

MODULE_NAME = re.compile(r"(?<![\w.:])[A-Z][A-Za-z0-9_]*(?:\.[A-Z][A-Za-z0-9_]*)*")
ERROR_TUPLE = re.compile(rb"\{\s*:error\b")


def conventional_test_paths(path: str) -> tuple[str, ...]:
    """Where the tests of a lib file live by convention (the first one is the primary)."""
    if not path.endswith(".ex"):
        return ()
    base = path[:-3]
    if base.startswith("lib/"):
        prefix, rest = "test/", base[4:]
    else:
        i = base.rfind("/lib/")
        if i < 0:
            return ()
        prefix, rest = base[:i] + "/test/", base[i + 5 :]
    paths = [f"{prefix}{rest}_test.exs"]
    if "/" in rest:
        paths.append(f"{prefix}{rest.rsplit('/', 1)[0]}_test.exs")
    return tuple(paths)


def is_assertion_call(call: Node, extra: frozenset[str] = frozenset()) -> bool:
    """`assert ...`, `refute_receive ...`, `Mox.expect(...)`, `Swoosh...assert_email_sent`."""
    name = elixir.local_name(call)
    if name is not None:
        return name.startswith(ASSERT_PREFIXES) or name in ASSERT_NAMES or name in extra
    remote = elixir.remote_name(call)
    if remote is None:
        return False
    module, fun = remote
    if fun.startswith(ASSERT_PREFIXES) or f"{module}.{fun}" in extra:
        return True
    return module in MOCK_MODULES and fun in MOCK_ASSERTIONS


def test_blocks(ctx: FileContext) -> list[Node]:
    """`test "..." do` and `property "..." do` blocks (a bodiless `test "name"` is pending)."""

    def build() -> list[Node]:
        found: list[Node] = []
        for call in ctx.index.calls_named(*TEST_MACROS):
            args = elixir.call_args(call)
            if not args or args[0].type not in ("string", "sigil"):
                continue
            if elixir.do_block(call) is None and "do" not in elixir.keyword_pairs(call):
                continue
            found.append(call)
        return found

    return ctx.shared("l3.tests", build)


def test_name(call: Node) -> str | None:
    """The literal name of a test, or None when it is interpolated."""
    args = elixir.call_args(call)
    return elixir.string_literal(args[0]) if args else None


def asserting_tests(ctx: FileContext, extra: frozenset[str]) -> set[int]:
    """Ids of the test blocks that assert something, directly or via helpers of the file.

    Assertion calls are looked up by name in the index (names proposed by a regular expression
    over the text), never by visiting every call of the file.
    """
    tests = test_blocks(ctx)
    if not tests:
        return set()
    defs: list[Node] = []
    def_names: dict[int, str] = {}
    for node in ctx.index.calls_named(*elixir.DEF_KINDS):
        head = elixir.function_head(node)
        if head is not None:
            defs.append(node)
            def_names[node.id] = head[0]
    local_names = set(ASSERT_WORD.findall(ctx.text)) | {n for n in extra if "." not in n}
    assertions = [c for c in ctx.index.calls_named(*local_names) if is_assertion_call(c, extra)]
    assertions += [
        call
        for (module, fun), call in ctx.index.remote_calls_where(
            lambda m, f: (
                f.startswith(ASSERT_PREFIXES)
                or f"{m}.{f}" in extra
                or (m in MOCK_MODULES and f in MOCK_ASSERTIONS)
            )
        )
    ]
    spans = Spans([*tests, *defs])
    test_ids = {t.id for t in tests}
    direct: set[int] = set()  # owner ids with a direct assertion
    for call in assertions:
        i = spans.owner(call)
        if i is not None:
            direct.add(spans.nodes[i].id)
    calls_by_owner: dict[int, set[str]] = {}
    helper_names = set(def_names.values())
    for call in ctx.index.calls_named(*helper_names):
        i = spans.owner(call)
        name = elixir.local_name(call)
        if i is None or name is None or is_def_head(call):
            continue
        calls_by_owner.setdefault(spans.nodes[i].id, set()).add(name)
    # Helpers that assert, to a fixpoint (a helper may call another helper).
    asserting_helpers = {def_names[i] for i in direct if i in def_names}
    changed = True
    while changed:
        changed = False
        for def_id, name in def_names.items():
            if name in asserting_helpers:
                continue
            if calls_by_owner.get(def_id, set()) & asserting_helpers:
                asserting_helpers.add(name)
                changed = True
    found = {t for t in direct if t in test_ids}
    for test_id in test_ids - found:
        if calls_by_owner.get(test_id, set()) & asserting_helpers:
            found.add(test_id)
    return found


# --- summaries for the project rules --------------------------------------------------------


def summary(ctx: FileContext) -> dict[str, Any]:
    """What the L3 project rules need of one file (computed once, shared by both rules)."""
    return ctx.shared("l3.summary", lambda: _summary(ctx))


def _summary(ctx: FileContext) -> dict[str, Any]:
    if ctx.kind == "test":
        if not ctx.path.endswith("_test.exs"):
            return {}  # `mix test` never runs it, so it tests nothing (L3.test-file-name)
        return {"refs": sorted(referenced_modules(ctx)), "asserts_error": asserts_error(ctx)}
    if ctx.kind != "lib":
        return {}
    returned = _returned_errors(ctx)
    modules: list[dict[str, Any]] = []
    for module in ctx.modules:
        functions: list[tuple[str, str, int, int, int]] = []
        errors: list[tuple[str, int, int, str]] = []
        for function in module.functions:
            arities = ",".join(str(a) for a in function.arities) or "0"
            label = f"{function.name}/{arities}"
            if _needs_test(function):
                first, last = function.clauses[0].node, function.clauses[-1].node
                functions.append(
                    (
                        label,
                        function.kind,
                        elixir.line_of(first),
                        elixir.end_line_of(last),
                        elixir.column_of(first),
                    )
                )
            for clause in function.clauses:
                tuple_node = returned.get(clause.node.id)
                if tuple_node is not None:
                    snippet = " ".join(elixir.text(tuple_node).split())
                    if len(snippet) > 40:
                        snippet = snippet[:37] + "..."
                    errors.append(
                        (label, elixir.line_of(tuple_node), elixir.column_of(tuple_node), snippet)
                    )
                    break
        modules.append({"name": module.name, "functions": functions, "errors": errors})
    return {"modules": modules}


def _returned_errors(ctx: FileContext) -> dict[int, Node]:
    """The first `{:error, ...}` literal each clause returns, by clause node id.

    Proportional to the error tuples of the file, not to its functions: each `{:error`
    found in the text is followed up the tree while it stays in tail position."""
    data = ctx.text.encode("utf-8")
    if b":error" not in data:
        return {}
    spans = clause_spans(ctx)
    ordered = spans.nodes
    found: dict[int, Node] = {}
    root = ctx.root
    for m in ERROR_TUPLE.finditer(data):
        node = root.named_descendant_for_byte_range(m.start(), m.start() + 1)
        if node is None or node.type != "tuple":
            continue
        i = spans.owner(node)  # None for the tuples of @spec and module attributes
        if i is None or ordered[i].id in found or not elixir.is_tagged_tuple(node, ":error"):
            continue
        if _in_tail_position(node, ordered[i]):
            found[ordered[i].id] = node
    return found


def _in_tail_position(node: Node, def_call: Node) -> bool:
    """Whether `node` is a value the def returns (last statement, branch of if/case/...)."""
    child = node
    while True:
        parent = child.parent
        if parent is None:
            return False
        kind = parent.type
        if kind == "do_block" and child.type in ("else_block", "rescue_block", "catch_block"):
            child = parent  # the else/rescue branch of an if/with/try: its value is returned
        elif kind in ("do_block", "else_block", "body", "block", "rescue_block", "catch_block"):
            if _last_statement(parent) != child:
                return False
            child = parent
        elif kind == "stab_clause":
            holder = parent.parent
            if holder is None or holder.type == "anonymous_function":
                return False  # the value of a fn, not of the function
            child = holder
        elif kind == "pair":
            if elixir.keyword_key(parent) not in ("do", "else"):
                return False
            keywords = parent.parent
            args = keywords.parent if keywords is not None else None
            owner = args.parent if args is not None else None
            if owner is None:
                return False
            if owner == def_call:
                return True
            if not is_block_call(owner, TAIL_MACROS):
                return False
            child = owner
        elif kind == "call":
            if parent == def_call:
                return child.type == "do_block"
            if child.type != "do_block" or not is_block_call(parent, TAIL_MACROS):
                return False
            child = parent
        else:
            return False


_NOT_STATEMENTS = frozenset(
    {"comment", "else_block", "rescue_block", "catch_block", "after_block", "stab_clause"}
)


def _last_statement(container: Node) -> Node | None:
    """The last statement of a block, without building the list of its children."""
    i = container.named_child_count - 1
    while i >= 0:
        child = container.named_child(i)
        if child.type not in _NOT_STATEMENTS:
            return child
        i -= 1
    return None


def _needs_test(function: elixir.Function) -> bool:
    if not function.public or function.impl:
        return False
    if function.name in ("__using__", "__before_compile__", "__after_compile__"):
        return False
    doc = function.doc
    return doc is None or not (doc.text or b"").rstrip().endswith(b"false")


def referenced_modules(ctx: FileContext) -> set[str]:
    """Module names a test file mentions, expanded through its aliases."""
    aliases: dict[str, str] = {}
    for call in ctx.index.calls_named("alias"):
        args = elixir.call_args(call)
        if not args:
            continue
        target = args[0]
        options = elixir.keyword_pairs(call)
        if target.type == "alias":
            full = _expand(elixir.text(target), aliases)
            short = full.rsplit(".", 1)[-1]
            as_node = options.get("as")
            if as_node is not None and as_node.type == "alias":
                short = elixir.text(as_node)
            aliases[short] = full
        elif target.type == "dot":
            base = target.child_by_field_name("left")
            group = target.child_by_field_name("right")
            if base is None or group is None or group.type != "tuple":
                continue
            prefix = _expand(elixir.text(base), aliases)
            for item in group.named_children:
                if item.type == "alias":
                    name = elixir.text(item)
                    aliases[name.split(".", 1)[0]] = f"{prefix}.{name.split('.', 1)[0]}"
                    full = f"{prefix}.{name}"
                    aliases[name.rsplit(".", 1)[-1]] = full
    found: set[str] = set()
    for m in MODULE_NAME.finditer(ctx.text):
        name = m.group(0)
        found.add(name)
        found.add(_expand(name, aliases))
    for module in ctx.modules:
        if module.name.endswith("Test"):
            found.add(module.name[: -len("Test")])
    return found


def _expand(name: str, aliases: dict[str, str]) -> str:
    head, _, rest = name.partition(".")
    if head in aliases:
        return aliases[head] + ("." + rest if rest else "")
    return name


def asserts_error(ctx: FileContext) -> bool:
    """Whether any `{:error, ...}` of the file is asserted or matched as a pattern."""
    data = ctx.text.encode("utf-8")
    root = ctx.root
    for m in ERROR_TUPLE.finditer(data):
        node = root.named_descendant_for_byte_range(m.start(), m.start() + 1)
        if node is None or node.type != "tuple":
            continue
        if _asserted(node):
            return True
    return False


def _asserted(node: Node) -> bool:
    child = node
    for anc in elixir.ancestors(node):
        if anc.type == "call" and is_assertion_call(anc):
            return True
        if is_binary(anc, "=", "<-") and left(anc) == child:
            return True
        if anc.type == "stab_clause" and anc.child_by_field_name("left") == child:
            return True
        child = anc
    return False
