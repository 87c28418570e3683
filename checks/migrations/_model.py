"""One small model of an Ecto migration, shared by every `L5.migration-*` rule.

Precision is the point of this reviewer: most of what excellent_migrations reports on real
projects is safe (rollback steps in `def down`, indexes and references on a table the same
migration creates, constant defaults on PostgreSQL 11+, `modify` calls that only touch `null:`).
Telling those apart needs context no single call has: which function a step runs in, which
tables the migration creates, which module attributes it sets. The model gathers that once per
file from the shared index (no tree walk), and every rule asks it instead of re-deriving it.

Raw SQL in `execute` is classified statement by statement with a few anchored regexes, enough
to recognise the dangerous DDL teams write by hand (trigram indexes, NOT VALID constraints,
backfills) and the harmless rest (extensions, enum types, comments).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

from tree_sitter import Node

from checks import elixir
from checks.context import FileContext
from checks.model import FileKind, Finding, Rule, Severity

MIGRATION: frozenset[FileKind] = frozenset({"migration"})
EXAMPLE_PATH = "priv/repo/migrations/20240101000000_example.exs"

# Calls that build or change the schema, as Ecto.Migration spells them.
CREATE = ("create", "create_if_not_exists")
DROP = ("drop", "drop_if_exists")
ADD = ("add", "add_if_not_exists")
REMOVE = ("remove", "remove_if_exists")
INDEX_KINDS = ("index", "unique_index")
REPO_WRITES = frozenset(
    {
        "insert",
        "insert!",
        "insert_all",
        "insert_or_update",
        "insert_or_update!",
        "update",
        "update!",
        "update_all",
        "delete",
        "delete!",
        "delete_all",
    }
)
REPO_QUERIES = frozenset({"query", "query!"})


# --- the model ------------------------------------------------------------------------------


@dataclass
class Scope:
    """A step's function: `down` is a rollback; `change`, `up` and helpers run forward."""

    name: str
    node: Node | None
    rollback: bool
    created: set[str] = field(default_factory=set)


@dataclass
class IndexOp:
    node: Node  # the create/drop call
    action: Literal["create", "drop"]
    table: str | None
    columns: int | None  # None when the columns are not a literal list
    unique: bool
    concurrently: bool
    scope: Scope


@dataclass
class ColumnOp:
    """`add`/`modify`/`remove`/`timestamps` inside `alter table` or `create table`."""

    node: Node
    verb: Literal["add", "modify", "remove", "timestamps"]
    table: str | None
    new_table: bool  # inside `create table(...)`: nothing can lock or break yet
    column: str | None
    type_node: Node | None
    opts: dict[str, Node]
    scope: Scope


@dataclass
class TableOp:
    node: Node
    verb: Literal["drop", "rename", "rename_column"]
    table: str | None
    scope: Scope
    detail: str = ""  # the new name, or "old -> new" for a column


@dataclass
class ConstraintOp:
    node: Node
    verb: Literal["create", "drop"]
    table: str | None
    name: str | None
    kind: Literal["check", "exclude", "other"]
    validate: bool
    scope: Scope


@dataclass(frozen=True)
class Statement:
    """One SQL statement of an `execute`, classified. `table` is bare (no schema, no quotes)."""

    kind: str
    table: str | None
    text: str
    column: str | None = None


@dataclass
class SqlOp:
    """An `execute(...)`/`repo().query!(...)` argument: its statements, None if unreadable."""

    node: Node
    statements: list[Statement] | None
    scope: Scope


@dataclass
class RepoWrite:
    node: Node
    function: str
    table: str | None
    scope: Scope


