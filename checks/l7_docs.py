"""L7 documented: every public module says why it exists, every public function says what it
does, and the documentation shows an example that doctests keep true.

The module rule follows credo's Readability.ModuleDoc (its ignore lists are the defaults here, so
a team moving from credo sees the same modules reported); the function rules only ask for docs
where the module itself is documented, because `@moduledoc false` hides the whole module from
ExDoc and a Phoenix controller or Ecto schema is not where API documentation lives.

All three apply to kind `lib` only: `.exs` files are scripts, config, migrations or tests (as
credo skips `.exs`), and test support is not published.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from tree_sitter import Node

from checks import elixir
from checks.config import Config
from checks.context import FileContext
from checks.l4_specs import survey
from checks.model import FileKind, Finding, Rule, Severity

LIB: frozenset[FileKind] = frozenset({"lib"})

# credo's defaults (module_doc.ex and the generated .credo.exs): module names that are
# framework plumbing, and `use`d modules that make a module self-describing.
DEFAULT_IGNORE_NAMES = (
    r"(Controller|Endpoint|Live(\.\w+)?|Repo|Router|Socket|View|HTML|JSON|Telemetry|Layouts"
    r"|Mailer)$",
)
DEFAULT_IGNORE_MODULES_USING = ("Credo.Check", "Ecto.Schema", "Phoenix.LiveView", r"/\.Web$/")

# Doc strings in these sigils are documentation too (`~S"""` keeps backslashes literal).
DOC_SIGILS = frozenset({"s", "S"})


def _moduledoc_missing(ctx: FileContext) -> Iterator[Finding]:
    _matchers(ctx)  # a bad ignore pattern fails the rule on every file
    source = ctx.source
    for module in ctx.modules:
        doc = module.moduledoc
        if doc is not None and _has_words(source, doc.start_byte, b"@moduledoc"):
            continue  # the common case, read from the source: a doc string with text in it
        if module.node.id in _exemptions(ctx):
            continue
        if doc is None:
            yield ctx.finding(
                MODULEDOC_MISSING,
                module.node,
                f"module {module.name} has no @moduledoc",
                end_line=module.line,
                fix='add `@moduledoc """..."""` saying why the module exists, or '
                "`@moduledoc false` if it is internal",
            )
            continue
        text = _doc_text(elixir.attribute_value(doc))
        if text is not None and not text.strip():
            yield ctx.finding(
                MODULEDOC_MISSING,
                doc,
                f"module {module.name} has an empty @moduledoc",
                fix="say why the module exists, or write `@moduledoc false` if it is internal",
            )


def _doc_missing(ctx: FileContext) -> Iterator[Finding]:
    _matchers(ctx)  # a bad ignore pattern fails the rule on every file
    reported: set[tuple[int, str]] = set()  # one finding per function name and module
    for module, function in survey(ctx).undocumented:
        key = (module.node.id, function.name)
        if key in reported or _skipped(ctx, module) or _documented_elsewhere(module, function):
            continue
        reported.add(key)
        yield ctx.finding(
            DOC_MISSING,
            function.node,
            f"public {function.kind} {_label(function)} has no @doc",
            end_line=elixir.line_of(function.node),
            fix='add `@doc """..."""` above the first clause (or `@doc false` if it is '
            "public only for other modules of the project)",
        )


def _documented_elsewhere(module: elixir.Module, function: elixir.Function) -> bool:
    """Every arity of `function` is documented (or `@impl`) under its name by another clause
    group of the module, usually the first one."""
    documented = {
        arity
        for other in module.functions
        if other.name == function.name and (other.doc is not None or other.impl)
        for arity in other.arities
    }
    return bool(documented) and all(a in documented for a in function.arities)


def _doc_example_missing(ctx: FileContext) -> Iterator[Finding]:
    _matchers(ctx)  # a bad ignore pattern fails the rule on every file
    for module, function in survey(ctx).without_example:
        doc = function.doc
        if doc is None or _skipped(ctx, module):
            continue
        text = _doc_text(elixir.attribute_value(doc))
        if text is None or not text.strip() or "iex>" in text:
            continue
        yield ctx.finding(
            DOC_EXAMPLE_MISSING,
            doc,
            f"@doc of {_label(function)} has no `iex>` example",
            fix="add an `## Examples` section with `iex>` lines and run it with "
            "`doctest MyModule` in its test",
        )


def _skipped(ctx: FileContext, module: elixir.Module) -> bool:
    """The function rules skip the modules the moduledoc rule does not ask about, and those
    with `@moduledoc false`."""
    return module.node.id in _exemptions(ctx) or _hidden(module)


def _label(function: elixir.Function) -> str:
    return ", ".join(f"{function.name}/{a}" for a in function.arities)


_ALNUM = re.compile(rb"[A-Za-z0-9]")


