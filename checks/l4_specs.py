"""L4 typed: every public function has a @spec, specs say something concrete, error paths are
in the type, and structs have a `t()`.

Specs are matched by name and arity, as credo's Readability.Specs does; default arguments make
one definition cover several arities, and each of them needs its spec. Callbacks (`@impl`) take
their types from the behaviour, so they are exempt.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from tree_sitter import Node

from checks import elixir
from checks.context import FileContext
from checks.model import FileKind, Finding, Rule, Severity

LIB: frozenset[FileKind] = frozenset({"lib"})

# Types whose presence says nothing about the value.
VAGUE_TYPES = ("any", "term")

# Built-in and standard-library type names: a return type built only from these is "concrete"
# enough to judge whether it mentions an error variant.
BUILTIN_TYPES = frozenset(
    (
        *("any", "term", "atom", "map", "struct", "tuple", "integer", "float", "number"),
        *("boolean", "binary", "bitstring", "list", "nonempty_list", "maybe_improper_list"),
        *("pid", "port", "reference", "fun", "function", "module", "mfa", "node", "timeout"),
        *("no_return", "none", "keyword", "char", "charlist", "iodata", "iolist", "byte"),
        *("arity", "identifier", "pos_integer", "neg_integer", "non_neg_integer", "nil"),
        "string",
    )
)


# --- one pass over the public functions, shared by two L4 rules and two L7 rules ----------


@dataclass(frozen=True)
class Survey:
    """The public functions each rule has to look at, in source order, read from the module
    model and the source text only. Reading every function is most of what these rules cost,
    so it is done once per file; nearly every function has its spec and doc, so the first
    three lists are nearly always empty. Callbacks (`@impl`) get their types and docs from
    the behaviour: only the last list has them."""

    # def/defmacro with the arities that have no @spec (guards are not specced).
    unspecced: list[tuple[elixir.Module, elixir.Function, list[int]]]
    # Functions ExDoc lists (names starting with `_` are hidden) that have no @doc ...
    undocumented: list[tuple[elixir.Module, elixir.Function]]
    # ... and those whose @doc has no `iex>` example.
    without_example: list[tuple[elixir.Module, elixir.Function]]
    # Functions whose source says ":error": only they can return `{:error, ...}`.
    erring: list[tuple[elixir.Module, elixir.Function]]


def survey(ctx: FileContext) -> Survey:
    """The file's survey, taken by whichever of the four rules asks first."""
    return ctx.shared("l4.survey", lambda: _take_survey(ctx))


def _take_survey(ctx: FileContext) -> Survey:
    found = Survey([], [], [], [])
    source = ctx.source
    says_error = b":error" in source
    for module in ctx.modules:
        for function in module.functions:
            if function.kind not in elixir.PUBLIC_DEF_KINDS:
                continue
            if says_error and _source_has(source, function, b":error"):
                found.erring.append((module, function))
            if function.impl:
                continue
            name = function.name
            if function.kind != "defguard":
                missing = [a for a in _arities(function) if (name, a) not in module.specs]
                if missing:
                    found.unspecced.append((module, function, missing))
            if name.startswith("_"):
                continue
            doc = function.doc
            if doc is None:
                found.undocumented.append((module, function))
            elif source.find(b"iex>", doc.start_byte, doc.end_byte) == -1:
                found.without_example.append((module, function))
    return found


def _arities(function: elixir.Function) -> Iterable[int]:
    """`function.arities` without building a set for the usual single clause (it is asked of
    every public function of every file)."""
    if len(function.clauses) == 1:
        clause = function.clauses[0]
        return range(clause.min_arity, clause.max_arity + 1)
    return function.arities


def _source_has(source: bytes, function: elixir.Function, text: bytes) -> bool:
    """Whether the source of the function's clauses contains `text`."""
    start, end = function.clauses[0].node.start_byte, function.clauses[-1].node.end_byte
    return source.find(text, start, end) != -1


