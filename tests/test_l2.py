"""L2 static analysis: every rule with a positive, a negative and a suppressed case, plus the
credo semantics each one promises (thresholds, exemptions, configuration)."""

from __future__ import annotations

import pytest

from checks.config import Config, RuleSetting
from checks.l2_complexity import CYCLOMATIC, NESTING
from checks.l2_conditionals import (
    COND_STATEMENTS,
    MATCH_IN_CONDITION,
    NEGATED_UNLESS,
    NEGATED_WITH_ELSE,
    UNLESS_WITH_ELSE,
    WITH_SINGLE_CLAUSE,
)
from checks.l2_expressions import APPLY, CONSTANT_RESULT, EXPENSIVE_EMPTY, LARGE_NUMBER
from checks.l2_function_size import ABC_SIZE, FUNCTION_ARITY, FUNCTION_TOO_LONG
from checks.l2_leftovers import DBG, IEX_PRY, IO_INSPECT, TODO_TAG
from checks.l2_naming import (
    ATTRIBUTE_NAME,
    EXCEPTION_NAME,
    FUNCTION_NAME,
    MODULE_NAME,
    PREDICATE_NAME,
    VARIABLE_NAME,
)
from checks.l2_pipes import ENUM_PIPELINE, PIPE_INTO_FN, SINGLE_PIPE
from checks.l2_unused_results import UNUSED_RESULT
from checks.model import Rule, Severity
from tests.conftest import findings_for, lines_of


def module(body: str, name: str = "Shop.Thing") -> str:
    """Wrap function bodies (indented two spaces) in a documented module; body starts line 3."""
    return f'defmodule {name} do\n  @moduledoc "Things."\n{body}end\n'


def params(rule: Rule, **values: object) -> Config:
    return Config(rules={rule.id: RuleSetting(params=values)})


# --- function size --------------------------------------------------------------------------


def long_function(lines: int) -> str:
    body = "".join(f"    x{i} = {i}\n" for i in range(lines - 3))
    return module(f"  def build(rows) do\n{body}    rows\n  end\n")


def test_function_too_long_reports_length_at_the_def():
    found = findings_for(FUNCTION_TOO_LONG, long_function(41))
    assert lines_of(found) == [3]
    assert "build/1 is 41 lines long (max 40)" in found[0].message
    assert found[0].end_line == 43  # the whole function, so a change anywhere shows it


def test_function_of_exactly_40_lines_is_fine():
    assert findings_for(FUNCTION_TOO_LONG, long_function(40)) == []


def test_function_too_long_does_not_count_heex_templates():
    template = "".join(f"      <p>line {i}</p>\n" for i in range(45))
    src = module(f'  def render(assigns) do\n    ~H"""\n{template}    """\n  end\n')
    assert findings_for(FUNCTION_TOO_LONG, src) == []


def test_function_too_long_max_lines_is_configurable():
    found = findings_for(
        FUNCTION_TOO_LONG, long_function(12), config=params(FUNCTION_TOO_LONG, max_lines=10)
    )
    assert "(max 10)" in found[0].message


def test_function_too_long_suppressed_with_a_ladder_comment():
    src = long_function(45).replace(
        "  def build",
        "  # ladder:disable-next-line L2.function-too-long -- generated table\n  def build",
    )
    assert findings_for(FUNCTION_TOO_LONG, src) == []


def test_function_arity_above_8_once_per_function():
    src = module(
        "  def f(a, b, c, d, e, f, g, h, i), do: a\n"
        "  def f(a, b, c, d, e, f, g, h, i, j), do: a\n"
        "  def ok(a, b, c, d, e, f, g, h), do: a\n"
    )
    found = findings_for(FUNCTION_ARITY, src)
    assert lines_of(found) == [3]
    assert "takes 10 parameters (max 8)" in found[0].message


def test_function_arity_counts_default_arguments():
    src = module("  def f(a, b, c, d, e, f, g, h \\\\ 1, i \\\\ 2), do: a\n")
    assert lines_of(findings_for(FUNCTION_ARITY, src)) == [3]


def test_function_arity_ignore_defp():
    src = module("  defp f(a, b, c, d, e, f, g, h, i), do: a\n")
    assert (
        findings_for(FUNCTION_ARITY, src, config=params(FUNCTION_ARITY, ignore_defp=True)) == []
    )
    assert lines_of(findings_for(FUNCTION_ARITY, src)) == [3]


def test_function_arity_suppressed_with_credo_comment():
    src = module(
        "  # credo:disable-for-next-line Credo.Check.Refactor.FunctionArity\n"
        "  def f(a, b, c, d, e, f, g, h, i), do: a\n"
    )
    assert findings_for(FUNCTION_ARITY, src) == []


def busy_function(statements: int) -> str:
    lines = "".join(
        f"    v{i} = if check{i}(cart) == user.id, do: call{i}(cart, user), else: nil\n"
        for i in range(statements)
    )
    return module(f"  def run(cart, user) do\n{lines}    v0\n  end\n")


