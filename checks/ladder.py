"""Run every rule over every file, isolate crashes, apply suppressions, compute the verdict.

The engine is the only place that knows how rules are scheduled: per file, a FileContext is
built once (one parse, one index query) and every applicable rule runs on it; project-wide rules
get a summary of each file and run once at the end. Files are spread over worker processes when
there is enough work to pay for them, since the parse is CPU-bound and tree-sitter trees cannot
cross processes anyway.
"""

from __future__ import annotations

import gc
import logging
import os
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from multiprocessing import get_context
from typing import TYPE_CHECKING, Any

from checks import suppress
from checks.config import Config
from checks.context import FileContext, FileSummary, ProjectContext, SourceFile
from checks.model import (
    LEVELS,
    Finding,
    LadderResult,
    LevelResult,
    LevelStatus,
    Rule,
    Severity,
    SkippedFile,
)
from checks.registry import all_rules, rules_by_id

if TYPE_CHECKING:
    from checks.formatter import FormatResult

log = logging.getLogger(__name__)

# Below this much source, worker processes cost more than they save.
PARALLEL_THRESHOLD_BYTES = 400_000


@dataclass(frozen=True)
class FormatterRun:
    """What the optional Elixir helper said, prepared by the caller before the review."""

    results: Mapping[str, FormatResult] = field(default_factory=dict)
    line_length: int = 98
    # Why the formatter did not run (no elixir, disabled); None when it ran.
    unavailable: str | None = None
    # Why formatter findings are only advisory (version skew); None when authoritative.
    advisory: str | None = None


@dataclass
class Review:
    """Raw outcome of running the rules, before the diff filter and the verdict."""

    findings: list[Finding]
    crashed: dict[str, str]  # rule id -> first error seen
    not_run: dict[str, str]  # rule id -> why it could not run (e.g. needs elixir)
    disabled: set[str]
    files_reviewed: int
    # Every rule the review considered (run, disabled or unable to run), by id.
    rule_ids: frozenset[str] = frozenset()
    notes: list[str] = field(default_factory=list)


@dataclass
class _FileOutcome:
    findings: list[Finding]
    crashed: dict[str, str]
    summaries: dict[str, Any]
    suppressions: list[suppress.Suppression]


def select_rules(config: Config, rules: Sequence[Rule] | None = None) -> list[Rule]:
    return [r for r in (rules if rules is not None else all_rules()) if config.enabled(r)]


