"""L0 compiles cleanly: syntax errors (tree-sitter and the Elixir helper), unused variables and
unused aliases. The unused-variable cases were checked against `elixirc` 1.14 warnings: every
positive case here is a compiler warning, and every negative case compiles without one (or is
a deliberate, documented miss)."""

from __future__ import annotations

import pytest

from checks.config import Config
from checks.context import FileContext, SourceFile
from checks.formatter import ElixirSyntaxError, FormatResult
from checks.l0_syntax import SYNTAX_ERROR
from checks.l0_unused import UNUSED_ALIAS, UNUSED_VARIABLE
from checks.ladder import FormatterRun, review
from checks.model import Severity
from tests.conftest import findings_for, lines_of


def messages(rule, source, **kwargs):
    return [(f.line, f.message) for f in findings_for(rule, source, **kwargs)]


def unused(source: str) -> list[tuple[int, str]]:
    """(line, variable name) of every L0.unused-variable finding."""
    return [(f.line, f.message.split('"')[1]) for f in findings_for(UNUSED_VARIABLE, source)]


def module(body: str) -> str:
    return f"defmodule Shop.Orders do\n{body}end\n"


def with_helper(source: str, result: FormatResult, path: str = "lib/shop.ex"):
    """Review `source` as if the Elixir helper had answered `result` for it."""
    sources = [SourceFile(path, "lib", source)]
    formatter = FormatterRun(results={path: result})
    outcome = review(sources, Config(), formatter=formatter, rules=[SYNTAX_ERROR], jobs=1)
    return outcome.findings


# --- L0.syntax-error: tree-sitter's account -----------------------------------------------


def test_missing_end_names_the_unclosed_do():
    source = "defmodule M do\n  def f(x) do\n    x + 1\nend\n"
    [finding] = findings_for(SYNTAX_ERROR, source)
    assert finding.line == 4  # where the parser gave up: the end of the file
    assert finding.message == "syntax error: missing `end`: the `do` on line 1 is never closed"
    assert finding.severity is Severity.ERROR


def test_unclosed_paren_is_reported_once_with_its_line():
    source = "defmodule M do\n  def f(x), do: foo(x\n\n  def g(y), do: y\nend\n"
    [finding] = findings_for(SYNTAX_ERROR, source)
    assert finding.line == 2
    assert "the `(` on line 2 is never closed" in finding.message


def test_unexpected_operator():
    source = "defmodule M do\n  def f(x), do: x +* 2\nend\n"
    [finding] = findings_for(SYNTAX_ERROR, source)
    assert (finding.line, finding.column) == (2, 20)
    assert finding.message == "syntax error: unexpected `*`"


def test_unterminated_string_points_at_its_opening_quote():
    source = 'defmodule M do\n  def f, do: "abc\nend\n'
    [finding] = findings_for(SYNTAX_ERROR, source)
    assert (finding.line, finding.column) == (2, 14)
    assert finding.message == "syntax error: the string starting on line 2 is never closed"


def test_unterminated_heredoc():
    source = 'defmodule M do\n  @doc """\n  Docs.\n  def f, do: 1\nend\n'
    [finding] = findings_for(SYNTAX_ERROR, source)
    assert finding.message == "syntax error: the heredoc starting on line 2 is never closed"


def test_unclosed_list_and_map():
    lst = "defmodule M do\n  def f(x), do: [x, 2\nend\n"
    assert messages(SYNTAX_ERROR, lst) == [
        (3, "syntax error: missing `]`: the `[` on line 2 is never closed")
    ]
    mp = "defmodule M do\n  def f(x) do\n    %{a: 1\n  end\nend\n"
    assert messages(SYNTAX_ERROR, mp) == [
        (4, "syntax error: missing `}`: the `{` on line 3 is never closed")
    ]


def test_unclosed_fn_inside_a_call():
    source = "defmodule M do\n  def f(x) do\n    Enum.map(x, fn y -> y)\n  end\nend\n"
    assert messages(SYNTAX_ERROR, source) == [
        (3, "syntax error: missing `end`: the `fn` on line 3 is never closed")
    ]


def test_token_after_a_complete_expression():
    source = "defmodule M do\n  def f(x) do\n    a = 1 2\n  end\nend\n"
    assert messages(SYNTAX_ERROR, source) == [(3, "syntax error: unexpected `2` after `1`")]


def test_a_file_that_parses_has_no_finding():
    assert findings_for(SYNTAX_ERROR, module("  def f(x), do: x\n")) == []