def _missing_spec(ctx: FileContext) -> Iterator[Finding]:
    for module, function, missing in survey(ctx).unspecced:
        if _quoted(ctx, module):
            continue
        names = ", ".join(f"{function.name}/{a}" for a in missing)
        verb = "has" if len(missing) == 1 else "have"
        # The first clause that defines a missing arity (`def f(a)` then `def f(a, b)` with
        # only f/1 specced points at the second).
        anchor = next(
            (c.node for c in function.clauses if c.min_arity <= missing[0] <= c.max_arity),
            function.node,
        )
        yield ctx.finding(
            SPEC_MISSING,
            anchor,
            f"public {function.kind} {names} {verb} no @spec",
            end_line=elixir.line_of(anchor),
            fix=f"add `@spec {function.name}(...) :: ...` above the first clause",
        )


def _vague_types(ctx: FileContext) -> Iterator[Finding]:
    # Only a spec whose text says "any" or "term" can name any()/term(). Few files, and few of
    # their specs, say either; reading text is much cheaper than walking a spec's tree.
    source = ctx.source
    if not _mentions_vague(source):
        return
    suspects = [
        spec
        for spec in ctx.index.attributes("spec")
        if _mentions_vague(source[spec.start_byte : spec.end_byte])
    ]
    if not suspects:
        return
    allowed = set(ctx.param(SPEC_VAGUE, "allow"))
    for spec in suspects:
        key = elixir.spec_key(spec)
        if key is not None and (f"{key[0]}/{key[1]}" in allowed or key[0] in allowed):
            continue
        for node in _type_positions(spec):
            name = _type_call_name(node)
            if name in VAGUE_TYPES and name not in allowed:
                label = f"{key[0]}/{key[1]}" if key else "this function"
                yield ctx.finding(
                    SPEC_VAGUE,
                    node,
                    f"@spec of {label} uses `{name}()`, which says nothing about the value",
                    fix="name the concrete type (map(), String.t(), MyStruct.t(), ...)",
                )


def _mentions_vague(text: bytes) -> bool:
    """Whether the text could name any() or term() (it may say "many" or "determine")."""
    return b"any" in text or b"term" in text


def _type_positions(spec: Node) -> Iterator[Node]:
    """Every node of a spec that is a type: the parameter and return types and the `when`
    bounds, but not the function's own name (`@spec term() :: String.t()` names a function
    `term`), nor a bound that only declares a type variable (`when a: term()` makes the spec
    generic, which is precise, not vague)."""
    value = elixir.attribute_value(spec)
    if value is None:
        return
    bounds: Node | None = None
    if _operator(value) == "when":
        bounds = value.child_by_field_name("right")
        value = value.child_by_field_name("left") or value
    if _operator(value) != "::":
        yield from elixir.walk(value)
    else:
        head = value.child_by_field_name("left")
        if head is not None and head.type == "call" and elixir.local_name(head) is not None:
            for arg in elixir.call_args(head):
                yield from elixir.walk(arg)
        elif head is not None and head.type != "identifier":
            yield from elixir.walk(head)
        result = value.child_by_field_name("right")
        if result is not None:
            yield from elixir.walk(result)
    if bounds is None:
        return
    pairs = elixir.keyword_pairs(bounds)
    if not pairs:
        yield from elixir.walk(bounds)
    for bound in pairs.values():
        if _type_call_name(bound) not in VAGUE_TYPES:
            yield from elixir.walk(bound)


def _operator(node: Node) -> str | None:
    if node.type != "binary_operator":
        return None
    op = node.child_by_field_name("operator")
    return op.type if op is not None else None


def _type_call_name(node: Node) -> str | None:
    """`any` for `any()` and for a bare `any` in type position."""
    if node.type == "call" and elixir.arguments_node(node) is not None:
        name = elixir.local_name(node)
        if name is not None and not elixir.call_args(node):
            return name
    if node.type == "identifier" and node.parent is not None and node.parent.type != "call":
        return elixir.text(node)
    return None


