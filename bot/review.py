"""The orchestrator: one review request in, a completed Check Run and one review out.

request -> pull request -> config at the BASE sha -> Check Run in_progress -> changed files and
their patches -> sources at the head sha (plus the tests of changed modules) -> engine -> diff
filter -> annotations, inline comments, summary -> review (event COMMENT) -> Check Run completed.

Whatever fails, the Check Run this function created ends `completed` with a title that says what
went wrong: the `finally`-style handler below is the one place that guarantees it. GitHub is the
only state: inline comments carry fingerprints, and the comments already on the pull request say
which findings were posted before.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot import report
from bot.diff import FileChange, parse_patch
from bot.engine import Engine, EngineInput, Outcome
from bot.github import (
    FileTooLarge,
    GitHub,
    GitHubError,
    NotAFile,
    RateLimited,
    Unanswered,
)
from bot.jobs import Job
from bot.metrics import Metrics
from bot.repo_config import CONFIG_LOCATIONS, ConfigError, parse
from bot.routes import CHECK_NAME, RECHECK_ACTION, ReviewRequest
from checks.config import Config
from checks.l3_support import conventional_test_paths
from checks.model import Finding, SkippedFile
from checks.paths import any_match, is_reviewable
from checks.registry import rules_by_id
from checks.sources import MAX_BYTES

log = logging.getLogger("ladder.review")
review_log = logging.getLogger("ladder.review.done")

# Context files (tests of changed modules) fetched per review at most.
MAX_CONTEXT_FILES = 200
# Seconds before a failed review's completion, refused by GitHub, is tried again.
RETRY_COMPLETION = 30.0
# Seconds a cancelled review may spend completing its run (after the stop grace).
CANCEL_SECONDS = 1.5
# Annotations per Check Run: 10 updates of 50. The summary counts the rest.
MAX_ANNOTATIONS = 500
RECHECK_BUTTON = {
    "label": "Recheck",
    "description": "Run the Ladder review again",
    "identifier": RECHECK_ACTION,
}


@dataclass
class Deps:
    """What a review needs from the service; tests and the demo build it the same way."""

    github: Callable[[int], GitHub]
    engine: Engine
    metrics: Metrics
    # Concurrent content fetches per review (on top of the client's per-installation bound).
    fetch_concurrency: int = 8
    # Run a coroutine after a delay, tracked by the service (None: give up instead).
    later: Callable[[float, Callable[[], Awaitable[None]], str], None] | None = None


@dataclass
class Record:
    """The facts of one review, logged as one JSON line at the end."""

    delivery_id: str
    repo: str
    pr: int
    reason: str
    sha: str | None = None
    check_run_id: int | None = None
    files: int = 0
    findings: int = 0
    outside_diff: int = 0
    comments: int = 0
    conclusion: str | None = None
    check_url: str | None = None
    # A create was sent: a run may exist even while check_run_id is still None.
    creating_check_run: bool = False
    outcome: str = "started"
    error: str | None = None


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def run_review(request: ReviewRequest, job: Job, deps: Deps) -> None:
    """Run one review; never leaves a Check Run it created in progress."""
    gh = deps.github(request.installation_id)
    record = Record(request.delivery_id, request.repo.full_name, request.number, request.reason)
    started = time.monotonic()
    deps.metrics.review_events.inc(event="start")
    log.info(
        "review started",
        extra={
            "delivery_id": request.delivery_id,
            "repo": record.repo,
            "pr": record.pr,
            "reason": request.reason,
            "queued_ms": round((started - job.enqueued_at) * 1000, 1),
        },
    )
    try:
        await _review(request, job, deps, gh, record)
    except asyncio.CancelledError:
        # The service is shutting down: say so on the Check Run instead of leaving it running.
        deps.metrics.review_events.inc(event="exception")
        record.outcome = "cancelled"
        await _cancel_check_run(gh, request, record)
        raise
    except Exception as exc:
        deps.metrics.review_events.inc(event="exception")
        record.outcome = "error"
        record.error = f"{type(exc).__name__}: {exc}"[:500]
        try:
            await _fail_check_run(gh, request, record, exc, deps)
        except asyncio.CancelledError:
            await _cancel_check_run(gh, request, record)
            raise
        raise
    finally:
        elapsed = time.monotonic() - started
        deps.metrics.review_events.inc(event="stop")
        deps.metrics.review_seconds.observe(elapsed)
        deps.metrics.reviews.inc(conclusion=record.conclusion or record.outcome)
        line = {
            "delivery_id": record.delivery_id,
            "repo": record.repo,
            "pr": record.pr,
            "sha": record.sha,
            "reason": record.reason,
            "outcome": record.outcome,
            "check_run_id": record.check_run_id,
            "files": record.files,
            "findings": record.findings,
            "outside_diff": record.outside_diff,
            "comments": record.comments,
            "conclusion": record.conclusion,
            "duration_ms": round(elapsed * 1000, 1),
            "github_calls": gh.stats.calls,
            "github_retries": gh.stats.retries,
            "rate_limit_remaining": gh.stats.rate_limit_remaining,
            "error": record.error,
        }
        review_log.info("review", extra=line)


async def _review(
    request: ReviewRequest, job: Job, deps: Deps, gh: GitHub, record: Record
) -> None:
    owner, name, number = request.repo.owner, request.repo.name, request.number
    pull = request.pull
    if pull is None or request.head_sha is None:
        pull = await gh.get_pull(owner, name, number)
    head_sha = str(pull["head"]["sha"]) if request.pull is None else str(request.head_sha)
    record.sha = head_sha
    if request.head_sha and head_sha != request.head_sha and not request.force:
        # A check_suite event for a commit that is no longer the head: the push that moved
        # the head brings its own review.
        record.outcome = f"skipped: {request.head_sha[:7]} is no longer the head"
        return
    if pull.get("state") == "closed":
        record.outcome = "skipped: pull request is closed"
        return
    base_sha = str(pull["base"]["sha"])

    if pull.get("draft") and not request.force:
        # Only the base branch's config can say that drafts are reviewed.
        config, config_error = await load_config(gh, owner, name, base_sha)
        if not (config and config.review_drafts):
            record.outcome = "skipped: draft pull request (review_drafts is off)"
            return
        check = await _start_check_run(gh, request, head_sha, record)
    else:
        # The Check Run first, so the author sees "in progress" at once; the config read
        # runs alongside it.
        started, loaded = await asyncio.gather(
            _start_check_run(gh, request, head_sha, record),
            load_config(gh, owner, name, base_sha),
            return_exceptions=True,
        )
        if isinstance(started, BaseException):
            raise started
        check = started
        if isinstance(loaded, BaseException):
            raise loaded  # the run is recorded: the failure path completes it
        config, config_error = loaded
    record.check_url = check.get("html_url") if isinstance(check.get("html_url"), str) else None

    if config_error is not None or config is None:
        await _complete(
            gh,
            request,
            record,
            conclusion="action_required",
            title="Invalid .github/ladder.yml",
            summary=(
                "Ladder read its configuration from the base branch and could not use it:\n\n"
                f"```\n{config_error}\n```\n\nFix the file on the base branch; "
                "a pull request cannot change the config that reviews it."
            ),
        )
        return

    files = await gh.list_pull_files(owner, name, number)
    # Parsing thousands of patches is pure Python: off the loop, so webhooks keep answering.
    changes, skipped = await asyncio.to_thread(_changes, files, config)
    record.files = len(changes)
    if not changes:
        await _complete(
            gh,
            request,
            record,
            conclusion="neutral",
            title="Nothing to review",
            summary=_nothing_summary(files, skipped, config),
        )
        return

    sources, formatter_exs = await asyncio.gather(
        _fetch_sources(gh, owner, name, head_sha, changes, skipped, deps, config),
        _optional_text(gh, owner, name, ".formatter.exs", base_sha),
    )
    # The engine works in a thread; meanwhile, read what the bot already said on this PR.
    outcome, already = await asyncio.gather(
        deps.engine.run(
            EngineInput(
                sources=sources,
                changed=set(changes) & set(sources),
                changes=changes,
                config=config,
                formatter_exs=formatter_exs,
                skipped=skipped,
            )
        ),
        existing_fingerprints(gh, owner, name, number),
    )
    record.findings = len(outcome.shown)
    record.outside_diff = len(outcome.outside)

    if job.superseded:
        await _complete(
            gh,
            request,
            record,
            conclusion="cancelled",
            title=(
                "Restarted by a newer request"
                if job.superseded_by == head_sha
                else f"Superseded by {str(job.superseded_by)[:7]}"
            ),
            summary="A newer push arrived while this commit was being reviewed; "
            "the newer commit gets the review.",
        )
        return

    comments, unplaced, note = await _post_review(
        gh, request, head_sha, outcome, changes, config, already, record.check_url
    )
    record.comments = comments
    await _finish(gh, request, record, outcome, unplaced, config, note)


async def _start_check_run(
    gh: GitHub, request: ReviewRequest, head_sha: str, record: Record
) -> dict[str, Any]:
    """Create the run and record its id the moment it exists, so that whatever happens next
    (a failing config read, a shutdown) knows there is a run to complete."""
    record.creating_check_run = True
    run = await _create_check_run(gh, request, head_sha)
    record.check_run_id = int(run["id"])
    return run


async def _create_check_run(gh: GitHub, request: ReviewRequest, head_sha: str) -> dict[str, Any]:
    body = {
        "name": CHECK_NAME,
        "head_sha": head_sha,
        "status": "in_progress",
        "started_at": _now(),
        "external_id": f"pr:{request.number}",
        "output": {
            "title": "Reviewing…",
            "summary": f"Ladder is reviewing {head_sha[:7]} ({request.reason}).",
        },
    }
    owner, name = request.repo.owner, request.repo.name
    try:
        return await gh.create_check_run(owner, name, body)
    except Unanswered:
        # GitHub may have created it: adopt a run of ours still in progress rather than leave
        # an orphan that would show "in progress" for good.
        for run in await gh.list_check_runs(owner, name, head_sha, CHECK_NAME):
            if run.get("external_id") == body["external_id"] and run.get("status") != "completed":
                return run
        return await gh.create_check_run(owner, name, body)


# --- config and files ------------------------------------------------------------------------


async def load_config(
    gh: GitHub, owner: str, name: str, base_sha: str
) -> tuple[Config | None, str | None]:
    """The repository's config at the base sha: never the head, so a pull request cannot switch
    off its own review. Returns (config, None) or (None, error)."""
    found = await asyncio.gather(
        *(gh.get_file(owner, name, location, base_sha) for location in CONFIG_LOCATIONS),
        return_exceptions=True,
    )
    for location, data in zip(CONFIG_LOCATIONS, found, strict=True):
        if isinstance(data, (FileTooLarge, NotAFile)):
            return None, f"{location}: {data}"
        if isinstance(data, BaseException):
            raise data
        if data is None:
            continue
        try:
            return parse(data, source=f"{location} at {base_sha[:7]}"), None
        except ConfigError as exc:
            return None, str(exc)
    return Config(), None


def _changes(
    files: Sequence[Mapping[str, Any]], config: Config
) -> tuple[dict[str, FileChange], list[SkippedFile]]:
    changes: dict[str, FileChange] = {}
    skipped: list[SkippedFile] = []
    for entry in files:
        path = str(entry.get("filename", ""))
        status = str(entry.get("status", "modified"))
        if not path or status == "removed" or not is_reviewable(path):
            continue
        if any_match(path, config.exclude):
            continue
        patch = entry.get("patch")
        if isinstance(patch, str) and patch:
            change = parse_patch(patch, path)
        else:
            # GitHub leaves out the patch of large diffs: review the whole file instead.
            change = FileChange(path=path, whole_file=True)
            if status == "unchanged" or (entry.get("changes") == 0 and status != "added"):
                continue
        change.status = status
        previous = entry.get("previous_filename")
        change.previous_path = str(previous) if previous else None
        changes[path] = change
    return changes, skipped


async def _fetch_sources(
    gh: GitHub,
    owner: str,
    name: str,
    head_sha: str,
    changes: Mapping[str, FileChange],
    skipped: list[SkippedFile],
    deps: Deps,
    config: Config,
) -> dict[str, bytes]:
    """The changed files and, as context, the conventional tests of changed lib modules."""
    wanted = list(changes)
    guesses: list[str] = []
    for path in changes:
        for test in conventional_test_paths(path):
            if (
                test not in changes
                and test not in guesses
                and not any_match(test, config.exclude)
            ):
                guesses.append(test)
    context = await _existing(gh, owner, name, head_sha, guesses, deps)
    context = context[:MAX_CONTEXT_FILES]
    sources: dict[str, bytes] = {}
    gate = asyncio.Semaphore(deps.fetch_concurrency)

    async def fetch(path: str, *, changed: bool) -> None:
        async with gate:
            try:
                data = await gh.get_file(owner, name, path, head_sha)
            except FileTooLarge:
                if changed:
                    skipped.append(
                        SkippedFile(path, f"file is over the {MAX_BYTES:,}-byte review limit")
                    )
                return
            except NotAFile as exc:
                if changed:
                    skipped.append(SkippedFile(path, f"not a regular file ({exc.message})"))
                return
        if data is None:
            if changed:
                skipped.append(SkippedFile(path, f"not found at {head_sha[:7]}"))
            return
        sources[path] = data

    await asyncio.gather(
        *(fetch(p, changed=True) for p in wanted),
        *(fetch(p, changed=False) for p in context),
    )
    return sources


async def _existing(
    gh: GitHub, owner: str, name: str, ref: str, paths: Sequence[str], deps: Deps
) -> list[str]:
    """Which of `paths` exist at `ref`: one directory listing per directory they sit in."""
    directories = sorted({p.rsplit("/", 1)[0] for p in paths if "/" in p})
    gate = asyncio.Semaphore(deps.fetch_concurrency)

    async def listing(directory: str) -> set[str]:
        async with gate:
            entries = await gh.list_directory(owner, name, directory, ref)
        return {f"{directory}/{e.get('name')}" for e in entries or () if e.get("type") == "file"}

    found: set[str] = set()
    for names in await asyncio.gather(*(listing(d) for d in directories)):
        found |= names
    return [p for p in paths if p in found]


async def _optional_text(gh: GitHub, owner: str, name: str, path: str, ref: str) -> str | None:
    try:
        data = await gh.get_file(owner, name, path, ref)
    except (FileTooLarge, NotAFile):
        return None
    return None if data is None else data.decode("utf-8", errors="replace")


def _nothing_summary(
    files: Sequence[Mapping[str, Any]], skipped: Sequence[SkippedFile], config: Config
) -> str:
    count = len(files)
    lines = [
        f"This pull request changes {count} file{'s' if count != 1 else ''}, "
        "none of them Elixir sources Ladder reviews "
        "(`.ex`, `.exs`, `.heex`, `.eex`, outside `exclude`).",
    ]
    if config.exclude:
        lines.append(f"\nExcluded by config: {', '.join(f'`{g}`' for g in config.exclude)}")
    for s in skipped:
        lines.append(f"- `{s.path}`: {s.reason}")
    return "\n".join(lines)


# --- posting ---------------------------------------------------------------------------------


async def existing_fingerprints(gh: GitHub, owner: str, name: str, number: int) -> set[str]:
    """Fingerprints of the inline comments the bot already posted on this pull request."""
    found: set[str] = set()
    for comment in await gh.list_review_comments(owner, name, number):
        user = comment.get("user") or {}
        if user.get("type") != "Bot":
            continue  # a human quoting a marker must not silence the bot
        found |= report.fingerprints_in(str(comment.get("body") or ""))
    return found


async def _post_review(
    gh: GitHub,
    request: ReviewRequest,
    head_sha: str,
    outcome: Outcome,
    changes: Mapping[str, FileChange],
    config: Config,
    already: set[str],
    check_url: str | None,
) -> tuple[int, list[Finding], str | None]:
    """Post one review with the new inline comments; returns (comments posted, findings that
    belong in the summary instead: over the cap, outside hunks, or refused by GitHub, and a
    note for the summary when the review could not be posted at all).

    The Check Run is the verdict; inline comments are a convenience. A review GitHub will not
    take (no permission, an outage that outlasted the retries) therefore moves its findings to
    the summary instead of failing the whole check."""
    rules = rules_by_id()
    placement = await asyncio.to_thread(
        report.select_inline,
        outcome.shown,
        changes,
        lines=outcome.lines,
        already=already,
        limit=config.max_inline_comments,
        rules=rules,
    )
    unplaced = list(placement.unplaced)
    comments = list(placement.comments)
    if not comments:
        return 0, unplaced, None
    attempts = [comments, _conservative(comments, changes)]
    for attempt in attempts:
        if not attempt:
            break
        body = report.review_body(
            outcome.result,
            comments=len(attempt),
            unplaced=len(unplaced) + len(comments) - len(attempt),
            duplicates=placement.duplicates,
            check_url=check_url,
        )
        payload = {
            "commit_id": head_sha,
            "event": "COMMENT",
            "body": body,
            "comments": [c.to_api() for c in attempt],
        }
        try:
            posted = await _create_review_once(gh, request, payload, attempt)
        except RateLimited:
            raise
        except GitHubError as exc:
            if exc.status != 422 or isinstance(exc, Unanswered):
                log.warning(
                    "could not post the review; its findings go to the check summary",
                    extra={"delivery_id": request.delivery_id, "error": str(exc)[:300]},
                )
                unplaced.extend(c.finding for c in comments)
                return 0, unplaced, f"The inline comments could not be posted ({_reason(exc)})."
            log.warning(
                "GitHub refused the review's inline comments; retrying with fewer",
                extra={"delivery_id": request.delivery_id, "error": exc.message[:300]},
            )
            continue
        if not posted:
            unplaced.extend(c.finding for c in comments)
            return 0, unplaced, "GitHub did not confirm the inline review; it was not posted."
        kept = {id(c) for c in attempt}
        unplaced.extend(c.finding for c in comments if id(c) not in kept)
        return len(attempt), unplaced, None
    unplaced.extend(c.finding for c in comments)
    return 0, unplaced, "GitHub refused the inline comments; their findings are listed here."


async def _create_review_once(
    gh: GitHub,
    request: ReviewRequest,
    payload: dict[str, Any],
    attempt: Sequence[report.InlineComment],
) -> bool:
    """Post the review; when GitHub gives no clear answer, look at the pull request's
    comments: if the review's fingerprints are there it was posted, otherwise send it once
    more. False when it still cannot be confirmed."""
    owner, name, number = request.repo.owner, request.repo.name, request.number
    for tries in (1, 2):
        try:
            await gh.create_review(owner, name, number, payload)
            return True
        except Unanswered:
            present = await existing_fingerprints(gh, owner, name, number)
            if all(c.fingerprint in present for c in attempt):
                return True
            if tries == 2:
                return False
    return False


def _conservative(
    comments: Sequence[report.InlineComment], changes: Mapping[str, FileChange]
) -> list[report.InlineComment]:
    """What is left after GitHub refused a review: single-line comments on added lines only
    (GitHub does not say which comment it refused; these are the ones it cannot refuse)."""
    kept: list[report.InlineComment] = []
    for comment in comments:
        change = changes.get(comment.path)
        if change is None or comment.line not in change.added:
            continue
        if comment.start_line is not None and comment.start_line != comment.line:
            continue
        kept.append(comment)
    return kept


async def _finish(
    gh: GitHub,
    request: ReviewRequest,
    record: Record,
    outcome: Outcome,
    unplaced: list[Finding],
    config: Config,
    note: str | None = None,
) -> None:
    rules = rules_by_id()
    result = outcome.result
    annotations = await asyncio.to_thread(report.annotations, outcome.shown, rules)
    if len(annotations) > MAX_ANNOTATIONS:
        # Each batch of 50 is a write: a change that reformats a whole code base must not
        # hold the installation's write budget for minutes. The summary still counts all.
        extra = len(annotations) - MAX_ANNOTATIONS
        annotations = annotations[:MAX_ANNOTATIONS]
        cap = (
            f"{MAX_ANNOTATIONS} findings are annotated in the diff (most important first); "
            f"{extra} more are counted here only."
        )
        note = f"{note}\n\n{cap}" if note else cap
    chunks = report.batches(annotations, 50)
    title = report.title(result)
    # Every chunk but the last goes in its own update; the last rides on the completion.
    for i, chunk in enumerate(chunks[:-1], start=1):
        await gh.update_check_run(
            request.repo.owner,
            request.repo.name,
            int(record.check_run_id or 0),
            {
                "output": {
                    "title": "Reviewing…",
                    "summary": f"Posting annotations ({i * 50} of {len(annotations)}).",
                    "annotations": chunk,
                }
            },
        )
    summary = await asyncio.to_thread(
        report.summary,
        result,
        outside=outcome.outside,
        unplaced=unplaced,
        rules=rules,
        config_source=config.source,
        head_sha=record.sha,
        note=note,
    )
    await _complete(
        gh,
        request,
        record,
        conclusion=report.conclusion(result),
        title=title,
        summary=summary,
        annotations=chunks[-1] if chunks else [],
    )


async def _complete(
    gh: GitHub,
    request: ReviewRequest,
    record: Record,
    *,
    conclusion: str,
    title: str,
    summary: str,
    annotations: list[dict[str, Any]] | None = None,
    final: bool = False,
) -> None:
    output: dict[str, Any] = {"title": title[:255], "summary": summary[:65535]}
    if annotations:
        output["annotations"] = annotations
    await gh.update_check_run(
        request.repo.owner,
        request.repo.name,
        int(record.check_run_id or 0),
        {
            "status": "completed",
            "conclusion": conclusion,
            "completed_at": _now(),
            "output": output,
            "actions": [RECHECK_BUTTON],
        },
        final=final,
    )
    record.conclusion = conclusion
    record.outcome = "completed"


async def _fail_check_run(
    gh: GitHub, request: ReviewRequest, record: Record, exc: BaseException, deps: Deps
) -> None:
    """The last word on a review that failed: its Check Run ends completed, saying why. When
    GitHub's rate limit refuses even that, the completion is scheduled for after the reset."""
    if record.check_run_id is None or record.conclusion is not None:
        return
    reason = _failure_reason(exc)

    async def complete() -> None:
        await _complete(
            gh,
            request,
            record,
            conclusion="failure",
            title=f"Ladder could not finish: {reason}"[:255],
            summary=(
                f"The review of {str(record.sha)[:7]} stopped before it was done: {reason}.\n\n"
                "Nothing is wrong with your change because of this. Press **Recheck** above or "
                "comment `/ladder recheck` to try again."
            ),
            # Even when this review's own rate limit paused the installation.
            final=True,
        )

    try:
        await complete()
        record.outcome = "error"
    except Exception as failure:
        # GitHub refuses even this (a rate limit, an outage): try again later, from a task
        # the service tracks, rather than leave the run in progress.
        wait = failure.wait + 1.0 if isinstance(failure, RateLimited) else RETRY_COMPLETION
        log.warning(
            "check run completion deferred",
            extra={
                "delivery_id": request.delivery_id,
                "check_run_id": record.check_run_id,
                "wait_s": round(wait, 1),
                "error": str(failure)[:300],
            },
        )
        if deps.later is not None:
            deps.later(wait, complete, f"complete check run {record.check_run_id}")


