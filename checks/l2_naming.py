"""L2 naming: the community conventions every Elixir reader expects.

Modules are PascalCase; functions, variables and module attributes are snake_case; predicates
end in `?` and only guard-safe macros start with `is_`; exception modules end in `Error`. These
follow credo's Readability.ModuleNames, FunctionNames, VariableNames, ModuleAttributeNames,
PredicateFunctionNames and Consistency.ExceptionNames (credo only asks exception names to share
*a* suffix; the ladder asks for Elixir's own `Error`, tunable).

Variables are checked where they are bound (parameters, `=`/`<-` patterns, clause heads), found
through the shared index; only a pattern whose text has a lower-to-upper-case "hump" is walked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import partial

from tree_sitter import Node

from checks import elixir
from checks.context import FileContext
from checks.l2_support import (
    CODE_KINDS,
    START,
    byte_classes,
    derived,
    function_facts,
    is_binary,
    is_unary,
    left,
    source,
)
from checks.model import Finding, Rule, Severity

PASCAL_SEGMENT = re.compile(r"^[A-Z][A-Za-z0-9]*$")
SNAKE_NAME = re.compile(r"^_*[a-z][a-z0-9_]*[?!]?$|^_+$")
ATTRIBUTE_HINT = re.compile(r"@[a-z_][a-z0-9_]*[A-Z]")
SIGIL_NAME = re.compile(r"^sigil_[A-Za-z][A-Za-z0-9]*$")
# A lower-case letter or digit followed by an upper-case one: every camelCase name has one.
HUMP = re.compile(rb"[a-z0-9][A-Z]")
CAMEL_WORD = re.compile(r"_*[a-z][A-Za-z0-9_]*[A-Z][A-Za-z0-9_]*\Z")


def _to_snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


# `defmodule Name.Space` followed by a space or a comma: the alias as written, when it is a
# plain ASCII one. A name that reads PascalCase here needs no tree lookup.
_DEFMODULE_ALIAS = re.compile(
    rb"defmodule[ \t]+([A-Z][A-Za-z0-9]*(?:\.[A-Z][A-Za-z0-9]*)*)[ \t\r\n,]"
)


def _compile_all(patterns: Iterable[str]) -> list[re.Pattern[str]]:
    return [re.compile(p) for p in patterns]


def _module_names(ctx: FileContext) -> Iterator[Finding]:
    defs = ctx.index.calls_named("defmodule")
    if not defs:
        return
    ignore = derived(ctx, MODULE_NAME, "ignore", _compile_all)
    src = source(ctx)
    for node in defs:
        if _DEFMODULE_ALIAS.match(src, node.start_byte) is not None:
            continue  # every segment is PascalCase: whatever the tree says, nothing to report
        args = elixir.call_args(node)
        if not args or args[0].type != "alias":
            continue
        name = elixir.text(args[0])
        if any(p.search(name) for p in ignore):
            continue
        bad = [s for s in name.split(".") if not PASCAL_SEGMENT.match(s)]
        if bad:
            fixed = ".".join(
                "".join(p[:1].upper() + p[1:] for p in s.split("_")) if s in bad else s
                for s in name.split(".")
            )
            yield ctx.finding(
                MODULE_NAME,
                args[0],
                f"module name {name} is not PascalCase ({', '.join(bad)})",
                fix=f"rename it to {fixed}",
            )


# Every name of a file's functions, one per line, is snake_case or a sigil definition.
_NAMES_OK = re.compile(r"(?:(?:_*[a-z][a-z0-9_]*[?!]?|_+|sigil_[A-Za-z][A-Za-z0-9]*)\n)*")


def _function_name_lines(ctx: FileContext) -> str:
    """The names of the file's functions, each followed by a newline (shared per file)."""
    return function_facts(ctx).names


def _function_names(ctx: FileContext) -> Iterator[Finding]:
    if _NAMES_OK.fullmatch(_function_name_lines(ctx)) is not None:
        return
    for module in ctx.modules:
        for function in module.functions:
            name = function.name
            if SNAKE_NAME.match(name) or SIGIL_NAME.match(name):
                continue
            head = function.clauses[0].head
            yield ctx.finding(
                FUNCTION_NAME,
                head if head is not None else function.node,
                f"function name `{name}` is not snake_case",
                fix=f"rename it to `{_to_snake(name)}`",
            )


