"""Webhook routing on the real payloads in tests/fixtures/webhook-examples.

Each test dispatches a real delivery through `routes.router` and checks the decision. Where a
test needs a case the real files do not contain, it deep-copies a real payload and changes one
field; the comment there says why.
"""

from __future__ import annotations

import copy
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from gidgethub import sansio

from bot import routes
from bot.commands import Command
from bot.routes import CommandRequest, Intake, PayloadError, Repo, ReviewRequest

EXAMPLES = Path(__file__).parent / "fixtures" / "webhook-examples"


@cache
def _load(name: str) -> str:
    return (EXAMPLES / f"{name}.json").read_text(encoding="utf-8")


def payload(name: str) -> dict[str, Any]:
    """A fresh copy of a real payload (tests may change it)."""
    data = json.loads(_load(name))
    assert isinstance(data, dict)
    return data


async def dispatch(data: dict[str, Any], event: str, delivery_id: str = "delivery-1") -> Intake:
    intake = Intake()
    await routes.router.dispatch(sansio.Event(data, event=event, delivery_id=delivery_id), intake)
    return intake


def only_review(intake: Intake) -> ReviewRequest:
    assert intake.ignored == []
    [work] = intake.work
    assert isinstance(work, ReviewRequest)
    return work


def only_command(intake: Intake) -> CommandRequest:
    assert intake.ignored == []
    [work] = intake.work
    assert isinstance(work, CommandRequest)
    return work


def only_ignored(intake: Intake) -> str:
    assert intake.work == []
    [reason] = intake.ignored
    return reason


# --- pull_request -------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["opened", "synchronize", "reopened"])
async def test_pull_request_changes_request_a_review(action: str) -> None:
    data = payload(f"pull_request.{action}")
    assert data["action"] == action
    request = only_review(await dispatch(data, "pull_request", f"d-{action}"))
    assert request.installation_id == 1
    assert request.repo == Repo("Codertocat", "Hello-World")
    assert request.repo.full_name == "Codertocat/Hello-World"
    assert request.number == 2
    assert request.head_sha == "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
    assert request.delivery_id == f"d-{action}"
    assert request.reason == f"pull_request.{action}"
    assert request.pull is not None
    assert request.pull["number"] == 2
    assert request.pull["head"]["sha"] == request.head_sha
    # Automatic events never force: a head reviewed a moment ago is not reviewed again.
    assert request.force is False
    assert request.key == (1, "codertocat/hello-world", 2)


async def test_synchronize_head_is_the_pushed_commit() -> None:
    data = payload("pull_request.synchronize")
    request = only_review(await dispatch(data, "pull_request"))
    assert request.head_sha == data["after"]


async def test_ready_for_review_requests_a_review() -> None:
    # No real ready_for_review example is vendored; a draft marked ready is the opened payload
    # with that action (GitHub sends the same pull_request object).
    data = payload("pull_request.opened")
    data["action"] = "ready_for_review"
    request = only_review(await dispatch(data, "pull_request"))
    assert request.reason == "pull_request.ready_for_review"


async def test_closed_pull_request_is_not_handled() -> None:
    data = payload("pull_request.closed")
    assert data["pull_request"]["state"] == "closed"
    intake = await dispatch(data, "pull_request")
    # No handler for "closed": nothing to do and no reason (the webhook says "not handled").
    assert intake.work == []
    assert intake.ignored == []
    assert intake.installation_changes == []


async def test_event_for_a_pull_request_that_is_already_closed_is_ignored() -> None:
    # A synchronize delivered late, after the PR was closed: the payload's state says closed.
    data = payload("pull_request.synchronize")
    data["pull_request"]["state"] = "closed"
    assert only_ignored(await dispatch(data, "pull_request")) == "pull request is closed"


async def test_review_key_is_case_insensitive_on_the_repository() -> None:
    # GitHub repository names are case-insensitive; two spellings must share a key so the
    # scheduler de-duplicates them.
    a = payload("pull_request.opened")
    b = payload("pull_request.synchronize")
    b["repository"]["name"] = "hello-world"
    first = only_review(await dispatch(a, "pull_request"))
    second = only_review(await dispatch(b, "pull_request"))
    assert first.key == second.key


