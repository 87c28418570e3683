"""L7 documented: @moduledoc, @doc and iex> examples (checks/l7_docs.py), and the hygiene of
suppression comments (checks/l7_suppressions.py)."""

from __future__ import annotations

import pytest

from checks.config import Config, RuleSetting
from checks.context import SourceFile
from checks.l7_docs import DOC_EXAMPLE_MISSING, DOC_MISSING, MODULEDOC_MISSING
from checks.l7_suppressions import REASON_MISSING, UNKNOWN_RULE
from checks.ladder import review
from checks.model import Severity
from checks.sources import prepare
from checks.suppress import UNSUPPRESSIBLE
from tests.conftest import findings_for, lines_of


def messages(rule, source, **kwargs):
    return [(f.line, f.message) for f in findings_for(rule, source, **kwargs)]


def documented(body: str, name: str = "Shop.Accounts") -> str:
    return f'defmodule {name} do\n  @moduledoc "Doc."\n{body}end\n'


def moduledoc_config(**params) -> Config:
    return Config(rules={"L7.moduledoc-missing": RuleSetting(params=params)})


# --- L7.moduledoc-missing ----------------------------------------------------------------


def test_module_without_moduledoc():
    source = "defmodule Shop.Accounts do\n  def f, do: 1\nend\n"
    [finding] = findings_for(MODULEDOC_MISSING, source)
    assert (finding.line, finding.end_line, finding.column) == (1, 1, 1)
    assert finding.message == "module Shop.Accounts has no @moduledoc"
    assert finding.severity is Severity.WARNING
    assert finding.fix is not None
    assert "@moduledoc false" in finding.fix


def test_moduledoc_string_heredoc_sigil_and_false_are_all_fine():
    sources = [
        'defmodule A do\n  @moduledoc "Why A exists."\nend\n',
        'defmodule A do\n  @moduledoc """\n  Why A exists.\n  """\nend\n',
        'defmodule A do\n  @moduledoc ~S"""\n  Why \\A exists.\n  """\nend\n',
        "defmodule A do\n  @moduledoc false\nend\n",
        'defmodule A do\n  @moduledoc File.read!("README.md")\nend\n',
    ]
    for source in sources:
        assert findings_for(MODULEDOC_MISSING, source) == [], source


def test_empty_moduledoc_is_reported_at_the_attribute():
    assert messages(MODULEDOC_MISSING, 'defmodule A do\n  @moduledoc ""\nend\n') == [
        (2, "module A has an empty @moduledoc")
    ]
    heredoc = 'defmodule A do\n  @moduledoc """\n\n  """\nend\n'
    [finding] = findings_for(MODULEDOC_MISSING, heredoc)
    assert (finding.line, finding.end_line) == (2, 4)


def test_nested_modules_are_judged_on_their_own():
    source = (
        "defmodule Shop do\n"
        '  @moduledoc "Doc."\n'
        "  defmodule Cart do\n"
        "    defmodule Line do\n"
        '      @moduledoc "Doc."\n'
        "    end\n"
        "  end\n"
        "end\n"
        "defmodule Other do\n"
        "  defmodule Inner do\n"
        "    @moduledoc false\n"
        "  end\n"
        "end\n"
    )
    assert messages(MODULEDOC_MISSING, source) == [
        (3, "module Shop.Cart has no @moduledoc"),
        (9, "module Other has no @moduledoc"),
    ]


@pytest.mark.parametrize(
    "name",
    [
        "ShopWeb.PageController",
        "ShopWeb.Endpoint",
        "ShopWeb.UserLive",
        "ShopWeb.UserLive.Index",
        "Shop.Repo",
        "ShopWeb.Router",
        "ShopWeb.UserSocket",
        "ShopWeb.ErrorView",
        "ShopWeb.PageHTML",
        "ShopWeb.ErrorJSON",
        "ShopWeb.Telemetry",
        "ShopWeb.Layouts",
        "Shop.Mailer",
    ],
)
def test_credo_ignore_names_are_the_default(name):
    assert findings_for(MODULEDOC_MISSING, f"defmodule {name} do\nend\n") == []


def test_modules_nested_in_an_ignored_module_are_ignored_too():
    source = "defmodule ShopWeb.PageController do\n  defmodule Params do\n  end\nend\n"
    assert findings_for(MODULEDOC_MISSING, source) == []