def test_abc_size_above_30_is_a_notice():
    found = findings_for(ABC_SIZE, busy_function(12))
    assert lines_of(found) == [3]
    assert found[0].severity is Severity.NOTICE
    assert "ABC size of 36 (max 30: 12 assignments, 24 calls, 24 conditions)" in found[0].message


def test_abc_size_of_a_small_function_is_fine():
    assert findings_for(ABC_SIZE, busy_function(3)) == []


def test_abc_size_ignores_ecto_query_macros_when_imported():
    wheres = "".join(f"      where: u.f{i} == ^a{i} and u.g{i} != ^b{i},\n" for i in range(14))
    src = module(
        "  import Ecto.Query\n"
        f"  def q(a) do\n    from(u in User,\n{wheres}      select: u\n    )\n  end\n"
    )
    assert findings_for(ABC_SIZE, src) == []
    assert lines_of(findings_for(ABC_SIZE, src.replace("import Ecto.Query", "alias X"))) == [4]


def test_abc_size_suppressed_with_credo_comment():
    src = busy_function(12).replace(
        "  def run", "  # credo:disable-for-next-line Credo.Check.Refactor.ABCSize\n  def run"
    )
    assert findings_for(ABC_SIZE, src) == []


# --- complexity -----------------------------------------------------------------------------

DEEP = module(
    "  def reserve(items) do\n"
    "    Enum.map(items, fn item ->\n"
    "      case item do\n"
    "        %{qty: qty} ->\n"
    "          if qty > 0, do: :ok, else: :empty\n"
    "      end\n"
    "    end)\n"
    "  end\n"
)


def test_nesting_reports_the_deepest_construct_once():
    found = findings_for(NESTING, DEEP)
    assert lines_of(found) == [7]
    assert "reserve/1 is nested 3 levels deep at this `if` (max 2)" in found[0].message


def test_nesting_of_two_is_fine_and_for_and_with_count():
    two = module(
        "  def f(xs) do\n    for x <- xs do\n      with {:ok, y} <- g(x), do: y\n    end\n  end\n"
    )
    assert findings_for(NESTING, two) == []
    three = two.replace("do: y\n", "do: if(y, do: 1, else: 2)\n")
    assert lines_of(findings_for(NESTING, three)) == [5]


def test_nesting_ignores_the_function_head():
    # `fn` in a default argument is not inside the body
    src = module("  def f(x, g \\\\ fn a -> a end) do\n    if x, do: g.(x)\n  end\n")
    assert findings_for(NESTING, src) == []


def test_nesting_max_is_configurable():
    assert findings_for(NESTING, DEEP, config=params(NESTING, max_nesting=3)) == []


def test_nesting_suppressed_with_credo_comment_on_the_reported_line():
    src = DEEP.replace(
        "          if qty",
        "          # credo:disable-for-next-line Credo.Check.Refactor.Nesting\n          if qty",
    )
    assert findings_for(NESTING, src) == []


COMPLEX = module(
    "  def discount(user, cart) do\n"
    "    a = if user.vip and cart.big, do: 10, else: 0\n"
    "    b = if user.new or cart.first, do: 5, else: 0\n"
    "    c = if cart.coupon && cart.valid, do: 3, else: 0\n"
    "    case cart.kind do\n"
    "      :a -> a\n"
    "      :b -> b\n"
    "      :c -> c\n"
    "      _ -> 0\n"
    "    end\n"
    "  end\n"
)


def test_cyclomatic_complexity_counts_like_credo():
    # 1 + 3 if + 3 boolean operators + 4 case clauses = 11
    found = findings_for(CYCLOMATIC, COMPLEX)
    assert lines_of(found) == [3]
    assert "cyclomatic complexity of 11 (max 9)" in found[0].message


def test_cyclomatic_complexity_of_9_is_fine():
    src = COMPLEX.replace("      :c -> c\n      _ -> 0\n", "")
    assert findings_for(CYCLOMATIC, src) == []  # 1 + 3 + 3 + 2


def test_cyclomatic_complexity_exempts_using_macros():
    src = COMPLEX.replace("def discount(user, cart)", "defmacro __using__(user, cart)")
    assert findings_for(CYCLOMATIC, src) == []


def test_cyclomatic_complexity_configurable_and_suppressed():
    assert findings_for(CYCLOMATIC, COMPLEX, config=params(CYCLOMATIC, max_complexity=11)) == []
    src = COMPLEX.replace(
        "  def discount",
        "  # credo:disable-for-next-line Credo.Check.Refactor.CyclomaticComplexity\n"
        "  def discount",
    )
    assert findings_for(CYCLOMATIC, src) == []


# --- conditionals ---------------------------------------------------------------------------