@dataclass
class Migration:
    scopes: list[Scope]
    index_ops: list[IndexOp]
    column_ops: list[ColumnOp]
    table_ops: list[TableOp]
    constraint_ops: list[ConstraintOp]
    sql_ops: list[SqlOp]
    repo_writes: list[RepoWrite]
    ddl_transaction_disabled: bool
    migration_lock_disabled: bool
    # Danger types named by the deprecated `@safety_assured` attribute ("all" for every one).
    assured: frozenset[str]
    # Each rule's findings, computed once: the split rule asks the other rules again.
    results: dict[str, list[Finding]] = field(default_factory=dict)

    def existing(self, table: str | None, scope: Scope) -> bool:
        """Whether `table` existed before this migration's step ran (unknown names did).

        A rollback step undoes the forward steps, so a table any of them creates is new to it.
        """
        if table is None:
            return True
        if scope.rollback:
            return all(table not in s.created for s in self.scopes) and table not in scope.created
        return table not in scope.created


# --- building it once per file ----------------------------------------------------------------

# The model lives in the FileContext's memo: one model per reviewed file, gone with it, whatever
# order the rules (or a benchmark) run in.
_SLOT = "migration-model"


def model(ctx: FileContext) -> Migration:
    """The file's migration model, built on first use and shared by all rules."""
    built: Migration | None = ctx.memo.get(_SLOT)
    if built is None:
        built = _Builder(ctx).build()
        ctx.memo[_SLOT] = built
    return built


def memoized(
    check: Callable[[FileContext], Iterable[Finding]],
) -> Callable[[FileContext], list[Finding]]:
    """Run a rule's check once per file, however many times it is asked."""
    key = f"{check.__module__}.{check.__qualname__}"

    @functools.wraps(check)
    def run(ctx: FileContext) -> list[Finding]:
        results = model(ctx).results
        if key not in results:
            results[key] = list(check(ctx))
        return results[key]

    return run


def active(ctx: FileContext, scope: Scope) -> bool:
    """Rollback steps are reviewed only when `migrations.include_rollbacks` is set."""
    return not scope.rollback or ctx.config.migrations.include_rollbacks