# --- check_suite --------------------------------------------------------------------------


async def test_check_suite_requested_without_pull_requests_is_ignored() -> None:
    data = payload("check_suite.requested")
    assert data["check_suite"]["pull_requests"] == []
    reason = only_ignored(await dispatch(data, "check_suite"))
    assert reason == "check suite has no pull request in this repository"


async def test_check_suite_rerequested_forces_a_review_of_its_pull_request() -> None:
    data = payload("check_suite.rerequested")
    request = only_review(await dispatch(data, "check_suite", "d-suite"))
    assert request.installation_id == 957387
    assert request.repo == Repo("Codertocat", "Hello-World")
    assert request.number == 2
    assert request.head_sha == data["check_suite"]["head_sha"]
    assert request.head_sha == "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
    assert request.force is True
    assert request.reason == "check_suite.rerequested"
    assert request.delivery_id == "d-suite"
    # The suite's pull_requests entries are minimal; the review fetches the PR itself.
    assert request.pull is None


async def test_check_suite_requested_with_a_pull_request_does_not_force() -> None:
    # The real `requested` example is a push without a PR; give it the PR list of the real
    # `rerequested` example to see the automatic (not forced) request.
    data = payload("check_suite.requested")
    data["check_suite"]["pull_requests"] = payload("check_suite.rerequested")["check_suite"][
        "pull_requests"
    ]
    request = only_review(await dispatch(data, "check_suite"))
    assert request.number == 2
    assert request.force is False
    assert request.head_sha == "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"


async def test_check_suite_with_two_pull_requests_requests_two_reviews() -> None:
    # One head can be the head of two PRs (to different bases): both get a review.
    data = payload("check_suite.rerequested")
    second = copy.deepcopy(data["check_suite"]["pull_requests"][0])
    second["number"] = 3
    data["check_suite"]["pull_requests"].append(second)
    intake = await dispatch(data, "check_suite")
    assert [w.number for w in intake.work] == [2, 3]


# --- check_run ----------------------------------------------------------------------------


async def test_check_run_rerequested_real_payload_names_no_pull_request() -> None:
    data = payload("check_run.rerequested")
    run = data["check_run"]
    # The real payload: no pull requests and an empty external_id, so no PR can be named.
    assert run["pull_requests"] == []
    assert run["external_id"] == ""
    reason = only_ignored(await dispatch(data, "check_run"))
    assert "names no pull request" in reason


async def test_check_run_rerequested_finds_the_pull_request_in_external_id() -> None:
    # Fork PRs have empty pull_requests; the bot writes "pr:N" into the run's external_id.
    data = payload("check_run.rerequested")
    data["check_run"]["external_id"] = "pr:42"
    request = only_review(await dispatch(data, "check_run", "d-run"))
    assert request.number == 42
    assert request.force is True
    assert request.reason == "check_run.rerequested"
    assert request.installation_id == 1
    assert request.repo == Repo("github", "hello-world")
    assert request.head_sha == "d6fde92930d4715a2b49857d24b940956b26d2d3"


@pytest.mark.parametrize("external_id", ["pr:", "pr:0", "pr:x1", "42", "issue:42", "pr:-3"])
async def test_check_run_external_ids_that_name_no_pull_request(external_id: str) -> None:
    # Someone else's (or a malformed) external_id must not turn into a review of a random PR.
    data = payload("check_run.rerequested")
    data["check_run"]["external_id"] = external_id
    assert "names no pull request" in only_ignored(await dispatch(data, "check_run"))


async def test_check_run_requested_action_of_another_app_is_ignored() -> None:
    data = payload("check_run.requested_action")
    assert data["requested_action"] == {"identifier": "lgtm|26764"}
    reason = only_ignored(await dispatch(data, "check_run"))
    assert reason == "requested action 'lgtm|26764' is not one of Ladder's"