def _has_words(source: bytes, start: int, attribute: bytes) -> bool:
    """Whether the attribute at `start` is `@attribute "..."` (or a heredoc) whose text has a
    letter or digit, read from the source: a doc that is neither empty nor `false`, the common
    case. Scanning stops at the first closing quote, so what it sees is inside the string.
    False means "not sure": ask the tree."""
    lead = start + len(attribute)
    if not source.startswith(b' "', lead):
        return False
    quote = b'"""' if source.startswith(b'"""', lead + 1) else b'"'
    open_end = lead + 1 + len(quote)
    close = source.find(quote, open_end)
    if close == -1:
        return False
    return _ALNUM.search(source, open_end, close) is not None


def _hidden(module: elixir.Module) -> bool:
    """`@moduledoc false`: the module and all its functions are left out of the docs."""
    return module.moduledoc is not None and elixir.is_false_literal(
        elixir.attribute_value(module.moduledoc)
    )


def _doc_text(value: Node | None) -> str | None:
    """The text of a doc string, heredoc or `~S`/`~s` sigil (interpolations kept as written);
    None when the doc is something else (`false`, a keyword list, `File.read!(...)`)."""
    if value is None:
        return None
    if value.type == "string":
        return elixir.string_literal(value) or _quoted_parts(value)
    if value.type == "sigil":
        name = next((c for c in value.named_children if c.type == "sigil_name"), None)
        if name is not None and elixir.text(name) in DOC_SIGILS:
            return _quoted_parts(value)
    return None


def _quoted_parts(node: Node) -> str:
    return "".join(
        elixir.text(c)
        for c in node.named_children
        if c.type in ("quoted_content", "escape_sequence", "interpolation")
    )


def _exemptions(ctx: FileContext) -> dict[int, str]:
    """Modules (node id -> why) the moduledoc rule does not ask about, following credo: an ignored
    name or `use`, an exception, or anything nested in such a module; plus modules inside
    `quote`, which are templates expanded elsewhere. Computed once per file for all three rules,
    and only when one of them is about to report (most files never ask); `use` and
    `defexception` come from the shared index, not from scanning each module."""
    return ctx.shared("l7.exemptions", lambda: _find_exemptions(ctx))


def _find_exemptions(ctx: FileContext) -> dict[int, str]:
    names, using = _matchers(ctx)
    used: dict[int, list[str]] = {}
    for call in ctx.index.calls_named("use"):
        owner = _owner(call)
        args = elixir.call_args(call)
        if owner is not None and args and args[0].type == "alias":
            used.setdefault(owner, []).append(elixir.text(args[0]))
    exceptions = {_owner(call) for call in ctx.index.calls_named("defexception")}
    may_quote = bool(ctx.index.calls_named("quote"))
    exempt: dict[int, str] = {}
    for module in ctx.modules:  # outermost first, so a parent is decided before its children
        node_id = module.node.id
        matching = [u for u in used.get(node_id, ()) if any(m.matches(u) for m in using)]
        if module.parent is not None and module.parent.node.id in exempt:
            exempt[node_id] = f"nested in {module.parent.name}"
        elif any(m.matches(module.name) for m in names):
            exempt[node_id] = "its name matches ignore_names"
        elif matching:
            exempt[node_id] = f"it uses {matching[0]}"
        elif node_id in exceptions:
            exempt[node_id] = "it is an exception"
        elif may_quote and _inside_quote(module.node):
            exempt[node_id] = "it is inside quote"
    return exempt


# The matchers depend only on the (frozen) config, which is the same for every file of a review.
_last_matchers: tuple[Config, tuple[tuple[_Matcher, ...], tuple[_Matcher, ...]]] | None = None


def _matchers(ctx: FileContext) -> tuple[tuple[_Matcher, ...], tuple[_Matcher, ...]]:
    """The compiled `ignore_names` and `ignore_modules_using`."""
    global _last_matchers
    if _last_matchers is None or _last_matchers[0] is not ctx.config:
        names = _patterns(ctx.param(MODULEDOC_MISSING, "ignore_names"), "ignore_names", True)
        using = _patterns(
            ctx.param(MODULEDOC_MISSING, "ignore_modules_using"), "ignore_modules_using", False
        )
        _last_matchers = (ctx.config, (names, using))
    return _last_matchers[1]


def _owner(statement: Node) -> int | None:
    """Node id of the `defmodule` whose do-block holds `statement` directly."""
    block = statement.parent
    if block is None or block.type != "do_block" or block.parent is None:
        return None
    return block.parent.id


def _inside_quote(node: Node) -> bool:
    return any(
        anc.type == "call" and elixir.local_name(anc) == "quote" for anc in elixir.ancestors(node)
    )


@dataclass(frozen=True)
class _Matcher:
    """A credo-style matcher: a regex (searched anywhere, like `String.match?`), or a plain
    name that matches when contained in the module name (credo's atom/string semantics)."""

    regex: re.Pattern[str] | None
    plain: str

    def matches(self, name: str) -> bool:
        if self.regex is not None:
            return self.regex.search(name) is not None
        return self.plain in name


def _patterns(value: object, param: str, regex_by_default: bool) -> tuple[_Matcher, ...]:
    if isinstance(value, str):
        items: tuple[str, ...] = (value,)
    elif isinstance(value, list | tuple):
        items = tuple(str(i) for i in value)
    else:
        raise ValueError(f"L7.moduledoc-missing: {param} must be a list of names or regexes")
    return _compile(items, param, regex_by_default)


