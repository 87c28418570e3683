"""checks/formatter.py: the static config readers, version requirements and the Elixir helper.

The helper tests run the real `elixir` (skipped without it): formatter parity is only worth
anything if it matches what Elixir itself does.
"""

from __future__ import annotations

import os
import signal
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from checks import formatter
from checks.formatter import (
    DEPS_LOCALS_WITHOUT_PARENS,
    ElixirHelper,
    FormatResult,
    FormatterConfig,
    FormatterOptions,
    project_needs_newer_elixir,
    read_formatter_exs,
    required_elixir,
    version_satisfies,
)

# --- .formatter.exs ------------------------------------------------------------------------

PHOENIX_ROOT = """\
[
  import_deps: [:ecto, :ecto_sql, :phoenix],
  subdirectories: ["priv/*/migrations"],
  plugins: [Phoenix.LiveView.HTMLFormatter],
  inputs: ["*.{heex,ex,exs}", "{config,lib,test}/**/*.{heex,ex,exs}", "priv/*/seeds.exs"]
]
"""

PHOENIX_MIGRATIONS = """\
[
  import_deps: [:ecto_sql],
  inputs: ["*.exs"]
]
"""

# The shape deps use to export their DSL: a bound list reused twice, plus `++` and `:*`.
DEP_STYLE = """\
# Used by "mix format"
locals_without_parens = [
  # Query
  from: 2,
  field: 1,
  field: 2
]

extra = [{:schema, :*}]

[
  line_length: 120,
  locals_without_parens: locals_without_parens ++ extra,
  export: [locals_without_parens: locals_without_parens]
]
"""


def test_reads_the_phoenix_default() -> None:
    config = read_formatter_exs(PHOENIX_ROOT)
    assert config == FormatterConfig(
        import_deps=("ecto", "ecto_sql", "phoenix"),
        plugins=("Phoenix.LiveView.HTMLFormatter",),
        inputs=("*.{heex,ex,exs}", "{config,lib,test}/**/*.{heex,ex,exs}", "priv/*/seeds.exs"),
        subdirectories=("priv/*/migrations",),
    )
    options = config.options()
    assert options.line_length == 98
    assert ("create", 1) in options.locals_without_parens  # ecto_sql
    assert ("field", 3) in options.locals_without_parens  # ecto
    assert ("pipe_through", 1) in options.locals_without_parens  # phoenix
    assert len(set(options.locals_without_parens)) == len(options.locals_without_parens)


def test_reads_the_migrations_subdirectory() -> None:
    config = read_formatter_exs(PHOENIX_MIGRATIONS)
    assert config.import_deps == ("ecto_sql",)
    assert config.inputs == ("*.exs",)
    assert config.problems == ()
    assert config.options().locals_without_parens == DEPS_LOCALS_WITHOUT_PARENS["ecto_sql"]


def test_resolves_top_level_bindings_and_concatenation() -> None:
    config = read_formatter_exs(DEP_STYLE)
    assert config.line_length == 120
    assert config.locals_without_parens == (
        ("from", 2),
        ("field", 1),
        ("field", 2),
        ("schema", None),
    )
    assert config.problems == ()
    assert config.options() == FormatterOptions(
        line_length=120, locals_without_parens=config.locals_without_parens
    )


def test_non_literal_line_length_is_a_problem_not_a_guess() -> None:
    config = read_formatter_exs("[line_length: some_fun(), import_deps: [:phoenix]]\n")
    assert config.line_length is None
    assert config.import_deps == ("phoenix",)  # the rest of the list is still read
    assert config.problems == ("line_length: not a literal: some_fun()",)
    assert config.options().line_length == 98


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("", "empty .formatter.exs"),
        ('Path.wildcard("*.exs")\n', "the configuration is not a keyword list"),
        ("if true, do: [], else: []\n", "the configuration is not a keyword list"),
        ("deps = Mix.Project.deps_paths()\n[import_deps: deps]\n", "import_deps: not a literal"),
        ('[line_length: "98"]\n', "line_length: not a positive integer"),
        ("[import_deps: :ecto]\n", "import_deps: not a list"),
        ("[force_do_end_blocks: true]\n", "force_do_end_blocks: not applied by the bot"),
        ("[line_length: 98\n", "syntax error in .formatter.exs"),
    ],
)
def test_records_what_it_cannot_read(source: str, problem: str) -> None:
    problems = read_formatter_exs(source).problems
    assert any(p.startswith(problem) for p in problems), problems