@pytest.mark.parametrize(
    "used",
    ["Ecto.Schema", "Phoenix.LiveView", "Shop.Web, :controller", "Credo.Check, category: :x"],
)
def test_credo_ignore_modules_using_are_the_default(used):
    source = f"defmodule Shop.Thing do\n  use {used}\nend\n"
    assert findings_for(MODULEDOC_MISSING, source) == []


def test_other_uses_do_not_exempt():
    source = "defmodule Shop.Worker do\n  use GenServer\n  use ShopWeb, :html\nend\n"
    assert lines_of(findings_for(MODULEDOC_MISSING, source)) == [1]


def test_exceptions_and_quoted_templates_are_not_asked():
    source = (
        "defmodule Shop.NotFound do\n"
        "  defexception [:message]\n"
        "end\n"
        "defmodule Shop.Macros do\n"
        '  @moduledoc "Doc."\n'
        "  defmacro __using__(_) do\n"
        "    quote do\n"
        "      defmodule Generated do\n"
        "      end\n"
        "    end\n"
        "  end\n"
        "end\n"
    )
    assert findings_for(MODULEDOC_MISSING, source) == []


def test_ignore_lists_are_configurable():
    controller = "defmodule ShopWeb.PageController do\nend\n"
    assert lines_of(
        findings_for(MODULEDOC_MISSING, controller, config=moduledoc_config(ignore_names=[]))
    ) == [1]
    custom = moduledoc_config(ignore_names=[r"\.Fixtures$"], ignore_modules_using=["Oban"])
    assert findings_for(MODULEDOC_MISSING, "defmodule A.Fixtures do\nend\n", config=custom) == []
    worker = "defmodule A.Job do\n  use Oban.Worker, queue: :default\nend\n"
    assert findings_for(MODULEDOC_MISSING, worker, config=custom) == []
    # A plain entry of ignore_modules_using is a name contained in the used module (credo's
    # atom/string semantics); `/.../` makes it a regex.
    regex = moduledoc_config(ignore_modules_using=["/^Oban\\.Worker$/"])
    assert findings_for(MODULEDOC_MISSING, worker, config=regex) == []
    no_match = moduledoc_config(ignore_modules_using=["/^Oban$/"])
    assert lines_of(findings_for(MODULEDOC_MISSING, worker, config=no_match)) == [1]
    # A single string is accepted for ignore_names, as credo accepts one regex.
    single = moduledoc_config(ignore_names="Job$")
    assert findings_for(MODULEDOC_MISSING, worker, config=single) == []


def test_invalid_ignore_regex_is_a_clear_crash_of_the_rule():
    config = moduledoc_config(ignore_names=["(unclosed"])
    source = prepare("lib/a.ex", b"defmodule A do\nend\n", config)
    assert isinstance(source, SourceFile)
    outcome = review([source], config, rules=[MODULEDOC_MISSING], jobs=1)
    assert (
        "ignore_names entry '(unclosed' is not a valid regex"
        in (outcome.crashed["L7.moduledoc-missing"])
    )


@pytest.mark.parametrize(
    "path", ["lib/shop.exs", "test/support/factory.ex", "test/shop_test.exs", "priv/seeds.exs"]
)
def test_moduledoc_is_only_asked_in_lib(path):
    assert findings_for(MODULEDOC_MISSING, "defmodule A do\nend\n", path=path) == []


def test_moduledoc_suppressed_by_credo_file_comment_and_ladder_comment():
    credo = (
        "# credo:disable-for-this-file Credo.Check.Readability.ModuleDoc\ndefmodule A do\nend\n"
    )
    assert findings_for(MODULEDOC_MISSING, credo) == []
    other_check = (
        "# credo:disable-for-this-file Credo.Check.Readability.Specs\ndefmodule A do\nend\n"
    )
    assert lines_of(findings_for(MODULEDOC_MISSING, other_check)) == [2]
    ladder = (
        "# ladder:disable-next-line L7.moduledoc-missing -- generated by protobuf\n"
        "defmodule A do\nend\n"
    )
    assert findings_for(MODULEDOC_MISSING, ladder) == []