class _Builder:
    def __init__(self, ctx: FileContext) -> None:
        self.ctx = ctx
        self.index = ctx.index
        self.scopes: dict[int, Scope] = {}
        self.outside = Scope("", None, rollback=False)
        self._attrs: dict[str, Node] | None = None

    def build(self) -> Migration:
        index_ops: list[IndexOp] = []
        table_ops: list[TableOp] = []
        constraint_ops: list[ConstraintOp] = []
        sql_ops: list[SqlOp] = []
        # Creations first: every other step asks whether its table is new.
        for call in self.index.calls_named(*CREATE):
            arg = _only_arg(call)
            if arg is not None and elixir.local_name(arg) == "table":
                table = self.table_name(arg)
                if table is not None:
                    self.scope_of(call).created.add(table)
        for call in self.index.calls_named("execute"):
            sql_ops.extend(self.execute_ops(call))
        for call in self.repo_query_calls():
            statements = self.sql_statements(_first(elixir.call_args(call)))
            sql_ops.append(SqlOp(call, statements, self.scope_of(call)))
        for sql_op in sql_ops:
            for statement in sql_op.statements or ():
                if statement.kind == "create_table" and statement.table:
                    sql_op.scope.created.add(statement.table)

        for call in self.index.calls_named(*CREATE, *DROP):
            arg = _only_arg(call)
            if arg is None or arg.type != "call":
                continue
            what = elixir.local_name(arg)
            verb = elixir.local_name(call) or ""
            if what in INDEX_KINDS:
                index_ops.append(self.index_op(call, arg, verb, what))
            elif what == "table" and verb in DROP:
                table_ops.append(TableOp(call, "drop", self.table_name(arg), self.scope_of(call)))
            elif what == "constraint":
                constraint_ops.append(self.constraint_op(call, arg, verb))

        for call in self.index.calls_named("rename"):
            renamed = self.rename_op(call)
            if renamed is not None:
                table_ops.append(renamed)

        column_ops = [
            op
            for call in self.index.calls_named(*ADD, "modify", *REMOVE, "timestamps")
            if (op := self.column_op(call)) is not None
        ]
        repo_writes = list(self.repo_writes())
        attrs = self.attrs()
        return Migration(
            # Listed last: every step above has registered the function it runs in.
            scopes=list(self.scopes.values()),
            index_ops=index_ops,
            column_ops=column_ops,
            table_ops=table_ops,
            constraint_ops=constraint_ops,
            sql_ops=sql_ops,
            repo_writes=repo_writes,
            ddl_transaction_disabled=_is_true(attrs.get("disable_ddl_transaction")),
            migration_lock_disabled=_is_true(attrs.get("disable_migration_lock")),
            assured=_assured(attrs.get("safety_assured")),
        )

    # scopes and names

    def scope_of(self, node: Node) -> Scope:
        definition = elixir.enclosing_def(node)
        if definition is None:
            return self.outside
        scope = self.scopes.get(definition.id)
        if scope is None:
            head = elixir.function_head(definition)
            name = head[0] if head is not None else ""
            scope = Scope(name, definition, rollback=name == "down")
            self.scopes[definition.id] = scope
        return scope

    def attrs(self) -> dict[str, Node]:
        """Module attributes set to a value (`@table :users`), by name."""
        if self._attrs is None:
            found: dict[str, Node] = {}
            for node in self.index.nodes("unary_operator"):
                name = elixir.attribute_name(node)
                value = elixir.attribute_value(node) if name else None
                if name is not None and value is not None:
                    found.setdefault(name, value)
            self._attrs = found
        return self._attrs

    def resolve(self, node: Node | None) -> Node | None:
        """Follow a module attribute read (`@table`) to its literal value."""
        if node is not None and node.type == "unary_operator":
            name = elixir.attribute_name(node)
            if name is not None and elixir.attribute_value(node) is None:
                return self.attrs().get(name)
        return node

    def name_of(self, node: Node | None) -> str | None:
        """`users` for `:users`, `"users"`, `:"users"` or `@table` set to one of those."""
        node = self.resolve(node)
        if node is None:
            return None
        if node.type == "atom":
            return elixir.text(node).lstrip(":")
        if node.type in ("string", "quoted_atom"):
            literal = elixir.string_literal(node) if node.type == "string" else None
            if literal is None and node.type == "quoted_atom":
                raw = elixir.text(node)
                literal = raw[2:-1] if raw.startswith(':"') and raw.endswith('"') else None
            return literal
        return None

    def table_name(self, table_call: Node) -> str | None:
        return self.name_of(_first(elixir.call_args(table_call)))

    # operations

    def index_op(self, call: Node, index: Node, verb: str, kind: str) -> IndexOp:
        args = elixir.call_args(index)
        opts = elixir.keyword_pairs(index)
        columns_node = self.resolve(args[1]) if len(args) > 1 else None
        columns: int | None = None
        if columns_node is not None and columns_node.type == "list":
            columns = len([c for c in columns_node.named_children if c.type != "comment"])
        elif columns_node is not None and columns_node.type in ("atom", "string"):
            columns = 1
        return IndexOp(
            node=call,
            action="create" if verb in CREATE else "drop",
            table=self.name_of(_first(args)),
            columns=columns,
            unique=kind == "unique_index" or _is_true(opts.get("unique")),
            concurrently=_is_true(opts.get("concurrently")),
            scope=self.scope_of(call),
        )

    def constraint_op(self, call: Node, constraint: Node, verb: str) -> ConstraintOp:
        args = elixir.call_args(constraint)
        opts = elixir.keyword_pairs(constraint)
        kind: Literal["check", "exclude", "other"] = (
            "check" if "check" in opts else "exclude" if "exclude" in opts else "other"
        )
        return ConstraintOp(
            node=call,
            verb="create" if verb in CREATE else "drop",
            table=self.name_of(_first(args)),
            name=self.name_of(args[1]) if len(args) > 1 else None,
            kind=kind,
            validate=not elixir.is_false_literal(opts.get("validate")),
            scope=self.scope_of(call),
        )

    def rename_op(self, call: Node) -> TableOp | None:
        args = elixir.call_args(call)
        if not args or elixir.local_name(args[0]) != "table":
            return None
        table = self.table_name(args[0])
        to = elixir.keyword_pairs(call).get("to")
        scope = self.scope_of(call)
        if to is not None and elixir.local_name(to) == "table":
            return TableOp(call, "rename", table, scope, self.table_name(to) or "?")
        if len(args) >= 2 and args[1].type != "keywords":
            old = self.name_of(args[1]) or "?"
            new = self.name_of(to) or "?"
            return TableOp(call, "rename_column", table, scope, f"{old} -> {new}")
        return None

    def column_op(self, call: Node) -> ColumnOp | None:
        verb = elixir.local_name(call) or ""
        container = _table_block(call)
        if container is None:
            return None
        block_call, table_call = container
        args = elixir.call_args(call)
        positional = [a for a in args if a.type != "keywords"]
        kind: Literal["add", "modify", "remove", "timestamps"]
        if verb in ADD:
            kind = "add"
        elif verb in REMOVE:
            kind = "remove"
        elif verb == "modify":
            kind = "modify"
        else:
            kind = "timestamps"
        return ColumnOp(
            node=call,
            verb=kind,
            table=self.table_name(table_call),
            new_table=elixir.local_name(block_call) in CREATE,
            column=self.name_of(_first(positional)) if kind != "timestamps" else None,
            type_node=positional[1] if len(positional) > 1 else None,
            opts=elixir.keyword_pairs(call),
            scope=self.scope_of(call),
        )

    def execute_ops(self, call: Node) -> Iterator[SqlOp]:
        args = elixir.call_args(call)
        if not args:
            return
        scope = self.scope_of(call)
        yield SqlOp(call, self.sql_statements(args[0]), scope)
        if len(args) > 1 and not scope.rollback:
            # `execute(up, down)`: the second argument only runs on rollback.
            back = Scope(scope.name, scope.node, rollback=True, created=scope.created)
            yield SqlOp(call, self.sql_statements(args[1]), back)

    def repo_query_calls(self) -> Iterator[Node]:
        for (module, fun), node in self.index.remote_calls_where(_is_repo_query):
            del module, fun
            yield node
        for repo in self.index.calls_named("repo"):
            call = _called_on(repo)
            if call is not None and _remote_fun(call) in REPO_QUERIES:
                yield call

    def repo_writes(self) -> Iterator[RepoWrite]:
        found = [node for _key, node in self.index.remote_calls_where(_is_repo_write)]
        for repo in self.index.calls_named("repo"):
            call = _called_on(repo)
            if call is not None and _remote_fun(call) in REPO_WRITES:
                found.append(call)
        for node in sorted(found, key=lambda n: n.start_byte):
            target = _first(elixir.call_args(node))
            table = elixir.string_literal(target) if target is not None else None
            yield RepoWrite(node, _remote_fun(node) or "", table, self.scope_of(node))

    def sql_statements(self, node: Node | None) -> list[Statement] | None:
        text = self.sql_text(self.resolve(node))
        return None if text is None else classify_sql(text)

    def sql_text(self, node: Node | None) -> str | None:
        """The SQL of a string, heredoc or sigil; interpolated attributes are substituted and
        any other interpolation becomes an opaque name. None when the SQL is not literal."""
        if node is None or node.type not in ("string", "sigil", "charlist"):
            return None
        parts: list[str] = []
        for child in node.named_children:
            if child.type in ("quoted_content", "escape_sequence"):
                parts.append(elixir.text(child))
            elif child.type == "interpolation":
                inner = [c for c in child.named_children if c.type != "comment"]
                value = self.name_of(inner[0]) if len(inner) == 1 else None
                parts.append(value if value is not None else "__interpolated__")
        return "".join(parts)


