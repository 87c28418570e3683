"""L5 secure: mass assignment, request params copied into a schema without an allowlist.

`Ecto.Changeset.cast/3`'s third argument is the allowlist of fields a caller may set. Passing
`Map.keys(params)` or `Schema.__schema__(:fields)` allows every field (`role`, `admin`,
`balance`...), and so does building the struct directly with `struct/2` or `Map.merge/2` from
the params. Sobelow has no check for this; the ladder names it explicitly.

"Request params" means: the controller action's (or LiveView callback's) params, `conn.params`,
or, with medium confidence, a variable named `params`, `attrs` or `*_params` (the conventional
names of the map a context function receives from the web layer).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from tree_sitter import Node

from checks import elixir
from checks import security_support as sec
from checks.context import FileContext
from checks.model import FileKind, Finding, Rule, Severity

CODE: frozenset[FileKind] = frozenset({"lib"})

_PARAMS_NAME = re.compile(r"^(params|attrs|attributes|.*_params|.*_attrs)$")

_FIX = "list the fields a caller may set: `cast(struct, params, [:name, :email])`"


def _params_origin(ctx: FileContext, node: Node) -> sec.Origin | None:
    """Whether `node` holds request params: traced (high) or conventionally named (medium)."""
    high = sec.high_origin(ctx, node)
    if high is not None:
        return high
    if node.type == "identifier" and _PARAMS_NAME.match(elixir.text(node)):
        return sec.Origin(
            sec.MEDIUM, elixir.text(node), "is named like request params (not traced)"
        )
    return None


def _all_fields(node: Node) -> str | None:
    """`Map.keys(params)` or `X.__schema__(:fields)` as a cast allowlist; None otherwise."""
    if node.type != "call":
        return None
    name = elixir.remote_name(node)
    if name == ("Map", "keys"):
        return "Map.keys/1"
    target = node.child_by_field_name("target")
    right = target.child_by_field_name("right") if target is not None else None
    fun = elixir.text(right) if right is not None else elixir.local_name(node)
    if fun == "__schema__":
        args = elixir.call_args(node)
        if args and elixir.text(args[0]) in (":fields", ":dump"):
            return "__schema__(:fields)"
    return None


def _is_struct_literal(node: Node | None) -> bool:
    """`%User{}`/`%User{...}`/`%__MODULE__{}`."""
    return (
        node is not None
        and node.type == "map"
        and any(c.type == "struct" for c in node.named_children)
    )


def _check(ctx: FileContext) -> Iterable[Finding]:
    index = ctx.index
    calls = index.calls_named("cast", "struct", "struct!")
    merges = index.remote_calls("Map", "merge") if sec.calls_module(ctx, "Map") else []
    if not calls and not merges:
        return ()  # the common case, without starting a generator
    # The index files a call under the name its source starts with.
    starts = ctx.source.startswith
    casts = [call for call in calls if starts(b"cast", call.start_byte)]
    structs = [call for call in calls if not starts(b"cast", call.start_byte)]
    return _found(ctx, casts, structs, merges)


def _found(
    ctx: FileContext, casts: list[Node], structs: list[Node], merges: list[Node]
) -> Iterator[Finding]:
    for call in casts:
        yield from _cast(ctx, call)
    for call in structs:
        target, data = sec.argument(call, 0), sec.argument(call, 1)
        if target is None or data is None:
            continue
        if target.type not in ("alias", "map", "identifier") and not _is_struct_literal(target):
            continue
        if target.type == "identifier" and elixir.text(target) != "__MODULE__":
            continue
        yield from _from_params(ctx, call, data, f"`{elixir.local_name(call)}/2`")
    for call in merges:
        target, data = sec.argument(call, 0), sec.argument(call, 1)
        if data is None or not _is_struct_literal(target):
            continue
        yield from _from_params(ctx, call, data, "`Map.merge/2` into a struct")


def _cast(ctx: FileContext, call: Node) -> Iterator[Finding]:
    # An allowlist of every field is `Map.keys(...)` or `__schema__(...)`: a cast whose text
    # names neither is fine, whatever its arguments are.
    source = ctx.source
    start, end = call.start_byte, call.end_byte
    if source.find(b"keys", start, end) == -1 and source.find(b"__schema__", start, end) == -1:
        return
    permitted = sec.argument(call, 2)
    params = sec.argument(call, 1)
    if permitted is None:
        return
    what = _all_fields(permitted)
    if what is None:
        return
    origin = sec.high_origin(ctx, params) if params is not None else None
    severity = origin.severity if origin is not None else Severity.WARNING
    why = origin.describe() if origin is not None else "every field of the schema is settable"
    yield ctx.finding(
        MASS_ASSIGNMENT,
        call,
        f"`cast/3` allows every field via {what}, so callers can set any column ({why})",
        severity=severity,
        fix=_FIX,
    )


def _from_params(ctx: FileContext, call: Node, data: Node, how: str) -> Iterator[Finding]:
    origin = _params_origin(ctx, data)
    if origin is None:
        return
    yield ctx.finding(
        MASS_ASSIGNMENT,
        call,
        f"{how} copies request params into a struct without an allowlist ({origin.describe()})",
        severity=origin.severity,
        fix="build a changeset: `%User{} |> cast(params, [:name, :email]) |> validate_...`",
    )


MASS_ASSIGNMENT = Rule(
    id="L5.mass-assignment",
    severity=Severity.ERROR,
    title="Request params assigned to a schema without a field allowlist",
    explanation=(
        "A changeset's `cast/3` allowlist decides which fields a request may set. "
        "`cast(user, params, Map.keys(params))` or `__schema__(:fields)` allows all of them, "
        "and `struct(User, params)` or `Map.merge(%User{}, params)` skips the changeset "
        'entirely: a client adds `"role" => "admin"` to the form and becomes admin. '
        "List the permitted fields explicitly and validate them."
    ),
    bad_example=(
        "defmodule Shop.Accounts.User do\n"
        '  @moduledoc "A user."\n'
        "  use Ecto.Schema\n"
        "  import Ecto.Changeset\n"
        "  def changeset(user, params) do\n"
        "    cast(user, params, __MODULE__.__schema__(:fields))\n"
        "  end\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.Accounts.User do\n"
        '  @moduledoc "A user."\n'
        "  use Ecto.Schema\n"
        "  import Ecto.Changeset\n"
        "  def changeset(user, params) do\n"
        "    user\n"
        "    |> cast(params, [:name, :email])\n"
        "    |> validate_required([:email])\n"
        "  end\n"
        "end\n"
    ),
    applies_to=CODE,
    check=_check,
)

RULES = (MASS_ASSIGNMENT,)