def test_moduledoc_skips_files_with_syntax_errors():
    assert findings_for(MODULEDOC_MISSING, "defmodule A do\n  def f(x), do: x +* 1\nend\n") == []


# --- L7.doc-missing ----------------------------------------------------------------------


def test_public_function_without_doc():
    source = documented("  def get(id), do: id\n  defp hidden(x), do: x\n")
    [finding] = findings_for(DOC_MISSING, source)
    assert (finding.line, finding.end_line, finding.severity) == (3, 3, Severity.WARNING)
    assert finding.message == "public def get/1 has no @doc"


def test_one_finding_per_function_name_at_its_first_clause():
    source = documented(
        "  def kind(:a), do: 1\n"
        "  def kind(:b), do: 2\n"
        "  def other, do: 3\n"
        "  def kind(a, b), do: {a, b}\n"
        "  def opts(a, b \\\\ []), do: {a, b}\n"
    )
    assert messages(DOC_MISSING, source) == [
        (3, "public def kind/1 has no @doc"),
        (5, "public def other/0 has no @doc"),
        (7, "public def opts/1, opts/2 has no @doc"),
    ]


def test_doc_above_spec_and_doc_false_both_count():
    source = documented(
        '  @doc "Gets."\n'
        "  @spec get(integer()) :: integer()\n"
        "  def get(id), do: id\n"
        "  def get(id, _opts), do: id\n"
        "  @doc false\n"
        "  def internal(x), do: x\n"
        '  @doc since: "1.2.0"\n'
        "  def meta(x), do: x\n"
    )
    assert findings_for(DOC_MISSING, source) == []


def test_a_documented_group_covers_a_later_group_of_the_same_arity():
    source = documented(
        '  @doc "Kind."\n  def kind(:a), do: 1\n  def other, do: 2\n  def kind(:b), do: 3\n'
    )
    assert messages(DOC_MISSING, source) == [(5, "public def other/0 has no @doc")]


def test_impl_callbacks_are_exempt_but_impl_false_is_not():
    source = documented(
        "  @impl true\n"
        "  def init(s), do: {:ok, s}\n"
        "  @impl GenServer\n"
        "  def handle_call(:get, _from, s), do: {:reply, s, s}\n"
        "  @impl false\n"
        "  def helper(x), do: x\n"
    )
    assert messages(DOC_MISSING, source) == [(8, "public def helper/1 has no @doc")]


def test_macros_and_guards_are_covered_but_underscore_names_are_hidden():
    source = documented(
        "  defmacro my_if(c, b), do: {c, b}\n"
        "  defguard is_money(x) when is_integer(x)\n"
        "  defmacro __using__(_), do: nil\n"
        "  def __schema__(:fields), do: []\n"
        "  defmacrop private_macro(x), do: x\n"
        "  defdelegate fetch(id), to: Shop.Repo\n"
    )
    assert messages(DOC_MISSING, source) == [
        (3, "public defmacro my_if/2 has no @doc"),
        (4, "public defguard is_money/1 has no @doc"),
    ]


def test_hidden_and_ignored_modules_need_no_function_docs():
    hidden = "defmodule Shop.Internal do\n  @moduledoc false\n  def f, do: 1\nend\n"
    controller = "defmodule ShopWeb.PageController do\n  def index(conn, _), do: conn\nend\n"
    schema = "defmodule Shop.User do\n  use Ecto.Schema\n  def changeset(u, _), do: u\nend\n"
    nested = (
        "defmodule ShopWeb.PageController do\n"
        "  defmodule Helper do\n"
        "    def f, do: 1\n"
        "  end\n"
        "end\n"
    )
    for source in (hidden, controller, schema, nested):
        assert findings_for(DOC_MISSING, source) == [], source


def test_undocumented_module_still_needs_function_docs():
    source = "defmodule Shop.Cart do\n  def total(c), do: c\nend\n"
    assert lines_of(findings_for(DOC_MISSING, source)) == [2]


def test_a_hidden_parent_does_not_hide_its_nested_modules():
    source = (
        "defmodule Shop do\n"
        "  @moduledoc false\n"
        "  def a, do: 1\n"
        "  defmodule Api do\n"
        '    @moduledoc "Doc."\n'
        "    def b, do: 2\n"
        "  end\n"
        "end\n"
    )
    assert messages(DOC_MISSING, source) == [(6, "public def b/0 has no @doc")]


