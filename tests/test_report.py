"""bot/report.py: what the App writes to GitHub, and the limits GitHub enforces on it.

Findings come from the real rules run on real Elixir (or are built with real rule ids), diffs are
parsed from GitHub-style patches produced by difflib exactly as the pull request files API
shapes them (hunks only, 3 lines of context), and request bodies are validated against the
vendored OpenAPI description of the endpoints they are sent to.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from bot import report
from bot.diff import FileChange, parse_patch
from checks.config import Config
from checks.examples import run_rule
from checks.ladder import Review, review, verdict
from checks.model import Finding, LadderResult, Severity, SkippedFile
from checks.registry import rules_by_id
from checks.sources import prepare

RULES = rules_by_id()
SPEC = json.loads(
    (Path(report.__file__).parent / "data" / "github-rest-subset.json").read_text("utf-8")
)
CART = "lib/shop/cart.ex"


def request_schema(path: str, method: str) -> dict[str, Any]:
    op = SPEC["paths"][path][method]
    schema: dict[str, Any] = op["requestBody"]["content"]["application/json"]["schema"]
    return schema


UPDATE_CHECK_RUN = request_schema("/repos/{owner}/{repo}/check-runs/{check_run_id}", "patch")
CREATE_REVIEW = request_schema("/repos/{owner}/{repo}/pulls/{pull_number}/reviews", "post")
CREATE_COMMENT = request_schema("/repos/{owner}/{repo}/issues/{issue_number}/comments", "post")


def finding(
    rule_id: str,
    line: int = 1,
    *,
    path: str = CART,
    end_line: int | None = None,
    column: int = 1,
    message: str | None = None,
    fix: str | None = None,
    suggestion: str | None = None,
    severity: Severity | None = None,
) -> Finding:
    rule = RULES[rule_id]
    return Finding(
        path=path,
        line=line,
        end_line=end_line if end_line is not None else line,
        column=column,
        level=rule.level,
        rule=rule_id,
        severity=severity or rule.severity,
        message=message if message is not None else rule.title,
        fix=fix,
        suggestion=suggestion,
    )


def result_of(
    findings: list[Finding],
    *,
    required: int = 3,
    files: int = 1,
    crashed: tuple[str, ...] = (),
    not_run: dict[str, str] | None = None,
    skipped: tuple[SkippedFile, ...] = (),
    notes: tuple[str, ...] = (),
    outside_diff: int = 0,
) -> LadderResult:
    """A LadderResult computed by the engine's own verdict from these findings."""
    raw = Review(
        findings=list(findings),
        crashed=dict.fromkeys(crashed, "RuntimeError: boom"),
        not_run=not_run or {},
        disabled=set(),
        files_reviewed=files,
    )
    return verdict(
        raw,
        required,
        skipped_files=skipped,
        outside_diff=outside_diff,
        notes=notes,
    )


def github_patch(old: str, new: str) -> str:
    """The `patch` field GitHub returns for a modified file: unified hunks, no file header."""
    lines = difflib.unified_diff(old.split("\n"), new.split("\n"), n=3, lineterm="")
    return "\n".join(list(lines)[2:])


def reviewed(path: str, text: str) -> list[Finding]:
    prepared = prepare(path, text.encode(), Config())
    assert not isinstance(prepared, SkippedFile), prepared
    return review([prepared], Config(), jobs=1).findings


# A module whose changes land in two hunks far apart (lines 3-6 and 31-35 of the new file).
BASE_LINES = [
    "defmodule Shop.Cart do",
    '  @moduledoc "Cart."',
    "",
    *[f"  def f{i}(x), do: x + {i}" for i in range(1, 26)],
    "",
    "  def last(x), do: x",
    "end",
    "",
]
BASE = "\n".join(BASE_LINES)
HEAD_LINES = [
    *BASE_LINES[:3],
    "  def total(items) do  ",
    "    IO.inspect(items)",
    "    Enum.sum(items)",
    "  end",
    *BASE_LINES[3:30],
    "  def extra(x) do",
    "    x",
    "  end",
    *BASE_LINES[30:],
]
HEAD = "\n".join(HEAD_LINES)


