"""L1 formatted: the formatter rule (on hand-built helper results, and on the real helper when
`elixir` is installed), trailing whitespace, tab indentation, line length and encoding."""

from __future__ import annotations

import pytest

from checks.config import Config, RuleSetting
from checks.context import FileContext, SourceFile
from checks.formatter import ElixirHelper, ElixirSyntaxError, FormatResult, FormatterOptions
from checks.l1_encoding import NOT_UTF8
from checks.l1_format import FORMAT
from checks.l1_line_length import LINE_TOO_LONG
from checks.l1_support import format_hunks
from checks.l1_whitespace import TAB_INDENTATION, TRAILING_WHITESPACE
from checks.ladder import FormatterRun, review
from checks.model import Severity
from checks.sources import prepare
from tests.conftest import findings_for, lines_of

GOOD = "defmodule Shop.Cart do\n  def total(items), do: Enum.sum(items)\nend\n"


def formatted(text: str, result: str | None, **kwargs):
    """L1.format's findings for `text` given the formatter's output `result`."""
    ctx = FileContext.build(
        SourceFile("lib/shop/cart.ex", "lib", text),
        Config(**kwargs),
        format_result=FormatResult(formatted=result) if result is not None else None,
        line_length=98,
    )
    return list(FORMAT.check(ctx))


def spans(findings):
    return [(f.line, f.end_line) for f in findings]


# --- L1.format ---------------------------------------------------------------------------


def test_formatted_file_has_no_finding():
    assert formatted(GOOD, GOOD) == []


def test_without_the_helper_nothing_is_claimed():
    assert formatted("def  f", None) == []
    ctx = FileContext.build(
        SourceFile("lib/a.ex", "lib", "x"),
        Config(),
        format_result=FormatResult(syntax_error=ElixirSyntaxError(1, 1, "boom")),
    )
    assert list(FORMAT.check(ctx)) == []


def test_one_finding_per_hunk_with_the_formatted_text_as_suggestion():
    text = (
        "defmodule Shop.Cart do\n"
        "  def total( items ),do: Enum.sum(items)\n"
        "\n"
        "  def count(items) do\n"
        "    length items\n"
        "  end\n"
        "end\n"
    )
    result = (
        "defmodule Shop.Cart do\n"
        "  def total(items), do: Enum.sum(items)\n"
        "\n"
        "  def count(items) do\n"
        "    length(items)\n"
        "  end\n"
        "end\n"
    )
    findings = formatted(text, result)
    assert spans(findings) == [(2, 2), (5, 5)]
    assert findings[0].message == "not formatted as `mix format` would write it (line 2)"
    assert findings[0].suggestion == "  def total(items), do: Enum.sum(items)"
    assert findings[1].suggestion == "    length(items)"
    assert findings[0].severity is Severity.ERROR


def test_a_multi_line_hunk_names_its_range():
    text = "defmodule A do\n  def a(x),\n    do:\n      x\nend\n"
    result = "defmodule A do\n  def a(x), do: x\nend\n"
    [finding] = formatted(text, result)
    assert (finding.line, finding.end_line) == (2, 4)
    assert finding.message == "not formatted as `mix format` would write it (lines 2-4)"
    assert finding.suggestion == "  def a(x), do: x"


def test_pure_insertion_is_widened_to_the_line_before():
    text = "defmodule A do\n  def a, do: 1\n  def b, do: 2\nend\n"
    result = "defmodule A do\n  def a, do: 1\n\n  def b, do: 2\nend\n"
    [finding] = formatted(text, result)
    assert (finding.line, finding.end_line) == (2, 2)
    assert finding.suggestion == "  def a, do: 1\n"


def test_pure_deletion_is_widened_so_the_suggestion_is_not_empty():
    text = "defmodule A do\n  def a, do: 1\n\n\n  def b, do: 2\nend\n"
    result = "defmodule A do\n  def a, do: 1\n\n  def b, do: 2\nend\n"
    [finding] = formatted(text, result)
    assert (finding.line, finding.end_line) == (2, 4)
    assert finding.suggestion == "  def a, do: 1\n"


def test_deletion_at_the_top_takes_the_line_after():
    hunks = format_hunks(["", "a", "b"], ["a", "b"])
    assert [(h.start, h.end, h.replacement) for h in hunks] == [(1, 2, ("a",))]


