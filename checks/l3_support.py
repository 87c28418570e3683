"""Shared machinery of the L3 (tested) reviewers: what a test file tests and asserts, and what a
lib file exposes, reduced to small picklable summaries for the project-wide rules.

A test file "covers" a lib module when it sits at the conventional path
(`lib/shop/accounts.ex` -> `test/shop/accounts_test.exs`, `apps/x/lib/...` -> `apps/x/test/...`,
and, for Phoenix LiveView's generator layout, `lib/shop_web/live/user_live/index.ex` ->
`test/shop_web/live/user_live_test.exs`), or when it names the module (directly, through an
`alias`, or by being `<Module>Test`). Module names are found with a regular expression over the
test's text and expanded through its aliases, which is cheap and errs on the side of "covered".

Cost (these summaries are built for every lib and test file): a lib file's summary keeps, for
each function whose clause text holds an `{:error` tuple, that clause's text, and the tree work
that decides whether the tuple is returned is left to the project pass, which parses the few
clauses of modules whose tests never assert an error (`returned_errors`). Nodes are reached by
a cursor descent (`_path_to`), never by `.parent`, which tree-sitter answers by walking down
from the root again.
"""

from __future__ import annotations

import bisect
import re
from operator import lt
from typing import Any

from tree_sitter import Node

from checks import elixir
from checks.context import FileContext
from checks.l2_support import (
    METRIC_DEF_KINDS,
    Spans,
    is_block_call,
    is_def_head,
    left,
    operator,
)

# Names of calls that assert (prefixes) or verify expectations (exact names).
ASSERT_PREFIXES = ("assert", "refute")
ASSERT_NAMES = frozenset({"flunk", "expect", "verify!", "verify_on_exit!", "match?"})
MOCK_MODULES = frozenset({"Mox", "Hammox", "Mimic", "Mock"})
MOCK_ASSERTIONS = frozenset({"expect", "verify!", "verify_on_exit!"})
# Local names that may be assertions, proposed from the text (then checked on the tree);
# `assert_words` proposes a superset of its matches, faster.
ASSERT_WORD = re.compile(
    r"\b(?:assert\w*|refute\w*|flunk|expect|verify!|verify_on_exit!|match\?)"
)

TEST_MACROS = ("test", "property")
# Macros whose branches are the value of the expression (followed by `tail_expressions` too).
TAIL_MACROS = frozenset({"if", "unless", "case", "cond", "with", "try", "receive"})

MODULE_NAME = re.compile(r"(?<![\w.:])[A-Z][A-Za-z0-9_]*(?:\.[A-Z][A-Za-z0-9_]*)*")
# The same matches, with the class first so the scan skips to capital letters.
_MODULE_NAME_FAST = re.compile(r"[A-Z](?<![\w.:][A-Z])[A-Za-z0-9_]*(?:\.[A-Z][A-Za-z0-9_]*)*")
_MODULE_NAME_BYTES = re.compile(_MODULE_NAME_FAST.pattern.encode())
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


# `test "plain name" do` + newline, or `test "plain name",`: the first argument is a string
# without escapes or interpolation, whose text is the name (read without asking the tree).
_PLAIN_TEST_HEAD = re.compile(
    rb'(?:test|property)[ \t]+"([^"\\#\n]*+(?:#(?!\{)[^"\\#\n]*+)*+)"'
    rb"(?:(?P<block>[ \t]+do[ \t]*(?:\r?\n|#))|[ \t]*,)"
)


def named_tests(ctx: FileContext) -> list[tuple[Node, str | None]]:
    """`test "..." do` and `property "..." do` blocks (a bodiless `test "name"` is pending),
    each with its literal name (None when interpolated), as `test_name` gives it."""

    def build() -> list[tuple[Node, str | None]]:
        found: list[tuple[Node, str | None]] = []
        source = ctx.source
        plain = _PLAIN_TEST_HEAD.match
        calls = ctx.index.calls_named("test")
        if ctx.index.calls_named("property"):
            calls = ctx.index.calls_named(*TEST_MACROS)
        for call in calls:
            m = plain(source, call.start_byte)
            if m is not None:
                if m.group("block") is None and not _has_do(call):
                    continue
                found.append((call, m.group(1).decode("utf-8", "replace")))
                continue
            args = elixir.call_args(call)
            if not args or args[0].type not in ("string", "sigil"):
                continue
            if not _has_do(call):
                continue
            found.append((call, elixir.string_literal(args[0])))
        return found

    return ctx.shared("l3.named_tests", build)