@pytest.fixture(scope="module")
def cart_change() -> FileChange:
    change = parse_patch(github_patch(BASE, HEAD), CART)
    assert len(change.hunks) == 2, change.hunks
    return change


# --- conclusion and title -----------------------------------------------------------------------


def test_nothing_to_review_is_neutral():
    assert report.conclusion(None) == "neutral"
    assert report.title(None) == "Nothing to review"
    empty = result_of([], files=0)
    assert report.conclusion(empty) == "neutral"
    assert report.title(empty) == "Nothing to review"


def test_passing_result_is_success_and_says_how_high_it_climbed():
    clean = result_of([], files=2)
    assert clean.reached == 7
    assert report.conclusion(clean) == "success"
    assert report.title(clean) == "Reached L7 · requires L3"
    # A notice never blocks.
    noted = result_of([finding("L2.todo-tag", 4)])
    assert report.conclusion(noted) == "success"
    assert report.title(noted) == "Reached L7 · requires L3"


def test_failing_result_names_the_reached_and_required_level():
    result = result_of([finding("L3.test-without-assertion", 4)])
    assert report.conclusion(result) == "failure"
    assert report.title(result) == "Reached L2 · requires L3"
    broken = result_of([finding("L0.syntax-error", 1)])
    assert report.conclusion(broken) == "failure"
    assert report.title(broken) == "L0 fails · requires L3"
    # A result with findings is judged even when files_reviewed was not counted.
    assert report.conclusion(result_of([finding("L0.syntax-error")], files=0)) == "failure"


def test_reaching_the_required_level_despite_higher_failures_is_success():
    result = result_of([finding("L7.doc-missing", 4)], required=3)
    assert report.title(result) == "Reached L6 · requires L3"
    assert report.conclusion(result) == "success"
    assert len(report.title(result)) <= 255


# --- summary ------------------------------------------------------------------------------------


def summary(result: LadderResult | None, **kwargs: Any) -> str:
    kwargs.setdefault("config_source", ".github/ladder.yml at base")
    return report.summary(result, rules=RULES, **kwargs)


def table_rows(text: str) -> list[str]:
    return [line for line in text.splitlines() if re.match(r"\| (\*\*)?L\d", line)]


def cells(row: str) -> list[str]:
    """Split a GFM table row on unescaped pipes."""
    return [c.strip() for c in re.split(r"(?<!\\)\|", row.strip())[1:-1]]


def test_summary_has_verdict_ladder_table_and_config():
    result = result_of(
        [
            finding("L1.trailing-whitespace", 4),
            finding("L3.test-without-assertion", 9),
            finding("L2.todo-tag", 5),
        ],
        files=3,
    )
    text = summary(result, head_sha="0123456789abcdef")
    first = text.splitlines()[0]
    assert first == ("❌ **Reached L0 · requires L3** — 3 files reviewed · 2 errors, 1 notice")
    assert "| Level | | Findings | Status |" in text
    assert table_rows(text) == [
        "| L0 | compiles cleanly | 0 | ✅ pass |",
        "| L1 | formatted | 1 (1 blocking) | ❌ fail |",
        "| L2 | static analysis | 1 | ✅ pass |",
        "| **L3** (required) | tested | 1 (1 blocking) | ❌ fail |",
        "| L4 | typed | 0 | ✅ pass |",
        "| L5 | secure | 0 | ✅ pass |",
        "| L6 | observable | 0 | ✅ pass |",
        "| L7 | documented | 0 | ✅ pass |",
    ]
    assert text.endswith(
        "<sub>Ladder 0.1.0 · commit `0123456` · config: .github/ladder.yml at base</sub>"
    )
    assert "built-in defaults" in summary(result, config_source="built-in defaults")


def test_skipped_level_shows_its_note_with_pipes_escaped():
    result = result_of(
        [],
        not_run={"L1.format": "elixir | mix missing"},
    )
    row = next(r for r in table_rows(summary(result)) if r.startswith("| L1 "))
    assert row == (
        "| L1 | formatted | 0 | ⏭️ skipped — L1.format not run: elixir \\| mix missing |"
    )
    assert cells(row) == [
        "L1",
        "formatted",
        "0",
        "⏭️ skipped — L1.format not run: elixir \\| mix missing",
    ]