def test_keys_that_do_not_affect_formatting_are_not_problems() -> None:
    config = read_formatter_exs("[export: [locals_without_parens: f()], heex_line_length: 300]")
    assert config.problems == ()


def test_unknown_import_deps_are_listed() -> None:
    config = read_formatter_exs("[import_deps: [:ecto, :oban, :absinthe]]")
    assert config.unknown_deps == ("oban", "absinthe")


def test_dep_tables_expand_arity_ranges() -> None:
    ecto_sql = DEPS_LOCALS_WITHOUT_PARENS["ecto_sql"]
    assert {("add", 2), ("add", 3), ("remove", 1), ("remove", 2), ("remove", 3)} <= set(ecto_sql)
    assert ("add", 4) not in ecto_sql
    assert set(DEPS_LOCALS_WITHOUT_PARENS) == {
        "ecto",
        "ecto_sql",
        "phoenix",
        "phoenix_live_view",
        "plug",
    }


@pytest.mark.parametrize(
    "options",
    [
        {"line_length": 0},
        {"line_length": 70_000},
        {"locals_without_parens": (("field", 255),)},
        {"locals_without_parens": (("", 1),)},
    ],
)
def test_options_that_do_not_fit_the_wire_are_rejected(options: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"line_length|name|arity"):
        FormatterOptions(**options)  # type: ignore[arg-type]


# --- mix.exs and version requirements --------------------------------------------------------

MIX_EXS = """\
defmodule Shop.MixProject do
  use Mix.Project

  def project do
    [
      app: :shop,
      version: "0.1.0",
      elixir: "~> 1.15",
      elixirc_paths: elixirc_paths(Mix.env()),
      start_permanent: Mix.env() == :prod,
      aliases: aliases(),
      deps: deps()
    ]
  end

  def application do
    [mod: {Shop.Application, []}, extra_applications: [:logger, :runtime_tools]]
  end

  defp elixirc_paths(:test), do: ["lib", "test/support"]
  defp elixirc_paths(_), do: ["lib"]

  defp deps do
    [
      {:phoenix, "~> 1.7.10"},
      {:ecto_sql, "~> 3.10"},
      {:postgrex, ">= 0.0.0"}
    ]
  end

  defp aliases do
    [setup: ["deps.get", "ecto.setup"]]
  end
end
"""


def test_required_elixir_reads_the_project_keyword() -> None:
    assert required_elixir(MIX_EXS) == "~> 1.15"


def test_required_elixir_follows_a_module_attribute() -> None:
    source = MIX_EXS.replace('elixir: "~> 1.15"', "elixir: @elixir_requirement").replace(
        "use Mix.Project\n", 'use Mix.Project\n\n  @elixir_requirement "~> 1.16"\n'
    )
    assert required_elixir(source) == "~> 1.16"


def test_required_elixir_prefers_def_project() -> None:
    source = MIX_EXS.replace(
        "def application do\n    [",
        'def application do\n    [elixir: "~> 9.0", ',
    )
    assert required_elixir(source) == "~> 1.15"


@pytest.mark.parametrize(
    "source",
    [
        MIX_EXS.replace('elixir: "~> 1.15",\n', ""),
        MIX_EXS.replace('"~> 1.15"', 'System.get_env("ELIXIR_REQ", "~> 1.15")'),
        MIX_EXS.replace('"~> 1.15"', "@undefined_attribute"),
    ],
)
def test_required_elixir_is_none_when_absent_or_computed(source: str) -> None:
    assert required_elixir(source) is None


