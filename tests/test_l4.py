"""L4 typed: the spec rules of checks/l4_specs.py on the shapes real Elixir code takes (default
arguments, multi-clause functions, guards, callbacks, nested modules, `when` specs)."""

from __future__ import annotations

from checks.config import Config, RuleSetting
from checks.l4_specs import SPEC_MISSING, SPEC_NO_ERROR, SPEC_VAGUE, STRUCT_TYPE
from checks.model import Severity
from tests.conftest import findings_for, lines_of


def messages(rule, source, **kwargs):
    return [(f.line, f.message) for f in findings_for(rule, source, **kwargs)]


def module(body: str, name: str = "Shop.Accounts") -> str:
    """Wrap function definitions in a documented module (indentation of `body` is kept)."""
    return f'defmodule {name} do\n  @moduledoc "Doc."\n{body}end\n'


# --- L4.spec-missing ---------------------------------------------------------------------


def test_spec_missing_reports_the_function_once_at_its_first_clause():
    source = module(
        "  def get(id) when is_integer(id), do: id\n"
        "  def get(id) when is_binary(id), do: String.to_integer(id)\n"
        "  def get(_), do: nil\n"
    )
    assert messages(SPEC_MISSING, source) == [(3, "public def get/1 has no @spec")]


def test_spec_missing_finding_spans_only_the_head_line():
    source = module("  def get(id) do\n    id\n  end\n")
    [finding] = findings_for(SPEC_MISSING, source)
    assert (finding.line, finding.end_line, finding.severity) == (3, 3, Severity.WARNING)
    assert finding.fix is not None
    assert "@spec get(" in finding.fix


def test_spec_with_guard_covers_every_guarded_clause():
    source = module(
        "  @spec get(integer() | String.t()) :: integer()\n"
        "  def get(id) when is_integer(id), do: id\n"
        "  def get(id) when is_binary(id), do: String.to_integer(id)\n"
    )
    assert findings_for(SPEC_MISSING, source) == []


def test_default_arguments_need_a_spec_per_arity():
    source = module(
        "  @spec f(integer(), integer()) :: integer()\n  def f(a, b \\\\ 1), do: a + b\n"
    )
    assert messages(SPEC_MISSING, source) == [(4, "public def f/1 has no @spec")]


def test_two_defaults_without_any_spec_name_every_arity():
    source = module("  def f(a, b \\\\ 1, c \\\\ 2), do: a + b + c\n")
    assert messages(SPEC_MISSING, source) == [(3, "public def f/1, f/2, f/3 have no @spec")]


def test_defaults_in_a_bodiless_head_add_arities_for_later_clauses():
    source = module(
        "  @spec f(atom()) :: atom()\n"
        "  @spec f(atom(), keyword()) :: atom()\n"
        "  def f(a, opts \\\\ [])\n"
        "  def f(a, []), do: a\n"
        "  def f(a, _opts), do: a\n"
    )
    assert findings_for(SPEC_MISSING, source) == []


def test_each_arity_of_a_multi_arity_name_is_judged_separately():
    source = module("  @spec f(atom()) :: atom()\n  def f(a), do: a\n  def f(a, b), do: {a, b}\n")
    # Consecutive clauses of one name are one group; the finding sits on the clause whose
    # arity lacks the spec.
    assert messages(SPEC_MISSING, source) == [(5, "public def f/2 has no @spec")]


def test_impl_true_and_impl_behaviour_are_exempt_but_impl_false_is_not():
    source = module(
        "  @impl true\n"
        "  def init(state), do: {:ok, state}\n"
        "  @impl GenServer\n"
        "  def handle_call(:get, _from, state), do: {:reply, state, state}\n"
        "  def handle_call(:stop, _from, state), do: {:stop, :normal, state}\n"
        "  @impl false\n"
        "  def helper(x), do: x\n"
    )
    assert messages(SPEC_MISSING, source) == [(9, "public def helper/1 has no @spec")]


def test_defdelegate_is_exempt_and_defp_is_ignored():
    source = module(
        "  defdelegate fetch(id), to: Shop.Repo\n"
        "  defp secret(x), do: x\n"
        "  defmacrop m(x), do: x\n"
    )
    assert findings_for(SPEC_MISSING, source) == []


