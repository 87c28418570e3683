"""Carry out `/ladder` commands from pull request comments.

`recheck` re-runs the review on the pull request's current head (the comment payload has no head
sha, so the pull request is fetched). Only the PR author and collaborators with write, maintain
or admin permission may ask: a recheck costs a review and posts on their behalf. An accepted
command gets an 👀 reaction at once, so the commenter knows it was heard; a refused one gets a
short reply saying why, because a silent bot looks like a broken bot.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from cachetools import TTLCache

from bot import report
from bot.commands import HELP
from bot.github import GitHub, GitHubError, Unanswered
from bot.jobs import QueueFull
from bot.routes import CommandRequest, ReviewRequest
from checks.model import Rule
from checks.registry import rules_by_id

log = logging.getLogger("ladder.commands")

ALLOWED = frozenset({"admin", "maintain", "write"})


class ReplyThrottle:
    """At most `limit` replies to one commenter on one pull request per `window` seconds
    (sliding: each reply restarts the window). Anyone can comment on a public repository, and
    every reply spends the installation's write budget that reviews need too."""

    def __init__(self, limit: int = 3, window: float = 600.0) -> None:
        self.limit = limit
        self._sent: TTLCache[tuple[int, str, int, str], int] = TTLCache(
            maxsize=10_000, ttl=window
        )

    def allow(self, request: CommandRequest) -> bool:
        key = (
            request.installation_id,
            request.repo.full_name.lower(),
            request.number,
            request.commenter.lower(),
        )
        sent = self._sent.get(key, 0)
        if sent >= self.limit:
            return False
        self._sent[key] = sent + 1
        return True


@dataclass
class CommandDeps:
    github: Callable[[int], GitHub]
    # Queue a review; returns how the scheduler took it ("queued", "replaced", "duplicate");
    # raises QueueFull when the service is saturated.
    enqueue_review: Callable[[ReviewRequest], str]
    throttle: ReplyThrottle = field(default_factory=ReplyThrottle)


async def _reply(gh: GitHub, request: CommandRequest, deps: CommandDeps, body: str) -> bool:
    """Post a reply on the pull request unless this commenter has had enough of them."""
    if not deps.throttle.allow(request):
        log.info(
            "reply throttled",
            extra={"delivery_id": request.delivery_id, "user": request.commenter},
        )
        return False
    await gh.create_issue_comment(request.repo.owner, request.repo.name, request.number, body)
    return True


async def run_command(request: CommandRequest, deps: CommandDeps) -> str:
    """Carry out one command; returns what was done, for the log. When GitHub fails on the
    way, the commenter is told (if GitHub lets us) rather than left waiting, and the error is
    raised so the delivery can be redelivered."""
    gh = deps.github(request.installation_id)
    try:
        return await _run(request, deps, gh)
    except Unanswered:
        raise  # the reply may have been posted; a second "could not" reply would contradict it
    except GitHubError as exc:
        log.warning(
            "command failed",
            extra={"delivery_id": request.delivery_id, "error": str(exc)[:300]},
        )
        with contextlib.suppress(GitHubError):
            await _reply(
                gh,
                request,
                deps,
                f"@{request.commenter} Ladder could not run "
                f"{report.code_span('/ladder ' + request.command.verb)}: "
                f"{_status(exc)}. Please try again in a minute.",
            )
        raise


def _status(exc: GitHubError) -> str:
    return f"GitHub answered {exc.status}" if exc.status else "GitHub did not answer"


async def _run(request: CommandRequest, deps: CommandDeps, gh: GitHub) -> str:
    owner, name = request.repo.owner, request.repo.name
    command = request.command
    if command.name == "recheck":
        allowed, why = await _may_recheck(gh, request)
        if not allowed:
            await _reply(
                gh,
                request,
                deps,
                f"@{request.commenter} {why} Ask the author or a maintainer to comment "
                "`/ladder recheck`, or push a new commit.",
            )
            return "recheck refused"
        await gh.add_reaction(owner, name, request.comment_id, "eyes")
        pull = await gh.get_pull(owner, name, request.number)
        if pull.get("state") == "closed":
            await _reply(gh, request, deps, "This pull request is closed; nothing to recheck.")
            return "recheck of a closed pull request"
        try:
            outcome = deps.enqueue_review(
                ReviewRequest(
                    installation_id=request.installation_id,
                    repo=request.repo,
                    number=request.number,
                    delivery_id=request.delivery_id,
                    reason="/ladder recheck",
                    head_sha=str(pull["head"]["sha"]),
                    pull=pull,
                    force=True,
                )
            )
        except QueueFull:
            await _reply(
                gh,
                request,
                deps,
                f"@{request.commenter} Ladder is busy with other reviews right now; "
                "please comment `/ladder recheck` again in a few minutes.",
            )
            return "recheck refused: queue full"
        return f"recheck {outcome}"
    if command.name == "explain":
        await gh.add_reaction(owner, name, request.comment_id, "eyes")
        rules = rules_by_id()
        wanted = (command.argument or "").strip()
        rule = rules.get(wanted) or _case_insensitive(rules, wanted)
        if rule is not None:
            body = report.explain_reply(rule)
        else:
            candidates = [r for r in rules if wanted and wanted.lower() in r.lower()]
            body = report.unknown_rule_reply(wanted, candidates[:10])
        await _reply(gh, request, deps, body)
        return f"explained {wanted or '(no rule given)'}"
    await gh.add_reaction(owner, name, request.comment_id, "eyes")
    prefix = (
        ""
        if command.name == "help"
        else f"{report.code_span('/ladder ' + command.verb)} is not a command. "
    )
    await _reply(gh, request, deps, prefix + HELP)
    return "help"


def _case_insensitive(rules: Mapping[str, Rule], wanted: str) -> Rule | None:
    for rule_id, rule in rules.items():
        if rule_id.lower() == wanted.lower():
            return rule
    return None


async def _may_recheck(gh: GitHub, request: CommandRequest) -> tuple[bool, str]:
    if request.pr_author is not None and request.commenter.lower() == request.pr_author.lower():
        return True, ""
    permission = await gh.permission(request.repo.owner, request.repo.name, request.commenter)
    if permission in ALLOWED:
        return True, ""
    return (
        False,
        f"only the pull request's author and collaborators with write access can run "
        f"`/ladder recheck` (your permission here is `{permission}`).",
    )