@pytest.mark.parametrize(
    ("version", "requirement", "expected"),
    [
        ("1.15.0", "~> 1.15", True),
        ("1.17.3", "~> 1.15", True),
        ("1.14.5", "~> 1.15", False),
        ("2.0.0", "~> 1.15", False),
        ("1.15.3", "~> 1.15.2", True),
        ("1.16.0", "~> 1.15.2", False),
        ("1.16.0-rc.0", "~> 1.15", True),  # Version.match?/2 allows pre-releases by default
        ("2.0.0-rc.0", "~> 1.15", False),  # ...but not of the excluded upper bound
        ("1.15.0-rc.1", "~> 1.15", False),  # a pre-release is below its release
        ("1.14.0", ">= 1.14.0 and < 1.16.0", True),
        ("1.16.0", ">= 1.14.0 and < 1.16.0", False),
        ("1.12.0", "~> 1.11.0 or ~> 1.12.0", True),
        ("1.13.0", "~> 1.11.0 or ~> 1.12.0", False),
        ("1.14.0", "== 1.14.0", True),
        ("1.14.0", "1.14.0", True),
        ("1.14.1", "!= 1.14.0", True),
        ("1.14.0", ">1.13.0", True),
        ("1.14.0", "<= 1.13.9", False),
        ("1.0.0-rc.10", "> 1.0.0-rc.2", True),  # numeric identifiers compare as numbers
        ("1.0.0-beta", "> 1.0.0-alpha.1", True),
        ("1.0.0-alpha", "< 1.0.0-alpha.1", True),
        ("1.18.0+build.1", "~> 1.18", True),
    ],
)
def test_version_satisfies(version: str, requirement: str, expected: bool) -> None:
    assert version_satisfies(version, requirement) is expected


@pytest.mark.parametrize(
    ("version", "requirement"),
    [("1.14", "~>"), ("1.14.0", "~> 1.x"), ("1.14.0", "~> 1.15 and"), ("x", "~> 1.0")],
)
def test_malformed_versions_raise(version: str, requirement: str) -> None:
    with pytest.raises(ValueError, match="invalid"):
        version_satisfies(version, requirement)


@pytest.mark.parametrize(
    ("helper", "requirement", "expected"),
    [
        ("1.14.0", "~> 1.15", True),
        ("1.14.0", "~> 1.14", False),
        ("1.14.0", "~> 1.10", False),
        ("1.14.0", ">= 1.15.0 and < 2.0.0", True),
        ("1.14.0", "~> 1.12 or ~> 1.16", False),
        ("1.14.0", "~> 1.15 or ~> 1.16", True),
        ("1.14.0", "== 1.13.4", False),  # older than the helper: not "needs newer"
        ("1.14.0", "> 1.14.0", True),
        ("1.14.0", "< 1.13.0", False),
        ("1.15.0-rc.0", "~> 1.15", True),
    ],
)
def test_project_needs_newer_elixir(helper: str, requirement: str, expected: bool) -> None:
    assert project_needs_newer_elixir(helper, requirement) is expected


# --- the helper process ------------------------------------------------------------------------

GOOD = """\
defmodule Shop.Accounts do
  @moduledoc "Accounts."

  def get_user(id) when is_integer(id) do
    case Repo.get(User, id) do
      nil -> {:error, :not_found}
      user -> {:ok, user}
    end
  end
end
"""

MIGRATION = """\
defmodule Shop.Repo.Migrations.AddRole do
  use Ecto.Migration

  def change do
    alter table(:users) do
      add :role, :string
    end

    create index(:users, [:role])
  end
end
"""

requires_elixir = pytest.mark.requires_elixir


def _big_module(functions: int) -> str:
    body = "\n".join(
        f"  def f{i}(a, b) do\n    Enum.map([a, b, {i}], fn x -> x * {i} + a end)\n  end\n"
        for i in range(functions)
    )
    return f"defmodule Big do\n{body}end\n"


@pytest.fixture(scope="module")
def helper() -> Iterator[ElixirHelper]:
    started = ElixirHelper.start()
    assert started is not None
    with started:
        yield started


def _fresh(*, timeout: float = 20.0, max_requests: int = 500) -> ElixirHelper:
    started = ElixirHelper.start(timeout=timeout, max_requests=max_requests)
    assert started is not None
    return started


def _pid(helper: ElixirHelper) -> int:
    assert helper._proc is not None
    return helper._proc.pid


@requires_elixir
def test_handshake_reports_the_version(helper: ElixirHelper) -> None:
    assert helper.alive
    assert helper.version.startswith("1.")
    assert version_satisfies(helper.version, ">= 1.14.0")


@requires_elixir
def test_formatted_file_round_trips(helper: ElixirHelper) -> None:
    [result] = helper.check_many([("lib/shop/accounts.ex", GOOD)], FormatterOptions())
    assert result == FormatResult(formatted=GOOD)