@lru_cache(maxsize=64)
def _compile(items: tuple[str, ...], param: str, regex_by_default: bool) -> tuple[_Matcher, ...]:
    """`/.../` is always a regex; other entries are regexes in `ignore_names` and plain
    module names in `ignore_modules_using`, as in credo's default config."""
    matchers: list[_Matcher] = []
    for item in items:
        slashed = len(item) > 2 and item.startswith("/") and item.endswith("/")
        if slashed or regex_by_default:
            source = item[1:-1] if slashed else item
            try:
                matchers.append(_Matcher(re.compile(source), item))
            except re.error as exc:
                raise ValueError(
                    f"L7.moduledoc-missing: {param} entry {item!r} is not a valid regex: {exc}"
                ) from exc
        else:
            matchers.append(_Matcher(None, item))
    return tuple(matchers)


MODULEDOC_MISSING = Rule(
    id="L7.moduledoc-missing",
    severity=Severity.WARNING,
    title="Public module without @moduledoc",
    explanation=(
        "Every module under lib/ needs a @moduledoc that says why it exists and how it fits "
        "the rest of the system: it is the first thing a new reader (and ExDoc) sees. A module "
        "that is internal on purpose says so with `@moduledoc false`. An empty @moduledoc is "
        "reported too. As in credo's Readability.ModuleDoc, .exs scripts, exceptions, modules "
        "whose name matches `ignore_names` (controllers, LiveViews, routers, views...) or that "
        "`use` a module in `ignore_modules_using` (Ecto.Schema, Phoenix.LiveView, *.Web), and "
        "the modules nested in those, are not asked; entries written `/like this/` are regexes. "
        "These two parameters also decide which modules L7.doc-missing and "
        "L7.doc-example-missing look at."
    ),
    bad_example=(
        "defmodule Shop.Accounts do\n"
        "  @doc false\n"
        "  def get_user(id), do: Repo.get(User, id)\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.Accounts do\n"
        '  @moduledoc """\n'
        "  Registers users and checks their credentials; the only module that touches\n"
        "  the users table.\n"
        '  """\n'
        "  @doc false\n"
        "  def get_user(id), do: Repo.get(User, id)\n"
        "end\n"
    ),
    applies_to=LIB,
    params={
        "ignore_names": DEFAULT_IGNORE_NAMES,
        "ignore_modules_using": DEFAULT_IGNORE_MODULES_USING,
    },
    credo=("Readability.ModuleDoc",),
    check=_moduledoc_missing,
)

DOC_MISSING = Rule(
    id="L7.doc-missing",
    severity=Severity.WARNING,
    title="Public function without @doc",
    explanation=(
        "A public function or macro is an API promise; its @doc says what it returns and when "
        "it fails, which neither its name nor its @spec can. Mark functions that are public "
        "only for other modules of the project with `@doc false`; callbacks marked `@impl` "
        "are documented by their behaviour and names starting with `_` are hidden by ExDoc. "
        "Modules with `@moduledoc false`, and modules L7.moduledoc-missing does not ask about "
        "(its `ignore_names` and `ignore_modules_using`), are skipped. One finding per "
        "function name, at its first undocumented clause."
    ),
    bad_example=(
        "defmodule Shop.Accounts do\n"
        '  @moduledoc "Users and their credentials."\n'
        "  def get_user(id), do: Repo.get(User, id)\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.Accounts do\n"
        '  @moduledoc "Users and their credentials."\n'
        '  @doc "Fetches a user by id; nil when there is none."\n'
        "  def get_user(id), do: Repo.get(User, id)\n"
        "end\n"
    ),
    applies_to=LIB,
    check=_doc_missing,
)

DOC_EXAMPLE_MISSING = Rule(
    id="L7.doc-example-missing",
    severity=Severity.NOTICE,
    title="Function @doc without an iex> example",
    explanation=(
        "An example is the fastest way to understand a function, and an `iex>` example is "
        "also a test: `doctest MyModule` runs it, so the documentation cannot silently drift "
        "from the code. This is a notice: some functions (side effects, processes) are better "
        "shown in prose. Docs given as a string, heredoc or ~S/~s sigil are read; `@doc false` "
        "and docs built at compile time are not judged."
    ),
    bad_example=(
        "defmodule Shop.Money do\n"
        '  @moduledoc "Money arithmetic."\n'
        '  @doc "Adds two amounts of the same currency."\n'
        "  def add(a, b), do: a + b\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.Money do\n"
        '  @moduledoc "Money arithmetic."\n'
        '  @doc """\n'
        "  Adds two amounts of the same currency.\n"
        "\n"
        "      iex> Shop.Money.add(1, 2)\n"
        "      3\n"
        '  """\n'
        "  def add(a, b), do: a + b\n"
        "end\n"
    ),
    applies_to=LIB,
    check=_doc_example_missing,
)

RULES = (MODULEDOC_MISSING, DOC_MISSING, DOC_EXAMPLE_MISSING)