def _only_arg(call: Node) -> Node | None:
    args = elixir.call_args(call)
    return args[0] if args else None


def _first(nodes: Sequence[Node]) -> Node | None:
    return nodes[0] if nodes else None


def _is_true(node: Node | None) -> bool:
    return node is not None and node.type == "boolean" and elixir.text(node) == "true"


def _assured(node: Node | None) -> frozenset[str]:
    if node is None:
        return frozenset()
    if node.type == "atom":
        return frozenset({elixir.text(node).lstrip(":")})
    if node.type == "list":
        return frozenset(
            elixir.text(c).lstrip(":") for c in node.named_children if c.type == "atom"
        )
    return frozenset()


def _table_block(call: Node) -> tuple[Node, Node] | None:
    """The enclosing `alter table(...)`/`create table(...)` call and its `table(...)` call."""
    for anc in elixir.ancestors(call):
        if anc.type != "call":
            continue
        name = elixir.local_name(anc)
        if name in ("alter", *CREATE):
            table = _only_arg(anc)
            if table is not None and elixir.local_name(table) == "table":
                return anc, table
        if name in elixir.DEF_KINDS:
            return None
    return None


def _repo_module(module: str) -> bool:
    return "Repo" in module.split(".")


def _is_repo_write(module: str, fun: str) -> bool:
    return fun in REPO_WRITES and _repo_module(module)