def test_top_findings_most_important_first():
    findings = [
        finding("L2.todo-tag", 1, message="notice first in the file"),
        finding("L7.doc-missing", 2),
        finding("L4.spec-missing", 3, path="lib/b.ex"),
        finding("L4.spec-missing", 3, path="lib/a.ex"),
        finding("L2.io-inspect", 9),
        finding("L1.trailing-whitespace", 20),
        finding("L2.function-too-long", 1),
    ]
    text = summary(result_of(findings))
    block = text.split("### Top findings\n\n", 1)[1].split("\n\n", 1)[0].splitlines()
    order = [re.findall(r"`([^`]+)`", line)[:2] for line in block]
    assert order == [
        ["lib/shop/cart.ex:20", "L1.trailing-whitespace"],  # error, L1
        ["lib/shop/cart.ex:9", "L2.io-inspect"],  # error, L2
        ["lib/shop/cart.ex:1", "L2.function-too-long"],  # warning, L2
        ["lib/a.ex:3", "L4.spec-missing"],  # warning, L4, by path
        ["lib/b.ex:3", "L4.spec-missing"],
        ["lib/shop/cart.ex:2", "L7.doc-missing"],  # warning, L7
        ["lib/shop/cart.ex:1", "L2.todo-tag"],  # notices last
    ]
    assert block[0] == (
        "- `lib/shop/cart.ex:20` · `L1.trailing-whitespace` (error) · Trailing whitespace"
    )


def test_top_findings_are_capped_with_a_count_of_the_rest():
    findings = [
        finding("L4.spec-missing", n, message=f"def f{n}/1 has no @spec") for n in range(1, 31)
    ]
    text = summary(result_of(findings))
    top = text.split("### Top findings\n\n", 1)[1]
    assert top.count("- `lib/shop/cart.ex:") == report.TOP_FINDINGS
    assert "… 10 more not shown." in top
    # The attribute is code, never an @-mention of a GitHub user called "spec".
    assert "has no `@spec`" in top
    assert re.search(r"(?<!`)@spec", text) is None


def test_crashed_rules_skipped_files_and_notes_are_reported():
    result = result_of(
        [finding("L4.spec-missing", 3)],
        crashed=("L2.nesting-too-deep",),
        skipped=(SkippedFile("lib/huge.ex", "larger than 1 MB"),),
        notes=("the formatter ran Elixir 1.15, the project wants 1.17",),
    )
    text = summary(result)
    assert "1 rule crashed" in text.splitlines()[0]
    assert (
        "- ⚠️ rule `L2.nesting-too-deep` (Code nested more than 2 levels deep) crashed and "
        "did not run; its findings are missing from this review." in text
    )
    assert "### 1 file not reviewed\n\n- `lib/huge.ex`: larger than 1 MB" in text
    assert "### Notes\n\n- the formatter ran Elixir 1.15, the project wants 1.17" in text


def test_unplaced_and_outside_findings():
    unplaced = [finding("L4.spec-missing", n) for n in (40, 41)]
    outside = [
        finding("L2.io-inspect", 7, path="lib/old.ex"),
        finding("L4.spec-missing", 8, path="lib/old.ex"),
        finding("L4.spec-missing", 9, path="lib/old.ex"),
    ]
    result = result_of([finding("L4.spec-missing", 3), *unplaced], outside_diff=3)
    text = summary(result, unplaced=unplaced, outside=outside)
    assert "3 more outside the diff" in text.splitlines()[0]
    assert "### 2 findings without an inline comment" in text
    assert "- `lib/shop/cart.ex:40` · `L4.spec-missing` (warning)" in text
    assert "they do not count toward the verdict: L2 × 1 · L4 × 2." in text
    assert "<details><summary>The most important ones</summary>" in text
    # Without the findings themselves, the count from the result is still reported.
    counted = summary(result_of([], outside_diff=12))
    assert "12 findings on lines this pull request did not change" in counted