def test_ignore_params_of_the_moduledoc_rule_apply_to_doc_missing():
    source = "defmodule ShopWeb.PageController do\n  def index(conn, _), do: conn\nend\n"
    config = moduledoc_config(ignore_names=[])
    assert lines_of(findings_for(DOC_MISSING, source, config=config)) == [2]


def test_doc_missing_only_in_lib_and_suppressible():
    source = documented("  def f, do: 1\n")
    assert findings_for(DOC_MISSING, source, path="test/support/conn_case.ex") == []
    suppressed = documented(
        "  # ladder:disable-next-line L7.doc-missing -- wrapper generated per locale\n"
        "  def f, do: 1\n"
        "  def g, do: 1\n"
    )
    assert lines_of(findings_for(DOC_MISSING, suppressed)) == [5]


# --- L7.doc-example-missing --------------------------------------------------------------


def test_doc_without_example_is_a_notice_at_the_doc():
    source = documented('  @doc """\n  Adds.\n  """\n  def add(a, b), do: a + b\n')
    [finding] = findings_for(DOC_EXAMPLE_MISSING, source)
    assert (finding.line, finding.end_line) == (3, 5)
    assert finding.severity is Severity.NOTICE
    assert finding.message == "@doc of add/2 has no `iex>` example"


def test_docs_with_examples_pass_in_strings_heredocs_and_sigils():
    source = documented(
        '  @doc "iex> Shop.Accounts.a()"\n'
        "  def a, do: 1\n"
        '  @doc """\n'
        "  B.\n"
        "\n"
        "      iex> Shop.Accounts.b()\n"
        "      2\n"
        '  """\n'
        "  def b, do: 2\n"
        '  @doc ~S"""\n'
        "  C with \\n.\n"
        "\n"
        "      iex> Shop.Accounts.c()\n"
        "      3\n"
        '  """\n'
        "  def c, do: 3\n"
    )
    assert findings_for(DOC_EXAMPLE_MISSING, source) == []


def test_sigil_doc_without_example_and_interpolated_doc_are_judged():
    source = documented(
        '  @doc ~S"""\n  C.\n  """\n  def c, do: 3\n  @doc "D #{@x}."\n  def d, do: 4\n'
    )
    assert messages(DOC_EXAMPLE_MISSING, source) == [
        (3, "@doc of c/0 has no `iex>` example"),
        (7, "@doc of d/0 has no `iex>` example"),
    ]


def test_docs_that_are_not_text_are_not_judged():
    source = documented(
        "  @doc false\n"
        "  def a, do: 1\n"
        '  @doc since: "1.0"\n'
        "  def b, do: 2\n"
        '  @doc File.read!("docs/c.md")\n'
        "  def c, do: 3\n"
        "  def undocumented, do: 4\n"
        '  @doc "Private docs are a compiler warning, not ours."\n'
        "  defp p, do: 5\n"
    )
    assert findings_for(DOC_EXAMPLE_MISSING, source) == []


def test_example_rule_skips_callbacks_and_hidden_modules():
    source = documented('  @doc "Init."\n  @impl true\n  def init(s), do: {:ok, s}\n')
    assert findings_for(DOC_EXAMPLE_MISSING, source) == []
    hidden = 'defmodule A do\n  @moduledoc false\n  @doc "F."\n  def f, do: 1\nend\n'
    assert findings_for(DOC_EXAMPLE_MISSING, hidden) == []


def test_example_rule_suppressed_and_severity_configurable():
    suppressed = documented(
        "  # ladder:disable-next-line L7.doc-example-missing -- sends mail, no doctest\n"
        '  @doc "Sends."\n'
        "  def send, do: :ok\n"
    )
    assert findings_for(DOC_EXAMPLE_MISSING, suppressed) == []
    config = Config(rules={"L7.doc-example-missing": RuleSetting(severity=Severity.WARNING)})
    source = documented('  @doc "Sends."\n  def send, do: :ok\n')
    [finding] = findings_for(DOC_EXAMPLE_MISSING, source, config=config)
    assert finding.severity is Severity.WARNING


# --- L7.suppression-reason-missing -------------------------------------------------------