def test_unless_with_else():
    bad = module("  def f(x) do\n    unless x do\n      1\n    else\n      2\n    end\n  end\n")
    assert lines_of(findings_for(UNLESS_WITH_ELSE, bad)) == [4]
    inline = module("  def f(x), do: unless(x, do: 1, else: 2)\n")
    assert lines_of(findings_for(UNLESS_WITH_ELSE, inline)) == [3]
    assert findings_for(UNLESS_WITH_ELSE, module("  def f(x), do: unless(x, do: 1)\n")) == []
    suppressed = bad.replace(
        "    unless",
        "    # credo:disable-for-next-line Credo.Check.Refactor.UnlessWithElse\n    unless",
    )
    assert findings_for(UNLESS_WITH_ELSE, suppressed) == []


def test_negated_unless():
    assert lines_of(
        findings_for(NEGATED_UNLESS, module("  def f(x), do: unless(!x, do: 1)\n"))
    ) == [3]
    assert lines_of(
        findings_for(NEGATED_UNLESS, module("  def f(x), do: unless(not x, do: 1)\n"))
    ) == [3]
    assert findings_for(NEGATED_UNLESS, module("  def f(x), do: unless(x != 1, do: 1)\n")) == []
    suppressed = module(
        "  # credo:disable-for-next-line Credo.Check.Refactor.NegatedConditionsInUnless\n"
        "  def f(x), do: unless(!x, do: 1)\n"
    )
    assert findings_for(NEGATED_UNLESS, suppressed) == []


def test_negated_condition_with_else():
    bad = module(
        "  def f(x) do\n    if !x.ok do\n      :error\n    else\n      :ok\n    end\n  end\n"
    )
    found = findings_for(NEGATED_WITH_ELSE, bad)
    assert lines_of(found) == [4]
    parens = module("  def f(x), do: if((not x), do: 1, else: 2)\n")
    assert lines_of(findings_for(NEGATED_WITH_ELSE, parens)) == [3]
    # no else, or a negation that is not the whole condition: fine (as credo)
    assert findings_for(NEGATED_WITH_ELSE, module("  def f(x), do: if(!x, do: 1)\n")) == []
    mixed = module("  def f(x, y), do: if(!x and y, do: 1, else: 2)\n")
    assert findings_for(NEGATED_WITH_ELSE, mixed) == []
    suppressed = bad.replace(
        "    if !x",
        "    # ladder:disable-next-line L2.negated-condition-with-else -- mirrors the spec\n"
        "    if !x",
    )
    assert findings_for(NEGATED_WITH_ELSE, suppressed) == []


def test_cond_with_one_condition_and_a_catch_all():
    bad = module(
        "  def f(n) do\n    cond do\n      n > 10 -> :big\n      true -> :small\n    end\n  end\n"
    )
    assert lines_of(findings_for(COND_STATEMENTS, bad)) == [4]
    underscore = bad.replace("true ->", "_ ->")
    assert lines_of(findings_for(COND_STATEMENTS, underscore)) == [4]
    three = bad.replace("      true", "      n > 5 -> :medium\n      true")
    assert findings_for(COND_STATEMENTS, three) == []
    no_catch_all = bad.replace("true ->", "n <= 10 ->")
    assert findings_for(COND_STATEMENTS, no_catch_all) == []
    suppressed = bad.replace(
        "    cond do",
        "    # credo:disable-for-next-line Credo.Check.Refactor.CondStatements\n    cond do",
    )
    assert findings_for(COND_STATEMENTS, suppressed) == []


def test_with_single_clause_and_else():
    bad = module(
        "  def f(id) do\n"
        "    with {:ok, user} <- fetch(id) do\n"
        "      user\n"
        "    else\n"
        "      _ -> nil\n"
        "    end\n"
        "  end\n"
    )
    assert lines_of(findings_for(WITH_SINGLE_CLAUSE, bad)) == [4]
    no_else = module("  def f(id) do\n    with {:ok, user} <- fetch(id), do: user\n  end\n")
    assert findings_for(WITH_SINGLE_CLAUSE, no_else) == []
    two = bad.replace("fetch(id) do", "fetch(id),\n         {:ok, u} <- load(user) do")
    assert findings_for(WITH_SINGLE_CLAUSE, two) == []
    # a bare match clause (`x = y`) does not count as a `<-` clause
    bare = bad.replace("with {:ok, user}", "with x = id, {:ok, user}")
    assert lines_of(findings_for(WITH_SINGLE_CLAUSE, bare)) == [4]
    suppressed = bad.replace(
        "    with",
        "    # credo:disable-for-next-line Credo.Check.Readability.WithSingleClause\n    with",
    )
    assert findings_for(WITH_SINGLE_CLAUSE, suppressed) == []


def test_match_in_condition():
    tagged = module("  def f(p) do\n    if {:ok, body} = File.read(p), do: body\n  end\n")
    found = findings_for(MATCH_IN_CONDITION, tagged)
    assert lines_of(found) == [4]
    assert "`{:ok, body} = File.read(p)`" in found[0].message
    nested = module("  def f(a, p) do\n    if a && (c = File.read!(p)), do: c\n  end\n")
    assert lines_of(findings_for(MATCH_IN_CONDITION, nested)) == [4]
    simple = module("  def f(p) do\n    if contents = File.read!(p), do: contents\n  end\n")
    assert findings_for(MATCH_IN_CONDITION, simple) == []
    in_fn = module("  def f(l) do\n    if Enum.any?(l, fn x -> y = x; y end), do: 1\n  end\n")
    assert findings_for(MATCH_IN_CONDITION, in_fn) == []