def _error_variant(ctx: FileContext) -> Iterator[Finding]:
    # Only the functions whose source says ":error" are looked at; their specs come first
    # (cheaper), and the returns are only followed when a spec lacks an error variant.
    for module, function in survey(ctx).erring:
        suspects = [
            (arity, spec)
            for arity in function.arities
            for spec in module.specs.get((function.name, arity), [])
            if _lacks_error_variant(spec)
        ]
        if not suspects:
            continue
        returns_error = [
            expr
            for clause in function.clauses
            for expr in elixir.tail_expressions(clause.body)
            if elixir.is_tagged_tuple(expr, ":error")
        ]
        if not returns_error:
            continue
        for arity, spec in suspects:
            yield ctx.finding(
                SPEC_NO_ERROR,
                spec,
                f"{function.name}/{arity} returns `{elixir.text(returns_error[0])}` "
                f"(line {elixir.line_of(returns_error[0])}) but its @spec has no "
                "error variant",
                fix="add `| {:error, reason}` to the return type",
            )


def _lacks_error_variant(spec: Node) -> bool:
    """A judgeable return type (see `_judgeable`) that never mentions an error."""
    result = _return_type(spec)
    if result is None or "error" in elixir.text(result).lower():
        return False
    return _judgeable(result)


def _return_type(spec: Node) -> Node | None:
    value = elixir.attribute_value(spec)
    while value is not None and value.type == "binary_operator":
        op = value.child_by_field_name("operator")
        if op is not None and op.type == "::":
            return value.child_by_field_name("right")
        value = value.child_by_field_name("left")
    return None


def _judgeable(result: Node) -> bool:
    """A return type built only from literals and standard types: a user type such as
    `result()` or `MyApp.result(t)` may well include the error, so it is not judged."""
    for node in elixir.walk(result):
        if node.type != "call":
            continue
        remote = elixir.remote_name(node)
        if remote is not None:
            if remote[1] not in ("t", "t!") and remote[0] not in ("String", "Keyword"):
                return False
            continue
        name = elixir.local_name(node)
        if name is not None and name not in BUILTIN_TYPES:
            return False
    return True


def _struct_type(ctx: FileContext) -> Iterator[Finding]:
    calls = ctx.index.calls_named("defstruct", "schema", "embedded_schema")  # in source order
    if not calls:
        return  # most files: no struct, and no module to look at
    # A struct call counts for the module whose do-block holds it directly.
    first_call: dict[int, Node] = {}
    for call in calls:
        owner = _owner(call)
        if owner is not None:
            first_call.setdefault(owner, call)
    for module in ctx.modules:
        struct = first_call.get(module.node.id)
        if struct is None or _quoted(ctx, module) or _exports_t(module):
            continue
        what = elixir.local_name(struct)
        yield ctx.finding(
            STRUCT_TYPE,
            struct,
            f"{module.name} defines a struct ({what}) but no `@type t`",
            end_line=elixir.line_of(struct),
            fix="add `@type t :: %__MODULE__{...}` describing each field",
        )


def _owner(statement: Node) -> int | None:
    """Node id of the `defmodule` whose do-block holds `statement` directly."""
    block = statement.parent
    if block is None or block.type != "do_block" or block.parent is None:
        return None
    return block.parent.id


def _exports_t(module: elixir.Module) -> bool:
    """`@type t` or `@opaque t` (any arity); a private `@typep t` cannot be named by callers."""
    node = module.types.get("t")
    return node is not None and elixir.attribute_name(node) != "typep"


def _quoted(ctx: FileContext, module: elixir.Module) -> bool:
    """A `defmodule` inside `quote` is a template expanded elsewhere, not a module of this
    file (credo's checks skip `quote` bodies too)."""
    if not ctx.index.calls_named("quote"):
        return False
    return any(
        anc.type == "call" and elixir.local_name(anc) == "quote"
        for anc in elixir.ancestors(module.node)
    )