async def test_check_run_recheck_button_forces_a_review() -> None:
    # The real payload with Ladder's button identifier instead of that app's "lgtm|26764".
    data = payload("check_run.requested_action")
    data["requested_action"]["identifier"] = routes.RECHECK_ACTION
    request = only_review(await dispatch(data, "check_run", "d-button"))
    assert request.installation_id == 690857
    assert request.repo == Repo("electron", "electron")
    assert request.number == 26764
    assert request.head_sha == data["check_run"]["head_sha"]
    assert request.force is True
    assert request.reason == "check_run.requested_action"
    assert request.delivery_id == "d-button"


async def test_check_run_requested_action_without_requested_action_is_ignored() -> None:
    # A payload missing the block must be ignored, not crash the handler.
    data = payload("check_run.requested_action")
    del data["requested_action"]
    assert "None" in only_ignored(await dispatch(data, "check_run"))


# --- issue_comment ------------------------------------------------------------------------


async def test_comment_on_a_plain_issue_is_ignored() -> None:
    data = payload("issue_comment.created")
    assert "pull_request" not in data["issue"]
    reason = only_ignored(await dispatch(data, "issue_comment"))
    assert reason == "comment is on an issue, not a pull request"


async def test_pull_request_comment_without_a_command_is_ignored() -> None:
    data = payload("issue_comment.created.pull_request")
    assert data["comment"]["body"] == "/review"
    reason = only_ignored(await dispatch(data, "issue_comment"))
    assert reason == "comment has no /ladder command"


async def test_recheck_comment_becomes_a_command_request() -> None:
    # The real PR comment says "/review" (another bot's command); this is the same delivery
    # with Ladder's command in the body.
    data = payload("issue_comment.created.pull_request")
    data["comment"]["body"] = "/ladder recheck"
    request = only_command(await dispatch(data, "issue_comment", "d-comment"))
    assert request.installation_id == 204221
    assert request.repo == Repo("matheussampaio", "pr-reviewers-bot")
    assert request.number == 11
    assert request.delivery_id == "d-comment"
    assert request.comment_id == 396813441
    assert request.commenter == "matheussampaio"
    assert request.pr_author == "matheussampaio"
    assert request.command == Command("recheck", verb="recheck")


async def test_explain_comment_by_someone_else_keeps_both_users() -> None:
    # Same delivery, written by a reviewer rather than the PR author: the permission check
    # needs both names.
    data = payload("issue_comment.created.pull_request")
    data["comment"]["body"] = "Why?\r\n\r\n/ladder explain `L4.spec-missing`"
    data["comment"]["user"]["login"] = "reviewer"
    request = only_command(await dispatch(data, "issue_comment"))
    assert request.commenter == "reviewer"
    assert request.pr_author == "matheussampaio"
    assert request.command == Command("explain", "L4.spec-missing", verb="explain")


async def test_comment_by_a_bot_user_is_ignored() -> None:
    # Same delivery, authored by a bot account (e.g. Ladder's own help reply quoting a
    # command): bots must never trigger commands, or two bots could loop.
    data = payload("issue_comment.created.pull_request")
    data["comment"]["body"] = "/ladder recheck"
    data["comment"]["user"] = {"login": "ladder[bot]", "type": "Bot"}
    assert only_ignored(await dispatch(data, "issue_comment")) == "comment was written by a bot"


async def test_comment_made_through_a_github_app_is_ignored() -> None:
    # Same delivery, posted by an app on a user's behalf (performed_via_github_app is set).
    data = payload("issue_comment.created.pull_request")
    data["comment"]["body"] = "/ladder recheck"
    data["comment"]["performed_via_github_app"] = {"id": 1, "slug": "some-app"}
    assert only_ignored(await dispatch(data, "issue_comment")) == "comment was written by a bot"


async def test_comment_without_issue_author_has_no_pr_author() -> None:
    # The real payload is trimmed; a missing issue.user must not crash the handler.
    data = payload("issue_comment.created.pull_request")
    data["comment"]["body"] = "/ladder help"
    del data["issue"]["user"]
    request = only_command(await dispatch(data, "issue_comment"))
    assert request.pr_author is None
    assert request.command.name == "help"


