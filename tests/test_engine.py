"""The engine (checks/ladder.py): crash isolation, parallel workers, project rules, suppressions,
the formatter's verdicts, and the ladder verdict.

The tests run stand-in rules, one or two per level, so they do not move when real reviewers are
added. `review(rules=...)` runs unregistered rules, but `verdict` computes the ladder over the
registry (`all_rules()`), so the autouse `registry` fixture makes the stand-ins the registry;
`test_verdict_follows_the_reviewed_rules` shows why (and fails until the engine is changed).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from checks import ladder
from checks.config import Config, RuleSetting
from checks.context import SourceFile
from checks.formatter import ElixirSyntaxError, FormatResult
from checks.ladder import FormatterRun, Review, review, verdict
from checks.model import ALL_KINDS, Finding, Rule, Severity
from checks.registry import all_rules
from checks.sources import prepare

EXPLANATION = "A stand-in rule for the engine tests; it matches a marker word in the source text."


def _marked(ctx, rule: Rule, word: str):
    for number, line in enumerate(ctx.lines, 1):
        if word in line:
            yield ctx.finding(rule, number, f"{word} on line {number}")


def _check_broken(ctx):
    return _marked(ctx, BROKEN, "BROKEN")


def _check_format(ctx):
    result = ctx.format_result
    if result is not None and result.formatted is not None and result.formatted != ctx.text:
        yield ctx.finding(FORMAT, 1, "not formatted", suggestion=result.formatted)


def _check_tabs(ctx):
    for number, line in enumerate(ctx.lines, 1):
        if line.startswith("\t"):
            yield ctx.finding(TABS, number, "tab indentation")


def _check_todo(ctx):
    return _marked(ctx, TODO, "TODO")


def _check_boom(ctx):
    if "BOOM" in ctx.text:
        raise RuntimeError("boom")
    return []


def _check_note(ctx):
    return _marked(ctx, NOTE, "NOTE")


def _check_secret(ctx):
    return _marked(ctx, SECRET, "SECRET")


def _check_pid(ctx):
    if "PID" in ctx.text:
        yield ctx.finding(PID, 1, f"pid {os.getpid()}")


def _check_twice(ctx):
    if "TWICE" in ctx.text:
        yield ctx.finding(TWICE, 1, "same")
        yield ctx.finding(TWICE, 1, "same")


def _summarize_untested(ctx):
    line = next((n for n, text in enumerate(ctx.lines, 1) if "defmodule" in text), 1)
    return {"line": line}


def _check_untested(project):
    tests = {s.path for s in project.of(UNTESTED) if s.kind == "test"}
    for summary in project.of(UNTESTED):
        if summary.kind != "lib":
            continue
        stem = summary.path.removeprefix("lib/").removesuffix(".ex")
        if f"test/{stem}_test.exs" not in tests:
            yield project.finding(UNTESTED, summary.path, summary.data["line"], "no test")


def _summarize_one(ctx):
    return 1


def _check_project_boom(project):
    raise ValueError("project boom")


def _summarize_boom(ctx):
    if "SUMBOOM" in ctx.text:
        raise KeyError("summary boom")
    return 1


def _check_nothing(project):
    return []


def _rule(rule_id: str, severity: Severity = Severity.WARNING, **kwargs) -> Rule:
    return Rule(
        id=rule_id,
        severity=severity,
        title="Stand-in",
        explanation=EXPLANATION,
        bad_example="",
        good_example="",
        **kwargs,
    )


BROKEN = _rule("L0.t-broken", Severity.ERROR, check=_check_broken, runs_on_broken_files=True)
FORMAT = _rule(
    "L1.t-format",
    check=_check_format,
    needs_elixir=True,
    file_level=True,
    runs_on_broken_files=True,
)
TABS = _rule("L1.t-tabs", check=_check_tabs, runs_on_broken_files=True)
TODO = _rule("L2.t-todo", check=_check_todo, credo=("Readability.StandInMarker",))
BOOM = _rule("L2.t-boom", check=_check_boom)
UNTESTED = _rule(
    "L3.t-untested",
    summarize=_summarize_untested,
    check_project=_check_untested,
    applies_to=frozenset({"lib", "test"}),
)
PROJECT_BOOM = _rule(
    "L3.t-project-boom", summarize=_summarize_one, check_project=_check_project_boom
)
SUMMARY_BOOM = _rule("L3.t-summary-boom", summarize=_summarize_boom, check_project=_check_nothing)
NOTE = _rule("L4.t-note", Severity.NOTICE, check=_check_note)
SECRET = _rule("L5.t-secret", Severity.ERROR, check=_check_secret, applies_to=ALL_KINDS)
PID = _rule("L7.t-pid", Severity.NOTICE, check=_check_pid)
TWICE = _rule("L7.t-twice", Severity.NOTICE, check=_check_twice)

STANDINS = (BROKEN, FORMAT, TABS, TODO, BOOM, UNTESTED, NOTE, SECRET, PID, TWICE)
CRASHERS = (PROJECT_BOOM, SUMMARY_BOOM)


@pytest.fixture(autouse=True)
def registry(monkeypatch):
    """Make the stand-ins the whole registry (the ladder's universe of rules) for these tests."""
    monkeypatch.setattr(ladder, "all_rules", lambda: STANDINS)
    return STANDINS


def source(path: str, text: str, config: Config | None = None) -> SourceFile:
    prepared = prepare(path, text.encode(), config or Config())
    assert isinstance(prepared, SourceFile), prepared
    return prepared


def files(mapping: dict[str, str]) -> list[SourceFile]:
    return [source(path, text) for path, text in mapping.items()]


def run(mapping: dict[str, str], rules=STANDINS, **kwargs) -> Review:
    kwargs.setdefault("formatter", FormatterRun())
    kwargs.setdefault("jobs", 1)
    return review(files(mapping), Config(), rules=rules, **kwargs)


def ids(review_or_findings) -> list[tuple[str, str, int]]:
    found = getattr(review_or_findings, "findings", review_or_findings)
    return [(f.rule, f.path, f.line) for f in found]


CLEAN = "defmodule A do\n  def a, do: 1\nend\n"
TESTED = {"lib/a.ex": CLEAN, "test/a_test.exs": "defmodule ATest do\nend\n"}


# --- crash isolation ----------------------------------------------------------------------------


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_crashing_rule_is_listed_and_the_others_still_report(jobs):
    outcome = run(
        {
            "lib/a.ex": "defmodule A do\n  # TODO BOOM\nend\n",
            "lib/b.ex": "defmodule B do\n  # TODO\nend\n",
            **{k: v for k, v in TESTED.items() if k.startswith("test/")},
        },
        jobs=jobs,
    )
    assert set(outcome.crashed) == {"L2.t-boom"}
    assert outcome.crashed["L2.t-boom"] == "RuntimeError on lib/a.ex: boom"
    # The crash on a.ex hid nothing else: TODO still reported in both files.
    assert ("L2.t-todo", "lib/a.ex", 2) in ids(outcome)
    assert ("L2.t-todo", "lib/b.ex", 2) in ids(outcome)
    result = verdict(outcome, 3)
    assert result.crashed_rules == ("L2.t-boom",)


def test_crash_in_the_project_pass_and_in_summarize():
    outcome = run(
        {"lib/a.ex": "defmodule A do\n  # SUMBOOM TODO\nend\n"},
        rules=(*STANDINS, *CRASHERS),
    )
    assert outcome.crashed["L3.t-project-boom"] == "ValueError: project boom"
    assert outcome.crashed["L3.t-summary-boom"] == "KeyError on lib/a.ex: 'summary boom'"
    assert ("L2.t-todo", "lib/a.ex", 2) in ids(outcome)
    assert ("L3.t-untested", "lib/a.ex", 1) in ids(outcome)  # the sound project rule ran


def test_crashed_rules_are_sorted_in_the_result():
    outcome = run({"lib/a.ex": "# BOOM SUMBOOM\n"}, rules=(*STANDINS, *CRASHERS))
    assert verdict(outcome, 0).crashed_rules == (
        "L2.t-boom",
        "L3.t-project-boom",
        "L3.t-summary-boom",
    )


# --- parallel workers ---------------------------------------------------------------------------


def _tree(count: int) -> dict[str, str]:
    tree: dict[str, str] = {}
    for i in range(count):
        body = [f"defmodule M{i} do"]
        if i % 2:
            body.append("  # TODO later")
        if i % 3 == 0:
            body.append("  # NOTE this")
        if i % 5 == 0:
            body.append('  @key "SECRET"')
        if i % 7 == 0:
            body.append("\t# tab")
        if i == 4:
            body.append("  # BOOM")
        body += ["  # PID", "  def f, do: :ok", "end", ""]
        tree[f"lib/m{i}.ex"] = "\n".join(body)
        if i % 4 == 0:
            tree[f"test/m{i}_test.exs"] = f"defmodule M{i}Test do\nend\n"
    tree["config/config.exs"] = 'import Config\nconfig :app, key: "SECRET"\n'
    return tree


def _without_pids(outcome: Review) -> Review:
    return Review(
        findings=[f for f in outcome.findings if f.rule != PID.id],
        crashed=outcome.crashed,
        not_run=outcome.not_run,
        disabled=outcome.disabled,
        files_reviewed=outcome.files_reviewed,
        notes=outcome.notes,
    )


def test_parallel_review_equals_serial_review():
    tree = _tree(24)
    serial = run(tree, jobs=1)
    parallel = run(tree, jobs=2)
    # jobs=2 really used worker processes (the threshold applies only to jobs=None).
    pids = {f.message for f in parallel.findings if f.rule == PID.id}
    assert pids
    assert f"pid {os.getpid()}" not in pids
    assert {f.message for f in serial.findings if f.rule == PID.id} == {f"pid {os.getpid()}"}
    assert _without_pids(parallel) == _without_pids(serial)
    assert serial.crashed == {"L2.t-boom": "RuntimeError on lib/m4.ex: boom"}
    assert serial.files_reviewed == len(tree)
    assert ("L3.t-untested", "lib/m1.ex", 1) in ids(serial)
    assert ("L3.t-untested", "lib/m4.ex", 1) not in ids(serial)


def test_small_review_with_default_jobs_stays_in_process():
    outcome = run({"lib/a.ex": "# PID\n", "lib/b.ex": "# PID\n"}, jobs=None)
    assert {f.message for f in outcome.findings if f.rule == PID.id} == {f"pid {os.getpid()}"}


def test_more_jobs_than_files():
    assert ids(run({"lib/a.ex": "# TODO\n"}, jobs=8)) == [
        ("L2.t-todo", "lib/a.ex", 1),
        ("L3.t-untested", "lib/a.ex", 1),
    ]


def test_real_rules_parallel_equals_serial(monkeypatch):
    monkeypatch.undo()  # the real registry this time
    root = Path(__file__).resolve().parent.parent / "examples" / "shop"
    sources: list[SourceFile] = []
    for copy in range(3):
        for path in sorted(root.rglob("*.ex*")):
            rel = path.relative_to(root).as_posix()
            if copy:
                rel = rel.replace("lib/", f"lib/copy{copy}/", 1)
            prepared = prepare(rel, path.read_bytes(), Config())
            if isinstance(prepared, SourceFile):
                sources.append(prepared)
    assert len(sources) > 12
    serial = review(sources, Config(), jobs=1)
    parallel = review(sources, Config(), jobs=2)
    assert parallel == serial
    assert serial.findings, "the example project is expected to have findings"


# --- verdict ------------------------------------------------------------------------------------


def test_verdict_all_pass_and_levels_without_rules_are_skipped():
    result = verdict(run(TESTED), 3)
    status = {n: lv.status for n, lv in result.levels.items()}
    assert status == {
        0: "pass",
        1: "pass",
        2: "pass",
        3: "pass",
        4: "pass",
        5: "pass",
        6: "skipped",  # no stand-in rule at L6
        7: "pass",
    }
    assert result.levels[6].note == "no rules"
    assert result.reached == 7
    assert result.passed
    assert result.verdict() == "reached L7, requires L3"


def test_verdict_fail_stops_the_climb():
    result = verdict(run({**TESTED, "lib/a.ex": "# TODO\n"}), 3)
    assert result.levels[2].status == "fail"
    assert result.levels[2].findings == 1
    assert result.levels[2].blocking == 1
    assert result.levels[5].status == "pass"
    assert result.reached == 1
    assert not result.passed
    assert result.verdict() == "reached L1, requires L3"


def test_verdict_reached_is_none_when_l0_fails():
    result = verdict(run({**TESTED, "lib/a.ex": "# BROKEN\n"}), 0)
    assert result.levels[0].status == "fail"
    assert result.reached is None
    assert not result.passed  # even with required L0
    assert result.verdict() == "reached nothing (L0 fails), requires L0"
    assert result.to_json()["reached"] is None


def test_notices_never_block():
    result = verdict(run({**TESTED, "lib/a.ex": "# NOTE\n# NOTE again\n"}), 7)
    assert result.levels[4].status == "pass"
    assert result.levels[4].findings == 2
    assert result.levels[4].blocking == 0
    assert result.reached == 7
    assert result.passed


def test_needs_elixir_rule_without_the_helper_makes_its_level_skipped():
    outcome = run(
        TESTED, formatter=FormatterRun(unavailable="the `elixir` executable is missing")
    )
    assert outcome.not_run == {"L1.t-format": "the `elixir` executable is missing"}
    result = verdict(outcome, 3)
    # L1.t-tabs ran and passed, but the formatter rule did not: never "pass".
    assert result.levels[1].status == "skipped"
    assert result.levels[1].note == "L1.t-format not run: the `elixir` executable is missing"
    assert result.reached == 7  # skipped does not block the climb
    assert result.to_json()["levels"]["L1"] == {"status": "skipped", "findings": 0}


def test_needs_elixir_rule_without_the_helper_still_fails_on_other_findings():
    outcome = run(
        {**TESTED, "lib/a.ex": "\tdefmodule A do\nend\n"}, formatter=FormatterRun(unavailable="x")
    )
    result = verdict(outcome, 3)
    assert result.levels[1].status == "fail"
    assert result.reached == 0


def test_default_formatter_run_means_not_started():
    outcome = review(files(TESTED), Config(), rules=STANDINS, jobs=1)
    assert "L1.t-format" in outcome.not_run
    assert verdict(outcome, 3).levels[1].status == "skipped"


def test_level_with_every_rule_switched_off_is_skipped():
    config = Config(
        rules={"L2.t-todo": RuleSetting(enabled=False), "L2.t-boom": RuleSetting(False)}
    )
    outcome = review(files(TESTED), config, rules=STANDINS, formatter=FormatterRun(), jobs=1)
    assert outcome.disabled == {"L2.t-todo", "L2.t-boom"}
    result = verdict(outcome, 3)
    assert result.levels[2].status == "skipped"
    assert result.levels[2].note == "every rule of this level is switched off"


def test_disabled_rule_does_not_run():
    config = Config(rules={"L2.t-todo": RuleSetting(enabled=False)})
    outcome = review(files({"lib/a.ex": "# TODO\n"}), config, rules=STANDINS, jobs=1)
    assert "L2.t-todo" not in {f.rule for f in outcome.findings}


def test_severity_overrides_apply_to_file_and_project_findings():
    config = Config(
        rules={
            "L2.t-todo": RuleSetting(severity=Severity.NOTICE),
            "L3.t-untested": RuleSetting(severity=Severity.NOTICE),
            "L4.t-note": RuleSetting(severity=Severity.ERROR),
        }
    )
    outcome = review(
        files({"lib/a.ex": "# TODO NOTE\n"}), config, rules=STANDINS, formatter=FormatterRun()
    )
    severities = {f.rule: f.severity for f in outcome.findings}
    assert severities == {
        "L2.t-todo": Severity.NOTICE,
        "L3.t-untested": Severity.NOTICE,
        "L4.t-note": Severity.ERROR,
    }
    result = verdict(outcome, 3)
    assert [result.levels[n].status for n in (2, 3, 4)] == ["pass", "pass", "fail"]
    assert result.reached == 3


def test_verdict_uses_the_filtered_findings_when_given():
    outcome = run({**TESTED, "lib/a.ex": "# TODO\n"})
    result = verdict(outcome, 3, findings=[], outside_diff=1, notes=["hello", "hello"])
    assert result.levels[2].status == "pass"
    assert result.findings == ()
    assert result.outside_diff == 1
    assert result.notes == ("hello",)


def test_files_reviewed_counts_changed_files_only():
    outcome = run({**TESTED, "lib/b.ex": CLEAN}, changed={"lib/b.ex"})
    assert outcome.files_reviewed == 1


# --- project rules, context files, suppressions -------------------------------------------------


def test_project_findings_only_for_changed_paths():
    tree = {"lib/a.ex": CLEAN, "lib/b.ex": CLEAN, "lib/c.ex": CLEAN, "test/c_test.exs": "#\n"}
    everything = run(tree)
    assert {p for r, p, _ in ids(everything) if r == "L3.t-untested"} == {"lib/a.ex", "lib/b.ex"}
    only_a = run(tree, changed={"lib/a.ex", "lib/c.ex"})
    assert [x for x in ids(only_a) if x[0] == "L3.t-untested"] == [
        ("L3.t-untested", "lib/a.ex", 1)
    ]


def test_context_files_inform_project_rules_but_report_nothing():
    # The test file is context (not changed): it still answers "has a.ex a test?", and its own
    # TODO is not reported.
    tree = {"lib/a.ex": CLEAN, "test/a_test.exs": "# TODO\n"}
    outcome = run(tree, changed={"lib/a.ex"})
    assert ids(outcome) == []


def test_suppressions_apply_to_project_findings():
    tree = {
        "lib/a.ex": "# ladder:disable-next-line L3.t-untested -- gen\ndefmodule A do\nend\n",
        "lib/b.ex": "# ladder:disable-file L3.* -- legacy\ndefmodule B do\nend\n",
        "lib/c.ex": "# ladder:disable-next-line L2.t-todo -- other\ndefmodule C do\nend\n",
    }
    found = [x for x in ids(run(tree)) if x[0] == "L3.t-untested"]
    assert found == [("L3.t-untested", "lib/c.ex", 2)]


def test_suppressions_apply_to_file_findings():
    text = (
        "defmodule A do\n"
        "  # ladder:disable-next-line L2.t-todo -- tracked in JIRA-1\n"
        '  @one "TODO"\n'
        '  @two "TODO"  # ladder:disable-line L2.t-todo -- tracked\n'
        "  # credo:disable-for-next-line Credo.Check.Readability.StandInMarker\n"
        '  @three "TODO"\n'
        '  @four "TODO"\n'
        "end\n"
    )
    found = [x for x in ids(run({**TESTED, "lib/a.ex": text})) if x[0] == "L2.t-todo"]
    assert found == [("L2.t-todo", "lib/a.ex", 7)]


# --- the formatter's verdicts -------------------------------------------------------------------


def test_format_results_reach_the_rules():
    unformatted = "defmodule A do\ndef a, do: 1\nend\n"
    run_ = FormatterRun(results={"lib/a.ex": FormatResult(formatted=CLEAN)})
    outcome = run({**TESTED, "lib/a.ex": unformatted}, formatter=run_)
    assert next(f for f in outcome.findings if f.rule == "L1.t-format").suggestion == CLEAN
    assert verdict(outcome, 3).levels[1].status == "fail"


def test_advisory_turns_needs_elixir_findings_into_notices():
    unformatted = "defmodule A do\ndef a, do: 1\n# TODO\nend\n"
    advisory = "advisory: the project requires Elixir ~> 1.99 and the formatter here is 1.14.0"
    run_ = FormatterRun(results={"lib/a.ex": FormatResult(formatted=CLEAN)}, advisory=advisory)
    outcome = run({**TESTED, "lib/a.ex": unformatted}, formatter=run_)
    by_rule = {f.rule: f for f in outcome.findings}
    assert by_rule["L1.t-format"].severity is Severity.NOTICE
    assert by_rule["L1.t-format"].message == f"not formatted ({advisory})"
    assert by_rule["L2.t-todo"].severity is Severity.WARNING  # not a formatter rule: untouched
    result = verdict(outcome, 3)
    assert result.levels[1].status == "pass"
    assert result.levels[2].status == "fail"


def test_syntax_error_skips_structural_rules_only():
    broken = "defmodule A do\n  def a(\n  # TODO\n\t# BROKEN\n"
    outcome = run({**TESTED, "lib/a.ex": broken})
    rules = {f.rule for f in outcome.findings if f.path == "lib/a.ex"}
    assert "L2.t-todo" not in rules  # structural: needs a tree without errors
    assert {"L0.t-broken", "L1.t-tabs"} <= rules  # text rules run on broken files


def test_helper_syntax_error_counts_as_broken():
    error = FormatResult(syntax_error=ElixirSyntaxError(2, 1, "missing terminator"))
    outcome = run(
        {**TESTED, "lib/a.ex": "# TODO\n"}, formatter=FormatterRun(results={"lib/a.ex": error})
    )
    assert "L2.t-todo" not in {f.rule for f in outcome.findings}


def test_findings_are_sorted_and_deduplicated():
    outcome = run({"lib/b.ex": "# TODO\n# TWICE\n", "lib/a.ex": "# NOTE\n# TODO\n"})
    assert outcome.findings == sorted(outcome.findings, key=lambda f: f.sort_key)
    assert [f.rule for f in outcome.findings].count("L7.t-twice") == 1


def test_findings_carry_level_and_rule_from_the_rule():
    outcome = run({"lib/a.ex": "# SECRET\n"})
    secret = next(f for f in outcome.findings if f.rule == "L5.t-secret")
    assert isinstance(secret, Finding)
    assert (secret.level, secret.severity, secret.column) == (5, Severity.ERROR, 1)


def test_no_files():
    outcome = run({})
    assert outcome.findings == []
    assert outcome.files_reviewed == 0
    assert verdict(outcome, 3).reached == 7


def test_unregistered_rules_run_without_the_registry(monkeypatch):
    monkeypatch.undo()
    outcome = run({"lib/a.ex": "# TODO\n"}, rules=(TODO, BOOM))
    assert ids(outcome) == [("L2.t-todo", "lib/a.ex", 1)]
    assert run({"lib/a.ex": "# BOOM\n"}, rules=(TODO, BOOM), jobs=2).crashed == {
        "L2.t-boom": "RuntimeError on lib/a.ex: boom"
    }


NEEDS_ELIXIR_L2 = _rule("L2.t-needs-elixir", check=_check_format, needs_elixir=True)


def test_verdict_follows_the_reviewed_rules(monkeypatch):
    monkeypatch.undo()  # the real registry, which has no L2.t-needs-elixir
    outcome = review(
        files({"lib/a.ex": CLEAN}),
        Config(),
        rules=[*(r for r in all_rules() if r.level == 2), NEEDS_ELIXIR_L2],
        formatter=FormatterRun(unavailable="no elixir"),
        jobs=1,
    )
    assert outcome.not_run == {"L2.t-needs-elixir": "no elixir"}
    assert verdict(outcome, 3).levels[2].status == "skipped"


def test_the_real_registry_is_untouched_by_the_stand_ins():
    assert not {r.id for r in all_rules()} & {r.id for r in (*STANDINS, *CRASHERS)}


def test_fewer_collections_restores_the_threshold_when_reviews_overlap_in_threads():
    import gc
    import threading

    from checks.ladder import fewer_collections

    before = gc.get_threshold()
    inside = threading.Event()
    release = threading.Event()

    def long_review() -> None:
        with fewer_collections():
            inside.set()
            release.wait(5)

    worker = threading.Thread(target=long_review)
    worker.start()
    inside.wait(5)
    with fewer_collections():  # a second review starts and ends while the first runs
        assert gc.get_threshold()[0] >= 50_000
    assert gc.get_threshold()[0] >= 50_000  # still raised: the first review is running
    release.set()
    worker.join(5)
    assert gc.get_threshold() == before