def test_hunks_of_only_trailing_whitespace_are_left_to_the_whitespace_rule():
    text = "defmodule A do  \n  def a, do: 1\t\nend\n"
    result = "defmodule A do\n  def a, do: 1\nend\n"
    assert formatted(text, result) == []


def test_trailing_whitespace_at_the_edge_of_a_real_hunk_is_trimmed():
    text = "defmodule A do  \n  def a,do: 1\nend\n"
    result = "defmodule A do\n  def a, do: 1\nend\n"
    assert spans(formatted(text, result)) == [(2, 2)]


def test_long_hunks_get_no_suggestion():
    body = "".join(f"  def f{i}( x ), do: x\n" for i in range(25))
    fixed = "".join(f"  def f{i}(x), do: x\n" for i in range(25))
    [finding] = formatted(f"defmodule A do\n{body}end\n", f"defmodule A do\n{fixed}end\n")
    assert (finding.line, finding.end_line) == (2, 26)
    assert finding.suggestion is None


def test_suggestion_size_limit_is_a_parameter():
    config_rules = {"L1.format": RuleSetting(params={"max_suggestion_lines": 1})}
    text = "defmodule A do\n  def a(x),\n    do: x\nend\n"
    result = "defmodule A do\n  def a(x), do: x\nend\n"
    [finding] = formatted(text, result, rules=config_rules)
    assert finding.suggestion is None


def test_crlf_and_missing_final_newline_are_reported_once():
    crlf = GOOD.replace("\n", "\r\n")
    [finding] = formatted(crlf, GOOD)
    assert (finding.line, finding.message) == (
        1,
        "line endings are CRLF; `mix format` writes LF (\\n)",
    )
    [finding] = formatted(GOOD.rstrip("\n"), GOOD)
    assert finding.line == 3
    assert finding.message.startswith("no newline at the end of the file")


def test_engine_skips_the_rule_without_the_helper_and_runs_it_with_results():
    source = SourceFile("lib/a.ex", "lib", "defmodule A do\n  def a( x ), do: x\nend\n")
    without = review([source], Config(), rules=[FORMAT], jobs=1)
    assert without.findings == []
    assert "L1.format" in without.not_run
    result = FormatResult(formatted="defmodule A do\n  def a(x), do: x\nend\n")
    run = FormatterRun(results={"lib/a.ex": result})
    with_helper = review([source], Config(), formatter=run, rules=[FORMAT], jobs=1)
    assert lines_of(with_helper.findings) == [2]


def test_version_skew_turns_format_findings_into_notices():
    source = SourceFile("lib/a.ex", "lib", "defmodule A do\n  def a( x ), do: x\nend\n")
    result = FormatResult(formatted="defmodule A do\n  def a(x), do: x\nend\n")
    run = FormatterRun(results={"lib/a.ex": result}, advisory="Elixir 1.14 is older than ~> 1.17")
    [finding] = review([source], Config(), formatter=run, rules=[FORMAT], jobs=1).findings
    assert finding.severity is Severity.NOTICE
    assert finding.message.endswith("(Elixir 1.14 is older than ~> 1.17)")


def test_format_finding_can_be_suppressed():
    source = SourceFile(
        "lib/a.ex",
        "lib",
        "defmodule A do\n  # ladder:disable-next-line L1.format -- aligned table\n"
        "  def a( x ), do: x\nend\n",
    )
    result = FormatResult(
        formatted="defmodule A do\n  # ladder:disable-next-line L1.format -- aligned table\n"
        "  def a(x), do: x\nend\n"
    )
    run = FormatterRun(results={"lib/a.ex": result})
    assert review([source], Config(), formatter=run, rules=[FORMAT], jobs=1).findings == []


@pytest.mark.requires_elixir
def test_real_helper_round_trip():
    helper = ElixirHelper.start()
    assert helper is not None
    try:
        text = "defmodule Shop.Cart do\n  def total( items ),do: Enum.sum(items)\nend\n"
        [result] = helper.check_many([("lib/cart.ex", text)], FormatterOptions())
    finally:
        helper.close()
    source = SourceFile("lib/cart.ex", "lib", text)
    ctx = FileContext.build(source, Config(), format_result=result)
    [finding] = list(FORMAT.check(ctx))
    assert finding.line == 2
    assert finding.suggestion == "  def total(items), do: Enum.sum(items)"