def _is_repo_query(module: str, fun: str) -> bool:
    return fun in REPO_QUERIES and _repo_module(module)


def _called_on(receiver: Node) -> Node | None:
    """For the `repo()` of `repo().update_all(...)`, the outer call."""
    dot = receiver.parent
    if dot is None or dot.type != "dot" or dot.child_by_field_name("left") != receiver:
        return None
    outer = dot.parent
    return outer if outer is not None and outer.type == "call" else None


def _remote_fun(call: Node) -> str | None:
    target = elixir.call_target(call)
    if target is None or target.type != "dot":
        return None
    right = target.child_by_field_name("right")
    return elixir.text(right) if right is not None else None


# --- column types ----------------------------------------------------------------------------

# Ecto type -> (PostgreSQL base type, default modifier) as ecto_sql's Postgres adapter emits it.
_ECTO_SQL: dict[str, tuple[str, int | None]] = {
    "string": ("varchar", 255),
    "varchar": ("varchar", 255),
    "text": ("text", None),
    "citext": ("citext", None),
    "integer": ("integer", None),
    "id": ("integer", None),
    "serial": ("integer", None),
    "bigint": ("bigint", None),
    "bigserial": ("bigint", None),
    "binary_id": ("uuid", None),
    "uuid": ("uuid", None),
    "map": ("jsonb", None),
    "jsonb": ("jsonb", None),
    "json": ("json", None),
    "decimal": ("numeric", None),
    "numeric": ("numeric", None),
    "float": ("float8", None),
    "boolean": ("boolean", None),
    "binary": ("bytea", None),
    "date": ("date", None),
    "time": ("time", 0),
    "time_usec": ("time", None),
    "utc_datetime": ("timestamp", 0),
    "naive_datetime": ("timestamp", 0),
    "utc_datetime_usec": ("timestamp", None),
    "naive_datetime_usec": ("timestamp", None),
    "timestamptz": ("timestamptz", None),
}


@dataclass(frozen=True)
class ColumnType:
    """A column type reduced to what decides whether changing it rewrites the table."""

    base: str
    modifier: tuple[int | None, ...] = ()
    references: bool = False

    def label(self) -> str:
        return self.base + (
            f"({', '.join(str(m) for m in self.modifier)})" if self.modifier else ""
        )