def test_defmacro_is_covered_and_defguard_is_not():
    source = module(
        "  defmacro my_if(c, do: b), do: quote(do: if(unquote(c), do: unquote(b)))\n"
        "  defguard is_money(x) when is_integer(x) and x >= 0\n"
    )
    assert messages(SPEC_MISSING, source) == [(3, "public defmacro my_if/2 has no @spec")]


def test_spec_with_when_clause_counts_for_its_name_and_arity():
    source = module(
        "  @spec first(list(a)) :: a | nil when a: var\n"
        "  def first([x | _]), do: x\n"
        "  def first([]), do: nil\n"
    )
    assert findings_for(SPEC_MISSING, source) == []


def test_zero_arity_specs_with_and_without_parentheses():
    source = module(
        "  @spec version :: String.t()\n"
        '  def version, do: "1"\n'
        "  @spec name() :: String.t()\n"
        '  def name, do: "shop"\n'
        "  @spec now :: DateTime.t()\n"
        "  def now(), do: DateTime.utc_now()\n"
        '  def missing, do: "x"\n'
    )
    assert messages(SPEC_MISSING, source) == [(9, "public def missing/0 has no @spec")]


def test_spec_of_the_wrong_arity_does_not_count():
    source = module("  @spec f :: :ok\n  def f(x), do: x\n")
    assert messages(SPEC_MISSING, source) == [(4, "public def f/1 has no @spec")]


def test_spec_in_the_outer_module_does_not_cover_the_inner_one():
    source = (
        "defmodule Outer do\n"
        '  @moduledoc "Doc."\n'
        "  @spec run(integer()) :: integer()\n"
        "  def run(x), do: x\n"
        "\n"
        "  defmodule Inner do\n"
        '    @moduledoc "Doc."\n'
        "    def run(x), do: x\n"
        "  end\n"
        "end\n"
    )
    assert messages(SPEC_MISSING, source) == [(8, "public def run/1 has no @spec")]


def test_modules_inside_quote_are_templates_and_not_judged():
    source = module(
        "  @spec __using__(keyword()) :: Macro.t()\n"
        "  defmacro __using__(_opts) do\n"
        "    quote do\n"
        "      defmodule Generated do\n"
        "        def run(x), do: x\n"
        "      end\n"
        "    end\n"
        "  end\n"
    )
    assert findings_for(SPEC_MISSING, source) == []


def test_spec_missing_only_reviews_lib_files():
    source = module("  def f(x), do: x\n")
    assert findings_for(SPEC_MISSING, source, path="test/shop_test.exs") == []
    assert findings_for(SPEC_MISSING, source, path="test/support/factory.ex") == []
    assert lines_of(findings_for(SPEC_MISSING, source, path="lib/shop/accounts.ex")) == [3]


def test_spec_missing_skips_files_with_syntax_errors():
    assert findings_for(SPEC_MISSING, module("  def f(x), do: x +* 1\n")) == []


def test_spec_missing_is_suppressed_by_ladder_and_credo_comments():
    ladder = module(
        "  # ladder:disable-next-line L4.spec-missing -- generated by the DSL\n"
        "  def f(x), do: x\n"
        "  def g(x), do: x\n"
    )
    assert lines_of(findings_for(SPEC_MISSING, ladder)) == [5]
    credo = module(
        "  # credo:disable-for-next-line Credo.Check.Readability.Specs\n  def f(x), do: x\n"
    )
    assert findings_for(SPEC_MISSING, credo) == []


def test_spec_missing_severity_can_be_lowered_in_config():
    config = Config(rules={"L4.spec-missing": RuleSetting(severity=Severity.NOTICE)})
    [finding] = findings_for(SPEC_MISSING, module("  def f(x), do: x\n"), config=config)
    assert finding.severity is Severity.NOTICE


# --- L4.spec-vague-type ------------------------------------------------------------------