def test_ladder_suppression_without_reason():
    source = documented(
        "  # ladder:disable-next-line L4.spec-missing\n"
        "  def a, do: 1\n"
        "  # ladder:disable-next-line L4.spec-missing --\n"
        "  def b, do: 2\n"
        "  def c, do: 3 # ladder:disable-line\n"
        "  # ladder:disable-next-line L4.spec-missing -- generated\n"
        "  def d, do: 4\n"
    )
    found = findings_for(REASON_MISSING, source)
    assert [(f.line, f.column, f.message) for f in found] == [
        (3, 3, "suppression of L4.spec-missing gives no reason"),
        (5, 3, "suppression of L4.spec-missing gives no reason"),
        (7, 16, "suppression of every rule gives no reason"),
    ]
    assert {f.severity for f in found} == {Severity.NOTICE}


def test_reason_rule_ignores_other_tools_and_strings():
    source = documented(
        "  # credo:disable-for-next-line\n"
        "  def a, do: 1\n"
        '  # sobelow_skip ["SQL.Query"]\n'
        "  def b, do: 2\n"
        '  def c, do: "# ladder:disable-line L4.spec-missing"\n'
    )
    assert findings_for(REASON_MISSING, source) == []


def test_suppression_reports_cannot_be_suppressed():
    assert {"L7.suppression-reason-missing", "L7.suppression-unknown-rule"} <= UNSUPPRESSIBLE
    source = (
        "# ladder:disable-file L7.* -- this file is generated\n"
        "# credo:disable-for-this-file\n"
        + documented("  # ladder:disable-next-line L4.spec-missing\n  def a, do: 1\n")
    )
    assert lines_of(findings_for(REASON_MISSING, source)) == [5]


def test_suppression_rules_run_on_broken_files_and_every_elixir_kind():
    broken = "# ladder:disable-file L4.nope\ndefmodule A do\n  def f(x), do: x +* 1\nend\n"
    assert lines_of(findings_for(REASON_MISSING, broken)) == [1]
    assert lines_of(findings_for(UNKNOWN_RULE, broken)) == [1]
    script = "# ladder:disable-line L2.io-inspect\nIO.inspect(1)\n"
    for path in ("test/a_test.exs", "config/config.exs", "priv/repo/migrations/1_a.exs"):
        assert lines_of(findings_for(REASON_MISSING, script, path=path)) == [1], path


# --- L7.suppression-unknown-rule ---------------------------------------------------------


def test_misspelt_rule_id_is_reported_with_a_suggestion():
    source = documented(
        "  # ladder:disable-next-line L4.spec-mising -- generated\n  def a, do: 1\n"
    )
    [finding] = findings_for(UNKNOWN_RULE, source)
    assert (finding.line, finding.severity) == (3, Severity.NOTICE)
    assert finding.message == (
        "unknown rule in suppression: `L4.spec-mising` is not a rule "
        "(did you mean L4.spec-missing?)"
    )


def test_globs_must_match_a_rule_and_every_unknown_name_is_listed():
    source = documented(
        "  # ladder:disable-next-line L4.*, L9.*, Credo.Check.Readability.Specs -- x\n"
        "  def a, do: 1\n"
    )
    [finding] = findings_for(UNKNOWN_RULE, source)
    assert finding.message == (
        "unknown rule in suppression: `L9.*` matches no rule; "
        "`Credo.Check.Readability.Specs` is not a rule"
    )


def test_known_ids_globs_and_bare_suppressions_are_fine():
    source = documented(
        "  # ladder:disable-next-line L4.spec-missing, L7.doc-* -- generated\n"
        "  def a, do: 1\n"
        "  def b, do: 2 # ladder:disable-line -- everything, generated\n"
        "  # credo:disable-for-next-line Credo.Check.Nope\n"
        "  def c, do: 3\n"
    )
    assert findings_for(UNKNOWN_RULE, source) == []


def test_rule_ids_are_case_sensitive():
    source = "# ladder:disable-file l4.spec-missing -- legacy\n" + documented("")
    assert messages(UNKNOWN_RULE, source) == [
        (
            1,
            "unknown rule in suppression: `l4.spec-missing` is not a rule "
            "(did you mean L4.spec-missing?)",
        )
    ]