def column_type(node: Node | None, opts: dict[str, Node]) -> ColumnType | None:
    """The SQL type a `add/modify` type argument plus options produce; None if unknowable."""
    if node is None:
        return None
    if node.type == "call" and elixir.local_name(node) == "references":
        ref_opts = elixir.keyword_pairs(node)
        inner = column_type(ref_opts["type"], {}) if "type" in ref_opts else None
        return ColumnType(inner.base if inner else "bigint", references=True)
    if node.type == "tuple":
        return ColumnType(" ".join(elixir.text(node).split()))
    if node.type != "atom":
        return None
    name = elixir.text(node).lstrip(":")
    base, default = _ECTO_SQL.get(name, (name, None))
    if base == "varchar":
        return ColumnType(base, (_int(opts.get("size"), default),))
    if base == "numeric":
        precision = _int(opts.get("precision"), None)
        return ColumnType(base, (precision, _int(opts.get("scale"), 0 if precision else None)))
    if base in ("timestamp", "time"):
        return ColumnType(base, (_int(opts.get("precision"), default),))
    return ColumnType(base)


def _int(node: Node | None, default: int | None) -> int | None:
    if node is not None and node.type == "integer":
        return int(elixir.text(node).replace("_", ""))
    return default


def rewrites(old: ColumnType, new: ColumnType) -> bool:
    """Whether ALTER COLUMN TYPE from `old` to `new` rewrites or rescans the table.

    PostgreSQL skips the rewrite for binary-compatible changes: varchar to text, a longer (or
    no) varchar limit, more numeric precision at the same scale, more timestamp precision.
    """
    if old == new:
        return False
    if old.base == "varchar" and new.base == "text":
        return False
    if old.base == new.base and old.base in ("varchar", "timestamp", "time"):
        return not _widens(old.modifier[0], new.modifier[0])
    if old.base == new.base == "numeric":
        same_scale = old.modifier[1] == new.modifier[1] or new.modifier[0] is None
        return not (same_scale and _widens(old.modifier[0], new.modifier[0]))
    return True


def _widens(old: int | None, new: int | None) -> bool:
    return new is None or (old is not None and new >= old)


# --- SQL ----------------------------------------------------------------------------------

_IDENT = r'(?:"[^"]+"|[\w$]+)(?:\s*\.\s*(?:"[^"]+"|[\w$]+))?'
_DOLLAR = re.compile(r"\$(\w*)\$.*?\$\1\$", re.DOTALL)
_QUOTED = re.compile(r"'(?:[^']|'')*'")
_LINE_COMMENT = re.compile(r"--[^\n]*")
_BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)