def test_match_in_condition_allow_tagged_tuples_and_suppression():
    tagged = module("  def f(p) do\n    unless {:ok, body} = File.read(p), do: body\n  end\n")
    cfg = params(MATCH_IN_CONDITION, allow_tagged_tuples=True)
    assert findings_for(MATCH_IN_CONDITION, tagged, config=cfg) == []
    suppressed = tagged.replace(
        "    unless",
        "    # credo:disable-for-next-line Credo.Check.Refactor.MatchInCondition\n    unless",
    )
    assert findings_for(MATCH_IN_CONDITION, suppressed) == []


# --- pipes ----------------------------------------------------------------------------------


def test_single_pipe_with_suggestion():
    src = module("  def clean(name), do: name |> String.trim()\n")
    found = findings_for(SINGLE_PIPE, src)
    assert lines_of(found) == [3]
    assert found[0].fix == "write `String.trim(name)`"
    assert found[0].suggestion == "  def clean(name), do: String.trim(name)"


def test_single_pipe_suggestion_keeps_arguments_and_bare_calls():
    src = module("  def f(xs) do\n    y = xs |> Enum.take(2)\n    y |> length\n  end\n")
    found = findings_for(SINGLE_PIPE, src)
    assert [f.suggestion for f in found] == ["    y = Enum.take(xs, 2)", "    length(y)"]


def test_chains_and_blocks_are_not_single_pipes():
    chain = module("  def f(s), do: s |> String.trim() |> String.downcase()\n")
    assert findings_for(SINGLE_PIPE, chain) == []
    block = module(
        "  def f(s) do\n    s\n    |> case do\n      nil -> 0\n      _ -> 1\n    end\n  end\n"
    )
    assert findings_for(SINGLE_PIPE, block) == []
    cfg = params(SINGLE_PIPE, allow_blocks=False)
    assert lines_of(findings_for(SINGLE_PIPE, block, config=cfg)) == [4]


def test_single_pipe_credo_defaults_for_zero_arity_lists_and_maps():
    zero = module("  def f, do: now() |> to_string()\n")
    listed = module("  def f, do: [1, 2] |> Enum.sum()\n")
    mapped = module("  def f, do: %{a: 1} |> Map.keys()\n")
    for src in (zero, listed, mapped):
        assert lines_of(findings_for(SINGLE_PIPE, src)) == [3]
    assert (
        findings_for(SINGLE_PIPE, zero, config=params(SINGLE_PIPE, allow_0_arity_functions=True))
        == []
    )
    assert findings_for(SINGLE_PIPE, listed, config=params(SINGLE_PIPE, allow_lists=True)) == []
    assert findings_for(SINGLE_PIPE, mapped, config=params(SINGLE_PIPE, allow_maps=True)) == []


def test_single_pipe_suppressed():
    src = module(
        "  # credo:disable-for-next-line Credo.Check.Readability.SinglePipe\n"
        "  def clean(name), do: name |> String.trim()\n"
    )
    assert findings_for(SINGLE_PIPE, src) == []


def test_pipe_into_anonymous_function():
    bad = module("  def g(n) do\n    n\n    |> (fn x -> x * 2 end).()\n    |> round()\n  end\n")
    assert lines_of(findings_for(PIPE_INTO_FN, bad)) == [5]
    then = bad.replace("(fn x -> x * 2 end).()", "then(fn x -> x * 2 end)")
    assert findings_for(PIPE_INTO_FN, then) == []
    suppressed = bad.replace(
        "    |> (fn",
        "    # credo:disable-for-next-line Credo.Check.Readability.PipeIntoAnonymousFunctions\n"
        "    |> (fn",
    )
    assert findings_for(PIPE_INTO_FN, suppressed) == []


@pytest.mark.parametrize(
    ("code", "advice"),
    [
        ('tags |> Enum.map(& &1.name) |> Enum.join(", ")', "Enum.map_join/3"),
        ("Enum.map(tags, & &1.name) |> Enum.join()", "Enum.map_join/3"),
        ('Enum.join(Enum.map(tags, & &1.name), ",")', "Enum.map_join/3"),
        ("tags |> Enum.filter(& &1.on) |> Enum.count()", "Enum.count/2"),
        ("Enum.count(Enum.filter(tags, & &1.on))", "Enum.count/2"),
        ("tags |> Enum.filter(& &1.on) |> Enum.filter(& &1.ok)", "one `Enum.filter/2`"),
        ("tags |> Enum.reject(& &1.on) |> Enum.reject(& &1.ok)", "one `Enum.reject/2`"),
        ("tags |> Enum.map(& &1.a) |> Enum.map(& &1.b)", "one `Enum.map/2`"),
    ],
)
def test_enum_pipeline_inefficiencies(code, advice):
    found = findings_for(ENUM_PIPELINE, module(f"  def f(tags) do\n    {code}\n  end\n"))
    assert lines_of(found) == [4]
    assert advice in found[0].message