def test_summary_of_nothing_has_no_table():
    text = summary(None, note="No Elixir file changed.")
    assert text.splitlines()[0] == "⚪ **Nothing to review**"
    assert "No Elixir file changed." in text
    assert "| Level |" not in text
    empty = summary(result_of([], files=0, skipped=(SkippedFile("lib/x.ex", "binary"),)))
    assert "no Elixir file in this pull request was reviewed" in empty
    assert "`lib/x.ex`: binary" in empty


def test_summary_stays_under_the_limit_with_thousands_of_findings():
    long = "x" * 100_000
    findings = [
        finding("L4.spec-missing", n, path=f"lib/m{n % 97}.ex", message=f"{long} {n}")
        for n in range(1, 5001)
    ]
    outside = [finding("L2.io-inspect", n, path="lib/old.ex") for n in range(1, 5001)]
    result = result_of(
        findings,
        outside_diff=len(outside),
        crashed=tuple(sorted(RULES)[:40]),
        skipped=tuple(SkippedFile(f"lib/s{n}.ex", "y" * 5000) for n in range(300)),
        notes=tuple(f"note {n} " + "z" * 3000 for n in range(50)),
    )
    text = summary(result, unplaced=findings, outside=outside, head_sha="f" * 40)
    assert len(text) <= 65535
    assert len(text.encode("utf-8")) <= 65535
    # The essentials survive; every list says what it left out.
    # Every finding is an L4 warning: L3 is reached, which is what is required.
    assert text.startswith("✅ **Reached L3 · requires L3**")
    assert "| L7 | documented | 0 | ✅ pass |" in text
    assert "… 4980 more not shown." in text
    assert re.search(r"… \d+ more not shown\.\n\n</details>", text)
    for heading in (
        "### Incomplete review",
        "### Top findings",
        "### 5000 findings without an inline comment",
        "### Outside the diff",
        "### 300 files not reviewed",
        "### Notes",
    ):
        assert heading in text
    assert text.endswith("config: .github/ladder.yml at base</sub>")
    assert text.count("<details>") == text.count("</details>")


@pytest.mark.parametrize("limit", [65535, 20_000, 3_000, 1_200])
def test_summary_respects_smaller_limits(limit):
    findings = [finding("L4.spec-missing", n, message="m" * 300) for n in range(1, 400)]
    result = result_of(findings, notes=("a note",))
    text = summary(result, unplaced=findings, limit=limit)
    assert len(text.encode("utf-8")) <= limit
    assert "| **L3** (required) | tested | 0 | ✅ pass |" in text


def test_summary_hard_cut_when_even_the_frame_does_not_fit():
    text = summary(result_of([]), note="c" * 100_000, limit=5_000)
    assert len(text.encode("utf-8")) <= 5_000
    assert "summary truncated" in text
    # A check-run update with this summary is a valid request.
    body = {"output": {"title": "t", "summary": summary(result_of([]))}}
    jsonschema.validate(body, UPDATE_CHECK_RUN)


# --- annotations --------------------------------------------------------------------------------


def test_annotations_map_levels_columns_and_titles():
    items = report.annotations(
        [
            finding("L2.todo-tag", 2, column=5),
            finding("L4.spec-missing", 3, column=3, fix="add a @spec"),
            finding("L2.function-too-long", 10, end_line=60, column=3),
            finding("L1.trailing-whitespace", 4, column=22, suggestion="  def total(items) do"),
            finding("L0.syntax-error", 7, column=0),
        ],
        RULES,
    )
    assert [a["annotation_level"] for a in items] == [
        "failure",
        "failure",
        "warning",
        "warning",
        "notice",
    ]
    syntax, whitespace, long_fn, spec, todo = items
    assert syntax["title"] == "L0.syntax-error: File does not parse"
    assert "start_column" not in syntax  # column unknown
    assert whitespace["start_column"] == whitespace["end_column"] == 22
    assert whitespace["raw_details"] == "Suggested replacement for line 4:\n  def total(items) do"
    assert (long_fn["start_line"], long_fn["end_line"]) == (10, 60)
    assert "start_column" not in long_fn
    assert "end_column" not in long_fn
    assert spec["message"] == "Public function without @spec\nFix: add a @spec"
    assert spec["title"] == "L4.spec-missing: Public function without @spec"
    assert todo["start_column"] == 5