def _variable_names(ctx: FileContext) -> Iterator[Finding]:
    if not _camel_words(ctx)[0]:
        return  # no camelCase word anywhere in the file: nothing to look up
    seen: set[str] = set()
    for pattern in _binding_patterns(ctx):
        if not HUMP.search(pattern.text or b""):
            continue  # no lower-case letter followed by an upper-case one: nothing to report
        for node in elixir.identifiers(pattern):
            name = elixir.text(node)
            if name in seen or not CAMEL_WORD.match(name) or not _is_variable(node):
                continue
            seen.add(name)
            yield ctx.finding(
                VARIABLE_NAME,
                node,
                f"variable name `{name}` is not snake_case",
                fix=f"rename it to `{_to_snake(name)}`",
            )


_LOWER_START = frozenset(b"abcdefghijklmnopqrstuvwxyz_")


def _camel_words(ctx: FileContext) -> tuple[bool, bool]:
    """(a word that may be a camelCase variable, a camelCase attribute name after `@`).

    The first is a word starting lower-case (or `_`), not after `@`, `:` or `.`, with an
    upper-case letter right after a lower-case letter or digit (`totalWeight`); aliases such
    as `MyApp` start upper-case and are skipped. The second is what ATTRIBUTE_HINT matches: a
    word after `@` starting lower-case (or `_`) that holds an upper-case letter. Every such
    word has an `aA` or `0A` hump in the shared byte classes, found by C-level searches."""
    return ctx.shared("l2.camel_words", partial(_find_camel_words, ctx))


def _find_camel_words(ctx: FileContext) -> tuple[bool, bool]:
    classes = byte_classes(ctx)
    data = source(ctx)
    variable = attribute = False
    for hump in (b"aA", b"0A"):
        i = classes.find(hump)
        while i != -1:
            start = classes.rfind(b" ", 0, i) + 1
            if data[start] in _LOWER_START:
                before = data[start - 1] if start else 32
                if before == 64:  # "@"
                    attribute = True
                elif data[i] != 95 and before not in b":.":  # `_A` is no hump
                    variable = True
                if variable and attribute:
                    return True, True
            i = classes.find(hump, i + 2)
    return variable, attribute


def _binding_patterns(ctx: FileContext) -> list[Node]:
    """Where variables are bound: function parameters, the left of `=` and `<-`, and the
    patterns of `case`/`fn`/`receive` clauses (as credo's Readability.VariableNames)."""
    found: list[Node] = []
    for module in ctx.modules:
        for function in module.functions:
            for clause in function.clauses:
                found += clause.params
    for match in ctx.index.binary_operators("=", "<-"):
        lhs = left(match)
        if lhs is not None:
            found.append(lhs)
    for stab in ctx.index.nodes("stab_clause"):
        head = stab.child_by_field_name("left")
        if head is not None:
            found.append(head)
    found.sort(key=START)
    return found


def _is_variable(node: Node) -> bool:
    parent = node.parent
    if parent is None:
        return False
    if parent.type == "call" and parent.child_by_field_name("target") == node:
        return False  # a local call: the function name is FUNCTION_NAME's business
    if parent.type == "dot" and parent.child_by_field_name("right") == node:
        return False  # `:erlang.fooBar` or `map.fooBar`: not ours to name
    if is_unary(parent, "@"):
        return False  # `@fooBar`: ATTRIBUTE_NAME's business
    return not _is_bare_def_name(node)


def _is_bare_def_name(node: Node) -> bool:
    """`def fooBar, do: 1` / `def fooBar when ... do`: a function name, not a variable."""
    parent = node.parent
    if is_binary(parent, "when") and parent is not None and left(parent) == node:
        node, parent = parent, parent.parent
    if parent is None or parent.type != "arguments" or parent.named_children[:1] != [node]:
        return False
    owner = parent.parent
    return owner is not None and elixir.local_name(owner) in elixir.DEF_KINDS