def test_enum_pipeline_fine_cases_and_optional_pairs():
    fine = [
        "tags |> Enum.filter(& &1.on) |> Enum.count(& &1.ok)",  # count/2 is its own predicate
        "tags |> Enum.filter(& &1.on) |> Enum.reject(& &1.ok)",  # off by default, as in credo
        'Enum.map_join(tags, ",", & &1.name)',
        "tags |> Enum.map(& &1.a) |> Enum.sort() |> Enum.map(& &1.b)",
    ]
    for code in fine:
        assert (
            findings_for(ENUM_PIPELINE, module(f"  def f(tags) do\n    {code}\n  end\n")) == []
        ), code
    cfg = params(ENUM_PIPELINE, pairs=["filter|>reject"])
    src = module(
        "  def f(tags) do\n    tags |> Enum.filter(& &1.on) |> Enum.reject(& &1.ok)\n  end\n"
    )
    assert lines_of(findings_for(ENUM_PIPELINE, src, config=cfg)) == [4]


def test_enum_pipeline_suppressed_by_any_of_its_credo_checks():
    src = module(
        "  def f(tags) do\n"
        "    # credo:disable-for-next-line Credo.Check.Refactor.MapJoin\n"
        '    tags |> Enum.map(& &1.name) |> Enum.join(", ")\n'
        "  end\n"
    )
    assert findings_for(ENUM_PIPELINE, src) == []


# --- naming ---------------------------------------------------------------------------------


def test_module_name():
    found = findings_for(MODULE_NAME, 'defmodule Shop.User_Auth do\n  @moduledoc "x"\nend\n')
    assert lines_of(found) == [1]
    assert found[0].fix == "rename it to Shop.UserAuth"
    assert (
        findings_for(MODULE_NAME, 'defmodule Shop.HTTPClient do\n  @moduledoc "x"\nend\n') == []
    )
    suppressed = (
        "# credo:disable-for-next-line Credo.Check.Readability.ModuleNames\n"
        'defmodule Shop.User_Auth do\n  @moduledoc "x"\nend\n'
    )
    assert findings_for(MODULE_NAME, suppressed) == []
    cfg = params(MODULE_NAME, ignore=[r"User_Auth$"])
    assert findings_for(MODULE_NAME, "defmodule Shop.User_Auth do\nend\n", config=cfg) == []


def test_function_name():
    src = module(
        "  def fetchUser(id), do: id\n"
        "  def fetchUser(id, _), do: id\n"
        "  def sigil_X(s, _), do: s\n"
        "  defp __helper__(x), do: x\n"
        "  def valid?(x), do: x\n"
    )
    found = findings_for(FUNCTION_NAME, src)
    assert lines_of(found) == [3]
    assert found[0].fix == "rename it to `fetch_user`"
    suppressed = module(
        "  # credo:disable-for-next-line Credo.Check.Readability.FunctionNames\n"
        "  def fetchUser(id), do: id\n"
    )
    assert findings_for(FUNCTION_NAME, suppressed) == []


def test_variable_name_reported_once_where_bound():
    src = module(
        "  def name(user, pageSize) do\n"
        "    firstName = user.first\n"
        "    case firstName do\n"
        "      %{lastName: lastName} -> lastName\n"
        "    end\n"
        "    :erlang.fooBar(firstName, pageSize)\n"
        "  end\n"
    )
    found = findings_for(VARIABLE_NAME, src)
    assert [(f.line, f.message.split("`")[1]) for f in found] == [
        (3, "pageSize"),
        (4, "firstName"),
        (6, "lastName"),
    ]


def test_variable_name_ignores_atoms_keys_and_calls():
    src = module(
        '  def f(x) do\n    y = %{fooBar: x, "bazQux" => :someAtom}\n    y.fooBar\n  end\n'
    )
    assert findings_for(VARIABLE_NAME, src) == []


def test_variable_name_suppressed():
    src = module(
        "  def f(x) do\n"
        "    # credo:disable-for-next-line Credo.Check.Readability.VariableNames\n"
        "    fooBar = x\n"
        "    fooBar\n"
        "  end\n"
    )
    assert findings_for(VARIABLE_NAME, src) == []


def test_attribute_name():
    src = module("  @maxRetries 3\n  @max_wait 10\n  def f, do: @maxRetries + @max_wait\n")
    found = findings_for(ATTRIBUTE_NAME, src)
    assert lines_of(found) == [3]
    assert found[0].fix == "rename it to `@max_retries`"
    suppressed = src.replace(
        "  @maxRetries 3",
        "  # credo:disable-for-next-line Credo.Check.Readability.ModuleAttributeNames\n"
        "  @maxRetries 3",
    )
    assert findings_for(ATTRIBUTE_NAME, suppressed) == []