_CREATE_TABLE = re.compile(
    rf"^create\s+(?:(?:global\s+|local\s+)?(?:temp|temporary|unlogged)\s+)?table\s+"
    rf"(?:if\s+not\s+exists\s+)?({_IDENT})"
)
_CREATE_INDEX = re.compile(
    rf"^create\s+(?:unique\s+)?index\s+(concurrently\s+)?(?:if\s+not\s+exists\s+)?"
    rf"(?:{_IDENT}\s+)?on\s+(?:only\s+)?({_IDENT})"
)
_DROP_INDEX = re.compile(r"^drop\s+index\s+(concurrently\b)?")
_DROP_TABLE = re.compile(rf"^drop\s+table\s+(?:if\s+exists\s+)?({_IDENT})")
_ALTER_TABLE = re.compile(rf"^alter\s+table\s+(?:if\s+exists\s+)?(?:only\s+)?({_IDENT})\s*(.*)$")
_DATA = re.compile(
    rf"^(?:(update)\s+(?:only\s+)?({_IDENT})|(insert)\s+into\s+({_IDENT})"
    rf"|(delete)\s+from\s+(?:only\s+)?({_IDENT})|(truncate)\s+(?:table\s+)?({_IDENT}))"
)
_HARMLESS = re.compile(
    r"^(?:$|select\b|set\b|reset\b|comment\s+on\b|grant\b|revoke\b|analyze\b"
    r"|(?:create|drop|alter)\s+(?:extension|schema|type|domain|sequence|collation)\b"
    r"|create\s+(?:or\s+replace\s+)?(?:function|procedure|view)\b"
    r"|drop\s+(?:function|procedure|view)\b)"
)
_CONSTRAINT = rf"(?:constraint\s+{_IDENT}\s+)?"
_ACTIONS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("validate", re.compile(r"^validate\s+constraint\b")),
    ("add_fk", re.compile(rf"^add\s+{_CONSTRAINT}foreign\s+key\b")),
    ("add_check", re.compile(rf"^add\s+{_CONSTRAINT}check\b")),
    ("add_unique", re.compile(rf"^add\s+{_CONSTRAINT}(?:unique|primary\s+key)\b")),
    ("add_exclude", re.compile(rf"^add\s+{_CONSTRAINT}exclude\b")),
    ("set_not_null", re.compile(rf"^alter\s+(?:column\s+)?({_IDENT})\s+set\s+not\s+null\b")),
    ("type_change", re.compile(rf"^alter\s+(?:column\s+)?({_IDENT})\s+(?:set\s+data\s+)?type\b")),
    ("rename_table", re.compile(r"^rename\s+to\b")),
    ("harmless", re.compile(r"^rename\s+constraint\b|^drop\s+constraint\b")),
    ("rename_column", re.compile(rf"^rename\s+(?:column\s+)?({_IDENT})\s+to\b")),
    ("drop_column", re.compile(rf"^drop\s+(?:column\s+)?(?:if\s+exists\s+)?({_IDENT})")),
    (
        "harmless",
        re.compile(
            rf"^alter\s+(?:column\s+)?{_IDENT}\s+(?:drop\s+not\s+null|(?:set|drop)\s+default)"
        ),
    ),
)


def classify_sql(sql: str) -> list[Statement]:
    """Split SQL into statements and name each (create_index, add_fk, data, harmless...)."""
    cleaned = _BLOCK_COMMENT.sub(
        " ", _LINE_COMMENT.sub(" ", _QUOTED.sub("''", _DOLLAR.sub("$$", sql)))
    )
    found: list[Statement] = []
    for raw in cleaned.split(";"):
        text = " ".join(raw.split())
        found.extend(_classify(text.lower(), text))
    return found or [Statement("harmless", None, "")]


def _classify(lower: str, text: str) -> Iterator[Statement]:
    if not lower:
        return
    if m := _CREATE_TABLE.match(lower):
        yield Statement("create_table", _bare(m.group(1)), text)
    elif m := _CREATE_INDEX.match(lower):
        kind = "create_index_concurrently" if m.group(1) else "create_index"
        yield Statement(kind, _bare(m.group(2)), text)
    elif m := _DROP_INDEX.match(lower):
        yield Statement("drop_index_concurrently" if m.group(1) else "drop_index", None, text)
    elif m := _DROP_TABLE.match(lower):
        yield Statement("drop_table", _bare(m.group(1)), text)
    elif m := _DATA.match(lower):
        table = next(g for g in m.groups()[1::2] if g is not None)
        yield Statement("data", _bare(table), text)
    elif m := _ALTER_TABLE.match(lower):
        table = _bare(m.group(1))
        for action in _split_actions(m.group(2)):
            yield _action(action, table, text)
    elif _HARMLESS.match(lower):
        yield Statement("harmless", None, text)
    else:
        yield Statement("unknown", None, text)


def _action(action: str, table: str | None, text: str) -> Statement:
    for kind, pattern in _ACTIONS:
        m = pattern.match(action)
        if m is None:
            continue
        column = _bare(m.group(1)) if m.groups() else None
        if kind == "add_fk" or kind == "add_check":
            kind = kind + ("_not_valid" if re.search(r"\bnot\s+valid\b", action) else "")
        if kind == "add_unique" and re.search(r"\busing\s+index\b", action):
            kind = "harmless"
        return Statement(kind, table, text, column)
    return Statement("unknown", table, text)