def _attribute_names(ctx: FileContext) -> Iterator[Finding]:
    if not _camel_words(ctx)[1]:
        return  # ATTRIBUTE_HINT matches nowhere
    seen: set[str] = set()
    for node in ctx.index.nodes("unary_operator"):
        if not is_unary(node, "@"):
            continue
        inner = node.child_by_field_name("operand")
        if inner is None or inner.type != "call":
            continue  # a read (`@fooBar`) is reported where it is defined
        name = elixir.local_name(inner)
        if name is None or name in seen or SNAKE_NAME.match(name):
            continue
        seen.add(name)
        yield ctx.finding(
            ATTRIBUTE_NAME,
            node,
            f"module attribute `@{name}` is not snake_case",
            fix=f"rename it to `@{_to_snake(name)}`",
            end_line=elixir.line_of(node),
        )


def _predicate_names(ctx: FileContext) -> Iterator[Finding]:
    names = _function_name_lines(ctx)
    if "is_" not in names and "?" not in names:
        return  # every message needs an `is_` prefix or a `?` suffix
    for module in ctx.modules:
        for function in module.functions:
            if function.impl:
                continue  # the behaviour chose the name
            name, kind = function.name, function.kind
            message: str | None = None
            if kind in ("def", "defp") and name.startswith("is_"):
                better = name[3:] if name.endswith("?") else f"{name[3:]}?"
                message = (
                    f"predicate `{name}` should be named `{better}`: `is_` is for guard-safe "
                    "macros, functions end in `?`"
                )
            elif kind in ("defguard", "defguardp", "defmacro", "defmacrop") and (
                name.startswith("is_") and name.endswith("?")
            ):
                message = f"guard `{name}` should be named `{name[:-1]}` (guards take no `?`)"
            elif kind in ("defguard", "defguardp") and name.endswith("?"):
                message = f"guard `{name}` should be named `is_{name[:-1]}`"
            if message is None:
                continue
            yield ctx.finding(
                PREDICATE_NAME,
                function.node,
                message,
                end_line=elixir.line_of(function.node),
            )


def _exception_names(ctx: FileContext) -> Iterator[Finding]:
    if not ctx.index.calls_named("defexception"):
        return  # a module's `defexception` statement is one of the file's calls
    suffixes = tuple(ctx.param(EXCEPTION_NAME, "suffixes"))
    for module in ctx.modules:
        if not module.local_calls("defexception"):
            continue
        last = module.name.rsplit(".", 1)[-1]
        if last.endswith(suffixes):
            continue
        wanted = " or ".join(f"`{s}`" for s in suffixes)
        yield ctx.finding(
            EXCEPTION_NAME,
            module.node,
            f"exception module {module.name} should end in {wanted}",
            end_line=module.line,
            fix=f"rename it to {module.name}{suffixes[0]}" if suffixes else None,
        )


MODULE_NAME = Rule(
    id="L2.module-name",
    severity=Severity.WARNING,
    title="Module name not in PascalCase",
    explanation=(
        "Elixir module names are PascalCase (`MyApp.UserAuth`), each segment starting with "
        "an upper-case letter and without underscores. Other spellings stand out and break "
        "the file-path convention (`lib/my_app/user_auth.ex`). As credo's "
        "Readability.ModuleNames; `ignore` takes regular expressions of names to skip."
    ),
    bad_example=('defmodule Shop.User_Auth do\n  @moduledoc "Auth."\nend\n'),
    good_example=('defmodule Shop.UserAuth do\n  @moduledoc "Auth."\nend\n'),
    applies_to=CODE_KINDS,
    params={"ignore": ()},
    credo=("Readability.ModuleNames",),
    check=_module_names,
)

FUNCTION_NAME = Rule(
    id="L2.function-name",
    severity=Severity.WARNING,
    title="Function name not in snake_case",
    explanation=(
        "Function, macro and guard names are snake_case in Elixir (`fetch_user`, not "
        "`fetchUser`); callers guess names from the convention. Sigil definitions "
        "(`sigil_X`) are allowed, as in credo's Readability.FunctionNames."
    ),
    bad_example=(
        "defmodule Shop.Users do\n"
        '  @moduledoc "Users."\n'
        "  def fetchUser(id), do: {:ok, id}\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.Users do\n"
        '  @moduledoc "Users."\n'
        "  def fetch_user(id), do: {:ok, id}\n"
        "end\n"
    ),
    applies_to=CODE_KINDS,
    credo=("Readability.FunctionNames",),
    check=_function_names,
)