def test_annotation_limits_and_broken_line_ranges():
    rule = dataclasses.replace(RULES["L4.spec-missing"], title="t" * 400)
    huge = finding("L4.spec-missing", 5, end_line=2, message="é" * 70_000)
    (item,) = report.annotations([huge], {"L4.spec-missing": rule})
    assert item["end_line"] >= item["start_line"] == 5
    assert len(item["title"]) <= 255
    assert len(item["message"].encode("utf-8")) <= 64_000
    assert item["message"].endswith("…")
    (zero,) = report.annotations([finding("L1.format", 0)], RULES)
    assert zero["start_line"] == zero["end_line"] == 1


def test_annotations_are_batched_fifty_per_request_and_validate():
    findings = [finding("L4.spec-missing", n) for n in range(1, 121)]
    items = report.annotations(findings, RULES)
    chunks = report.batches(items)
    assert [len(c) for c in chunks] == [50, 50, 20]
    assert [a for c in chunks for a in c] == items
    for chunk in chunks:
        jsonschema.validate({"output": {"summary": "", "annotations": chunk}}, UPDATE_CHECK_RUN)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"output": {"summary": "", "annotations": items}}, UPDATE_CHECK_RUN)
    assert [len(c) for c in report.batches(list(range(5000)))] == [50] * 100
    assert report.batches([]) == []
    with pytest.raises(ValueError, match="at least 1"):
        report.batches(items, 0)


# --- fingerprints -------------------------------------------------------------------------------

INSPECT = "defmodule Shop.Cart do\n  @moduledoc false\n  def total(items) do\n{body}  end\nend\n"


def inspect_findings(text: str) -> list[Finding]:
    return run_rule(RULES["L2.io-inspect"], {CART: text}, strict=True)


def fp_of(found: Finding, text: str) -> str:
    return report.fingerprint(found, text.split("\n")[found.line - 1])


def test_fingerprint_survives_lines_moving():
    before = INSPECT.format(body="    IO.inspect(items)\n    Enum.sum(items)\n")
    after = INSPECT.replace("  def total", "  alias Shop.Repo\n\n  def total").format(
        body="    IO.inspect(items)\n    Enum.sum(items)\n"
    )
    (a,) = inspect_findings(before)
    (b,) = inspect_findings(after)
    assert (a.line, b.line) == (4, 6)
    assert fp_of(a, before) == fp_of(b, after)
    assert re.fullmatch(r"[0-9a-f]{16}", fp_of(a, before))


def test_fingerprint_changes_with_the_line_text_rule_or_path():
    before = INSPECT.format(body="    IO.inspect(items)\n")
    edited = INSPECT.format(body="    IO.inspect(items, label: :cart)\n")
    (a,) = inspect_findings(before)
    (b,) = inspect_findings(edited)
    assert a.line == b.line
    assert fp_of(a, before) != fp_of(b, edited)
    line = "    IO.inspect(items)"
    assert report.fingerprint(a, line) != report.fingerprint(
        dataclasses.replace(a, path="lib/other.ex"), line
    )
    assert report.fingerprint(a, line) != report.fingerprint(
        dataclasses.replace(a, rule="L2.dbg"), line
    )
    # Indentation alone does not make a new finding.
    assert report.fingerprint(a, line) == report.fingerprint(a, "\t" + line.strip() + "  ")


def test_fingerprint_numbers_line_references_but_not_measurements():
    base = finding("L1.format", 3, message="not formatted (at line 12; shown on the first line)")
    moved = dataclasses.replace(
        base, message="not formatted (at line 19; shown on the first line)"
    )
    assert report.fingerprint(base, "x") == report.fingerprint(moved, "x")
    grown = finding("L2.function-too-long", 3, message="function is 52 lines (max 40)")
    longer = dataclasses.replace(grown, message="function is 60 lines (max 40)")
    assert report.fingerprint(grown, "def f do") != report.fingerprint(longer, "def f do")