def _split_actions(rest: str) -> Iterator[str]:
    depth, start = 0, 0
    for i, char in enumerate(rest):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            yield rest[start:i].strip()
            start = i + 1
    yield rest[start:].strip()


def _bare(name: str | None) -> str | None:
    if name is None or "__interpolated__" in name:
        return None
    last = re.split(r"\s*\.\s*", name)[-1]
    return last.strip('"')


# --- findings --------------------------------------------------------------------------------


def suggest(ctx: FileContext, at: Node, part: Node, replacement: str) -> str | None:
    """The line of `at` with `part` replaced, when both sit on that one line (a GitHub
    suggestion must replace whole lines, so multi-line calls get none)."""
    line = elixir.line_of(at)
    if elixir.end_line_of(at) != line or elixir.line_of(part) != line:
        return None
    if not 0 < line <= len(ctx.lines):
        return None
    text = ctx.lines[line - 1]
    old = elixir.text(part)
    if text.count(old) != 1:
        return None
    return text.replace(old, replacement)


def emit(
    ctx: FileContext,
    rule: Rule,
    at: Node,
    message: str,
    *,
    fix: str,
    sql: bool = False,
    severity: Severity | None = None,
    suggestion: str | None = None,
) -> Finding | None:
    """A finding, unless the file opted out the excellent_migrations way the engine cannot see:
    the deprecated `@safety_assured` attribute, or (for dangers found inside raw SQL) a
    `safety-assured ... raw_sql_executed` comment, which is what excellent_migrations reports
    for any `execute`."""
    assured = model(ctx).assured
    if "all" in assured or assured & set(rule.excellent_migrations):
        return None
    finding = ctx.finding(rule, at, message, fix=fix, severity=severity, suggestion=suggestion)
    if sql and _raw_sql_assured(ctx, finding.line):
        return None
    return finding


def _raw_sql_assured(ctx: FileContext, line: int) -> bool:
    return any(
        s.tool == "excellent_migrations"
        and s.start <= line <= s.end
        and (not s.names or "raw_sql_executed" in s.names)
        for s in ctx.suppressions
    )


def statements(ctx: FileContext, kinds: Iterable[str]) -> Iterator[tuple[SqlOp, Statement]]:
    """Reviewed (non-rollback, unless configured) SQL statements of the given kinds."""
    wanted = set(kinds)
    for op in model(ctx).sql_ops:
        if not active(ctx, op.scope):
            continue
        for statement in op.statements or ():
            if statement.kind in wanted:
                yield op, statement


def existing_table_findings(
    ctx: FileContext,
    rule: Rule,
    *,
    verb: str,
    sql_kind: str,
    message: Callable[[TableOp], str],
    sql_message: Callable[[Statement], str],
    fix: str,
) -> Iterator[Finding]:
    """Findings for a table operation (`drop`, `rename`, `rename_column`) on a table that exists
    before this migration, written with the Ecto DSL or as raw SQL. Operations on a table the
    same migration creates are safe: nothing runs against it yet."""
    migration = model(ctx)
    for op in migration.table_ops:
        if op.verb != verb or not active(ctx, op.scope):
            continue
        if not migration.existing(op.table, op.scope):
            continue
        found = emit(ctx, rule, op.node, message(op), fix=fix)
        if found is not None:
            yield found
    for sql_op, statement in statements(ctx, (sql_kind,)):
        if migration.existing(statement.table, sql_op.scope):
            found = emit(ctx, rule, sql_op.node, sql_message(statement), fix=fix, sql=True)
            if found is not None:
                yield found


def quoted(name: str | None) -> str:
    return f"`{name}`" if name else "the table"