def test_syntax_error_can_be_suppressed_for_the_file():
    source = (
        "# ladder:disable-file L0.syntax-error -- fixture of a broken file\n"
        "defmodule M do\n  def f(x), do: x +* 2\nend\n"
    )
    assert findings_for(SYNTAX_ERROR, source) == []


# --- L0.syntax-error: the Elixir helper is authoritative ----------------------------------


def test_helper_message_is_reported_verbatim():
    source = "defmodule M do\n  def f(x) do\n    x\n  end\n  end\nend\n"
    error = ElixirSyntaxError(
        line=6,
        column=1,
        message='unexpected reserved word: end\n\n    HINT: the "end" on line 5 has no "do"\n',
    )
    [finding] = with_helper(source, FormatResult(syntax_error=error))
    assert (finding.line, finding.column) == (6, 1)
    assert finding.message == (
        "syntax error (Elixir's parser): unexpected reserved word: end "
        'HINT: the "end" on line 5 has no "do"'
    )


def test_helper_line_past_the_end_is_clamped_to_the_last_line():
    source = "defmodule M do\n  def f(x) do\n    x\nend\n"
    error = ElixirSyntaxError(line=5, column=1, message="missing terminator: end")
    [finding] = with_helper(source, FormatResult(syntax_error=error))
    assert finding.line == 4


def test_helper_acceptance_overrules_tree_sitter():
    source = "defmodule M do\n  def f(x), do: x +* 2\nend\n"  # pretend Elixir accepts it
    assert with_helper(source, FormatResult(formatted=source)) == []


def test_helper_failure_falls_back_to_tree_sitter():
    source = "defmodule M do\n  def f(x), do: x +* 2\nend\n"
    [finding] = with_helper(source, FormatResult(error="timeout"))
    assert finding.message == "syntax error: unexpected `*`"


# --- L0.unused-variable: positives (each one an elixirc warning) ---------------------------


def test_unused_parameter():
    source = module("  def place(order, opts) do\n    order\n  end\n")
    assert unused(source) == [(2, "opts")]


def test_unused_match_and_case_pattern():
    source = module(
        "  def place(order) do\n"
        "    saved = Repo.insert(order)\n"
        "    case order do\n"
        "      {:ok, value} -> :ok\n"
        "      {:error, reason} -> reason\n"
        "    end\n"
        "  end\n"
    )
    assert unused(source) == [(3, "saved"), (5, "value")]


def test_unused_in_fn_for_with_and_rescue():
    source = module(
        "  def a(list), do: Enum.map(list, fn {k, v} -> k end)\n"
        "  def b(list), do: for({k, v} <- list, do: k)\n"
        "  def c(x) do\n"
        "    with {:ok, y} <- x, z = y do\n"
        "      y\n"
        "    end\n"
        "  end\n"
        "  def d(x) do\n"
        "    String.to_integer(x)\n"
        "  rescue\n"
        "    e in ArgumentError -> :error\n"
        "  end\n"
    )
    assert unused(source) == [(2, "v"), (3, "v"), (5, "z"), (12, "e")]


def test_unused_struct_name_variable_and_map_value():
    source = module("  def a(%mod{} = s), do: s\n  def b(%{key: value} = m), do: m\n")
    assert unused(source) == [(2, "mod"), (3, "value")]


def test_rebinding_before_any_use_leaves_the_first_binding_unused():
    source = module(
        "  def a(conn) do\n    conn = put(conn, 1)\n    conn = put(%{}, 2)\n    conn\n  end\n"
    )
    assert unused(source) == [(3, "conn")]


def test_a_binding_nothing_reads_afterwards_is_unused_even_if_last():
    source = module("  def a(conn) do\n    conn = put(conn, 1)\n    conn = put(%{}, 2)\n  end\n")
    assert unused(source) == [(3, "conn"), (4, "conn")]


def test_binding_inside_if_does_not_reach_the_outer_scope():
    source = module("  def a(x) do\n    if x do\n      y = 1\n    end\n    :ok\n  end\n")
    assert unused(source) == [(4, "y")]


def test_same_name_in_two_case_clauses_is_judged_per_clause():
    source = module(
        "  def a(x) do\n"
        "    case x do\n"
        "      {:a, reason} -> reason\n"
        "      {:b, reason} -> :b\n"
        "    end\n"
        "  end\n"
    )
    assert unused(source) == [(5, "reason")]