def _has_do(call: Node) -> bool:
    return elixir.do_block(call) is not None or "do" in elixir.keyword_pairs(call)


def test_blocks(ctx: FileContext) -> list[Node]:
    """`test "..." do` and `property "..." do` blocks (a bodiless `test "name"` is pending)."""
    return ctx.shared("l3.tests", lambda: [call for call, _name in named_tests(ctx)])


def test_name(call: Node) -> str | None:
    """The literal name of a test, or None when it is interpolated."""
    args = elixir.call_args(call)
    return elixir.string_literal(args[0]) if args else None


# `assert*`/`refute*` words (the open-ended assertion names), one literal-led pattern each:
# several times faster than the alternation of `ASSERT_WORD`, whose scan cannot skip ahead.
_ASSERT_PREFIX_WORDS = (
    re.compile(r"assert(?<!\wassert)\w*"),
    re.compile(r"refute(?<!\wrefute)\w*"),
)


def assert_words(text: str) -> set[str]:
    """Names that may be local assertion calls: a superset of `ASSERT_WORD.findall(text)`
    (the fixed names are proposed whether or not the text holds them; looking a name up in
    the index costs less than scanning the text for it)."""
    found = set(ASSERT_NAMES)
    for pattern in _ASSERT_PREFIX_WORDS:
        found.update(pattern.findall(text))
    return found


def _is_assertion_name(name: str, extra: frozenset[str]) -> bool:
    """`is_assertion_call` for a local call of that name."""
    return name.startswith(ASSERT_PREFIXES) or name in ASSERT_NAMES or name in extra


def _is_assertion_remote(module: str, fun: str, extra: frozenset[str]) -> bool:
    """`is_assertion_call` for a remote call `module.fun(...)`."""
    return (
        fun.startswith(ASSERT_PREFIXES)
        or f"{module}.{fun}" in extra
        or (module in MOCK_MODULES and fun in MOCK_ASSERTIONS)
    )


def silent_tests(ctx: FileContext, extra: frozenset[str]) -> list[tuple[Node, str | None]]:
    """The tests (with their names, as `named_tests`) that assert nothing: `asserting_tests`
    turned around, with a vectorised fast path for the usual file (no helper defs, tests side
    by side) where a test asserts when an assertion call starts inside it."""
    tests = named_tests(ctx)
    if not tests:
        return []
    if not ctx.index.calls_named(*elixir.DEF_KINDS):
        starts = _assertion_starts(ctx, extra)
        test_starts = [t.start_byte for t, _name in tests]
        test_ends = [t.end_byte for t, _name in tests]
        if not any(map(lt, test_starts[1:], test_ends)):  # no test inside another
            # A sentinel past every offset: the first assertion at or after a test's start.
            starts.append(test_ends[-1])
            firsts = [starts[bisect.bisect_left(starts, at)] for at in test_starts]
            return [t for t, a, end in zip(tests, firsts, test_ends, strict=True) if a >= end]
    asserting = asserting_tests(ctx, extra)
    return [t for t in tests if t[0].id not in asserting]


def _assertion_starts(ctx: FileContext, extra: frozenset[str]) -> list[int]:
    """Start offsets of the file's assertion calls, sorted."""
    local_names = assert_words(ctx.text) | {n for n in extra if "." not in n}
    calls_named = ctx.index.calls_named
    starts = [
        c.start_byte
        for name in local_names
        if _is_assertion_name(name, extra)
        for c in calls_named(name)
    ]
    remote = ctx.index.remote_calls_where(lambda m, f: _is_assertion_remote(m, f, extra))
    if remote:
        starts += [c.start_byte for _key, c in remote]
    starts.sort()
    return starts