async def _cancel_check_run(gh: GitHub, request: ReviewRequest, record: Record) -> None:
    """A stopping service's last word on a review: its run ends `cancelled`. Bounded tightly,
    since the grace before it already used most of the orchestrator's stop timeout."""
    if record.conclusion is not None or not record.creating_check_run:
        return
    try:
        await asyncio.wait_for(_cancel_now(gh, request, record), timeout=CANCEL_SECONDS)
    except Exception:
        log.exception(
            "could not complete the check run of a cancelled review",
            extra={"delivery_id": request.delivery_id, "check_run_id": record.check_run_id},
        )


async def _cancel_now(gh: GitHub, request: ReviewRequest, record: Record) -> None:
    if record.check_run_id is None and record.sha is not None:
        # Cancelled while the create was in flight: GitHub may have made the run.
        for run in await gh.list_check_runs(
            request.repo.owner, request.repo.name, record.sha, CHECK_NAME
        ):
            if run.get("external_id") == f"pr:{request.number}" and run.get("status") != (
                "completed"
            ):
                record.check_run_id = int(run["id"])
        if record.check_run_id is None:
            return
    await _complete(
        gh,
        request,
        record,
        conclusion="cancelled",
        title="Ladder was stopped before it finished",
        summary=(
            "The Ladder service restarted while reviewing this commit. Press "
            "**Recheck** above or comment `/ladder recheck` to review it again."
        ),
        final=True,
    )


def _reason(exc: GitHubError) -> str:
    status = f"GitHub answered {exc.status}" if exc.status else "GitHub did not answer"
    return f"{status}: {exc.message[:120]}" if exc.message else status


def _failure_reason(exc: BaseException) -> str:
    if isinstance(exc, GitHubError):
        status = f"GitHub answered {exc.status}" if exc.status else "GitHub did not answer"
        return f"{status} ({exc.message[:120]})" if exc.message else status
    if isinstance(exc, TimeoutError):
        return "a request to GitHub timed out"
    return f"internal error ({type(exc).__name__})"