@requires_elixir
def test_badly_formatted_file_differs(helper: ElixirHelper) -> None:
    ugly = "defmodule A do\n  def f( x ),do: x\nend"
    [result] = helper.check_many([("a.ex", ugly)], FormatterOptions())
    assert result.formatted == "defmodule A do\n  def f(x), do: x\nend\n"
    assert result.syntax_error is None
    assert result.error is None


@requires_elixir
def test_line_length_is_honoured(helper: ElixirHelper) -> None:
    source = "x = [:aaaa, :bbbb, :cccc]\n"
    [wide] = helper.check_many([("a.ex", source)], FormatterOptions())
    [narrow] = helper.check_many([("a.ex", source)], FormatterOptions(line_length=10))
    assert wide.formatted == source
    assert narrow.formatted == "x = [\n  :aaaa,\n  :bbbb,\n  :cccc\n]\n"


@requires_elixir
@pytest.mark.parametrize(
    ("source", "line", "column", "message"),
    [
        (
            "defmodule A do\n  def f(x) do\n    x\nend\n",
            5,
            1,
            'missing terminator: end (for "do" starting at line 1)',
        ),
        (
            "defmodule A do\n  def f(x) do\n    foo(x\n  end\nend\n",
            4,
            3,
            'unexpected reserved word: end. The "(" at line 3 is missing terminator ")"',
        ),
        ("x +* 2\n", 1, 4, "syntax error before: '*'"),
        ('x = "abc\n', 2, 1, 'missing terminator: " (for string starting at line 1)'),
        ("a = 1 ++\n", 1, 9, "syntax error: expression is incomplete"),
        # The formatter alone accepts this (it parses without unescaping); the compiler does not.
        ('x = "\\u{FFFFFFF}"\n', 1, 6, "invalid Unicode escape character"),
        ("defmodule Héllo do\nend\n", 1, 11, 'invalid character "é" (code point U+00E9)'),
    ],
)
def test_syntax_errors(
    helper: ElixirHelper, source: str, line: int, column: int, message: str
) -> None:
    [result] = helper.check_many([("bad.ex", source)], FormatterOptions())
    assert result.formatted is None
    assert result.error is None
    assert result.syntax_error is not None
    assert (result.syntax_error.line, result.syntax_error.column) == (line, column)
    assert result.syntax_error.message.startswith(message)


@requires_elixir
def test_utf8_round_trips(helper: ElixirHelper) -> None:
    source = (
        "defmodule Hello do\n"
        '  def greet(prénom), do: "héllo ✓ 日本 🎉\\t\\"q\\" #{prénom}"\n'
        "end\n"
    )
    [result] = helper.check_many([("lib/héllo.ex", source)], FormatterOptions())
    assert result.formatted == source


@requires_elixir
def test_empty_file_formats_to_nothing(helper: ElixirHelper) -> None:
    [result] = helper.check_many([("empty.ex", "\n\n")], FormatterOptions())
    assert result.formatted == ""


@requires_elixir
def test_migration_needs_ecto_sql_locals(helper: ElixirHelper) -> None:
    with_deps = read_formatter_exs(PHOENIX_MIGRATIONS).options()
    [kept] = helper.check_many([("priv/repo/migrations/1_add_role.exs", MIGRATION)], with_deps)
    [rewritten] = helper.check_many([("1_add_role.exs", MIGRATION)], FormatterOptions())
    assert kept.formatted == MIGRATION
    assert rewritten.formatted is not None
    assert "add(:role, :string)" in rewritten.formatted
    assert "create(index(:users, [:role]))" in rewritten.formatted


@requires_elixir
def test_any_arity_locals(helper: ElixirHelper) -> None:
    source = "create index(:users, [:role])\n"
    options = FormatterOptions(locals_without_parens=(("create", None),))
    [result] = helper.check_many([("m.exs", source)], options)
    assert result.formatted == source


@requires_elixir
def test_batch_results_keep_request_order(helper: ElixirHelper) -> None:
    files = [(f"f{i}.ex", f"x{i}={i}" if i % 7 else f"x{i} = (\n") for i in range(50)]
    results = helper.check_many(files, FormatterOptions(), batch_size=16)
    assert len(results) == 50
    for i, result in enumerate(results):
        if i % 7:
            assert result.formatted == f"x{i} = {i}\n"
        else:
            assert result.syntax_error is not None, i


