"""End to end: the real App (create_app) reviewing pull requests on the GitHub simulator.

The webhooks are the real payloads of tests/fixtures/webhook-examples, signed with the test
secret the way GitHub signs them; the simulator is seeded with the repository, installation and
pull request each payload names. A test changes a payload only where the scenario needs it (a
different head sha, a comment body) and says so. Teardown of the `sim` fixture asserts that
every request the bot made was valid against GitHub's OpenAPI description.
"""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any

import pytest

from bot.commands import Command
from bot.jobs import QueueFull
from bot.logs import JsonFormatter
from bot.respond import CommandDeps, run_command
from bot.routes import CommandRequest, Repo, ReviewRequest
from bot.simulator import Simulator
from checks.registry import rules_by_id
from tests import harness
from tests.app_e2e_support import (
    ACCOUNTS,
    ACCOUNTS_WITH_SPACES,
    BASE_SHA,
    HEAD_SHA,
    INSTALLATION,
    MARKER,
    NUMBER,
    REPO,
    SAMPLE_RULES,
    Launch,
    assert_all_completed,
    calls,
    changes_of,
    fingerprints,
    review_requests,
    rule_of,
    sample_head,
    seed_pull,
    settle,
    wait_for,
    with_head,
)

Harness = harness.Harness


FIRST_SHA = "a1" * 20  # the head before the push that pull_request.synchronize.json reports


# --- 1. pull_request.opened ---------------------------------------------------------------------


async def test_opened_gives_one_completed_check_run_and_one_review(
    sim: Simulator, app: Harness
) -> None:
    head = sample_head(**{ACCOUNTS: ACCOUNTS_WITH_SPACES})
    harness.seed_opened(sim, head=head)
    response = await app.deliver("pull_request", harness.raw_payload("pull_request.opened"))
    assert response.status == 202
    assert (await response.json())["status"] == "queued"
    await settle(app)

    # One check run, on the head, completed with the ladder's verdict: the L1 finding (trailing
    # whitespace, an error) stops the climb at L0; the default requirement is L3.
    [run] = sim.check_runs
    assert run["name"] == "Ladder"
    assert run["head_sha"] == HEAD_SHA
    assert run["external_id"] == f"pr:{NUMBER}"
    assert run["status"] == "completed"
    assert run["conclusion"] == "failure"
    assert run["output"]["title"] == "Reached L0 · requires L3"
    summary = run["output"]["summary"]
    for level in range(8):
        assert re.search(rf"^\| (\*\*)?L{level}(\*\*)? ", summary, re.MULTILINE), level
    assert re.search(r"^\| L1 \| formatted \| 1 \(1 blocking\) \| ❌ fail", summary, re.M)

    # Annotations: one per finding, all on lines the pull request added, ≤ 50 per request.
    change = changes_of(harness.BASE_TREE, head)[ACCOUNTS]
    annotations = run["annotations"]
    assert {a["title"].split(":")[0] for a in annotations} == SAMPLE_RULES | {
        "L1.trailing-whitespace"
    }
    for a in annotations:
        assert a["path"] == ACCOUNTS
        assert set(range(a["start_line"], a["end_line"] + 1)) & change.added, a
    patches = calls(sim, "PATCH", r"/check-runs/\d+$")
    assert all(len(p.body["output"].get("annotations", [])) <= 50 for p in patches)
    assert sum(len(p.body["output"].get("annotations", [])) for p in patches) == len(annotations)
    assert patches[-1].body["status"] == "completed"
    whitespace = next(a for a in annotations if a["title"].startswith("L1.trailing"))
    assert (whitespace["start_line"], whitespace["annotation_level"]) == (13, "failure")

    # Exactly one review: event COMMENT on the head commit.
    [review] = sim.reviews
    [posted] = review_requests(sim)
    assert posted.body["event"] == "COMMENT"
    assert posted.body["commit_id"] == HEAD_SHA
    assert review["state"] == "COMMENTED"
    assert review["commit_id"] == HEAD_SHA
    assert review["user"]["type"] == "Bot"

    # Inline comments: inside the patch hunks, one per finding, each with its fingerprint.
    comments = sim.review_comments
    assert {rule_of(c) for c in comments} == SAMPLE_RULES | {"L1.trailing-whitespace"}
    for c in comments:
        assert c["path"] == ACCOUNTS
        assert c["side"] == "RIGHT"
        first = c.get("start_line") or c["line"]
        hunk = next(h for h in change.hunks if h[0] <= first <= h[1])
        assert hunk[0] <= c["line"] <= hunk[1]
        assert MARKER.search(c["body"]), c["body"]
    assert len(set(fingerprints(comments))) == len(comments)
    # The exact replacement of the whitespace line is offered as a suggestion on that line.
    [fix] = [c for c in comments if rule_of(c) == "L1.trailing-whitespace"]
    assert fix["line"] == 13
    assert fix.get("start_line") is None
    assert "```suggestion\n  def ping, do: :pong\n```" in fix["body"]
    others = [c for c in comments if c is not fix]
    assert all("```suggestion" not in c["body"] for c in others)


