"""L5 secure: SQL injection through raw SQL (`Repo.query`, `Ecto.Adapters.SQL.query/stream`) and
Ecto `fragment`.

Ecto's query DSL parameterises every `^value`, so injection only happens where a program hands
SQL *text* to the database: raw queries and fragments. The danger is a string built at run time
(interpolation `"... #{x}"` or concatenation `"..." <> x`), passed directly or through a variable
assigned earlier in the function. A literal query with `$1`/`?` placeholders and a params list
is the safe pattern and is never reported.

Confidence follows sobelow (see checks/security_support.py): a variable from the controller
action's params is high confidence (error), any other variable medium (warning); a string built
only from module attributes or constants is not reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from tree_sitter import Node

from checks import elixir
from checks import security_support as sec
from checks.context import FileContext
from checks.model import FileKind, Finding, Rule, Severity

CODE: frozenset[FileKind] = frozenset({"lib", "script"})

QUERY_FUNCTIONS = frozenset({"query", "query!", "query_many", "query_many!", "stream"})
SQL_MODULES = frozenset(
    {"Ecto.Adapters.SQL", "SQL", "Ecto.Adapters.Postgres", "Ecto.Adapters.MyXQL"}
)


def _is_repo(module: str) -> bool:
    return module == "Repo" or module.endswith(".Repo")


def _sql_argument(call: Node) -> tuple[Node | None, str] | None:
    """The SQL text argument of a raw-SQL call and a label for messages; None if not one."""
    name = elixir.remote_name(call)
    if name is not None:
        module, fun = name
        if fun not in QUERY_FUNCTIONS:
            return None
        if module in SQL_MODULES:
            return sec.argument(call, 1), f"{module}.{fun}"
        if _is_repo(module) and fun != "stream":
            return sec.argument(call, 0), f"{module}.{fun}"
        return None
    if elixir.local_name(call) == "fragment":
        args = elixir.call_args(call)
        return (args[0] if args else None), "fragment"
    return None


# A module `_sql_argument` reads raw SQL from: an SQL adapter, or a Repo (`Repo`, `MyApp.Repo`).
_SQL_MODULE = re.compile("|".join(re.escape(m) for m in sorted(SQL_MODULES)) + r"|Repo|.*\.Repo")


def _start(node: Node) -> int:
    return node.start_byte


def _check(ctx: FileContext) -> Iterable[Finding]:
    index = ctx.index
    fragments = index.calls_named("fragment")
    # Raw SQL goes through a Repo (`Repo`, `MyApp.Repo`) or an SQL adapter module.
    calls = (
        [
            node
            for module in sec.remote_modules_matching(ctx, _SQL_MODULE)
            for node in index.remote_calls(module, *QUERY_FUNCTIONS)
        ]
        if sec.calls_module_ending(ctx, "Repo") or sec.calls_module(ctx, *SQL_MODULES)
        else []
    )
    if not calls and not fragments:
        return ()  # the common case, without starting a generator
    calls.sort(key=_start)
    return _found(ctx, calls + fragments)


def _found(ctx: FileContext, candidates: list[Node]) -> Iterator[Finding]:
    for call in candidates:
        found = _sql_argument(call)
        if found is None:
            continue
        sql, label = found
        if sql is None or elixir.is_literal(sql):
            continue
        finding = _judge(ctx, call, sql, label)
        if finding is not None:
            yield finding


def _judge(ctx: FileContext, call: Node, sql: Node, label: str) -> Finding | None:
    if sec.is_built_string(sql):
        origin = sec.origin(ctx, sql)
        if origin is None:
            return None
        how = "interpolation" if sql.type == "string" else "concatenation"
        return _finding(ctx, call, f"SQL built by {how} is passed to `{label}`", origin)
    if sql.type != "identifier":
        return None
    name = elixir.text(sql)
    clause = sec.clause_of(call)
    if clause is None:
        return None
    state = sec.flow(ctx, clause)
    built = state.built_strings.get(name)
    if built is not None:
        origin = sec.origin(ctx, built)
        if origin is None:
            return None
        return _finding(
            ctx,
            call,
            f"`{name}`, built from strings on line {elixir.line_of(built)}, is passed as SQL "
            f"to `{label}`",
            origin,
        )
    origin = sec.high_origin(ctx, sql)
    if origin is not None:
        return _finding(ctx, call, f"request data `{name}` is passed as SQL to `{label}`", origin)
    return None


def _finding(ctx: FileContext, call: Node, what: str, origin: sec.Origin) -> Finding:
    return ctx.finding(
        SQL_INJECTION,
        call,
        f"{what} ({origin.describe()})",
        severity=origin.severity,
        fix="keep the SQL a literal with $1/? placeholders and pass the values as the params "
        'list: `Repo.query("... WHERE id = $1", [id])`',
    )


SQL_INJECTION = Rule(
    id="L5.sql-injection",
    severity=Severity.ERROR,
    title="SQL built from strings at run time",
    explanation=(
        "Raw SQL (`Repo.query/query!`, `Ecto.Adapters.SQL.query/query!/stream`) and Ecto "
        "`fragment` send their text to the database as code. A string built by interpolation "
        "or `<>` lets whoever controls the interpolated value rewrite the query: read other "
        "users' rows, drop tables. Keep the SQL a literal with `$1`/`?` placeholders and pass "
        "the values separately; Ecto sends them as bind parameters. A value from the "
        "controller action's params is reported as an error (high confidence), any other "
        "variable as a warning."
    ),
    bad_example=(
        "defmodule Shop.Search do\n"
        '  @moduledoc "Search."\n'
        "  def by_name(name) do\n"
        "    Repo.query!(\"SELECT * FROM products WHERE name = '#{name}'\")\n"
        "  end\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.Search do\n"
        '  @moduledoc "Search."\n'
        "  def by_name(name) do\n"
        '    Repo.query!("SELECT * FROM products WHERE name = $1", [name])\n'
        "  end\n"
        "end\n"
    ),
    applies_to=CODE,
    sobelow=("SQL.Query", "SQL.Stream"),
    check=_check,
)

RULES = (SQL_INJECTION,)
