"""End to end, when things go wrong: bad webhook input, and GitHub failing in the ways it does
(5xx, timeouts, secondary and primary rate limits, a refused review, expired tokens).

The real App runs against the GitHub simulator with faults injected. Whatever fails, the
promise under test is the same: the webhook answers with the right status and never a 500, and
a review that started always leaves its Check Run completed, saying what happened. Teardown of
the `sim` fixture asserts that every request the bot made was valid against GitHub's OpenAPI
description.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

import pytest

from bot.demo import sign
from bot.simulator import Simulator
from bot.webhook import MAX_BODY
from tests import harness
from tests.app_e2e_support import (
    ACCOUNTS,
    HEAD_SHA,
    SAMPLE_RULES,
    Launch,
    assert_all_completed,
    calls,
    review_requests,
    rule_of,
    sample_head,
    seed_pull,
    settle,
    with_head,
)

Harness = harness.Harness
OPENED = "pull_request.opened"


async def review_opened(app: Harness, delivery: str | None = None) -> None:
    response = await app.deliver("pull_request", harness.raw_payload(OPENED), delivery=delivery)
    assert response.status == 202
    await settle(app)


def statuses(sim: Simulator, method: str, pattern: str) -> list[int]:
    return [r.status for r in calls(sim, method, pattern)]


# --- 6. bad input ----------------------------------------------------------------------------


async def test_bad_input_is_refused_without_touching_github(sim: Simulator, app: Harness) -> None:
    harness.seed_opened(sim)
    raw = harness.raw_payload(OPENED)

    async def answer(
        body: bytes, *, event: str = "pull_request", secret: str | None = harness.SECRET
    ) -> tuple[int, dict[str, str]]:
        response = await app.deliver(event, body, secret=secret)
        return response.status, await response.json()

    status, body = await answer(raw, secret="not-the-secret")
    assert (status, body["error"]) == (401, "signature does not match")
    status, body = await answer(raw, secret=None)
    assert (status, body["error"]) == (401, "missing X-Hub-Signature-256 header")
    # A signature over other bytes than those sent (the payload was altered in transit).
    tampered = await app.deliver(
        "pull_request",
        raw.replace(b'"opened"', b'"closed"', 1),
        headers={"X-Hub-Signature-256": sign(raw, harness.SECRET)},
    )
    assert tampered.status == 401
    # Only SHA-256 counts; a non-ASCII signature is refused, not a 500.
    for forged in ("sha1=" + "0" * 40, "sha256=éé", "sha256=" + "z" * 64):
        refused = await app.deliver(
            "pull_request", raw, secret=None, headers={"X-Hub-Signature-256": forged}
        )
        assert refused.status == 401, forged
    # Unsigned requests with invented event names do not mint metric series.
    for n in range(3):
        assert (await app.deliver(f"made-up-{n}", raw, secret=None)).status == 401
    status, body = await answer(b'{"action": "opened", ')
    assert (status, body["error"]) == (400, "body is not a JSON object")
    status, body = await answer(b"[1, 2, 3]")
    assert (status, body["error"]) == (400, "body is not a JSON object")
    missing = harness.payload(OPENED)
    del missing["installation"]
    status, body = await answer(json.dumps(missing).encode())
    assert (status, body["error"]) == (400, "payload has no installation.id")
    wrong_type = harness.payload(OPENED)
    wrong_type["pull_request"] = None
    status, body = await answer(json.dumps(wrong_type).encode())
    assert (status, body["error"]) == (400, "payload pull_request is not an object")
    status, body = await answer(raw, event="star")
    assert status == 202
    assert body == {"status": "ignored", "reason": "star.opened is not handled"}

    await settle(app)
    assert sim.requests == []
    assert sim.check_runs == []
    health = await app.client.get("/healthz")
    assert health.status == 200
    metrics = await (await app.client.get("/metrics")).text()
    assert 'ladder_webhooks_total{event="unverified",outcome="bad_signature"} 5' in metrics
    assert 'ladder_webhooks_total{event="unverified",outcome="unsigned"} 4' in metrics
    assert 'ladder_webhooks_total{event="pull_request",outcome="malformed"} 4' in metrics
    assert 'ladder_webhooks_total{event="other",outcome="ignored"} 1' in metrics
    assert "made-up" not in metrics
    # And it still reviews.
    await review_opened(app)
    assert len(sim.check_runs) == 1


async def test_bodies_over_25_mb_are_refused(sim: Simulator, app: Harness) -> None:
    harness.seed_opened(sim)
    # Padding after the JSON keeps it a valid, correctly signed payload, one byte over the cap.
    raw = harness.raw_payload(OPENED)
    big = raw + b" " * (MAX_BODY + 1 - len(raw))
    response = await app.deliver("pull_request", big)
    assert response.status == 413
    assert (await response.json())["error"] == "payload over 25 MB"

    # Without a Content-Length (chunked), the read itself stops at the cap.
    async def chunks() -> AsyncIterator[bytes]:
        step = 1024 * 1024
        for start in range(0, len(big), step):
            yield big[start : start + step]

    chunked = await app.client.post(
        "/webhook",
        data=chunks(),
        headers={
            "Content-Type": "application/json",
            "X-GitHub-Event": "pull_request",
            "X-GitHub-Delivery": "chunked-delivery",
            "X-Hub-Signature-256": sign(big, harness.SECRET),
        },
    )
    assert chunked.status == 413
    # Exactly at the cap is fine.
    exact = raw + b" " * (MAX_BODY - len(raw))
    assert (await app.deliver("pull_request", exact)).status == 202
    await settle(app)
    assert len(sim.check_runs) == 1
    assert (await app.client.get("/healthz")).status == 200


# --- 7. GitHub faults ------------------------------------------------------------------------


@pytest.mark.parametrize("status", [502, 503])
async def test_server_error_on_create_check_run_is_retried(
    sim: Simulator, app: Harness, status: int
) -> None:
    harness.seed_opened(sim)
    sim.inject(method="POST", path=r"/check-runs$", status=status)
    await review_opened(app)
    assert statuses(sim, "POST", r"/check-runs$") == [status, 201]
    [run] = sim.check_runs
    assert (run["status"], run["conclusion"]) == ("completed", "failure")
    assert run["output"]["title"] == "Reached L1 · requires L3"
    assert len(sim.reviews) == 1
    # A 5xx on a create may still have created the run: the bot looks before it creates again.
    assert len(calls(sim, "GET", r"/commits/.+/check-runs$")) == 1
    metrics = app.service.metrics
    assert metrics.github_calls.value(method="POST", status=str(status)) == 1


async def test_hung_request_times_out_and_is_retried(sim: Simulator, launch: Launch) -> None:
    app = await launch(request_timeout=0.3)
    harness.seed_opened(sim)
    sim.inject(method="GET", path=r"/pulls/2/files$", hang=True)
    started = time.monotonic()
    await review_opened(app)
    assert time.monotonic() - started >= 0.3
    # The hung request never got an answer (status 0); the retry did.
    assert statuses(sim, "GET", r"/pulls/2/files$") == [0, 200]
    [run] = sim.check_runs
    assert (run["status"], run["conclusion"]) == ("completed", "failure")
    assert len(sim.reviews) == 1
    assert app.service.metrics.github_retries.value(reason="timeout") == 1
    assert app.service.metrics.github_calls.value(method="GET", status="timeout") == 1


async def test_secondary_rate_limit_waits_for_retry_after(sim: Simulator, app: Harness) -> None:
    harness.seed_opened(sim)
    sim.inject(
        method="POST",
        path=r"/pulls/2/reviews$",
        status=403,
        headers={"Retry-After": "1"},
        body={
            "message": "You have exceeded a secondary rate limit. Please wait a few minutes "
            "before you try again.",
            "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
        },
    )
    started = time.monotonic()
    await review_opened(app)
    elapsed = time.monotonic() - started
    assert statuses(sim, "POST", r"/pulls/2/reviews$") == [403, 200]
    assert 1.0 <= elapsed < 4.0
    assert len(sim.reviews) == 1
    assert_all_completed(sim)
    assert sim.check_runs[0]["conclusion"] == "failure"
    assert app.service.metrics.github_retries.value(reason="rate_limit") == 1


async def test_primary_rate_limit_beyond_max_wait_still_completes_the_check_run(
    sim: Simulator, app: Harness
) -> None:
    harness.seed_opened(sim)
    reset = int(time.time()) + 3600  # far beyond the harness's max_wait of 5 s
    sim.inject(
        method="POST",
        path=r"/pulls/2/reviews$",
        status=429,
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)},
        body={"message": "API rate limit exceeded for installation ID 1."},
    )
    started = time.monotonic()
    await review_opened(app)
    assert time.monotonic() - started < 4.0  # it failed fast instead of sleeping for an hour
    assert sim.reviews == []
    assert statuses(sim, "POST", r"/pulls/2/reviews$") == [429]
    [run] = sim.check_runs
    assert (run["status"], run["conclusion"]) == ("completed", "failure")
    title = run["output"]["title"]
    assert title.startswith("Ladder could not finish: GitHub answered 429")
    assert "rate limited" in title


async def test_check_run_refused_by_the_rate_limit_is_completed_after_the_reset(
    sim: Simulator, launch: Launch
) -> None:
    """Even the failing review's last PATCH is rate limited: the completion waits for the
    reset in a tracked task instead of leaving the run in progress."""
    harness.seed_opened(sim)
    limited = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(time.time()) + 2)}
    body = {"message": "API rate limit exceeded for installation ID 1."}
    sim.inject(method="POST", path=r"/pulls/2/reviews$", status=429, headers=limited, body=body)
    sim.inject(method="PATCH", path=r"/check-runs/\d+$", status=429, headers=limited, body=body)
    app = await launch(github_options={"max_wait": 0.5})
    await review_opened(app)
    [run] = sim.check_runs
    assert run["status"] == "in_progress"  # refused for now

    deadline = time.monotonic() + 10
    while sim.check_runs[0]["status"] != "completed" and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    [run] = sim.check_runs
    assert (run["status"], run["conclusion"]) == ("completed", "failure")
    assert run["output"]["title"].startswith("Ladder could not finish: GitHub answered 429")


async def test_refused_review_is_retried_with_fewer_comments(
    sim: Simulator, app: Harness
) -> None:
    harness.seed_opened(sim)
    sim.inject(
        method="POST",
        path=r"/pulls/2/reviews$",
        status=422,
        body={
            "message": "Unprocessable Entity",
            "errors": ["Pull request review thread line must be part of the diff"],
            "documentation_url": "https://docs.github.com/rest/pulls/reviews",
            "status": "422",
        },
    )
    await review_opened(app)

    first, second = review_requests(sim)
    assert (first.status, second.status) == (422, 200)
    assert len(first.body["comments"]) == 4
    # The retry keeps single-line comments on added lines: the multi-line L7 comment goes.
    [review] = sim.reviews
    assert {rule_of(c) for c in review["comments"]} == SAMPLE_RULES - {"L7.doc-example-missing"}
    assert all("start_line" not in c for c in review["comments"])
    assert "1 more finding without an inline comment" in review["body"]
    [run] = sim.check_runs
    assert (run["status"], run["conclusion"]) == ("completed", "failure")
    # The refused finding is listed in the check run's summary instead.
    summary = run["output"]["summary"]
    heading = "### 1 finding without an inline comment"
    assert heading in summary
    section = summary.split(heading, 1)[1].split("<sub>", 1)[0]
    listed = [line for line in section.splitlines() if line.startswith("- ")]
    assert listed == [
        f"- `{ACCOUNTS}:15` · `L7.doc-example-missing` (notice) · "
        "`@doc` of search/1 has no `iex>` example"
    ]


async def test_review_github_will_not_take_leaves_the_verdict_and_lists_the_findings(
    sim: Simulator, app: Harness
) -> None:
    """No permission to review (a 403 that is not a rate limit): the Check Run is the verdict,
    so it still completes with the ladder, and the findings move to its summary."""
    harness.seed_opened(sim)
    sim.inject(
        method="POST",
        path=r"/pulls/2/reviews$",
        status=403,
        times=-1,
        body={"message": "Resource not accessible by integration", "status": "403"},
    )
    await review_opened(app)

    assert statuses(sim, "POST", r"/pulls/2/reviews$") == [403]  # not retried
    assert sim.reviews == []
    [run] = sim.check_runs
    assert (run["status"], run["conclusion"]) == ("completed", "failure")
    assert run["output"]["title"] == "Reached L1 · requires L3"
    summary = run["output"]["summary"]
    assert "The inline comments could not be posted (GitHub answered 403" in summary
    assert "### 4 findings without an inline comment" in summary
    assert len(run["annotations"]) == 4


async def test_persistent_server_error_fails_the_check_run_with_a_reason(
    sim: Simulator, app: Harness
) -> None:
    harness.seed_opened(sim)
    sim.inject(method="GET", path=r"/pulls/2/files$", status=500, times=-1)
    await review_opened(app, delivery="failing-delivery")

    assert statuses(sim, "GET", r"/pulls/2/files$") == [500] * 4  # max_attempts
    [run] = sim.check_runs
    assert (run["status"], run["conclusion"]) == ("completed", "failure")
    assert run["output"]["title"].startswith("Ladder could not finish")
    assert "GitHub answered 500" in run["output"]["title"]
    assert "/ladder recheck" in run["output"]["summary"]
    assert sim.reviews == []
    # The failed delivery is forgotten, so GitHub's redelivery runs the review again.
    assert app.service.metrics.review_events.value(event="exception") == 1
    assert not app.service.seen("failing-delivery")


async def test_expired_token_is_refreshed_and_the_review_succeeds(
    sim: Simulator, app: Harness
) -> None:
    first_sha = "d1" * 20
    seed_pull(sim, head_sha=first_sha)
    opened = with_head(harness.payload(OPENED), first_sha)
    assert (await app.deliver("pull_request", opened)).status == 202
    await settle(app)
    assert sim.tokens_issued == 1

    sim.expire_tokens()
    sim.push("Codertocat/Hello-World", 2, head=sample_head(), head_sha=HEAD_SHA)
    sync = harness.raw_payload("pull_request.synchronize")
    assert (await app.deliver("pull_request", sync)).status == 202
    await settle(app)

    # The review's first calls (check run, config reads) all met the dead token; each was
    # retried once, and one fresh token served them all.
    assert sim.tokens_issued == 2
    unauthorized = [r for r in sim.requests if r.status == 401]
    assert unauthorized
    assert all(r.auth == "invalid" for r in unauthorized)
    retries = app.service.metrics.github_retries.value(reason="unauthorized")
    assert retries == len(unauthorized)
    assert len(sim.check_runs) == 2
    assert_all_completed(sim)
    assert [r["commit_id"] for r in sim.reviews] == [first_sha]  # no new finding, no review
    assert sim.check_runs[1]["head_sha"] == HEAD_SHA


async def test_shutdown_mid_review_completes_the_check_run_as_cancelled(sim: Simulator) -> None:
    """A deploy stops the service while a review waits on GitHub: the review is cancelled after
    the grace period and its Check Run still ends completed, saying why."""
    harness.seed_opened(sim)
    sim.inject(method="GET", path=r"/pulls/2/files$", hang=True, times=-1)
    h = await harness.start(sim, request_timeout=30.0, service={"stop_grace": 0.2})
    response = await h.deliver("pull_request", harness.raw_payload(OPENED))
    assert response.status == 202
    deadline = time.monotonic() + 10
    while not calls(sim, "GET", r"/pulls/2/files$") and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    await h.close()  # runs the app's cleanup: stop taking work, wait 0.2 s, cancel

    [run] = sim.check_runs
    assert (run["status"], run["conclusion"]) == ("completed", "cancelled")
    assert run["output"]["title"] == "Ladder was stopped before it finished"
    assert "/ladder recheck" in run["output"]["summary"]


async def test_config_read_failing_after_the_check_run_started_still_completes_it(
    sim: Simulator, app: Harness
) -> None:
    """The Check Run and the base config are requested together; when the config read fails
    for good, the run that was already created must still end completed."""
    harness.seed_opened(sim)
    sim.inject(method="GET", path=r"/contents/\.github/ladder\.yml$", status=500, times=-1)
    await review_opened(app)

    [run] = sim.check_runs
    assert (run["status"], run["conclusion"]) == ("completed", "failure")
    assert run["output"]["title"].startswith("Ladder could not finish: GitHub answered 500")


async def test_check_run_created_but_answer_lost_is_adopted_not_duplicated(
    sim: Simulator, launch: Launch
) -> None:
    """GitHub created the run but the answer never arrived: creating it again would leave
    an orphan "in progress" for good, so the bot finds its run and carries on with it."""
    harness.seed_opened(sim)
    sim.inject(method="POST", path=r"/check-runs$", answer_lost=True)
    app = await launch(request_timeout=0.5)
    await review_opened(app)

    [run] = sim.check_runs
    assert (run["status"], run["conclusion"]) == ("completed", "failure")
    assert run["output"]["title"] == "Reached L1 · requires L3"
    assert len(calls(sim, "POST", r"/check-runs$")) == 1
    assert len(calls(sim, "GET", r"/commits/.+/check-runs$")) == 1


async def test_review_whose_answer_is_lost_is_not_posted_twice(
    sim: Simulator, launch: Launch
) -> None:
    harness.seed_opened(sim)
    sim.inject(method="POST", path=r"/pulls/2/reviews$", answer_lost=True)
    app = await launch(request_timeout=0.5)
    await review_opened(app)

    assert len(review_requests(sim)) == 1
    [review] = sim.reviews  # GitHub carried it out once
    assert len(review["comments"]) == 4
    # The bot looked: its fingerprints are on the pull request, so the review counts as posted.
    assert len(calls(sim, "GET", r"/pulls/2/comments$")) == 2
    [run] = sim.check_runs
    assert (run["status"], run["conclusion"]) == ("completed", "failure")
    assert "without an inline comment" not in run["output"]["summary"]


async def test_review_lost_on_a_5xx_before_github_stored_it_is_sent_once_more(
    sim: Simulator, app: Harness
) -> None:
    harness.seed_opened(sim)
    sim.inject(method="POST", path=r"/pulls/2/reviews$", status=502)
    await review_opened(app)

    assert [r.status for r in review_requests(sim)] == [502, 200]
    [review] = sim.reviews
    assert len(review["comments"]) == 4


async def test_shutdown_while_the_config_read_hangs_still_cancels_the_run(
    sim: Simulator,
) -> None:
    """The Check Run was created while the config read was still out: the run is recorded at
    once, so a shutdown completes it."""
    harness.seed_opened(sim)
    sim.inject(method="GET", path=r"/contents/\.github/ladder\.yml$", hang=True, times=-1)
    h = await harness.start(sim, request_timeout=30.0, service={"stop_grace": 0.2})
    assert (await h.deliver("pull_request", harness.raw_payload(OPENED))).status == 202
    deadline = time.monotonic() + 10
    while not sim.check_runs and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    await h.close()

    [run] = sim.check_runs
    assert (run["status"], run["conclusion"]) == ("completed", "cancelled")


async def test_shutdown_during_a_rate_limit_pause_completes_the_run_quickly(
    sim: Simulator,
) -> None:
    """A secondary limit pauses the installation for 60 s; a stopping service must not sit
    it out (the orchestrator kills it after 10 s), and its run must not stay in progress."""
    harness.seed_opened(sim)
    sim.inject(
        method="GET",
        path=r"/pulls/2/files$",
        status=403,
        headers={"Retry-After": "60"},
        body={"message": "You have exceeded a secondary rate limit."},
    )
    h = await harness.start(sim, github_options={"max_wait": 60.0}, service={"stop_grace": 0.2})
    assert (await h.deliver("pull_request", harness.raw_payload(OPENED))).status == 202
    deadline = time.monotonic() + 10
    while not calls(sim, "GET", r"/pulls/2/files$") and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    started = time.monotonic()
    await h.close()
    assert time.monotonic() - started < 5.0

    [run] = sim.check_runs
    assert (run["status"], run["conclusion"]) == ("completed", "cancelled")