def asserting_tests(ctx: FileContext, extra: frozenset[str]) -> set[int]:
    """Ids of the test blocks that assert something, directly or via helpers of the file.

    Assertion calls are looked up by name in the index (names proposed by a regular expression
    over the text), never by visiting every call of the file. When no test or def lies inside
    another (the usual file), which of them holds a call is a binary search over offsets.
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
    local_names = assert_words(ctx.text) | {n for n in extra if "." not in n}
    names = [n for n in local_names if _is_assertion_name(n, extra)]
    assertions = ctx.index.calls_named(*names) if names else []
    remote = [
        call
        for _key, call in ctx.index.remote_calls_where(
            lambda m, f: _is_assertion_remote(m, f, extra)
        )
    ]
    starts = [c.start_byte for c in assertions]
    if remote:
        starts += [c.start_byte for c in remote]
        starts.sort()
    count = len(starts)
    if not defs:
        # No helpers: only the tests themselves assert (tests come sorted by start).
        direct: set[int] = set()
        end_so_far = -1
        for test in tests:
            start = test.start_byte
            if start < end_so_far:
                return _asserting_nested(ctx, tests, defs, def_names, [*assertions, *remote])
            end_so_far = end = test.end_byte
            i = bisect.bisect_left(starts, start)
            if i < count and starts[i] < end:
                direct.add(test.id)
        return direct
    ranges = [(n.start_byte, n.end_byte, n) for n in [*tests, *defs]]
    ranges.sort(key=lambda r: (r[0], -r[1]))
    if _nested(ranges):
        return _asserting_nested(ctx, tests, defs, def_names, [*assertions, *remote])
    direct = set()  # owner ids with a direct assertion
    for start, end, node in ranges:
        i = bisect.bisect_left(starts, start)
        if i < count and starts[i] < end:
            direct.add(node.id)
    # Calls of the file's helpers, by the test or def they are in. The head of a def is a
    # call of its own name inside its own range: harmless, a def never makes itself assert.
    pairs = sorted(
        (c.start_byte, name)
        for name in set(def_names.values())
        for c in ctx.index.calls_named(name)
    )
    call_starts = [p[0] for p in pairs]
    calls_by_owner: dict[int, set[str]] = {}
    for start, end, node in ranges:
        lo = bisect.bisect_left(call_starts, start)
        hi = bisect.bisect_left(call_starts, end, lo)
        if lo < hi:
            calls_by_owner[node.id] = {p[1] for p in pairs[lo:hi]}
    return _settle(tests, def_names, direct, calls_by_owner)


def _nested(ranges: list[tuple[int, int, Node]]) -> bool:
    """Whether any of these (start-sorted) byte ranges lies inside another."""
    end_so_far = -1
    for start, end, _node in ranges:
        if start < end_so_far:
            return True
        end_so_far = max(end_so_far, end)
    return False


def _asserting_nested(
    ctx: FileContext,
    tests: list[Node],
    defs: list[Node],
    def_names: dict[int, str],
    assertions: list[Node],
) -> set[int]:
    """`asserting_tests` when tests or defs nest: each call belongs to its innermost one."""
    spans = Spans([*tests, *defs])
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
    return _settle(tests, def_names, direct, calls_by_owner)


def _settle(
    tests: list[Node],
    def_names: dict[int, str],
    direct: set[int],
    calls_by_owner: dict[int, set[str]],
) -> set[int]:
    """The asserting tests: those asserting directly or calling a helper that asserts."""
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
    test_ids = {t.id for t in tests}
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
        refs = tuple(sorted(referenced_modules(ctx)))
        return {"refs": refs, "asserts_error": asserts_error(ctx)}
    if ctx.kind != "lib":
        return {}
    source = ctx.source
    has_errors = b":error" in source
    # Which `{:error, ...}` a function returns needs the tree around each candidate tuple,
    # while only modules whose tests never assert an error ever report them: the summary keeps
    # each candidate clause's text, and the project pass parses the few it needs (see
    # `returned_errors`). Modules side by side (the usual file) have disjoint clauses, each
    # owning the tuples in its text; nested modules need the innermost clause of each tuple.
    owned: dict[int, list[int]] | None = None
    if has_errors and any(module.parent is not None for module in ctx.modules):
        owned = _owned_candidates(ctx)
    # Tuples all the way down (of strings and ints): the garbage collector stops tracking them,
    # so thousands of summaries do not make it walk them again and again.
    modules: list[tuple[str, tuple[Any, ...], tuple[Any, ...]]] = []
    search = ERROR_TUPLE.search
    public = elixir.PUBLIC_DEF_KINDS
    for module in ctx.modules:
        functions: list[tuple[str, str, int, int, int]] = []
        errors: list[tuple[str, tuple[Any, ...]]] = []
        for function in module.functions:
            kind = function.kind
            clauses = function.clauses
            candidates: tuple[Any, ...] = ()
            if has_errors and kind in _MEASURED_KINDS:
                if owned is None and len(clauses) == 1:
                    # `_candidates` for the usual one-clause function, inline.
                    node = clauses[0].node
                    lo, hi = node.start_byte, node.end_byte
                    if clauses[0].body is not None and search(source, lo, hi) is not None:
                        point = node.start_point
                        candidates = ((source[lo:hi], point.row, point.column, None),)
                else:
                    candidates = _candidates(source, clauses, owned)
            # Needs a test: public, no @impl, not a generated hook, no `@doc false`.
            needs_test = kind in public and not function.impl and function.name not in _HOOKS
            doc = function.doc
            if needs_test and doc is not None:
                doc_end = doc.end_byte
                if source[doc_end - 1] in _ASCII_SPACE:
                    needs_test = not _ends_with_false(source, doc)
                else:  # `@doc false` ends with its value (the node is longer than 5 bytes)
                    needs_test = source[doc_end - 5 : doc_end] != b"false"
            if not needs_test and not candidates:
                continue
            if len(clauses) == 1:
                low, high = clauses[0].min_arity, clauses[0].max_arity
                arities = str(low) if low == high else ",".join(map(str, range(low, high + 1)))
            else:
                arities = ",".join(str(a) for a in function.arities) or "0"
            label = f"{function.name}/{arities}"
            if needs_test:
                first = clauses[0].node
                at = first.start_point
                if len(clauses) == 1:
                    # `end_line_of`, from the newlines of the clause's text (cheaper than
                    # asking tree-sitter for the end point).
                    lo, hi = first.start_byte, first.end_byte
                    rows = source.count(b"\n", lo, hi)
                    ends_line = rows > 0 and source[hi - 1] == _NEWLINE
                    end_line = at.row + rows + (0 if ends_line else 1)
                else:
                    end_line = elixir.end_line_of(clauses[-1].node)
                functions.append((label, kind, at.row + 1, end_line, at.column + 1))
            if candidates:
                errors.append((label, candidates))
        modules.append((module.name, tuple(functions), tuple(errors)))
    return {"modules": tuple(modules)}


_MEASURED_KINDS = frozenset(METRIC_DEF_KINDS)


def _candidates(
    data: bytes, clauses: list[elixir.FunctionClause], owned: dict[int, list[int]] | None
) -> tuple[tuple[bytes, int, int, tuple[int, ...] | None], ...]:
    """The clauses of a function whose text holds a `{:error` tuple: (text, row, column, the
    offsets in the text of the tuples it owns, or None for all of them), in source order."""
    found: list[tuple[bytes, int, int, tuple[int, ...] | None]] = []
    search = ERROR_TUPLE.search
    for clause in clauses:
        if clause.body is None:
            continue
        node = clause.node
        start, end = node.start_byte, node.end_byte
        offsets: tuple[int, ...] | None = None
        if owned is not None:
            mine = owned.get(node.id)
            if not mine:
                continue
            offsets = tuple(at - start for at in mine)
        elif search(data, start, end) is None:
            continue
        point = node.start_point
        found.append((data[start:end], point.row, point.column, offsets))
    return tuple(found)


def _owned_candidates(ctx: FileContext) -> dict[int, list[int]]:
    """Offsets of the candidate `{:error` tuples by the (innermost) clause holding them, for
    files whose modules nest."""
    data = ctx.source
    table = _ClauseTable(ctx)
    owned: dict[int, list[int]] = {}
    for m in ERROR_TUPLE.finditer(data):
        at = m.start()
        i = table.owner(at)
        if i is not None:
            owned.setdefault(table.nodes[i].id, []).append(at)
    return owned


def returned_errors(
    candidates: tuple[tuple[str, tuple[Any, ...]], ...],
) -> list[tuple[str, int, int, str]]:
    """The first `{:error, ...}` each function returns, from the candidates of a summary:
    (label, line, column, snippet), in the functions' order. Each candidate clause is parsed
    on its own (a clause's text parses to the same subtree), and its tuples are followed up
    to the def while they stay in tail position."""
    found: list[tuple[str, int, int, str]] = []
    for label, clauses in candidates:
        for text, row, column, offsets in clauses:
            hit = _first_returned(text, offsets)
            if hit is not None:
                node = hit
                point = node.start_point
                line = row + point.row + 1
                col = (column + point.column if point.row == 0 else point.column) + 1
                snippet = " ".join(elixir.text(node).split())
                if len(snippet) > 40:
                    snippet = snippet[:37] + "..."
                found.append((label, line, col, snippet))
                break
    return found


def _first_returned(text: bytes, offsets: tuple[int, ...] | None) -> Node | None:
    """The first `{:error, ...}` tuple the clause (parsed alone) returns, among those at the
    offsets (all of its text's when None). A tuple followed by `->`, `when` or `=` is a
    pattern or an operand, never returned: it is not looked at."""
    if offsets is None:
        offsets = tuple(m.start() for m in ERROR_TUPLE.finditer(text))
    offsets = tuple(at for at in offsets if _MATCHED_ERROR_TUPLE.match(text, at) is None)
    if not offsets:
        return None
    root = elixir.parse(text).root_node
    def_call = root.named_child(0) if root.named_child_count else None
    if def_call is None:
        return None
    for at in offsets:
        path = _path_to(def_call, at)
        node = path[-1]
        if node.type != "tuple":
            continue
        if _PLAIN_ERROR_TUPLE.match(text, at) is None and not elixir.is_tagged_tuple(
            node, ":error"
        ):
            continue
        if _returns(path, text):
            return node
    return None


class _ClauseTable:
    """The measured clauses of the file (def/defp/defmacro/defmacrop with a body, as
    `l2_support.clauses`), sorted by (start, -end), each with the function it belongs to."""

    __slots__ = ("ends", "functions", "nodes", "starts")

    def __init__(self, ctx: FileContext) -> None:
        rows: list[tuple[int, int, int, Node, elixir.Function]] = []
        order = 0
        for module in ctx.modules:
            for function in module.functions:
                if function.kind not in METRIC_DEF_KINDS:
                    continue
                for clause in function.clauses:
                    if clause.body is not None:
                        node = clause.node
                        rows.append((node.start_byte, -node.end_byte, order, node, function))
                        order += 1
        rows.sort()  # (start, -end, order) is unique: nodes are never compared
        self.starts = [r[0] for r in rows]
        self.ends = [-r[1] for r in rows]
        self.nodes = [r[3] for r in rows]
        self.functions = [r[4] for r in rows]

    def owner(self, at: int) -> int | None:
        """Index of the innermost clause around the offset (clauses nest or are disjoint)."""
        i = bisect.bisect_right(self.starts, at) - 1
        ends = self.ends
        while i >= 0 and ends[i] <= at:
            i -= 1
        return i if i >= 0 else None


# `{:error,` / `{:error}`: the tuple's first element is the atom `:error` (no comment between).
_PLAIN_ERROR_TUPLE = re.compile(rb"\{\s*:error\s*[,}]")
# A flat `{:error, ...}` followed by `->`, `when` or `=` is a pattern or an operand (its parent
# is a stab's arguments or an operator), never a returned value: no need to ask the tree.
_MATCHED_ERROR_TUPLE = re.compile(
    rb"\{\s*:error\b[^{}()\[\]\"'#~?]*\}\s*(?:->|when\b|=(?![=>~]))"
)


def _path_to(top: Node, at: int) -> list[Node]:
    """`top` and its descendants down to the smallest named node holding the byte at `at`
    (what `top.named_descendant_for_byte_range(at, at + 1)` gives), outermost first.

    One cursor descent: asking a node for its `.parent` makes tree-sitter walk down from the
    root again, so climbing from a deep node costs the depth squared."""
    cursor = top.walk()
    path = [top]
    while cursor.goto_first_child_for_byte(at) is not None:
        node = cursor.node
        if node is None or node.start_byte > at:
            break
        path.append(node)
    while len(path) > 1 and not path[-1].is_named:
        path.pop()
    return path


def _returns(path: list[Node], data: bytes) -> bool:
    """Whether the last node of `path` (from a def call down to it) is a value the def returns:
    the last statement, followed up through the branches of if/case/with/try/... ."""
    def_call = path[0]
    i = len(path) - 1
    child = path[i]
    child_type = child.type
    while i > 0:
        parent = path[i - 1]
        kind = parent.type
        step = 1
        if kind == "do_block" and child_type in ("else_block", "rescue_block", "catch_block"):
            pass  # the else/rescue branch of an if/with/try: its value is returned
        elif kind in ("do_block", "else_block", "body", "block", "rescue_block", "catch_block"):
            if _last_statement(parent) != child:
                return False
        elif kind == "stab_clause":
            if i < 2:
                return False
            holder = path[i - 2]
            kind = holder.type
            if kind == "anonymous_function":
                return False  # the value of a fn, not of the function
            parent, step = holder, 2
        elif kind == "pair":
            if elixir.keyword_key(parent) not in ("do", "else"):
                return False
            if i < 4:
                return False  # the arguments' owner lies above the def: never the def itself
            owner = path[i - 4]
            if owner == def_call:
                return True
            if not is_block_call(owner, TAIL_MACROS):
                return False
            parent, kind, step = owner, "call", 4
        elif kind == "call":
            if parent == def_call:
                return child_type == "do_block"
            if child_type != "do_block" or not _is_tail_macro(parent, data):
                return False
        else:
            return False
        i -= step
        child, child_type = parent, kind
    return False


# `case x do`, `if x do`, ...: the call's target is that identifier (a space follows it).
_TAIL_MACRO_HEAD = re.compile(rb"(?:if|unless|case|cond|with|try|receive)[ \t]")


def _is_tail_macro(call: Node, data: bytes) -> bool:
    """`is_block_call(call, TAIL_MACROS)` for a call known to have a do_block child."""
    if data and _TAIL_MACRO_HEAD.match(data, call.start_byte) is not None:
        last = call.named_child(call.named_child_count - 1)
        if last is not None and last.type == "do_block":
            return True
    return is_block_call(call, TAIL_MACROS)


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


_HOOKS = frozenset({"__using__", "__before_compile__", "__after_compile__"})


_ASCII_SPACE = frozenset(b" \t\n\r\x0b\x0c")
_NEWLINE = ord("\n")


def _ends_with_false(source: bytes, node: Node) -> bool:
    """`node.text.rstrip().endswith(b"false")`, read from the source without copying."""
    start, end = node.start_byte, node.end_byte
    while end > start and source[end - 1] in _ASCII_SPACE:
        end -= 1
    return end - start >= 5 and source[end - 5 : end] == b"false"


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
    text = ctx.text
    if text.isascii() and ctx.source:
        # The same matches on the bytes (ASCII text: `\w` means the same), scanned faster.
        found = {name.decode() for name in set(_MODULE_NAME_BYTES.findall(ctx.source))}
    else:
        found = set(_MODULE_NAME_FAST.findall(text))
    if aliases:
        found.update([_expand(name, aliases) for name in found])
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
    data = ctx.source
    if b":error" not in data:
        return False
    root = ctx.root
    for m in ERROR_TUPLE.finditer(data):
        path = _path_to(root, m.start())
        if path[-1].type == "tuple" and _asserted(path):
            return True
    return False


def _asserted(path: list[Node]) -> bool:
    """Whether the last node of `path` (from the root down to it) is asserted: inside an
    assertion call, or the left side of `=`/`<-` or of a stab clause (a pattern)."""
    child = path[-1]
    for anc in reversed(path[:-1]):
        kind = anc.type
        if kind == "call" and is_assertion_call(anc):
            return True
        if kind == "binary_operator" and operator(anc) in ("=", "<-") and left(anc) == child:
            return True
        if kind == "stab_clause" and anc.child_by_field_name("left") == child:
            return True
        child = anc
    return False