# --- L1.trailing-whitespace ----------------------------------------------------------------


def test_trailing_whitespace_with_the_stripped_line_as_suggestion():
    source = "defmodule A do  \n  def a, do: 1\t\n\n  \nend\n"
    findings = findings_for(TRAILING_WHITESPACE, source)
    assert [(f.line, f.column, f.suggestion) for f in findings] == [
        (1, 15, "defmodule A do"),
        (2, 15, "  def a, do: 1"),
        (4, 1, ""),
    ]
    assert findings[0].message == "trailing whitespace at the end of the line"


def test_trailing_whitespace_inside_strings_and_heredocs_is_content():
    source = (
        "defmodule A do\n"
        '  @moduledoc """\n'
        "  Keeps two spaces:  \n"
        '  """\n'
        '  def a, do: "multi  \n'
        'line"\n'
        '  def b, do: ~S"""\n'
        "  sigil  \n"
        '  """\n'
        "  # a comment   \n"
        "end\n"
    )
    assert lines_of(findings_for(TRAILING_WHITESPACE, source)) == [10]


def test_trailing_whitespace_before_crlf_line_endings():
    source = "defmodule A do  \r\n  def a, do: 1\r\nend\r\n"
    findings = findings_for(TRAILING_WHITESPACE, source)
    assert [(f.line, f.suggestion) for f in findings] == [(1, "defmodule A do")]


def test_line_numbers_do_not_drift_after_a_form_feed():
    # str.splitlines() would split at the form feed and report line 3.
    source = "defmodule A do\x0c\n  def a, do: 1  \nend\n"
    assert lines_of(findings_for(TRAILING_WHITESPACE, source)) == [2]


def test_trailing_whitespace_runs_on_a_file_that_does_not_parse():
    assert lines_of(findings_for(TRAILING_WHITESPACE, "defmodule A do   \n  def a(\n")) == [1]


def test_trailing_whitespace_honours_credo_comments():
    source = (
        "defmodule A do\n"
        "  # credo:disable-for-next-line Credo.Check.Readability.TrailingWhiteSpace\n"
        "  def a, do: 1  \n"
        "  def b, do: 2  \n"
        "end\n"
    )
    assert lines_of(findings_for(TRAILING_WHITESPACE, source)) == [4]


def test_lines_the_formatter_rewrites_are_left_to_l1_format():
    text = "defmodule A do \n  def a( x ), do: x  \nend\n"
    result = "defmodule A do\n  def a(x), do: x\nend\n"
    ctx = FileContext.build(
        SourceFile("lib/a.ex", "lib", text),
        Config(),
        format_result=FormatResult(formatted=result),
    )
    assert [f.line for f in TRAILING_WHITESPACE.check(ctx)] == [1]
    assert [(f.line, f.end_line) for f in FORMAT.check(ctx)] == [(2, 2)]


# --- L1.tab-indentation --------------------------------------------------------------------


def test_tab_indented_lines_are_reported_per_line():
    source = "defmodule A do\n\tdef a, do: 1\n  \tdef b, do: 2\n\t\n  def c, do: 3\nend\n"
    findings = findings_for(TAB_INDENTATION, source)
    assert [(f.line, f.column) for f in findings] == [(2, 1), (3, 3)]
    assert findings[0].message.startswith("line is indented with a tab")


def test_tabs_inside_a_heredoc_are_content():
    source = 'defmodule A do\n  @moduledoc """\n\tindented example\n  """\nend\n'
    assert findings_for(TAB_INDENTATION, source) == []


def test_tab_indentation_honours_credo_comments():
    source = (
        "defmodule A do\n"
        "  # credo:disable-for-next-line Credo.Check.Consistency.TabsOrSpaces\n"
        "\tdef a, do: 1\n"
        "\tdef b, do: 2\n"
        "end\n"
    )
    assert lines_of(findings_for(TAB_INDENTATION, source)) == [4]


# --- L1.line-too-long ----------------------------------------------------------------------


def long_line_review(source: str, line_length: int = 98, result: FormatResult | None = None):
    run = FormatterRun(
        results={"lib/a.ex": result} if result else {},
        line_length=line_length,
        unavailable=None if result else "no elixir in this test",
    )
    sources = [SourceFile("lib/a.ex", "lib", source)]
    return review(sources, Config(), formatter=run, rules=[LINE_TOO_LONG], jobs=1).findings


