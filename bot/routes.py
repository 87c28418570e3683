"""Webhook events to work: short gidgethub handlers, one per event and action.

A handler reads the few fields it needs, decides whether there is anything to do, and hands a
`ReviewRequest` or a `CommandRequest` to the `Intake`; it never calls GitHub (that happens in
the background job, after the webhook has been acknowledged). Each decision carries a reason,
which the webhook logs and returns, so "why did the bot ignore my PR?" has an answer in the
delivery log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from gidgethub import routing, sansio

from bot.commands import Command, parse

log = logging.getLogger("ladder.routes")

CHECK_NAME = "Ladder"
RECHECK_ACTION = "recheck"


class PayloadError(ValueError):
    """The payload lacks a field the event must have."""


@dataclass(frozen=True)
class Repo:
    owner: str
    name: str

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass(frozen=True)
class ReviewRequest:
    installation_id: int
    repo: Repo
    number: int
    delivery_id: str
    reason: str
    # None when the event does not carry it (issue_comment): the review fetches the PR.
    head_sha: str | None = None
    # The pull request object when the payload has one (saves a call).
    pull: dict[str, Any] | None = field(default=None, hash=False, compare=False)
    # Asked for explicitly: runs even for drafts and for a head reviewed a moment ago.
    force: bool = False

    @property
    def authoritative(self) -> bool:
        """The head sha is known to be current: the event carried the pull request itself, or
        someone asked for this review explicitly."""
        return self.pull is not None or self.force

    @property
    def key(self) -> tuple[int, str, int]:
        return (self.installation_id, self.repo.full_name.lower(), self.number)


@dataclass(frozen=True)
class CommandRequest:
    installation_id: int
    repo: Repo
    number: int
    delivery_id: str
    comment_id: int
    commenter: str
    # The PR author may recheck their own pull request without write access.
    pr_author: str | None
    command: Command


Work = ReviewRequest | CommandRequest


@dataclass
class Intake:
    """What the handlers decided for one delivery."""

    work: list[Work] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    installation_changes: list[tuple[str, int]] = field(default_factory=list)

    def accept(self, item: Work) -> None:
        self.work.append(item)

    def ignore(self, reason: str) -> None:
        self.ignored.append(reason)


router = routing.Router()


def _get(data: Any, *path: str) -> Any:
    node = data
    for name in path:
        if not isinstance(node, dict) or name not in node:
            raise PayloadError(f"payload has no {'.'.join(path)}")
        node = node[name]
    return node


def _object(data: Any, *path: str) -> dict[str, Any]:
    """A field that must be a JSON object: `null` or a list there is as malformed as a missing
    field, and must be a PayloadError (400, no traceback) rather than an AttributeError."""
    node = _get(data, *path)
    if not isinstance(node, dict):
        raise PayloadError(f"payload {'.'.join(path)} is not an object")
    return node


def _dict_or_empty(value: Any) -> dict[str, Any]:
    """An optional object: absent, null or of the wrong type all read as empty."""
    return value if isinstance(value, dict) else {}


def _installation(event: sansio.Event) -> int:
    value = _get(event.data, "installation", "id")
    if not isinstance(value, int) or isinstance(value, bool):
        raise PayloadError("payload installation.id is not a number")
    return value


def _repo(event: sansio.Event) -> Repo:
    owner = _get(event.data, "repository", "owner", "login")
    name = _get(event.data, "repository", "name")
    if not isinstance(owner, str) or not isinstance(name, str):
        raise PayloadError("payload repository owner/name are not strings")
    return Repo(owner, name)


def _number(value: Any, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise PayloadError(f"payload {what} is not a pull request number")
    return value


@router.register("pull_request", action="opened")
@router.register("pull_request", action="synchronize")
@router.register("pull_request", action="reopened")
@router.register("pull_request", action="ready_for_review")
async def pull_request_changed(event: sansio.Event, intake: Intake) -> None:
    pull = _object(event.data, "pull_request")
    if pull.get("state") == "closed":
        intake.ignore("pull request is closed")
        return
    intake.accept(
        ReviewRequest(
            installation_id=_installation(event),
            repo=_repo(event),
            number=_number(_get(pull, "number"), "pull_request.number"),
            delivery_id=event.delivery_id,
            reason=f"pull_request.{event.data['action']}",
            head_sha=str(_get(pull, "head", "sha")),
            pull=pull,
        )
    )


@router.register("check_suite", action="requested")
@router.register("check_suite", action="rerequested")
async def check_suite_requested(event: sansio.Event, intake: Intake) -> None:
    suite = _object(event.data, "check_suite")
    pulls = suite.get("pull_requests") or []
    if not pulls:
        # A push without a pull request, or a fork (GitHub leaves the list empty for forks; the
        # pull_request event covers those).
        intake.ignore("check suite has no pull request in this repository")
        return
    action = event.data["action"]
    for pull in pulls:
        if not isinstance(pull, dict):
            raise PayloadError("payload check_suite.pull_requests[] is not an object")
        intake.accept(
            ReviewRequest(
                installation_id=_installation(event),
                repo=_repo(event),
                number=_number(pull.get("number"), "check_suite.pull_requests[].number"),
                delivery_id=event.delivery_id,
                reason=f"check_suite.{action}",
                head_sha=str(_get(suite, "head_sha")),
                force=action == "rerequested",
            )
        )


@router.register("check_run", action="rerequested")
@router.register("check_run", action="requested_action")
async def check_run_requested(event: sansio.Event, intake: Intake) -> None:
    run = _object(event.data, "check_run")
    action = event.data["action"]
    if action == "requested_action":
        requested = event.data.get("requested_action")
        identifier = requested.get("identifier") if isinstance(requested, dict) else None
        if identifier != RECHECK_ACTION:
            intake.ignore(f"requested action {identifier!r} is not one of Ladder's")
            return
    number = _pull_number_of_run(run)
    if number is None:
        intake.ignore("check run names no pull request (external_id and pull_requests empty)")
        return
    intake.accept(
        ReviewRequest(
            installation_id=_installation(event),
            repo=_repo(event),
            number=number,
            delivery_id=event.delivery_id,
            reason=f"check_run.{action}",
            head_sha=str(_get(run, "head_sha")),
            force=True,
        )
    )


def _pull_number_of_run(run: dict[str, Any]) -> int | None:
    """GitHub leaves `pull_requests` empty for forks, so the bot writes the number into the run's
    external_id ("pr:123") when it creates the run."""
    for pull in run.get("pull_requests") or []:
        number = pull.get("number") if isinstance(pull, dict) else None
        if isinstance(number, int) and number > 0:
            return number
    external = run.get("external_id") or ""
    if isinstance(external, str) and external.startswith("pr:") and external[3:].isdigit():
        return int(external[3:]) or None
    return None


@router.register("issue_comment", action="created")
async def comment_created(event: sansio.Event, intake: Intake) -> None:
    issue = _object(event.data, "issue")
    comment = _object(event.data, "comment")
    if "pull_request" not in issue:
        intake.ignore("comment is on an issue, not a pull request")
        return
    user = _dict_or_empty(comment.get("user"))
    if user.get("type") == "Bot" or comment.get("performed_via_github_app"):
        intake.ignore("comment was written by a bot")
        return
    command = parse(comment.get("body"))
    if command is None:
        intake.ignore("comment has no /ladder command")
        return
    commenter = user.get("login")
    if not isinstance(commenter, str):
        raise PayloadError("payload comment.user.login is missing")
    comment_id = _get(comment, "id")
    if not isinstance(comment_id, int):
        raise PayloadError("payload comment.id is not a number")
    author = _dict_or_empty(issue.get("user")).get("login")
    intake.accept(
        CommandRequest(
            installation_id=_installation(event),
            repo=_repo(event),
            number=_number(_get(issue, "number"), "issue.number"),
            delivery_id=event.delivery_id,
            comment_id=comment_id,
            commenter=commenter,
            pr_author=author if isinstance(author, str) else None,
            command=command,
        )
    )


@router.register("installation")
@router.register("installation_repositories")
async def installation_changed(event: sansio.Event, intake: Intake) -> None:
    action = str(event.data.get("action", ""))
    installation = _dict_or_empty(event.data.get("installation"))
    account = _dict_or_empty(installation.get("account")).get("login")
    repos = [
        _dict_or_empty(r).get("full_name")
        for key in ("repositories", "repositories_added")
        for r in event.data.get(key) or []
    ]
    log.info(
        "installation event",
        extra={
            "event": event.event,
            "action": action,
            "installation": installation.get("id"),
            "account": account,
            "repositories": repos,
        },
    )
    if isinstance(installation.get("id"), int):
        intake.installation_changes.append((action, installation["id"]))
    intake.ignore(f"{event.event}.{action} logged")