@requires_elixir
def test_empty_request_does_not_touch_the_helper(helper: ElixirHelper) -> None:
    assert helper.check_many([], FormatterOptions()) == []


@requires_elixir
def test_slow_file_times_out_inside_the_vm_and_the_vm_survives() -> None:
    with _fresh(timeout=0.2) as helper:
        pid = _pid(helper)
        results = helper.check_many(
            [("big.ex", _big_module(20_000)), ("small.ex", "x = 1\n")], FormatterOptions()
        )
        assert results == [FormatResult(error="timeout"), FormatResult(formatted="x = 1\n")]
        assert _pid(helper) == pid
        assert helper.check_many([("a.ex", "y=2")], FormatterOptions())[0].formatted == "y = 2\n"


@requires_elixir
def test_hung_vm_is_killed_and_respawned() -> None:
    with _fresh(timeout=0.5) as helper:
        pid = _pid(helper)
        os.killpg(pid, signal.SIGSTOP)  # the VM stops answering altogether
        results = helper.check_many([("a.ex", "x=1"), ("b.ex", "y=2")], FormatterOptions())
        assert results == [FormatResult(error="timeout")] * 2
        ok = helper.check_many([("a.ex", "x=1")], FormatterOptions())
        assert ok == [FormatResult(formatted="x = 1\n")]
        assert _pid(helper) != pid


@requires_elixir
def test_killed_vm_is_respawned_and_the_batch_retried() -> None:
    with _fresh() as helper:
        assert helper._proc is not None
        helper._proc.kill()
        helper._proc.wait()
        results = helper.check_many([("a.ex", "x=1")], FormatterOptions())
        assert results == [FormatResult(formatted="x = 1\n")]
        assert helper.alive


@requires_elixir
def test_recycles_after_max_requests() -> None:
    with _fresh(max_requests=2) as helper:
        pids = []
        for _ in range(3):
            assert helper.check_many([("a.ex", "x=1")], FormatterOptions())[0].formatted
            pids.append(_pid(helper))
        assert pids[0] == pids[1] != pids[2]


@requires_elixir
def test_recycles_when_the_atom_table_grows() -> None:
    with _fresh() as helper:
        pid = _pid(helper)
        helper.max_atoms = helper._atoms + 1_000
        leaky = "\n".join(f"unique_atom_{i} = {i}" for i in range(2_000)) + "\n"
        assert helper.check_many([("leak.ex", leaky)], FormatterOptions())[0].formatted == leaky
        assert _pid(helper) == pid
        helper.check_many([("a.ex", "x = 1\n")], FormatterOptions())
        assert _pid(helper) != pid


@requires_elixir
def test_a_helper_that_keeps_dying_reports_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Answers the handshake, then exits on the first real request, every time it is started.
    script = tmp_path / "dies.exs"
    script.write_text(
        ":ok = :io.setopts(:standard_io, binary: true, encoding: :latin1)\n"
        "<<len::32>> = IO.binread(:stdio, 4)\n"
        "_ = IO.binread(:stdio, len)\n"
        'json = ~s({"version": "1.14.0", "atom_count": 1, "schedulers": 1})\n'
        "IO.binwrite(:stdio, [<<byte_size(json)::32>>, json])\n"
        "IO.binread(:stdio, 4)\n"
        'IO.puts(:stderr, "going down")\n'
        "System.halt(3)\n"
    )
    monkeypatch.setattr(formatter, "HELPER_SCRIPT", script)
    with _fresh() as helper:
        [result] = helper.check_many([("a.ex", "x = 1\n")], FormatterOptions())
    assert result.error is not None
    assert result.error.startswith("crash: helper exited (exit status 3)")


@requires_elixir
def test_close_stops_the_vm() -> None:
    helper = _fresh()
    proc = helper._proc
    helper.close()
    assert not helper.alive
    assert proc is not None
    assert proc.returncode == 0  # it left on stdin EOF, not by being killed


def test_start_without_elixir_returns_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("checks.formatter.shutil.which", lambda _name: None)
    assert ElixirHelper.start() is None


def test_start_with_a_broken_executable_returns_none(tmp_path: Path) -> None:
    fake = tmp_path / "elixir"
    fake.write_text("#!/bin/sh\nexit 1\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    assert ElixirHelper.start(str(fake)) is None