# --- installation events ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "event", "change"),
    [
        ("installation.created", "installation", ("created", 957387)),
        ("installation.deleted", "installation", ("deleted", 2)),
        ("installation_repositories.added", "installation_repositories", ("added", 957387)),
    ],
)
async def test_installation_events_are_recorded_and_ignored(
    name: str, event: str, change: tuple[str, int]
) -> None:
    intake = await dispatch(payload(name), event)
    assert intake.installation_changes == [change]
    assert intake.work == []
    assert intake.ignored == [f"{event}.{change[0]} logged"]


async def test_installation_event_logs_account_and_repositories(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level("INFO", logger="ladder.routes"):
        await dispatch(payload("installation_repositories.added"), "installation_repositories")
    [record] = [r for r in caplog.records if r.name == "ladder.routes"]
    assert record.__dict__["account"] == "Codertocat"
    assert record.__dict__["repositories"] == ["Codertocat/Space"]
    assert record.__dict__["installation"] == 957387


async def test_ping_is_not_routed() -> None:
    intake = await dispatch(payload("ping"), "ping")
    assert (intake.work, intake.ignored, intake.installation_changes) == ([], [], [])


# --- malformed payloads -------------------------------------------------------------------


def _drop(data: dict[str, Any], path: tuple[str, ...]) -> None:
    node = data
    for name in path[:-1]:
        node = node[name]
    del node[path[-1]]


@pytest.mark.parametrize(
    ("name", "event", "path", "comment_body"),
    [
        ("pull_request.opened", "pull_request", ("pull_request",), None),
        ("pull_request.opened", "pull_request", ("installation",), None),
        ("pull_request.opened", "pull_request", ("installation", "id"), None),
        ("pull_request.synchronize", "pull_request", ("repository",), None),
        ("pull_request.synchronize", "pull_request", ("repository", "owner", "login"), None),
        ("pull_request.reopened", "pull_request", ("pull_request", "head", "sha"), None),
        ("pull_request.reopened", "pull_request", ("pull_request", "number"), None),
        ("check_suite.rerequested", "check_suite", ("check_suite",), None),
        ("check_suite.rerequested", "check_suite", ("check_suite", "head_sha"), None),
        ("check_suite.rerequested", "check_suite", ("installation",), None),
        ("check_run.requested_action", "check_run", ("check_run",), None),
        ("check_run.requested_action", "check_run", ("check_run", "head_sha"), None),
        ("issue_comment.created.pull_request", "issue_comment", ("issue",), None),
        ("issue_comment.created.pull_request", "issue_comment", ("comment",), None),
        (
            "issue_comment.created.pull_request",
            "issue_comment",
            ("comment", "id"),
            "/ladder recheck",
        ),
        (
            "issue_comment.created.pull_request",
            "issue_comment",
            ("comment", "user", "login"),
            "/ladder recheck",
        ),
        (
            "issue_comment.created.pull_request",
            "issue_comment",
            ("issue", "number"),
            "/ladder recheck",
        ),
        (
            "issue_comment.created.pull_request",
            "issue_comment",
            ("installation",),
            "/ladder recheck",
        ),
    ],
)
async def test_missing_required_field_is_a_payload_error(
    name: str, event: str, path: tuple[str, ...], comment_body: str | None
) -> None:
    # The real payload with one required field removed (for comments, with a command in the
    # body so the handler reaches the field).
    data = payload(name)
    if comment_body is not None:
        data["comment"]["body"] = comment_body
    _drop(data, path)
    if event == "check_run":
        data["requested_action"]["identifier"] = routes.RECHECK_ACTION
    with pytest.raises(PayloadError):
        await dispatch(data, event)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["installation"].__setitem__("id", "1"), "installation.id is not a number"),
        (lambda d: d["installation"].__setitem__("id", True), "installation.id is not a number"),
        (lambda d: d["pull_request"].__setitem__("number", 0), "not a pull request number"),
        (lambda d: d["pull_request"].__setitem__("number", "2"), "not a pull request number"),
        (lambda d: d["repository"].__setitem__("name", None), "owner/name are not strings"),
    ],
)
async def test_wrongly_typed_field_is_a_payload_error(mutate: Any, message: str) -> None:
    # The real opened payload with one field of the wrong type.
    data = payload("pull_request.opened")
    mutate(data)
    with pytest.raises(PayloadError, match=message):
        await dispatch(data, "pull_request")