def test_predicate_names():
    src = module(
        "  def is_valid(x), do: x\n"
        "  defp is_ready?(x), do: x\n"
        "  defguard is_empty?(x) when x == []\n"
        "  defguard empty?(x) when x == []\n"
        "  defguard is_cart(x) when is_map(x)\n"
        "  def valid?(x), do: x\n"
        "  @impl true\n"
        "  def is_callback(x), do: x\n"
    )
    found = findings_for(PREDICATE_NAME, src)
    assert [(f.line, f.message.split("`")[3]) for f in found] == [
        (3, "valid?"),
        (4, "ready?"),
        (5, "is_empty"),
        (6, "is_empty"),
    ]
    suppressed = module(
        "  # credo:disable-for-next-line Credo.Check.Readability.PredicateFunctionNames\n"
        "  def is_valid(x), do: x\n"
    )
    assert findings_for(PREDICATE_NAME, suppressed) == []


def test_exception_name():
    bad = 'defmodule Shop.PaymentFailed do\n  @moduledoc "x"\n  defexception [:message]\nend\n'
    found = findings_for(EXCEPTION_NAME, bad)
    assert lines_of(found) == [1]
    assert found[0].fix == "rename it to Shop.PaymentFailedError"
    good = bad.replace("PaymentFailed", "PaymentError")
    assert findings_for(EXCEPTION_NAME, good) == []
    cfg = params(EXCEPTION_NAME, suffixes=["Error", "Failed"])
    assert findings_for(EXCEPTION_NAME, bad, config=cfg) == []
    suppressed = "# credo:disable-for-next-line Credo.Check.Consistency.ExceptionNames\n" + bad
    assert findings_for(EXCEPTION_NAME, suppressed) == []


# --- leftovers ------------------------------------------------------------------------------


def test_io_inspect_in_lib_is_an_error():
    src = module('  def f(x) do\n    x\n    |> IO.inspect(label: "x")\n    |> g()\n  end\n')
    found = findings_for(IO_INSPECT, src)
    assert lines_of(found) == [5]
    assert found[0].severity is Severity.ERROR


def test_io_inspect_only_in_lib_and_not_io_puts():
    assert findings_for(IO_INSPECT, module("  def f(x), do: IO.puts(x)\n")) == []
    test_file = 'defmodule Shop.ThingTest do\n  test "a b c" do\n    IO.inspect(1)\n  end\nend\n'
    assert findings_for(IO_INSPECT, test_file, path="test/shop/thing_test.exs") == []


def test_io_inspect_suppressed_and_relevelled():
    src = module(
        "  def f(x) do\n"
        "    # credo:disable-for-next-line Credo.Check.Warning.IoInspect\n"
        "    IO.inspect(x)\n"
        "  end\n"
    )
    assert findings_for(IO_INSPECT, src) == []
    cfg = Config(rules={"L2.io-inspect": RuleSetting(severity=Severity.NOTICE)})
    found = findings_for(IO_INSPECT, module("  def f(x), do: IO.inspect(x)\n"), config=cfg)
    assert found[0].severity is Severity.NOTICE
    off = Config(rules={"L2.io-inspect": RuleSetting(enabled=False)})
    assert findings_for(IO_INSPECT, module("  def f(x), do: IO.inspect(x)\n"), config=off) == []


def test_dbg_calls_pipes_and_kernel():
    src = module(
        "  @dbg 1\n"
        "  def f(x) do\n"
        "    dbg(x)\n"
        "    x |> dbg\n"
        "    Kernel.dbg(x)\n"
        "  end\n"
        "  def dbg(a, b), do: {a, b}\n"
    )
    assert lines_of(findings_for(DBG, src)) == [5, 6, 7]
    suppressed = module(
        "  def f(x) do\n"
        "    # credo:disable-for-next-line Credo.Check.Warning.Dbg\n"
        "    dbg(x)\n"
        "  end\n"
    )
    assert findings_for(DBG, suppressed) == []


def test_iex_pry_and_require_iex():
    src = module("  require IEx\n  require Logger\n  def f(x) do\n    IEx.pry()\n    x\n  end\n")
    found = findings_for(IEX_PRY, src)
    assert lines_of(found) == [3, 6]
    assert "`require IEx`" in found[0].message
    suppressed = module(
        "  # credo:disable-for-next-line Credo.Check.Warning.IExPry\n  require IEx\n"
    )
    assert findings_for(IEX_PRY, suppressed) == []


def test_todo_and_fixme_tags_are_notices():
    src = module(
        "  # TODO: handle refunds\n"
        "  # fixme later\n"
        "  # A todo list is not a tag\n"
        '  @doc """\n'
        "  Places an order.\n"
        "\n"
        "  TODO document the options\n"
        '  """\n'
        '  def f(x), do: "# TODO not a comment"\n'
    )
    found = findings_for(TODO_TAG, src)
    assert [(f.line, f.message) for f in found] == [
        (3, "TODO: handle refunds"),
        (4, "FIXME: later"),
        (9, "TODO: document the options"),
    ]
    assert {f.severity for f in found} == {Severity.NOTICE}