def test_vague_types_are_reported_where_they_appear():
    source = module(
        "  @spec f(any()) :: :ok\n"
        "  def f(_), do: :ok\n"
        "  @spec g(map()) :: term\n"
        "  def g(m), do: m\n"
        "  @spec h(list(any)) :: :ok\n"
        "  def h(_), do: :ok\n"
    )
    assert messages(SPEC_VAGUE, source) == [
        (3, "@spec of f/1 uses `any()`, which says nothing about the value"),
        (5, "@spec of g/1 uses `term()`, which says nothing about the value"),
        (7, "@spec of h/1 uses `any()`, which says nothing about the value"),
    ]


def test_every_vague_type_of_a_spec_is_a_finding_with_its_column():
    source = module("  @spec f(any(), term()) :: any()\n  def f(a, _), do: a\n")
    found = findings_for(SPEC_VAGUE, source)
    assert [(f.line, f.column) for f in found] == [(3, 11), (3, 18), (3, 29)]


def test_named_parameters_and_when_bounds_are_judged_by_their_type():
    source = module(
        "  @spec put(key :: atom(), value :: any()) :: :ok\n"
        "  def put(_k, _v), do: :ok\n"
        "  @spec wrap(a) :: {:ok, a} when a: list(term())\n"
        "  def wrap(a), do: {:ok, a}\n"
    )
    assert lines_of(findings_for(SPEC_VAGUE, source)) == [3, 5]


def test_a_type_variable_bound_to_term_is_generic_not_vague():
    source = module(
        "  @spec identity(a) :: a when a: term()\n"
        "  def identity(a), do: a\n"
        "  @spec pair(a, b) :: {a, b} when a: any, b: var\n"
        "  def pair(a, b), do: {a, b}\n"
    )
    assert findings_for(SPEC_VAGUE, source) == []


def test_a_function_named_like_a_vague_type_is_not_a_vague_type():
    source = module(
        "  @spec term() :: String.t()\n"
        '  def term, do: "q"\n'
        "  @spec any :: boolean()\n"
        "  def any, do: true\n"
        "  @spec any(list()) :: boolean()\n"
        "  def any(l), do: l != []\n"
    )
    assert findings_for(SPEC_VAGUE, source) == []


def test_concrete_types_and_remote_types_are_fine():
    source = module(
        "  @spec f(Shop.Cart.t(), keyword(String.t())) :: {:ok, Decimal.t()} | :error\n"
        "  def f(cart, _opts), do: {:ok, cart.total}\n"
    )
    assert findings_for(SPEC_VAGUE, source) == []


def test_allow_lists_functions_by_name_or_arity_and_types_by_name():
    source = module(
        "  @spec inspect_value(any()) :: String.t()\n"
        "  def inspect_value(v), do: inspect(v)\n"
        "  @spec dump(any()) :: :ok\n"
        "  def dump(_), do: :ok\n"
        "  @spec dump(any(), keyword()) :: :ok\n"
        "  def dump(_, _), do: :ok\n"
        "  @spec store(term()) :: :ok\n"
        "  def store(_), do: :ok\n"
    )
    assert lines_of(findings_for(SPEC_VAGUE, source)) == [3, 5, 7, 9]

    by_function = Config(
        rules={"L4.spec-vague-type": RuleSetting(params={"allow": ["inspect_value", "dump/1"]})}
    )
    assert lines_of(findings_for(SPEC_VAGUE, source, config=by_function)) == [7, 9]

    by_type = Config(rules={"L4.spec-vague-type": RuleSetting(params={"allow": ["term"]})})
    assert lines_of(findings_for(SPEC_VAGUE, source, config=by_type)) == [3, 5, 7]


def test_vague_type_is_suppressed_on_its_line():
    source = module(
        "  @spec f(any()) :: :ok # ladder:disable-line L4.spec-vague-type -- opaque payload\n"
        "  def f(_), do: :ok\n"
    )
    assert findings_for(SPEC_VAGUE, source) == []


# --- L4.spec-error-variant-missing -------------------------------------------------------