def test_markers_round_trip():
    fp = report.fingerprint(finding("L4.spec-missing", 3), "  def total(items) do")
    assert report.marker(fp) == f"<!-- ladder:fp={fp} -->"
    body = f"hello\n{report.marker(fp)}\n<!-- ladder:fp=XYZ -->\n{report.marker('0' * 16)}"
    assert report.fingerprints_in(body) == {fp, "0" * 16}
    assert report.fingerprints_in("no marker here") == set()


# --- inline comments ----------------------------------------------------------------------------


def place(findings, changes, *, already=frozenset(), limit=30, lines=None):
    return report.select_inline(
        findings,
        changes,
        lines=lines if lines is not None else {CART: HEAD.split("\n")},
        already=set(already),
        limit=limit,
        rules=RULES,
    )


def test_real_review_of_a_real_patch(cart_change):
    assert cart_change.hunks == [(1, 10), (32, 39)]
    found = reviewed(CART, HEAD)
    placement = place(found, {CART: cart_change})
    by_rule = {c.finding.rule: c for c in placement.comments}
    whitespace = by_rule["L1.trailing-whitespace"]
    assert whitespace.to_api() == {
        "path": CART,
        "line": 4,
        "side": "RIGHT",
        "body": whitespace.body,
    }
    assert "```suggestion\n  def total(items) do\n```" in whitespace.body
    inspect = by_rule["L2.io-inspect"]
    assert inspect.line == 5
    assert inspect.start_line is None
    assert len(placement.comments) + len(placement.unplaced) + placement.duplicates == len(found)
    body = {
        "commit_id": "a" * 40,
        "event": "COMMENT",
        "body": report.review_body(
            result_of(found),
            comments=len(placement.comments),
            unplaced=len(placement.unplaced),
            duplicates=placement.duplicates,
            check_url=None,
        ),
        "comments": [c.to_api() for c in placement.comments],
    }
    jsonschema.validate(body, CREATE_REVIEW)
    for comment in placement.comments:
        hunks = [h for h in cart_change.hunks if h[0] <= comment.line <= h[1]]
        assert hunks, comment
        start = comment.start_line or comment.line
        assert hunks[0][0] <= start <= comment.line


def test_lines_in_and_out_of_hunks(cart_change):
    inside = finding("L4.spec-missing", 9)  # context line of the first hunk
    outside = finding("L4.spec-missing", 20)
    multi = finding("L2.function-too-long", 4, end_line=7)
    placement = place([inside, outside, multi], {CART: cart_change})
    lines = {c.finding.line: c for c in placement.comments}
    assert set(lines) == {9, 4}
    assert lines[4].to_api()["start_line"] == 4
    assert lines[4].to_api()["start_side"] == "RIGHT"
    assert lines[4].to_api()["line"] == 7
    assert "start_line" not in lines[9].to_api()
    assert placement.unplaced == [outside]


def test_range_across_hunks_collapses_to_its_first_line(cart_change):
    across = finding("L2.function-too-long", 8, end_line=33, suggestion="replacement")
    starts_outside = finding("L2.function-too-long", 20, end_line=33)
    above_the_change = finding("L2.function-too-long", 12, end_line=31)
    placement = place([across, starts_outside, above_the_change], {CART: cart_change})
    by_finding = {c.finding: c for c in placement.comments}
    comment = by_finding[across]
    assert (comment.line, comment.start_line) == (8, None)
    # The suggestion replaces lines 8..33; a comment on line 8 alone must not offer it.
    assert "```suggestion" not in comment.body
    # A function whose body changed below its first line: the comment goes where the change
    # is (the second hunk is 32-39), on the first added line inside the function's range.
    moved = by_finding[starts_outside]
    assert (moved.line, moved.start_line) == (32, None)
    assert placement.unplaced == [above_the_change]  # its range touches no hunk