def test_todo_tags_in_docs_can_be_excluded_and_tags_configured():
    src = module('  @doc "TODO: later"\n  # HACK: shortcut\n  def f(x), do: x\n')
    assert findings_for(TODO_TAG, src, config=params(TODO_TAG, include_doc=False)) == []
    found = findings_for(TODO_TAG, src, config=params(TODO_TAG, tags=["HACK"]))
    assert [(f.line, f.message) for f in found] == [(4, "HACK: shortcut")]


def test_todo_tag_suppressed_with_credo_comment():
    src = module(
        "  # credo:disable-for-next-line Credo.Check.Design.TagTODO\n  # TODO: handle refunds\n"
    )
    assert findings_for(TODO_TAG, src) == []


# --- unused results -------------------------------------------------------------------------


def test_unused_result_of_pure_functions():
    src = module(
        "  def f(user, names) do\n"
        "    Map.put(user, :name, 1)\n"
        "    names |> Enum.map(&String.upcase/1)\n"
        "    String.trim(user.name)\n"
        "    user\n"
        "  end\n"
    )
    found = findings_for(UNUSED_RESULT, src)
    assert lines_of(found) == [4, 5, 6]
    assert "`Map.put/3`" in found[0].message
    assert "`Enum.map/2`" in found[1].message


def test_used_results_are_fine():
    src = module(
        "  def f(user, names) do\n"
        "    user = Map.put(user, :name, 1)\n"
        "    Enum.each(names, &IO.puts/1)\n"
        "    if Map.has_key?(user, :x), do: log(user)\n"
        "    log(Map.get(user, :x))\n"
        "    for n <- Enum.sort(names), do: log(n)\n"
        "    Keyword.validate!(names, [:a])\n"
        "    with {:ok, v} <- Map.fetch(user, :v), do: log(v)\n"
        "    case x do\n"
        "      1 -> Map.put(user, :a, 1)\n"
        "      _ -> Enum.map(names, & &1)\n"
        "    end\n"
        "  end\n"
        "\n"
        "  def g(user), do: Map.put(user, :a, 1)\n"
        "  def h(names), do: Enum.map(names, fn n -> String.trim(n) end)\n"
    )
    assert findings_for(UNUSED_RESULT, src) == []


def test_unused_result_in_a_non_final_branch_and_after():
    src = module(
        "  def f(user) do\n"
        "    if user.ok do\n"
        "      Map.put(user, :a, 1)\n"
        "    end\n"
        "    try do\n"
        "      user\n"
        "    after\n"
        "      Map.delete(user, :a)\n"
        "    end\n"
        "  end\n"
    )
    assert lines_of(findings_for(UNUSED_RESULT, src)) == [5, 10]


def test_unused_result_suppressed_and_module_list_configurable():
    src = module(
        "  def f(user) do\n"
        "    # credo:disable-for-next-line Credo.Check.Warning.UnusedMapOperation\n"
        "    Map.put(user, :a, 1)\n"
        "    user\n"
        "  end\n"
    )
    assert findings_for(UNUSED_RESULT, src) == []
    unsuppressed = src.replace(
        "    # credo:disable-for-next-line Credo.Check.Warning.UnusedMapOperation\n", ""
    )
    assert (
        findings_for(UNUSED_RESULT, unsuppressed, config=params(UNUSED_RESULT, modules=["Enum"]))
        == []
    )


# --- expressions ----------------------------------------------------------------------------


def test_constant_result_operations():
    src = module(
        "  def f(a, b) do\n"
        "    x = a * 1\n"
        "    y = 0 * b\n"
        "    z = a - a\n"
        "    w = a.b == a.b\n"
        "    v = a && a\n"
        "    {x, y, z, w, v}\n"
        "  end\n"
    )
    found = findings_for(CONSTANT_RESULT, src)
    assert lines_of(found) == [4, 5, 6, 7, 8]
    assert "`a * 1` is always `a`" in found[0].message
    assert "always 0" in found[1].message


def test_constant_result_fine_cases_and_suppression():
    src = module(
        "  @spec f(integer()) :: integer()\n"
        "  def f(a) do\n"
        "    x = a * 2\n"
        "    y = rand() - rand()\n"
        "    z = Enum.map([a], &(&1 * 1))\n"
        "    {x, y, z}\n"
        "  end\n"
    )
    assert findings_for(CONSTANT_RESULT, src) == []
    suppressed = module(
        "  def f(a) do\n"
        "    # credo:disable-for-next-line Credo.Check.Warning.OperationWithConstantResult\n"
        "    a * 1\n"
        "  end\n"
    )
    assert findings_for(CONSTANT_RESULT, suppressed) == []