def test_error_returned_from_an_inline_if_needs_an_error_variant():
    source = module(
        "  @spec check(integer()) :: {:ok, integer()}\n"
        "  def check(x) do\n"
        "    if x > 0, do: {:ok, x}, else: {:error, :negative}\n"
        "  end\n"
    )
    assert messages(SPEC_NO_ERROR, source) == [
        (
            3,
            "check/1 returns `{:error, :negative}` (line 5) but its @spec has no error variant",
        )
    ]


def test_error_returned_from_case_and_with_else_branches():
    source = module(
        "  @spec fetch(map()) :: {:ok, integer()}\n"
        "  def fetch(m) do\n"
        "    case Map.fetch(m, :a) do\n"
        "      {:ok, a} -> {:ok, a}\n"
        "      :error -> {:error, :missing}\n"
        "    end\n"
        "  end\n"
        "\n"
        "  @spec load(map()) :: {:ok, integer()}\n"
        "  def load(m) do\n"
        "    with {:ok, a} <- Map.fetch(m, :a) do\n"
        "      {:ok, a}\n"
        "    else\n"
        "      :error -> {:error, :missing}\n"
        "    end\n"
        "  end\n"
    )
    found = findings_for(SPEC_NO_ERROR, source)
    assert lines_of(found) == [3, 11]
    assert "(line 7)" in found[0].message
    assert "(line 16)" in found[1].message


def test_error_returned_from_one_clause_of_a_multi_clause_function():
    source = module(
        "  @spec place(map()) :: {:ok, map()}\n"
        "  def place(%{items: []}), do: {:error, :empty}\n"
        "  def place(order), do: {:ok, order}\n"
    )
    assert lines_of(findings_for(SPEC_NO_ERROR, source)) == [3]


def test_specs_with_an_error_variant_pass():
    source = module(
        "  @spec a(map()) :: {:ok, map()} | {:error, atom()}\n"
        "  def a(m), do: if(m == %{}, do: {:error, :empty}, else: {:ok, m})\n"
        "  @spec b(map()) :: :ok | :error\n"
        "  def b(m), do: if(m == %{}, do: {:error, :empty}, else: :ok)\n"
        "  @spec c(map()) :: {:ok, map()} | {:error, Ecto.Changeset.t()}\n"
        "  def c(m), do: if(m == %{}, do: {:error, m}, else: {:ok, m})\n"
    )
    assert findings_for(SPEC_NO_ERROR, source) == []


def test_user_types_in_the_return_are_not_judged():
    source = module(
        "  @spec a(map()) :: result()\n"
        "  def a(m), do: if(m == %{}, do: {:error, :empty}, else: {:ok, m})\n"
        "  @spec b(map()) :: Shop.result(map())\n"
        "  def b(m), do: if(m == %{}, do: {:error, :empty}, else: {:ok, m})\n"
        "  @spec c(map()) :: {:ok, outcome()}\n"
        "  def c(m), do: if(m == %{}, do: {:error, :empty}, else: {:ok, m})\n"
    )
    assert findings_for(SPEC_NO_ERROR, source) == []


def test_error_only_inside_an_anonymous_function_or_a_pipe_is_not_a_return():
    source = module(
        "  @spec a(list()) :: {:ok, list()}\n"
        "  def a(l) do\n"
        "    Enum.map(l, fn x -> {:error, x} end)\n"
        "    {:ok, l}\n"
        "  end\n"
        "  @spec b(map()) :: {:ok, integer()}\n"
        "  def b(m) do\n"
        "    m |> Map.fetch(:a) |> case do\n"
        "      {:ok, a} -> {:ok, a}\n"
        "      :error -> {:error, :missing}\n"
        "    end\n"
        "  end\n"
    )
    assert findings_for(SPEC_NO_ERROR, source) == []


def test_error_variant_with_when_spec_and_default_arities():
    source = module(
        "  @spec wrap(a) :: {:ok, a} when a: integer()\n"
        "  def wrap(a) when a < 0, do: {:error, a}\n"
        "  def wrap(a), do: {:ok, a}\n"
        "  @spec get(atom()) :: {:ok, atom()}\n"
        "  @spec get(atom(), keyword()) :: {:ok, atom()} | {:error, :timeout}\n"
        "  def get(a, opts \\\\ []), do: if(opts[:t], do: {:error, :timeout}, else: {:ok, a})\n"
    )
    found = findings_for(SPEC_NO_ERROR, source)
    assert [(f.line, f.message.split(" ")[0]) for f in found] == [(3, "wrap/1"), (6, "get/1")]