SPEC_MISSING = Rule(
    id="L4.spec-missing",
    severity=Severity.WARNING,
    title="Public function without @spec",
    explanation=(
        "Every public function and macro needs a @spec for each arity it defines (default "
        "arguments add arities). Specs are the contract callers read, what Dialyzer and the "
        "1.18+ type checker verify, and what ExDoc shows. Callbacks marked `@impl` take their "
        "types from the behaviour and are exempt, as are `defdelegate` and `defguard`."
    ),
    bad_example=(
        "defmodule Shop.Accounts do\n"
        '  @moduledoc "Accounts."\n'
        "  def get_user(id, opts \\\\ []), do: Repo.get(User, id, opts)\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.Accounts do\n"
        '  @moduledoc "Accounts."\n'
        "  @spec get_user(integer()) :: User.t() | nil\n"
        "  @spec get_user(integer(), keyword()) :: User.t() | nil\n"
        "  def get_user(id, opts \\\\ []), do: Repo.get(User, id, opts)\n"
        "end\n"
    ),
    applies_to=LIB,
    credo=("Readability.Specs",),
    check=_missing_spec,
)

SPEC_VAGUE = Rule(
    id="L4.spec-vague-type",
    severity=Severity.WARNING,
    title="Vague any() or term() in a @spec",
    explanation=(
        "`any()` and `term()` accept everything, so a spec built on them documents nothing "
        "and lets the type checker prove nothing. Name the concrete type. Functions that truly "
        "take anything (an `inspect`-like helper) can be listed in the rule's `allow` "
        "parameter as `name` or `name/arity`. A bound such as `when a: term()` only declares "
        "a type variable (the spec is generic, which is precise) and is not reported."
    ),
    bad_example=(
        "defmodule Shop.Cart do\n"
        '  @moduledoc "Carts."\n'
        "  @spec total(any()) :: term()\n"
        "  def total(cart), do: cart.total\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.Cart do\n"
        '  @moduledoc "Carts."\n'
        "  @spec total(Cart.t()) :: Decimal.t()\n"
        "  def total(cart), do: cart.total\n"
        "end\n"
    ),
    applies_to=LIB,
    params={"allow": ()},
    check=_vague_types,
)

SPEC_NO_ERROR = Rule(
    id="L4.spec-error-variant-missing",
    severity=Severity.WARNING,
    title="Function returns {:error, _} but its @spec has no error variant",
    explanation=(
        "When a function can return `{:error, reason}`, its @spec must say so, or callers "
        "reading the type will not handle the failure, and the type checker cannot warn them. "
        "Return types written with a project type such as `result()` are not judged."
    ),
    bad_example=(
        "defmodule Shop.Orders do\n"
        '  @moduledoc "Orders."\n'
        "  @spec place(map()) :: {:ok, map()}\n"
        "  def place(%{items: []}), do: {:error, :empty}\n"
        "  def place(order), do: {:ok, order}\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.Orders do\n"
        '  @moduledoc "Orders."\n'
        "  @spec place(map()) :: {:ok, map()} | {:error, :empty}\n"
        "  def place(%{items: []}), do: {:error, :empty}\n"
        "  def place(order), do: {:ok, order}\n"
        "end\n"
    ),
    applies_to=LIB,
    check=_error_variant,
)

STRUCT_TYPE = Rule(
    id="L4.struct-type-missing",
    severity=Severity.WARNING,
    title="Struct or Ecto schema without @type t",
    explanation=(
        "A module that defines a struct (`defstruct`, or an Ecto `schema`/`embedded_schema`) "
        "should export `@type t` so other specs can say `MyStruct.t()` instead of `map()` or "
        "`%MyStruct{}` (which creates compile-time dependencies). `@type t(a)` and "
        "`@opaque t` count; a private `@typep t` does not, since callers cannot name it."
    ),
    bad_example=(
        'defmodule Shop.Item do\n  @moduledoc "An item."\n  defstruct [:sku, :price]\nend\n'
    ),
    good_example=(
        "defmodule Shop.Item do\n"
        '  @moduledoc "An item."\n'
        "  @type t :: %__MODULE__{sku: String.t(), price: Decimal.t()}\n"
        "  defstruct [:sku, :price]\n"
        "end\n"
    ),
    applies_to=LIB,
    check=_struct_type,
)

RULES = (SPEC_MISSING, SPEC_VAGUE, SPEC_NO_ERROR, STRUCT_TYPE)