def test_whole_file_and_unknown_files_get_no_inline_comment():
    no_patch = FileChange(path=CART, added={1, 2, 3}, hunks=[(1, 3)], whole_file=True)
    there = finding("L4.spec-missing", 2)
    elsewhere = finding("L4.spec-missing", 2, path="lib/untouched.ex")
    placement = place([there, elsewhere], {CART: no_patch})
    assert placement.comments == []
    assert placement.unplaced == [there, elsewhere]


def test_limit_keeps_the_most_important(cart_change):
    findings = [
        finding("L2.todo-tag", 4),
        finding("L4.spec-missing", 4),
        finding("L2.io-inspect", 5),
        finding("L7.doc-missing", 4),
    ]
    placement = place(findings, {CART: cart_change}, limit=2)
    assert [c.finding.rule for c in placement.comments] == ["L2.io-inspect", "L4.spec-missing"]
    assert [f.rule for f in placement.unplaced] == ["L7.doc-missing", "L2.todo-tag"]
    assert place(findings, {CART: cart_change}, limit=0).comments == []


def test_already_posted_fingerprints_are_not_repeated(cart_change):
    findings = [finding("L4.spec-missing", 4), finding("L2.io-inspect", 5)]
    first = place(findings, {CART: cart_change})
    posted = set().union(*(report.fingerprints_in(c.body) for c in first.comments))
    assert posted == {c.fingerprint for c in first.comments}
    # Next push: two lines inserted above; same findings, moved.
    moved_lines = [*HEAD_LINES[:1], "  # one", "  # two", *HEAD_LINES[1:]]
    moved = [dataclasses.replace(f, line=f.line + 2, end_line=f.end_line + 2) for f in findings]
    change = dataclasses.replace(cart_change, hunks=[(1, 12), (34, 41)])
    again = place(moved, {CART: change}, already=posted, lines={CART: moved_lines})
    assert again.comments == []
    assert again.duplicates == 2
    assert again.unplaced == []


def test_identical_findings_on_identical_lines_get_distinct_fingerprints():
    text = INSPECT.format(body="    IO.inspect(items)\n    IO.inspect(items)\n")
    found = inspect_findings(text)
    assert [f.line for f in found] == [4, 5]
    change = parse_patch(github_patch(INSPECT.format(body=""), text), CART)
    placement = place(found, {CART: change}, lines={CART: text.split("\n")})
    fps = [c.fingerprint for c in placement.comments]
    assert len(set(fps)) == 2
    assert fps[0] == report.fingerprint(found[0], "    IO.inspect(items)")
    # The same finding twice in the input is one comment and one duplicate.
    twice = place([found[0], found[0]], {CART: change}, lines={CART: text.split("\n")})
    assert [c.fingerprint for c in twice.comments] == [fps[0]]
    assert twice.duplicates == 1


# --- comment bodies -----------------------------------------------------------------------------


def test_comment_body_layout():
    f = finding(
        "L4.spec-missing",
        3,
        message="public def total/1 has no @spec",
        fix="add `@spec total(...) :: ...` above the first clause",
    )
    fp = "0123456789abcdef"
    body = report.comment_body(f, RULES[f.rule], fp, with_suggestion=False)
    assert body == (
        "**`L4.spec-missing`** · warning · L4 typed\n\n"
        "public def total/1 has no `@spec`\n\n"
        "**Fix:** add `@spec total(...) :: ...` above the first clause\n\n"
        "<sub>Reply `/ladder explain L4.spec-missing` for the rule's rationale.</sub>\n"
        "<!-- ladder:fp=0123456789abcdef -->"
    )


def test_markdown_in_messages_is_shown_literally():
    f = finding("L2.constant-result", 3, message="x * 0 | y * 0 <script> [link](u) __MODULE__")
    body = report.comment_body(f, None, "f" * 16, with_suggestion=False)
    assert "x \\* 0 | y \\* 0 \\<script\\> \\[link\\](u) \\_\\_MODULE\\_\\_" in body