VARIABLE_NAME = Rule(
    id="L2.variable-name",
    severity=Severity.WARNING,
    title="Variable name not in snake_case",
    explanation=(
        "Variables are snake_case in Elixir (`user_id`, not `userId`); a camelCase name "
        "usually betrays code ported from another language and makes the reader stumble. "
        "Reported once per name and file, at its first use (credo's Readability.VariableNames)."
    ),
    bad_example=(
        "defmodule Shop.Users do\n"
        '  @moduledoc "Users."\n'
        "  def name(user) do\n"
        "    firstName = user.first\n"
        "    firstName\n"
        "  end\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.Users do\n"
        '  @moduledoc "Users."\n'
        "  def name(user) do\n"
        "    first_name = user.first\n"
        "    first_name\n"
        "  end\n"
        "end\n"
    ),
    applies_to=CODE_KINDS,
    credo=("Readability.VariableNames",),
    check=_variable_names,
)

ATTRIBUTE_NAME = Rule(
    id="L2.attribute-name",
    severity=Severity.WARNING,
    title="Module attribute name not in snake_case",
    explanation=(
        "Module attributes are snake_case (`@max_retries`, not `@maxRetries`), like every "
        "other name that is not a module. Reported where the attribute is set (credo's "
        "Readability.ModuleAttributeNames)."
    ),
    bad_example=(
        "defmodule Shop.Retry do\n"
        '  @moduledoc "Retries."\n'
        "  @maxRetries 3\n"
        "  def max, do: @maxRetries\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.Retry do\n"
        '  @moduledoc "Retries."\n'
        "  @max_retries 3\n"
        "  def max, do: @max_retries\n"
        "end\n"
    ),
    applies_to=CODE_KINDS,
    credo=("Readability.ModuleAttributeNames",),
    check=_attribute_names,
)

PREDICATE_NAME = Rule(
    id="L2.predicate-name",
    severity=Severity.WARNING,
    title="Predicate named against convention",
    explanation=(
        "Elixir names predicate *functions* with a trailing `?` (`valid?/1`) and reserves the "
        "`is_` prefix for guard-safe macros (`is_valid/1`, usable in `when`). A function "
        "called `is_valid?` or `is_valid` tells the reader it can be used in a guard when it "
        "cannot. Callbacks (`@impl`) are exempt (credo's Readability.PredicateFunctionNames)."
    ),
    bad_example=(
        "defmodule Shop.Cart do\n"
        '  @moduledoc "Carts."\n'
        "  def is_empty(cart), do: cart.items == []\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.Cart do\n"
        '  @moduledoc "Carts."\n'
        "  def empty?(cart), do: cart.items == []\n"
        "  defguard is_cart(value) when is_map(value)\n"
        "end\n"
    ),
    applies_to=CODE_KINDS,
    credo=("Readability.PredicateFunctionNames",),
    check=_predicate_names,
)

EXCEPTION_NAME = Rule(
    id="L2.exception-name",
    severity=Severity.WARNING,
    title="Exception module not ending in Error",
    explanation=(
        "Elixir's exceptions are named `...Error` (`ArgumentError`, `Ecto.NoResultsError`), "
        "so `rescue e in [MyApp.PaymentError]` reads as what it is. credo's "
        "Consistency.ExceptionNames only asks a project's exceptions to share a suffix; the "
        "ladder asks for `Error` (tunable with `suffixes`)."
    ),
    bad_example=(
        "defmodule Shop.PaymentFailed do\n"
        '  @moduledoc "Raised when a charge fails."\n'
        '  defexception message: "payment failed"\n'
        "end\n"
    ),
    good_example=(
        "defmodule Shop.PaymentError do\n"
        '  @moduledoc "Raised when a charge fails."\n'
        '  defexception message: "payment failed"\n'
        "end\n"
    ),
    applies_to=CODE_KINDS,
    params={"suffixes": ("Error",)},
    credo=("Consistency.ExceptionNames",),
    check=_exception_names,
)

RULES = (
    MODULE_NAME,
    FUNCTION_NAME,
    VARIABLE_NAME,
    ATTRIBUTE_NAME,
    PREDICATE_NAME,
    EXCEPTION_NAME,
)