async def test_more_than_50_findings_are_annotated_in_batches(
    sim: Simulator, app: Harness
) -> None:
    # 60 lines ending in spaces: 60 L1 findings, plus the four of the sample change.
    noisy = (
        b"defmodule Shop.Noisy do\n  @moduledoc false\n  @values [\n"
        + b"".join(b"    %d, \n" % n for n in range(60))
        + b"    60\n  ]\nend\n"
    )
    harness.seed_opened(sim, head=sample_head(**{"lib/shop/noisy.ex": noisy}))
    response = await app.deliver("pull_request", harness.raw_payload("pull_request.opened"))
    assert response.status == 202
    await settle(app)

    [run] = sim.check_runs
    assert (run["status"], run["conclusion"]) == ("completed", "failure")
    assert len(run["annotations"]) == 64
    sizes = [len(p.body["output"].get("annotations", [])) for p in calls(sim, "PATCH", "/check")]
    assert sizes == [50, 14]
    # The default config caps inline comments at 25; the rest are counted in the review body.
    [review] = sim.reviews
    assert len(sim.review_comments) == 25
    assert "39 more findings without an inline comment" in review["body"]


async def test_annotations_are_capped_and_the_rest_counted(
    sim: Simulator, app: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.review

    monkeypatch.setattr(bot.review, "MAX_ANNOTATIONS", 60)
    noisy = (
        b"defmodule Shop.Noisy do\n  @moduledoc false\n  @values [\n"
        + b"".join(b"    %d, \n" % n for n in range(60))
        + b"    60\n  ]\nend\n"
    )
    harness.seed_opened(sim, head=sample_head(**{"lib/shop/noisy.ex": noisy}))
    assert (await app.deliver("pull_request", harness.raw_payload("pull_request.opened"))).status
    await settle(app)

    [run] = sim.check_runs
    assert len(run["annotations"]) == 60
    sizes = [len(p.body["output"].get("annotations", [])) for p in calls(sim, "PATCH", "/check")]
    assert sizes == [50, 10]
    assert "60 findings are annotated in the diff" in run["output"]["summary"]
    assert "4 more are counted here only" in run["output"]["summary"]


# --- 2. synchronize -----------------------------------------------------------------------------


async def test_synchronize_comments_only_on_the_new_finding(sim: Simulator, app: Harness) -> None:
    sync = harness.payload("pull_request.synchronize")
    assert sync["after"] == sync["pull_request"]["head"]["sha"] == HEAD_SHA
    # The pull request starts at an older head; the synchronize reports the push to HEAD_SHA.
    seed_pull(sim, head_sha=FIRST_SHA)
    opened = with_head(harness.payload("pull_request.opened"), FIRST_SHA)
    assert (await app.deliver("pull_request", opened)).status == 202
    await settle(app)
    [first] = sim.reviews
    assert first["commit_id"] == FIRST_SHA
    assert {rule_of(c) for c in sim.review_comments} == SAMPLE_RULES

    # Same findings plus one new: trailing whitespace on line 13.
    sim.push(
        REPO, NUMBER, head=sample_head(**{ACCOUNTS: ACCOUNTS_WITH_SPACES}), head_sha=HEAD_SHA
    )
    response = await app.deliver("pull_request", harness.raw_payload("pull_request.synchronize"))
    assert response.status == 202
    await settle(app)

    assert len(sim.reviews) == 2
    second = sim.reviews[1]
    assert second["commit_id"] == HEAD_SHA
    assert [rule_of(c) for c in second["comments"]] == ["L1.trailing-whitespace"]
    assert "4 findings already commented on earlier" in second["body"]
    assert len(sim.review_comments) == 5
    prints = fingerprints(sim.review_comments)
    assert len(prints) == len(set(prints)) == 5
    runs = sim.check_runs
    assert [r["head_sha"] for r in runs] == [FIRST_SHA, HEAD_SHA]
    assert_all_completed(sim)
    assert [r["output"]["title"] for r in runs] == [
        "Reached L1 · requires L3",
        "Reached L0 · requires L3",
    ]


# --- 3. duplicates and superseding --------------------------------------------------------------


async def test_redelivered_webhook_is_answered_duplicate_and_reviewed_once(
    sim: Simulator, app: Harness
) -> None:
    harness.seed_opened(sim)
    body = harness.raw_payload("pull_request.opened")
    first = await app.deliver("pull_request", body, delivery="delivery-1")
    assert first.status == 202
    await settle(app)
    again = await app.deliver("pull_request", body, delivery="delivery-1")
    assert again.status == 200
    assert (await again.json())["status"] == "duplicate delivery"
    # A different delivery for the head that was just reviewed (GitHub sends synchronize and
    # check_suite.requested for one push) is dropped by the scheduler.
    other = await app.deliver("pull_request", body, delivery="delivery-2")
    assert other.status == 202
    assert (await other.json())["status"] == "duplicate"
    await settle(app)
    assert len(sim.reviews) == 1
    assert len(sim.check_runs) == 1
    assert_all_completed(sim)


async def test_newer_pushes_supersede_older_reviews(sim: Simulator, launch: Launch) -> None:
    app = await launch(workers=1)
    shas = ["b1" * 20, "b2" * 20, "b3" * 20]
    seed_pull(sim, head_sha=shas[0])
    for sha in shas[1:]:
        sim.push(REPO, NUMBER, head=harness.head_tree(), head_sha=sha)
    # The first review is held at its file listing while two more pushes arrive.
    sim.inject(method="GET", path=r"/pulls/2/files$", delay=0.3)
    sync = harness.payload("pull_request.synchronize")
    answer = await app.deliver("pull_request", with_head(sync, shas[0]))
    assert (await answer.json())["jobs"] == ["queued"]
    await wait_for(lambda: len(sim.check_runs) == 1)
    second = await app.deliver("pull_request", with_head(sync, shas[1]))
    third = await app.deliver("pull_request", with_head(sync, shas[2]))
    assert (await second.json())["jobs"] == ["queued"]
    # The second push was still waiting for the one worker: the third replaces it.
    assert (await third.json())["jobs"] == ["replaced"]
    await settle(app)

    assert_all_completed(sim)
    by_sha = {r["head_sha"]: r for r in sim.check_runs}
    assert set(by_sha) == {shas[0], shas[2]}  # the replaced job never started
    old = by_sha[shas[0]]
    assert old["conclusion"] == "cancelled"
    assert old["output"]["title"] == f"Superseded by {shas[1][:7]}"
    assert by_sha[shas[2]]["conclusion"] == "failure"
    [review] = sim.reviews
    assert review["commit_id"] == shas[2]


# --- 4. /ladder commands in pull request comments -----------------------------------------------

COMMENT = harness.payload("issue_comment.created.pull_request")
COMMENT_REPO = COMMENT["repository"]["full_name"]  # matheussampaio/pr-reviewers-bot
COMMENT_PR = COMMENT["issue"]["number"]  # 11
PR_AUTHOR = COMMENT["issue"]["user"]["login"]
COMMENT_HEAD = "c1" * 20


def seed_comment_repo(sim: Simulator) -> None:
    sim.add_installation(COMMENT["installation"]["id"], [COMMENT_REPO])
    sim.add_pull(
        COMMENT_REPO,
        COMMENT_PR,
        base=dict(harness.BASE_TREE),
        head=harness.head_tree(),
        head_sha=COMMENT_HEAD,
        base_sha="c0" * 20,
        author=PR_AUTHOR,
    )


def command(sim: Simulator, body: str, *, user: str = PR_AUTHOR) -> dict[str, Any]:
    """The real PR-comment payload with its body, author and id changed: the comment is also
    created in the simulator (so the bot can react to it)."""
    seeded = sim.add_issue_comment(COMMENT_REPO, COMMENT_PR, body, author=user)
    data = harness.payload("issue_comment.created.pull_request")
    data["comment"].update(id=seeded["id"], body=body, user={"login": user})
    data["sender"] = {"login": user}
    return data


def bot_replies(sim: Simulator) -> list[dict[str, Any]]:
    return [c for c in sim.issue_comments if c["performed_via_github_app"]]


@pytest.mark.parametrize("who", ["author", "writer"])
async def test_recheck_by_author_or_writer_reacts_and_reviews(
    sim: Simulator, app: Harness, who: str
) -> None:
    seed_comment_repo(sim)
    user = PR_AUTHOR
    if who == "writer":
        user = "helpful-maintainer"
        sim.set_permission(COMMENT_REPO, user, "write")
    data = command(sim, "/ladder recheck", user=user)
    response = await app.deliver("issue_comment", data)
    assert response.status == 202
    await settle(app)

    [reaction] = sim.reactions
    assert reaction["content"] == "eyes"
    assert reaction["comment_id"] == data["comment"]["id"]
    [run] = sim.check_runs
    assert run["head_sha"] == COMMENT_HEAD
    assert (run["status"], run["conclusion"]) == ("completed", "failure")
    assert len(sim.reviews) == 1
    assert bot_replies(sim) == []
    permission_calls = calls(sim, "GET", r"/collaborators/.+/permission$")
    # The author needs no permission look-up; anyone else does.
    assert len(permission_calls) == (0 if who == "author" else 1)


async def test_recheck_twice_reviews_the_same_head_again(sim: Simulator, app: Harness) -> None:
    seed_comment_repo(sim)
    for _ in range(2):
        assert (await app.deliver("issue_comment", command(sim, "/ladder recheck"))).status == 202
        await settle(app)
    # Asked for explicitly, so the second is not dropped as "reviewed a moment ago".
    assert len(sim.check_runs) == 2
    assert_all_completed(sim)


async def test_recheck_by_reader_is_refused_with_a_reply(sim: Simulator, app: Harness) -> None:
    seed_comment_repo(sim)
    sim.set_permission(COMMENT_REPO, "passer-by", "read")
    response = await app.deliver(
        "issue_comment", command(sim, "/ladder recheck", user="passer-by")
    )
    assert response.status == 202
    await settle(app)

    assert sim.reactions == []
    assert sim.check_runs == []
    [reply] = bot_replies(sim)
    assert reply["body"].startswith("@passer-by only the pull request's author")
    assert "your permission here is `read`" in reply["body"]


async def test_recheck_when_github_fails_tells_the_commenter(
    sim: Simulator, app: Harness
) -> None:
    seed_comment_repo(sim)
    sim.set_permission(COMMENT_REPO, "helpful-maintainer", "write")
    sim.inject(method="GET", path=r"/collaborators/.+/permission$", status=502, times=-1)
    data = command(sim, "/ladder recheck", user="helpful-maintainer")
    assert (await app.deliver("issue_comment", data)).status == 202
    await settle(app)

    assert sim.check_runs == []
    [reply] = bot_replies(sim)
    assert reply["body"] == (
        "@helpful-maintainer Ladder could not run `/ladder recheck`: GitHub answered 502. "
        "Please try again in a minute."
    )
    # The delivery is forgotten, so GitHub's redelivery can run the command again.
    assert not app.service.seen(app.last_delivery)


async def test_recheck_of_a_closed_pull_request_says_so(sim: Simulator, app: Harness) -> None:
    seed_comment_repo(sim)
    sim.add_pull(
        COMMENT_REPO,
        COMMENT_PR,
        base=dict(harness.BASE_TREE),
        head=harness.head_tree(),
        head_sha=COMMENT_HEAD,
        base_sha="c0" * 20,
        author=PR_AUTHOR,
        state="closed",
    )
    assert (await app.deliver("issue_comment", command(sim, "/ladder recheck"))).status == 202
    await settle(app)
    assert [r["content"] for r in sim.reactions] == ["eyes"]
    [reply] = bot_replies(sim)
    assert reply["body"] == "This pull request is closed; nothing to recheck."
    assert sim.check_runs == []


async def test_explain_replies_with_the_rule(sim: Simulator, app: Harness) -> None:
    seed_comment_repo(sim)
    data = command(sim, "/ladder explain L4.spec-missing", user="someone")
    assert (await app.deliver("issue_comment", data)).status == 202
    await settle(app)

    [reaction] = sim.reactions
    assert (reaction["content"], reaction["comment_id"]) == ("eyes", data["comment"]["id"])
    [reply] = bot_replies(sim)
    rule = rules_by_id()["L4.spec-missing"]
    assert reply["body"].startswith("### `L4.spec-missing` · Public function without")
    assert "**Level:** L4 (typed) · **Severity:** warning" in reply["body"]
    # The explanation's first sentence and both examples are there.
    first_sentence = rule.explanation.split(". ")[0].replace("@", "")
    assert first_sentence[:40] in reply["body"].replace("`", "").replace("@", "")
    assert rule.bad_example.strip() in reply["body"]
    assert rule.good_example.strip() in reply["body"]
    assert sim.check_runs == []


async def test_explain_of_an_unknown_rule_lists_candidates(sim: Simulator, app: Harness) -> None:
    seed_comment_repo(sim)
    assert (
        await app.deliver("issue_comment", command(sim, "/ladder explain spec"))
    ).status == 202
    await settle(app)
    [reply] = bot_replies(sim)
    assert reply["body"].startswith("I don't know a rule called `spec`.")
    candidates = re.findall(r"`(L\d\.[a-z0-9-]+)`", reply["body"].split("Did you mean")[1])
    assert "L4.spec-missing" in candidates
    assert all("spec" in c for c in candidates if c != "L4.spec-missing")
    assert len(sim.reactions) == 1


async def test_replies_quote_what_the_user_wrote_inside_code(
    sim: Simulator, app: Harness
) -> None:
    """A verb with backticks must not break out of the code span and @-mention someone from
    the bot's account."""
    seed_comment_repo(sim)
    data = command(sim, "/ladder x`@octocat`")
    assert (await app.deliver("issue_comment", data)).status == 202
    await settle(app)
    [reply] = bot_replies(sim)
    assert reply["body"].startswith("`` /ladder x`@octocat` `` is not a command.")


async def test_replies_to_one_commenter_are_throttled(sim: Simulator, app: Harness) -> None:
    seed_comment_repo(sim)
    for _ in range(5):
        assert (await app.deliver("issue_comment", command(sim, "/ladder help"))).status == 202
        await settle(app)
    assert len(bot_replies(sim)) == 3  # ReplyThrottle's limit per commenter and PR
    assert len(sim.reactions) == 5  # every command is still acknowledged
    # Someone else on the same pull request still gets an answer.
    assert (
        await app.deliver("issue_comment", command(sim, "/ladder help", user="someone-else"))
    ).status == 202
    await settle(app)
    assert len(bot_replies(sim)) == 4


async def test_recheck_when_the_queue_is_full_says_so(sim: Simulator, app: Harness) -> None:
    seed_comment_repo(sim)
    data = command(sim, "/ladder recheck")
    request = CommandRequest(
        installation_id=data["installation"]["id"],
        repo=Repo(*COMMENT_REPO.split("/")),
        number=COMMENT_PR,
        delivery_id="d-1",
        comment_id=data["comment"]["id"],
        commenter=PR_AUTHOR,
        pr_author=PR_AUTHOR,
        command=Command("recheck", verb="recheck"),
    )

    def full(_request: ReviewRequest) -> str:
        raise QueueFull("500 jobs are waiting")

    done = await run_command(request, CommandDeps(github=app.service.github, enqueue_review=full))
    assert done == "recheck refused: queue full"
    [reply] = bot_replies(sim)
    assert "Ladder is busy with other reviews right now" in reply["body"]
    assert sim.check_runs == []


async def test_comments_that_are_not_commands_are_ignored(sim: Simulator, app: Harness) -> None:
    seed_comment_repo(sim)
    # On a plain issue (the real payload has no issue.pull_request).
    plain = await app.deliver("issue_comment", harness.raw_payload("issue_comment.created"))
    assert plain.status == 202
    assert await plain.json() == {
        "status": "ignored",
        "reason": "comment is on an issue, not a pull request",
    }
    # The real PR comment as sent ("/review" is not a /ladder command).
    other = await app.deliver(
        "issue_comment", harness.raw_payload("issue_comment.created.pull_request")
    )
    assert (await other.json())["reason"] == "comment has no /ladder command"
    # Written by a bot (its own replies quote commands).
    by_bot = command(sim, "/ladder recheck", user="some-app[bot]")
    by_bot["comment"]["user"]["type"] = "Bot"
    answer = await app.deliver("issue_comment", by_bot)
    assert answer.status == 202
    assert (await answer.json())["reason"] == "comment was written by a bot"
    await settle(app)
    assert sim.requests == []  # nothing was asked of GitHub
    assert sim.reactions == []
    assert sim.check_runs == []


# --- 5. checks events, ping, installation -------------------------------------------------------


async def test_check_suite_rerequested_reviews_the_pull_request(
    sim: Simulator, app: Harness
) -> None:
    data = harness.payload("check_suite.rerequested")
    [pull] = data["check_suite"]["pull_requests"]
    installation = data["installation"]["id"]  # 957387, not the opened payload's
    harness.seed_opened(sim)
    sim.add_installation(installation, [REPO])
    assert pull["number"] == NUMBER
    assert pull["head"]["sha"] == HEAD_SHA
    response = await app.deliver("check_suite", harness.raw_payload("check_suite.rerequested"))
    assert response.status == 202
    await settle(app)

    [run] = sim.check_runs
    assert (run["head_sha"], run["status"]) == (HEAD_SHA, "completed")
    assert len(sim.reviews) == 1
    [token] = calls(sim, "POST", r"^/app/installations/\d+/access_tokens$")
    assert token.path == f"/app/installations/{installation}/access_tokens"


async def test_check_suite_requested_for_an_old_head_is_skipped(
    sim: Simulator, app: Harness
) -> None:
    """check_suite.requested can arrive after a newer push; it must not review (or cancel
    the review of) the newer head. The variant of the real payload names PR #2 and an old
    sha, as GitHub does for a push to a pull request's branch."""
    data = harness.payload("check_suite.requested")
    data["installation"]["id"] = INSTALLATION
    data["check_suite"]["head_sha"] = "0d" * 20
    data["check_suite"]["pull_requests"] = harness.payload("check_suite.rerequested")[
        "check_suite"
    ]["pull_requests"]
    harness.seed_opened(sim)  # the head is HEAD_SHA, not 0d0d...
    assert (await app.deliver("check_suite", data)).status == 202
    await settle(app)
    assert sim.check_runs == []
    # The current head is still reviewed normally.
    assert (await app.deliver("pull_request", harness.raw_payload("pull_request.opened"))).status
    await settle(app)
    [run] = sim.check_runs
    assert (run["head_sha"], run["status"]) == (HEAD_SHA, "completed")


async def test_check_run_recheck_button_reviews_the_pull_request(
    sim: Simulator, app: Harness
) -> None:
    data = harness.payload("check_run.requested_action")
    run_payload = data["check_run"]
    [pull] = run_payload["pull_requests"]
    repo = data["repository"]["full_name"]  # electron/electron
    sim.add_installation(data["installation"]["id"], [repo])
    sim.add_pull(
        repo,
        pull["number"],
        base=dict(harness.BASE_TREE),
        head=harness.head_tree(),
        head_sha=pull["head"]["sha"],
        base_sha=pull["base"]["sha"],
        base_ref=pull["base"]["ref"],
        head_ref=pull["head"]["ref"],
    )
    # As sent, the action is another app's ("lgtm|26764"): not Ladder's button.
    foreign = await app.deliver("check_run", harness.raw_payload("check_run.requested_action"))
    assert foreign.status == 202
    reason = (await foreign.json())["reason"]
    assert reason == "requested action 'lgtm|26764' is not one of Ladder's"
    data["requested_action"]["identifier"] = "recheck"
    response = await app.deliver("check_run", data)
    assert response.status == 202
    await settle(app)

    [run] = sim.check_runs
    assert run["head_sha"] == pull["head"]["sha"] == run_payload["head_sha"]
    assert (run["status"], run["conclusion"]) == ("completed", "failure")
    [review] = sim.reviews
    assert review["pull_request_url"].endswith(f"/repos/{repo}/pulls/{pull['number']}")


async def test_check_run_rerequested_without_pull_request_is_ignored(
    sim: Simulator, app: Harness
) -> None:
    response = await app.deliver("check_run", harness.raw_payload("check_run.rerequested"))
    assert response.status == 202
    body = await response.json()
    assert body["status"] == "ignored"
    assert "names no pull request" in body["reason"]
    await settle(app)
    assert sim.requests == []


async def test_ping_and_installation_events(sim: Simulator, app: Harness) -> None:
    ping = await app.deliver("ping", harness.raw_payload("ping"))
    assert ping.status == 200
    assert (await ping.json())["msg"] == "pong"
    for name in ("installation.created", "installation.deleted"):
        response = await app.deliver("installation", harness.raw_payload(name))
        assert response.status == 202
        action = name.split(".")[1]
        assert await response.json() == {
            "status": "ignored",
            "reason": f"installation.{action} logged",
        }
    await settle(app)
    assert sim.requests == []


async def test_installation_deleted_drops_the_cached_token(sim: Simulator, app: Harness) -> None:
    harness.seed_opened(sim)
    assert (await app.deliver("pull_request", harness.raw_payload("pull_request.opened"))).status
    await settle(app)
    assert sim.tokens_issued == 1
    deleted = harness.payload("installation.deleted")
    deleted["installation"]["id"] = INSTALLATION
    assert (await app.deliver("installation", deleted)).status == 202
    # The app is re-installed; a recheck needs a new token, not the cached one.
    data = harness.payload("check_suite.rerequested")
    data["installation"]["id"] = INSTALLATION
    assert (await app.deliver("check_suite", data)).status == 202
    await settle(app)
    assert sim.tokens_issued == 2
    assert len(sim.check_runs) == 2
    assert_all_completed(sim)


async def test_full_queue_answers_503_and_readiness_says_so(
    sim: Simulator, launch: Launch
) -> None:
    app = await launch(workers=1, max_queue=1)
    seed_pull(sim)
    for number in (3, 4):
        sim.add_pull(
            REPO,
            number,
            base=dict(harness.BASE_TREE),
            head=harness.head_tree(),
            head_sha=f"{number}" * 40,
            base_sha=BASE_SHA,
        )
    sim.inject(method="GET", path=r"/pulls/2/files$", delay=0.3)

    def opened(number: int, sha: str) -> dict[str, Any]:
        data = with_head(harness.payload("pull_request.opened"), sha)
        data["number"] = data["pull_request"]["number"] = number
        return data

    assert (await app.deliver("pull_request", opened(2, HEAD_SHA))).status == 202
    await wait_for(lambda: len(sim.check_runs) == 1)  # PR 2 is running
    assert (await app.deliver("pull_request", opened(3, "3" * 40))).status == 202  # queued
    full = await app.deliver("pull_request", opened(4, "4" * 40), delivery="redeliver-me")
    assert full.status == 503
    assert "redeliver later" in (await full.json())["error"]
    ready = await app.client.get("/readyz")
    assert ready.status == 503
    assert (await ready.json())["queue_depth"] == 1
    await settle(app)
    # The refused delivery was not remembered: GitHub's redelivery is reviewed.
    again = await app.deliver("pull_request", opened(4, "4" * 40), delivery="redeliver-me")
    assert again.status == 202
    await settle(app)
    assert sorted(r["head_sha"][:1] for r in sim.check_runs) == ["3", "4", "e"]
    assert_all_completed(sim)
    assert (await app.client.get("/readyz")).status == 200


# --- 8. configuration from the base branch ------------------------------------------------------


async def test_invalid_base_config_asks_for_action(sim: Simulator, app: Harness) -> None:
    bad = b"required_level: L3\nrules:\n  L4.spec-missing: warn\n"
    seed_pull(
        sim,
        base={**harness.BASE_TREE, ".github/ladder.yml": bad},
        head={**harness.head_tree(), ".github/ladder.yml": bad},
    )
    assert (await app.deliver("pull_request", harness.raw_payload("pull_request.opened"))).status
    await settle(app)

    [run] = sim.check_runs
    assert (run["status"], run["conclusion"]) == ("completed", "action_required")
    assert run["output"]["title"] == "Invalid .github/ladder.yml"
    assert (
        "rules.L4.spec-missing: expected off, notice, warning or error, got 'warn'"
        in run["output"]["summary"]
    )
    assert sim.reviews == []
    [read] = calls(sim, "GET", r"/contents/\.github/ladder\.yml$")
    assert read.query["ref"] == BASE_SHA


async def test_config_is_read_from_the_base_not_the_head(sim: Simulator, app: Harness) -> None:
    # The head switches every rule off; the base says nothing: the head's file has no effect.
    off = b"rules:\n  '*': off\nrequired_level: L0\n"
    harness.seed_opened(sim, head={**harness.head_tree(), ".github/ladder.yml": off})
    assert (await app.deliver("pull_request", harness.raw_payload("pull_request.opened"))).status
    await settle(app)
    [run] = sim.check_runs
    assert (run["conclusion"], run["output"]["title"]) == ("failure", "Reached L1 · requires L3")
    assert {a["title"].split(":")[0] for a in run["annotations"]} == SAMPLE_RULES
    assert "config: built-in defaults" in run["output"]["summary"]
    for read in calls(sim, "GET", r"/contents/(\.github/)?\.?ladder\.ya?ml$"):
        assert read.query["ref"] == BASE_SHA


async def test_base_config_applies(sim: Simulator, app: Harness) -> None:
    config = b"rules:\n  L2.io-inspect: off\n  L5.*: notice\n"
    seed_pull(
        sim,
        base={**harness.BASE_TREE, ".github/ladder.yml": config},
        head={**harness.head_tree(), ".github/ladder.yml": config},
    )
    assert (await app.deliver("pull_request", harness.raw_payload("pull_request.opened"))).status
    await settle(app)
    [run] = sim.check_runs
    rules = {a["title"].split(":")[0]: a["annotation_level"] for a in run["annotations"]}
    assert rules == {
        "L4.spec-missing": "warning",
        "L5.sql-injection": "notice",
        "L7.doc-example-missing": "notice",
    }
    assert f".github/ladder.yml at {BASE_SHA[:7]}" in run["output"]["summary"]


@pytest.mark.parametrize("review_drafts", [False, True])
async def test_draft_is_reviewed_only_when_the_base_config_says_so(
    sim: Simulator, app: Harness, review_drafts: bool
) -> None:
    base = dict(harness.BASE_TREE)
    if review_drafts:
        base[".github/ladder.yml"] = b"review_drafts: true\n"
    head = {**harness.head_tree(), ".github/ladder.yml": b"review_drafts: true\n"}
    seed_pull(sim, base=base, head=head, draft=True)
    data = harness.payload("pull_request.opened")
    data["pull_request"]["draft"] = True
    assert (await app.deliver("pull_request", data)).status == 202
    await settle(app)
    if review_drafts:
        [run] = sim.check_runs
        assert (run["status"], run["conclusion"]) == ("completed", "failure")
        assert len(sim.reviews) == 1
    else:
        assert sim.check_runs == []
        assert sim.reviews == []
        assert calls(sim, "POST", "/check-runs") == []


# --- 9. health, readiness, metrics --------------------------------------------------------------


async def test_health_readiness_and_metrics(sim: Simulator, app: Harness) -> None:
    health = await app.client.get("/healthz")
    assert health.status == 200
    assert (await health.json())["status"] == "alive"
    ready = await app.client.get("/readyz")
    assert ready.status == 200
    checks = await ready.json()
    assert checks["status"] == "ready"
    assert checks["session"] == "open"
    assert checks["queue_depth"] == 0
    assert checks["queue_limit"] == 500
    assert checks["elixir_helper"] == "disabled"

    harness.seed_opened(sim)
    assert (await app.deliver("pull_request", harness.raw_payload("pull_request.opened"))).status
    await app.deliver("ping", harness.raw_payload("ping"))
    await settle(app)
    metrics = await app.client.get("/metrics")
    assert metrics.status == 200
    assert metrics.headers["Content-Type"].startswith("text/plain")
    text = await metrics.text()
    lines = set(text.splitlines())
    assert 'ladder_webhooks_total{event="pull_request",outcome="queued"} 1' in lines
    assert 'ladder_webhooks_total{event="ping",outcome="pong"} 1' in lines
    assert "ladder_review_duration_seconds_count 1" in lines
    assert "ladder_queue_depth 0" in lines
    assert "ladder_webhook_duration_seconds_count 2" in lines
    posts = len(calls(sim, "POST", r"^/repos/.*/check-runs$"))
    assert f'ladder_github_calls_total{{method="POST",status="201"}} {posts}' in lines
    gets = sum(
        1 for r in sim.requests if r.method == "GET" and r.status == 200 and "/repos/" in r.path
    )
    assert f'ladder_github_calls_total{{method="GET",status="200"}} {gets}' in lines
    assert 'ladder_reviews_total{conclusion="failure"} 1' in lines


# --- 10. one structured log line per review -----------------------------------------------------


async def test_one_json_log_line_per_review(
    sim: Simulator, app: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="ladder.review.done")
    harness.seed_opened(sim)
    started = time.monotonic()
    response = await app.deliver(
        "pull_request", harness.raw_payload("pull_request.opened"), delivery="log-delivery"
    )
    assert response.status == 202
    await settle(app)
    elapsed_ms = (time.monotonic() - started) * 1000

    [record] = [r for r in caplog.records if r.name == "ladder.review.done"]
    line = json.loads(JsonFormatter().format(record))
    assert "\n" not in JsonFormatter().format(record)
    api_calls = [r for r in sim.requests if not r.path.startswith("/app/")]
    expected = {
        "delivery_id": "log-delivery",
        "repo": REPO,
        "pr": NUMBER,
        "sha": HEAD_SHA,
        "files": 1,
        "findings": 4,
        "conclusion": "failure",
        "github_calls": len(api_calls),
        "comments": 4,
        "outcome": "completed",
    }
    assert {k: line[k] for k in expected} == expected
    assert 0 < line["duration_ms"] <= elapsed_ms
    assert isinstance(line["rate_limit_remaining"], int)
    assert line["rate_limit_remaining"] < 5000
    assert line["logger"] == "ladder.review.done"