def review(
    files: Sequence[SourceFile],
    config: Config,
    *,
    formatter: FormatterRun | None = None,
    rules: Sequence[Rule] | None = None,
    changed: Iterable[str] | None = None,
    jobs: int | None = None,
) -> Review:
    """Review `files`; `changed` (default: all of them) are the paths under review, the others
    are context (e.g. tests of a changed module) whose own findings are not reported."""
    formatter = formatter or FormatterRun(unavailable="the Elixir helper was not started")
    universe = list(rules) if rules is not None else list(all_rules())
    active = select_rules(config, universe)
    disabled = {r.id for r in universe} - {r.id for r in active}
    not_run: dict[str, str] = {}
    if formatter.unavailable is not None:
        for rule in active:
            if rule.needs_elixir:
                not_run[rule.id] = formatter.unavailable
    runnable = [r for r in active if r.id not in not_run]
    changed_set = frozenset(changed) if changed is not None else frozenset(f.path for f in files)

    with fewer_collections():
        outcomes = _run_files(files, config, runnable, formatter, jobs)

    findings: list[Finding] = []
    crashed: dict[str, str] = {}
    summaries: dict[str, list[FileSummary]] = {}
    suppressions = {f.path: o.suppressions for f, o in zip(files, outcomes, strict=True)}
    by_id = {**rules_by_id(), **{r.id: r for r in universe}}
    for source, outcome in zip(files, outcomes, strict=True):
        if source.path in changed_set:
            findings.extend(outcome.findings)
        for rule_id, error in outcome.crashed.items():
            crashed.setdefault(rule_id, error)
        for rule_id, data in outcome.summaries.items():
            summaries.setdefault(rule_id, []).append(FileSummary(source.path, source.kind, data))

    project = ProjectContext(config=config, summaries=summaries, changed=changed_set)
    for rule in runnable:
        if rule.check_project is None:
            continue
        try:
            produced = [
                _with_config(f, config, rule)
                for f in rule.check_project(project)
                if f.path in changed_set
            ]
        except Exception as exc:  # a broken rule must never sink the review
            log.exception("rule %s crashed in its project pass", rule.id)
            crashed.setdefault(rule.id, f"{type(exc).__name__}: {exc}")
            continue
        by_path: dict[str, list[Finding]] = {}
        for f in produced:
            by_path.setdefault(f.path, []).append(f)
        for path, mine in by_path.items():
            kept, _used = suppress.apply(mine, suppressions.get(path, []), by_id)
            findings.extend(kept)

    if formatter.advisory is not None:
        findings = [_advisory(f, formatter.advisory, by_id) for f in findings]
    findings.sort(key=lambda f: f.sort_key)
    return Review(
        findings=_dedupe(findings),
        crashed=crashed,
        not_run=not_run,
        disabled=disabled,
        files_reviewed=len(changed_set & {f.path for f in files}),
        rule_ids=frozenset(r.id for r in universe),
    )


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Reviewing allocates millions of short-lived node objects that reference counting frees
    at once; the cyclic collector's passes over them find nothing and cost several percent of
    a review. Freeze what exists (imports, config), collect less often, restore afterwards.

    The service reviews in several threads at once: the first review in sets the threshold
    and the last one out restores it, so overlapping reviews never leave it raised."""
    global _collections_depth, _collections_saved
    with _collections_lock:
        if _collections_depth == 0:
            _collections_saved = gc.get_threshold()
            gc.freeze()
            first = _collections_saved
            gc.set_threshold(max(first[0], 50_000), first[1], first[2])
        _collections_depth += 1
    try:
        yield
    finally:
        with _collections_lock:
            _collections_depth -= 1
            if _collections_depth == 0:
                gc.set_threshold(*_collections_saved)
                gc.unfreeze()


_collections_lock = threading.Lock()
_collections_depth = 0
_collections_saved: tuple[int, int, int] = gc.get_threshold()


def _advisory(finding: Finding, why: str, by_id: Mapping[str, Rule]) -> Finding:
    rule = by_id.get(finding.rule)
    if rule is None or not rule.needs_elixir or finding.severity is Severity.NOTICE:
        return finding
    return replace(finding, severity=Severity.NOTICE, message=f"{finding.message} ({why})")


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[object, ...]] = set()
    unique: list[Finding] = []
    for f in findings:
        key = (f.path, f.line, f.column, f.rule, f.message)
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique


def _with_config(finding: Finding, config: Config, rule: Rule) -> Finding:
    """Apply the repo's severity for the rule; without one, a rule's own per-finding severity
    (e.g. sobelow-style confidence: high is an error, medium a warning) stands."""
    configured = config.setting(rule.id).severity
    if configured is None or finding.severity == configured:
        return finding
    return replace(finding, severity=configured)


def _run_files(
    files: Sequence[SourceFile],
    config: Config,
    rules: list[Rule],
    formatter: FormatterRun,
    jobs: int | None,
) -> list[_FileOutcome]:
    total = sum(len(f.text) for f in files)
    workers = jobs if jobs is not None else (os.cpu_count() or 1)
    if jobs is None and total < PARALLEL_THRESHOLD_BYTES:
        workers = 1
    workers = max(1, min(workers, len(files)))
    if workers == 1:
        return [
            _review_file(f, config, formatter.results.get(f.path), formatter.line_length, rules)
            for f in files
        ]
    # The workers get the whole job once, at start (under fork, by inheritance: nothing is
    # pickled), and then only file indices travel: sending 5 MB of source through pipes
    # cost more than the review of a small file.
    context = get_context("fork") if hasattr(os, "fork") else get_context()
    chunk = max(1, len(files) // (workers * 4))
    job = _Job(list(files), config, formatter, rules)
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_init_worker, initargs=(job,)
    ) as pool:
        return list(pool.map(_review_indexed, range(len(files)), chunksize=chunk))


@dataclass(frozen=True)
class _Job:
    files: list[SourceFile]
    config: Config
    formatter: FormatterRun
    rules: list[Rule]


_worker_job: _Job | None = None


def _init_worker(job: _Job) -> None:
    global _worker_job
    _worker_job = job


def _review_indexed(index: int) -> _FileOutcome:
    job = _worker_job
    assert job is not None, "worker used before its initializer ran"
    source = job.files[index]
    return _review_file(
        source,
        job.config,
        job.formatter.results.get(source.path),
        job.formatter.line_length,
        job.rules,
    )


# (id of the rule list, file kind, broken?) -> the rules that apply. Filtering ~80 rules per
# file showed up in profiles; the answer only depends on these three things.
_applicable: dict[tuple[int, str, bool], tuple[list[Rule], list[Rule]]] = {}


def _rules_for(rules: list[Rule], kind: str, broken: bool) -> list[Rule]:
    key = (id(rules), kind, broken)
    hit = _applicable.get(key)
    if hit is None or hit[0] is not rules:
        selected = [
            r for r in rules if kind in r.applies_to and (r.runs_on_broken_files or not broken)
        ]
        if len(_applicable) > 256:
            _applicable.clear()
        hit = (rules, selected)
        _applicable[key] = hit
    return hit[1]


def _review_file(
    source: SourceFile,
    config: Config,
    format_result: FormatResult | None,
    line_length: int,
    rules: list[Rule],
) -> _FileOutcome:
    ctx = FileContext.build(source, config, format_result=format_result, line_length=line_length)
    broken = ctx.has_syntax_error
    findings: list[Finding] = []
    crashed: dict[str, str] = {}
    summaries: dict[str, Any] = {}
    for rule in _rules_for(rules, source.kind, broken):
        try:
            if rule.check is not None:
                findings.extend(_with_config(f, config, rule) for f in rule.check(ctx))
            if rule.summarize is not None:
                summaries[rule.id] = rule.summarize(ctx)
        except Exception as exc:  # isolate: one broken rule must not hide the others
            log.exception("rule %s crashed on %s", rule.id, source.path)
            crashed[rule.id] = f"{type(exc).__name__} on {source.path}: {exc}"
    if findings and ctx.suppressions:
        by_id = {**rules_by_id(), **{r.id: r for r in rules}}
        findings, _used = suppress.apply(findings, ctx.suppressions, by_id)
    return _FileOutcome(findings, crashed, summaries, ctx.suppressions)


def verdict(
    review: Review,
    required: int,
    *,
    findings: Sequence[Finding] | None = None,
    skipped_files: Sequence[SkippedFile] = (),
    outside_diff: int = 0,
    notes: Sequence[str] = (),
) -> LadderResult:
    """The ladder: a level passes when it has no blocking finding; L(N) is reached when 0..N pass.

    A level none of whose rules could run is `skipped`, never `pass`; so is a level one of
    whose rules could not run (the formatter without Elixir) when nothing else failed it.
    Skipped levels do not block the climb: they were not verified, and the report says so.
    """
    shown = list(findings if findings is not None else review.findings)
    universe = review.rule_ids or frozenset(r.id for r in all_rules())
    levels: dict[int, LevelResult] = {}
    for level in LEVELS:
        mine = [f for f in shown if f.level == level]
        blocking = sum(1 for f in mine if f.severity.blocks)
        rule_ids = {r for r in universe if int(r[1]) == level}
        ran = rule_ids - review.disabled - set(review.not_run)
        missing = sorted(rule_ids & set(review.not_run))
        status: LevelStatus
        note: str | None = None
        if blocking:
            status = "fail"
        elif not ran:
            status = "skipped"
            note = "every rule of this level is switched off" if rule_ids else "no rules"
        elif missing:
            status = "skipped"
            note = "; ".join(f"{r} not run: {review.not_run[r]}" for r in missing)
        else:
            status = "pass"
        levels[level] = LevelResult(
            status=status, findings=len(mine), blocking=blocking, note=note
        )
    reached: int | None = None
    for level in LEVELS:
        if levels[level].status == "fail":
            break
        reached = level
    all_notes = list(review.notes) + list(notes)
    return LadderResult(
        findings=tuple(shown),
        reached=reached,
        required=required,
        levels=levels,
        crashed_rules=tuple(sorted(review.crashed)),
        skipped_files=tuple(skipped_files),
        notes=tuple(dict.fromkeys(all_notes)),
        outside_diff=outside_diff,
        files_reviewed=review.files_reviewed,
    )