@pytest.mark.parametrize(
    ("code", "advice"),
    [
        ("length(list) == 0", "Enum.empty?/1"),
        ("0 != length(list)", "Enum.empty?/1"),
        ("Enum.count(list) > 0", "Enum.empty?/1"),
        ("length(list) >= 1", "Enum.empty?/1"),
        ("list |> length() == 0", "Enum.empty?/1"),
        ("Enum.count(list, & &1.ok) == 0", "Enum.any?/2"),
    ],
)
def test_expensive_empty_checks(code, advice):
    found = findings_for(EXPENSIVE_EMPTY, module(f"  def f(list), do: {code}\n"))
    assert lines_of(found) == [3]
    assert advice in found[0].message


def test_expensive_empty_check_in_guard_and_fine_cases():
    guard = module("  def f(list) when length(list) > 0, do: 1\n")
    found = findings_for(EXPENSIVE_EMPTY, guard)
    assert "`list == []`" in found[0].message
    fine = module("  def f(list), do: {length(list) == 2, length(list) > 1, list == []}\n")
    assert findings_for(EXPENSIVE_EMPTY, fine) == []
    suppressed = module(
        "  # credo:disable-for-next-line Credo.Check.Warning.ExpensiveEmptyEnumCheck\n"
        "  def f(list), do: length(list) == 0\n"
    )
    assert findings_for(EXPENSIVE_EMPTY, suppressed) == []


def test_large_numbers():
    src = module(
        "  def f do\n"
        '    {86400000, 10_000, 9999, 1_0000, 123456.5, 0x1FFFFF, 12345.123456, "99999"}\n'
        "  end\n"
    )
    found = findings_for(LARGE_NUMBER, src)
    assert [f.message.split("`")[1::2] for f in found] == [
        ["86400000", "86_400_000"],
        ["1_0000", "10_000"],
        ["123456.5", "123_456.5"],
        ["12345.123456", "12_345.123456"],
    ]


def test_large_numbers_threshold_trailing_digits_and_suppression():
    src = module("  def f, do: {123456, 1_234_56}\n")
    assert len(findings_for(LARGE_NUMBER, src)) == 2
    assert (
        findings_for(LARGE_NUMBER, src, config=params(LARGE_NUMBER, only_greater_than=999999))
        == []
    )
    only_first = findings_for(LARGE_NUMBER, src, config=params(LARGE_NUMBER, trailing_digits=[2]))
    assert [f.message.split("`")[1] for f in only_first] == ["123456"]
    suppressed = module(
        "  # credo:disable-for-next-line Credo.Check.Readability.LargeNumbers\n"
        "  def f, do: 123456\n"
    )
    assert findings_for(LARGE_NUMBER, suppressed) == []


def test_apply_with_known_arity():
    src = module(
        "  def f(fun, mod, args) do\n"
        "    apply(fun, [1, 2])\n"
        "    apply(mod, :run, [1])\n"
        "    Kernel.apply(mod, :run, [])\n"
        "    apply(mod, :run, args)\n"
        "    apply(mod, :run, [1 | args])\n"
        "    apply(__MODULE__, :run, [1])\n"
        "    apply(mod, fun, [1])\n"
        "  end\n"
    )
    found = findings_for(APPLY, src)
    assert lines_of(found) == [4, 5, 6]
    assert "`fun.(...)`" in found[0].message
    assert "`mod.run(...)`" in found[1].message
    suppressed = module(
        "  # credo:disable-for-next-line Credo.Check.Refactor.Apply\n"
        "  def f(fun), do: apply(fun, [1])\n"
    )
    assert findings_for(APPLY, suppressed) == []


# --- scope ----------------------------------------------------------------------------------


def test_l2_rules_review_lib_and_test_code_but_not_config_or_migrations():
    src = "import Config\nx = [1] |> Enum.sum()\n"
    assert findings_for(SINGLE_PIPE, src, path="config/config.exs") == []
    test_src = "defmodule Shop.ThingTest do\n  defp h(x), do: x |> Enum.sum()\nend\n"
    assert lines_of(findings_for(SINGLE_PIPE, test_src, path="test/shop/thing_test.exs")) == [2]


def test_broken_files_are_not_reviewed_structurally():
    broken = module("  def f(x) do\n    IO.inspect(x\n  end\n")
    assert findings_for(IO_INSPECT, broken) == []


def test_field_accesses_are_not_mistaken_for_calls():
    # The index proposes `dbg_opts.level` as a call to `dbg`, `applied.x` as `apply`, and
    # `defaults.x` as `def`: the rules must check the tree and must not crash on them.
    src = module(
        "  def f(dbg_opts, applied, requirements, defaults) do\n"
        "    {dbg_opts.level, applied.count, requirements.iex, defaults.size}\n"
        "  end\n"
    )
    for rule in (DBG, APPLY, IEX_PRY, FUNCTION_NAME, UNUSED_RESULT, NESTING, CYCLOMATIC):
        assert findings_for(rule, src) == [], rule.id