def test_receive_and_catch_patterns():
    source = module(
        "  def a(ref) do\n"
        "    receive do\n"
        "      {^ref, body} -> body\n"
        "      {:other, x} -> :other\n"
        "    end\n"
        "  end\n"
        "  def b(x) do\n"
        "    throw(x)\n"
        "  catch\n"
        "    kind, reason -> kind\n"
        "  end\n"
    )
    assert unused(source) == [(5, "x"), (11, "reason")]


def test_finding_suggests_the_underscored_name():
    source = module("  def place(order, opts), do: order\n")
    [finding] = findings_for(UNUSED_VARIABLE, source)
    assert finding.suggestion == "  def place(order, _opts), do: order"
    assert finding.column == 20
    assert "mix compile --warnings-as-errors" in finding.message
    assert finding.fix is not None
    assert "_opts" in finding.fix


# --- L0.unused-variable: negatives -------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "  def a(x), do: x\n",
        "  def b({x, x}), do: :same\n",  # the second x matches the first
        "  def c(x, y) when is_integer(y), do: x\n",  # guards use
        "  def d(k, m) do\n    case m do\n      %{^k => v} -> v\n      _ -> nil\n    end\n"
        "  end\n",
        "  def e(user), do: user.name\n",  # field access: `name` is no variable
        "  def f(name), do: [name: name]\n",  # keyword key
        "  def g(list), do: Enum.map(list, &to_string/1)\n",  # capture of a function
        "  def h(x, n), do: Enum.slice(x, 0..n)\n",  # a range is a use
        "  def i(a, b), do: a != b\n",
        "  def j(bin) do\n    <<len::8, data::binary-size(len)>> = bin\n    data\n  end\n",
        '  def k(s), do: "hello #{s}"\n',  # interpolation
        "  def l(f), do: f.(1)\n",
        "  def m(a, b \\\\ 1)\n  def m(a, b), do: a + b\n",  # bodiless head
        "  def n(_unused, x), do: x\n",
        "  def o(list) do\n    for x <- list, y = x * 2, reduce: 0 do\n      acc -> acc + y\n"
        "    end\n  end\n",
        "  def p(x) do\n    result = case x do\n      1 -> :one\n      _ -> :other\n    end\n"
        "    result\n  end\n",
    ],
)
def test_used_variables_are_not_reported(body):
    assert unused(module(body)) == []


def test_ecto_query_bindings_are_not_variables():
    source = module(
        "  import Ecto.Query\n"
        "  def by_email(email) do\n"
        "    from(u in User, join: p in assoc(u, :posts), where: u.email == ^email, select: p)\n"
        "  end\n"
    )
    assert unused(source) == []


def test_heex_sigil_uses_assigns_and_names_in_its_text():
    source = module(
        "  def card(assigns) do\n"
        '    ~H"""\n'
        "    <div>{@title}</div>\n"
        '    """\n'
        "  end\n"
        "  def row(assigns, item) do\n"
        '    ~H"<li><%= item %></li>"\n'
        "  end\n"
    )
    assert unused(source) == []


def test_clauses_with_quote_var_or_binding_are_skipped():
    source = module(
        "  defmacro m(x, y) do\n    quote do: unquote(x)\n  end\n"
        "  def b(x, y), do: binding()\n"
        "  def c(x), do: var!(x)\n"
    )
    assert unused(source) == []


def test_unknown_macro_block_is_not_assumed_to_open_a_scope():
    # A macro may inline its block (the binding is then visible afterwards) or wrap it in a
    # function: in neither reading is anything here reported.
    source = module(
        "  def a(x) do\n    my_block do\n      y = x + 1\n    end\n    y\n  end\n"
        "  def b(x) do\n    y = 1\n    my_block do\n      y = x\n    end\n    y\n  end\n"
    )
    assert unused(source) == []


def test_a_mention_in_a_string_counts_as_a_use():
    # A deliberate miss: erring towards "used" can hide a warning but never invent one.
    source = module('  def a(x, tag), do: Logger.info("tag", x: x)\n')
    assert unused(source) == []


def test_unused_variable_can_be_suppressed():
    source = module(
        "  # ladder:disable-next-line L0.unused-variable -- kept for the callback signature\n"
        "  def a(x, opts), do: x\n"
        "  def b(x, opts), do: x\n"
    )
    assert unused(source) == [(4, "opts")]


def test_unused_variable_is_not_judged_on_a_broken_file():
    source = module("  def a(x, opts), do: x +* 2\n")
    assert findings_for(UNUSED_VARIABLE, source) == []


# --- L0.unused-alias -----------------------------------------------------------------------