def test_line_over_the_limit_is_reported_at_the_first_extra_column():
    comment = "  # " + "x" * 100
    source = f"defmodule A do\n{comment}\nend\n"
    [finding] = findings_for(LINE_TOO_LONG, source)
    assert (finding.line, finding.column) == (2, 99)
    assert finding.message == (
        "line is 104 characters long, over the limit of 98 (the formatter's line_length)"
    )


def test_limit_comes_from_the_formatter_line_length():
    source = "defmodule A do\n  # " + "x" * 100 + "\nend\n"
    assert long_line_review(source, line_length=120) == []
    assert lines_of(long_line_review(source, line_length=80)) == [2]


def test_overflow_inside_a_string_heredoc_or_sigil_is_ignored():
    text = "y" * 100
    source = (
        "defmodule A do\n"
        f'  def a, do: "{text}"\n'
        f'  @moduledoc """\n  {text}\n  """\n'
        f"  def b, do: ~s({text})\n"
        f'  def c, do: foo(x, "short", {"z" * 90})\n'
        "end\n"
    )
    assert lines_of(findings_for(LINE_TOO_LONG, source)) == [7]


def test_lines_with_a_url_are_ignored():
    source = "defmodule A do\n  # see https://example.com/" + "a" * 100 + "\nend\n"
    assert findings_for(LINE_TOO_LONG, source) == []


def test_long_lines_the_formatter_rewrites_are_left_to_l1_format():
    long_call = "  def a(x), do: foo(x, " + ", ".join(f":arg{i}" for i in range(14)) + ")"
    source = f"defmodule A do\n{long_call}\n  # {'c' * 100}\nend\n"
    rewritten = source.replace(long_call, "  def a(x),\n    do: foo(x)")
    findings = long_line_review(source, result=FormatResult(formatted=rewritten))
    assert lines_of(findings) == [3]


def test_line_too_long_honours_credo_comments():
    source = (
        "defmodule A do\n"
        "  # credo:disable-for-next-line Credo.Check.Readability.MaxLineLength\n"
        f"  # {'x' * 100}\n"
        f"  # {'x' * 100}\n"
        "end\n"
    )
    assert lines_of(findings_for(LINE_TOO_LONG, source)) == [4]


# --- L1.not-utf8 ---------------------------------------------------------------------------


def test_invalid_utf8_is_a_notice_on_the_first_bad_line():
    data = b'defmodule A do\n  @moduledoc "Caf\xe9"\nend\n'
    source = prepare("lib/a.ex", data, Config())
    assert isinstance(source, SourceFile)
    [finding] = review([source], Config(), rules=[NOT_UTF8], jobs=1).findings
    assert (finding.line, finding.severity) == (2, Severity.NOTICE)
    assert finding.message.startswith("file is not valid UTF-8 (first bad byte at offset 32)")


def test_replacement_characters_in_valid_utf8_are_reported():
    [finding] = findings_for(NOT_UTF8, 'defmodule A do\n  @moduledoc "Caf\ufffd"\nend\n')
    assert finding.line == 2
    assert "U+FFFD" in finding.message


def test_clean_utf8_has_no_finding():
    assert findings_for(NOT_UTF8, 'defmodule A do\n  @moduledoc "Café ✓"\nend\n') == []


def test_not_utf8_can_be_suppressed_for_the_file():
    source = "# ladder:disable-file L1.not-utf8 -- fixture\n" + 'x = "\ufffd"\n'
    assert findings_for(NOT_UTF8, source, path="lib/a.ex") == []


@pytest.mark.requires_elixir
def test_format_rule_examples_hold_with_the_real_helper():
    helper = ElixirHelper.start()
    assert helper is not None
    try:
        bad, good = helper.check_many(
            [("lib/bad.ex", FORMAT.bad_example), ("lib/good.ex", FORMAT.good_example)],
            FormatterOptions(),
        )
    finally:
        helper.close()
    for text, result, expected in ((FORMAT.bad_example, bad, 1), (FORMAT.good_example, good, 0)):
        ctx = FileContext.build(
            SourceFile("lib/x.ex", "lib", text), Config(), format_result=result
        )
        assert len(list(FORMAT.check(ctx))) == expected