def test_suggestion_fences():
    plain = finding("L1.format", 3, end_line=4, suggestion="a\nb")
    body = report.comment_body(plain, None, "f" * 16, with_suggestion=True)
    assert "```suggestion\na\nb\n```" in body
    fenced = finding("L1.format", 3, suggestion='@doc """\n```elixir\niex> 1\n```\n"""')
    body = report.comment_body(fenced, None, "f" * 16, with_suggestion=True)
    assert '````suggestion\n@doc """\n```elixir\niex> 1\n```\n"""\n````' in body
    deleted = finding("L1.format", 3, suggestion="")
    body = report.comment_body(deleted, None, "f" * 16, with_suggestion=True)
    assert "```suggestion\n```" in body
    assert "suggestion" not in report.comment_body(deleted, None, "f" * 16, with_suggestion=False)


def test_long_bodies_keep_the_suggestion_and_cut_the_message():
    f = finding("L1.format", 3, message="m" * 200_000, suggestion="s" * 30_000)
    body = report.comment_body(f, None, "f" * 16, with_suggestion=True)
    assert len(body) < 65536
    assert "```suggestion\n" + "s" * 30_000 + "\n```" in body
    assert body.endswith("<!-- ladder:fp=ffffffffffffffff -->")
    assert "m…" in body
    huge = finding("L1.format", 3, suggestion="s" * 70_000)
    body = report.comment_body(huge, None, "f" * 16, with_suggestion=True)
    assert len(body) < 65536
    assert "```suggestion" not in body
    assert "too long to show" in body
    assert report.fingerprints_in(body) == {"f" * 16}


# --- review body, explain -----------------------------------------------------------------------


def test_review_body():
    result = result_of([finding("L3.test-without-assertion", 4)])
    body = report.review_body(
        result,
        comments=3,
        unplaced=2,
        duplicates=1,
        check_url="https://github.com/octo/shop/runs/42",
    )
    assert body.splitlines()[0] == "❌ **Ladder: Reached L2 · requires L3**"
    assert "3 inline comments on changed lines" in body
    assert "2 more findings without an inline comment" in body
    assert "1 finding already commented on earlier" in body
    assert "[the Ladder check run](https://github.com/octo/shop/runs/42)" in body
    bare = report.review_body(result, comments=1, unplaced=0, duplicates=0, check_url=None)
    assert "1 inline comment on changed lines." in bare
    assert "The full report is in the Ladder check run." in bare
    jsonschema.validate({"body": body, "event": "COMMENT"}, CREATE_REVIEW)


def test_explain_reply_for_every_rule():
    for rule in RULES.values():
        text = report.explain_reply(rule)
        assert len(text) <= 65536
        assert text.startswith(f"### `{rule.id}` · ")
        assert f"**Level:** L{rule.level}" in text
        assert f"**Severity:** {rule.severity.value}" in text
        assert text.count("```elixir\n") == 2, rule.id
        prose = re.sub(r"```elixir\n.*?\n```", "", text, flags=re.DOTALL)
        assert re.search(r"(?<![`\w])@(spec|doc|moduledoc)\b", prose) is None, rule.id
        jsonschema.validate({"body": text}, CREATE_COMMENT)


def test_explain_reply_parameters_table_escapes_pipes():
    text = report.explain_reply(RULES["L3.error-path-untested"])
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert len(rows) == 1
    assert cells(rows[0])[0] == "`ignore_modules`"
    assert len(cells(rows[0])) == 2
    assert "Controller\\|Live" in rows[0]
    assert "**Overlaps:** credo `Readability.Specs`" in report.explain_reply(
        RULES["L4.spec-missing"]
    )


def test_unknown_rule_reply():
    text = report.unknown_rule_reply("L4.spec-mising", ["L4.spec-missing", "L4.spec-vague-type"])
    assert text.startswith("I don't know a rule called `L4.spec-mising`.")
    assert "Did you mean `L4.spec-missing` or `L4.spec-vague-type`?" in text
    nasty = report.unknown_rule_reply("`@octocat`\n" + "x" * 100_000, [])
    assert len(nasty) <= 65536
    assert "Did you mean" not in nasty
    assert "`` `@octocat` x" in nasty