async def test_payload_error_names_the_missing_field() -> None:
    data = payload("pull_request.opened")
    del data["pull_request"]["head"]["sha"]
    with pytest.raises(PayloadError, match=r"pull_request\.head\.sha|head\.sha"):
        await dispatch(data, "pull_request")


async def test_comment_id_of_the_wrong_type_is_a_payload_error() -> None:
    data = payload("issue_comment.created.pull_request")
    data["comment"]["body"] = "/ladder recheck"
    data["comment"]["id"] = "396813441"
    with pytest.raises(PayloadError, match=r"comment\.id"):
        await dispatch(data, "issue_comment")


def _set(data: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node = data
    for name in path[:-1]:
        node = node[name]
    node[path[-1]] = value


@pytest.mark.parametrize(
    ("name", "event", "path", "value", "message"),
    [
        ("pull_request.opened", "pull_request", ("pull_request",), None, "pull_request"),
        ("check_suite.rerequested", "check_suite", ("check_suite",), None, "check_suite"),
        (
            "check_suite.rerequested",
            "check_suite",
            ("check_suite", "pull_requests"),
            [None],
            "pull_requests[]",
        ),
        ("check_run.rerequested", "check_run", ("check_run",), "x", "check_run"),
        ("issue_comment.created.pull_request", "issue_comment", ("issue",), [], "issue"),
        ("issue_comment.created.pull_request", "issue_comment", ("comment",), None, "comment"),
    ],
)
async def test_null_or_wrongly_typed_object_is_a_payload_error(
    name: str, event: str, path: tuple[str, ...], value: Any, message: str
) -> None:
    # The real payload with an object replaced by null / a list / a string: as malformed as
    # a missing field, so it must be a PayloadError (400) and not an AttributeError (traceback).
    data = payload(name)
    _set(data, path, value)
    with pytest.raises(PayloadError, match=re.escape(message)):
        await dispatch(data, event)


async def test_requested_action_of_the_wrong_type_is_ignored() -> None:
    # The real payload with requested_action as a bare string instead of {"identifier": ...}.
    data = payload("check_run.requested_action")
    data["requested_action"] = "recheck"
    assert "is not one of Ladder's" in only_ignored(await dispatch(data, "check_run"))


async def test_check_run_junk_pull_request_entries_fall_back_to_external_id() -> None:
    # The real rerequested payload with a junk pull_requests entry and Ladder's external_id.
    data = payload("check_run.rerequested")
    data["check_run"]["pull_requests"] = [None, {"number": "7"}]
    data["check_run"]["external_id"] = "pr:7"
    assert only_review(await dispatch(data, "check_run")).number == 7


async def test_comment_user_of_the_wrong_type_is_a_payload_error() -> None:
    # The real PR comment with `user` as a bare string: no login to check permissions for.
    data = payload("issue_comment.created.pull_request")
    data["comment"]["body"] = "/ladder recheck"
    data["comment"]["user"] = "matheussampaio"
    with pytest.raises(PayloadError, match=r"comment\.user\.login"):
        await dispatch(data, "issue_comment")


async def test_installation_event_with_odd_fields_is_still_logged() -> None:
    # The real payload with a null account and a junk repository entry: the handler only logs,
    # so it must not fail (nor record a change without an installation id).
    data = payload("installation.created")
    data["installation"]["account"] = None
    data["repositories"].append("not-an-object")
    intake = await dispatch(data, "installation")
    assert intake.installation_changes == [("created", 957387)]
    data["installation"] = None
    intake = await dispatch(data, "installation")
    assert intake.installation_changes == []
    assert intake.ignored == ["installation.created logged"]