def test_unused_alias_and_multi_alias():
    source = module(
        "  alias Shop.{Cart, Repo}\n"
        "  alias Shop.Billing.Invoice\n"
        "  def get(id), do: Repo.get(Shop.Order, id)\n"
    )
    assert messages(UNUSED_ALIAS, source) == [
        (
            2,
            "unused alias Cart (Shop.Cart): the Elixir compiler warns about it, so "
            "`mix compile --warnings-as-errors` fails",
        ),
        (
            3,
            "unused alias Invoice (Shop.Billing.Invoice): the Elixir compiler warns about it, "
            "so `mix compile --warnings-as-errors` fails",
        ),
    ]


def test_alias_as_reports_the_new_name():
    source = module("  alias Shop.Billing.Invoice, as: Bill\n  def f, do: Invoice\n")
    [finding] = findings_for(UNUSED_ALIAS, source)
    assert finding.message.startswith("unused alias Bill (Shop.Billing.Invoice)")


@pytest.mark.parametrize(
    "use",
    [
        "  def f(%Invoice{} = i), do: i\n",  # struct
        "  @spec f() :: Invoice.t()\n  def f, do: nil\n",  # typespec
        "  def f, do: Invoice.new()\n",
        "  def f, do: &Invoice.new/0\n",
        '  def f(x), do: "#{Invoice.format(x)}"\n',  # interpolation is code
        "  alias Invoice.Line\n  def f, do: Line.new()\n",  # a nested directive
        '  def f(assigns), do: ~H"<Invoice.badge />"\n',  # a HEEx component
    ],
)
def test_alias_used_anywhere_in_code_is_not_reported(use):
    source = module("  alias Shop.Billing.Invoice\n" + use)
    assert findings_for(UNUSED_ALIAS, source) == []


def test_mentions_in_comments_strings_and_full_names_are_not_uses():
    source = module(
        "  alias Shop.Billing.Invoice\n"
        "  # Invoice is used elsewhere\n"
        '  def f, do: "Invoice"\n'
        "  def g, do: Shop.Billing.Invoice.new()\n"
    )
    assert lines_of(findings_for(UNUSED_ALIAS, source)) == [2]


def test_alias_is_lexical_uses_before_it_do_not_count():
    source = module(
        "  def f, do: Invoice.new()\n  def g do\n    alias Shop.Billing.Invoice\n    :ok\n  end\n"
    )
    assert lines_of(findings_for(UNUSED_ALIAS, source)) == [4]


def test_warn_false_self_alias_and_module_alias():
    source = (
        "defmodule Shop.Orders do\n"
        "  alias Shop.Billing.Invoice, warn: false\n"
        "  alias Keyword\n"
        "  alias __MODULE__.Line\n"
        "  alias __MODULE__\n"
        "  def f, do: Orders.x()\n"
        "end\n"
    )
    assert messages(UNUSED_ALIAS, source) == [
        (
            4,
            "unused alias Line (__MODULE__.Line): the Elixir compiler warns about it, so "
            "`mix compile --warnings-as-errors` fails",
        )
    ]


def test_unused_alias_can_be_suppressed():
    source = module(
        "  # ladder:disable-next-line L0.unused-alias -- used by a macro we do not expand\n"
        "  alias Shop.Billing.Invoice\n"
        "  alias Shop.Billing.Line\n"
    )
    assert lines_of(findings_for(UNUSED_ALIAS, source)) == [4]


def test_rules_can_be_downgraded():
    from checks.config import RuleSetting

    config = Config(rules={"L0.unused-alias": RuleSetting(severity=Severity.NOTICE)})
    source = module("  alias Shop.Cart\n")
    [finding] = findings_for(UNUSED_ALIAS, source, config=config)
    assert finding.severity is Severity.NOTICE


def test_file_context_build_is_enough_to_run_the_rules_directly():
    source = SourceFile("lib/a.ex", "lib", module("  def f(a, b), do: a\n"))
    ctx = FileContext.build(source, Config())
    assert [f.line for f in UNUSED_VARIABLE.check(ctx)] == [2]


@pytest.mark.requires_elixir
def test_real_helper_message_for_a_missing_end():
    from checks.formatter import ElixirHelper, FormatterOptions

    source = "defmodule M do\n  def f(x) do\n    x + 1\nend\n"
    helper = ElixirHelper.start()
    assert helper is not None
    try:
        [result] = helper.check_many([("lib/m.ex", source)], FormatterOptions())
    finally:
        helper.close()
    [finding] = with_helper(source, result, path="lib/m.ex")
    assert finding.line == 4
    assert finding.message == (
        'syntax error (Elixir\'s parser): missing terminator: end (for "do" starting at line 1)'
    )