def test_private_functions_are_not_judged_for_error_variants():
    source = module(
        "  @spec p(map()) :: {:ok, map()}\n"
        "  defp p(m), do: if(m, do: {:error, :x}, else: {:ok, m})\n"
    )
    assert findings_for(SPEC_NO_ERROR, source) == []


def test_error_variant_suppressed_by_file_glob():
    source = "# ladder:disable-file L4.* -- legacy module, typed in #123\n" + module(
        "  @spec f(map()) :: {:ok, map()}\n  def f(_m), do: {:error, :nope}\n"
    )
    assert findings_for(SPEC_NO_ERROR, source) == []


# --- L4.struct-type-missing --------------------------------------------------------------


def test_defstruct_without_type_t():
    source = module("  defstruct [:sku, :price]\n", name="Shop.Item")
    assert messages(STRUCT_TYPE, source) == [
        (3, "Shop.Item defines a struct (defstruct) but no `@type t`")
    ]


def test_ecto_schema_and_embedded_schema_without_type_t():
    schema = module(
        '  use Ecto.Schema\n  schema "items" do\n    field :sku, :string\n  end\n',
        name="Shop.Item",
    )
    [finding] = findings_for(STRUCT_TYPE, schema)
    assert (finding.line, finding.end_line) == (4, 4)
    assert "(schema)" in finding.message
    embedded = module(
        "  use Ecto.Schema\n  embedded_schema do\n    field :sku, :string\n  end\n",
        name="Shop.Line",
    )
    assert messages(STRUCT_TYPE, embedded) == [
        (4, "Shop.Line defines a struct (embedded_schema) but no `@type t`")
    ]


def test_type_t_with_parameters_and_opaque_t_count():
    parametrised = module(
        "  @type t(a) :: %__MODULE__{value: a}\n  defstruct [:value]\n", name="Shop.Box"
    )
    opaque = module("  @opaque t :: %__MODULE__{}\n  defstruct [:value]\n", name="Shop.Box")
    after = module(
        '  use Ecto.Schema\n  schema "boxes" do\n  end\n  @type t :: %__MODULE__{}\n',
        name="Shop.Box",
    )
    for source in (parametrised, opaque, after):
        assert findings_for(STRUCT_TYPE, source) == [], source


def test_private_typep_t_does_not_count():
    source = module("  @typep t :: %__MODULE__{}\n  defstruct [:value]\n", name="Shop.Box")
    assert lines_of(findings_for(STRUCT_TYPE, source)) == [4]


def test_a_type_with_another_name_does_not_count():
    source = module("  @type item :: %__MODULE__{}\n  defstruct [:value]\n", name="Shop.Box")
    assert lines_of(findings_for(STRUCT_TYPE, source)) == [4]


def test_struct_type_is_per_module():
    source = (
        "defmodule Shop.Order do\n"
        '  @moduledoc "Doc."\n'
        "  @type t :: %__MODULE__{}\n"
        "  defstruct [:id]\n"
        "\n"
        "  defmodule Line do\n"
        '    @moduledoc "Doc."\n'
        "    defstruct [:sku]\n"
        "  end\n"
        "end\n"
    )
    assert messages(STRUCT_TYPE, source) == [
        (8, "Shop.Order.Line defines a struct (defstruct) but no `@type t`")
    ]


def test_a_module_without_a_struct_needs_no_type_t():
    source = module("  @spec f :: :ok\n  def f, do: :ok\n  def schema, do: :ok\n")
    assert findings_for(STRUCT_TYPE, source) == []


def test_struct_type_suppressed_with_credo_comment_does_not_apply():
    """The rule overlaps no credo check, so a credo comment must not hide it."""
    source = "# credo:disable-for-this-file\n" + module("  defstruct [:a]\n", name="Shop.A")
    assert lines_of(findings_for(STRUCT_TYPE, source)) == [4]
