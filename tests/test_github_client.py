"""The GitHub REST client against the simulator: retries, rate limits, token refresh after a
401, pacing of writes, pagination and the contents API."""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest

import bot
from bot.auth import AppCredentials, TokenCache
from bot.github import (
    AuthError,
    FileTooLarge,
    GitHub,
    GitHubError,
    Limits,
    NotAFile,
    RateLimited,
    TokenBucket,
    rate_limit_wait,
)
from bot.metrics import Metrics
from bot.simulator import Simulator
from tests import harness

INSTALLATION = 42
REPO = "octo/shop"
OWNER, NAME = REPO.split("/")
HEAD_SHA = "b" * 40
BASE_SHA = "a" * 40
PULL_PATH = r"/repos/octo/shop/pulls/1"

BASE_TREE = {
    "lib/shop.ex": b"defmodule Shop do\n  def a, do: 1\nend\n",
    "README.md": b"# shop\n",
}
HEAD_TREE = {
    "lib/shop.ex": b"defmodule Shop do\n  def a, do: 1\n  def b, do: 2\nend\n",
    "README.md": b"# shop\n",
    "lib/new file.ex": b"defmodule New do\nend\n",
    "priv/logo.bin": bytes(range(256)),  # not UTF-8: must come back byte for byte
    "priv/huge.txt": b"x" * (1024 * 1024 + 10),
}


class FakeTime:
    """A monotonic clock and a sleep that only records and advances it: waits are asserted,
    never actually slept."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


@pytest.fixture(scope="module")
def keys() -> tuple[str, bytes]:
    return harness.keys()


@pytest.fixture
async def sim(keys: tuple[str, bytes]) -> AsyncIterator[Simulator]:
    simulator = Simulator(app_id=1, public_key_pem=keys[1])
    await simulator.start()
    simulator.add_installation(INSTALLATION, [REPO])
    simulator.add_pull(
        REPO, 1, base=BASE_TREE, head=HEAD_TREE, head_sha=HEAD_SHA, base_sha=BASE_SHA
    )
    try:
        yield simulator
        assert simulator.invalid_requests == []
    finally:
        await simulator.stop()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=1.5)) as s:
        yield s


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
def tokens(
    sim: Simulator, session: aiohttp.ClientSession, keys: tuple[str, bytes], metrics: Metrics
) -> TokenCache:
    return TokenCache(
        AppCredentials("1", keys[0]), session, base_url=sim.base_url, metrics=metrics
    )


MakeClient = Callable[..., GitHub]


@pytest.fixture
def make_client(
    sim: Simulator,
    session: aiohttp.ClientSession,
    tokens: TokenCache,
    metrics: Metrics,
    fake: FakeTime,
) -> MakeClient:
    shared = Limits(clock=fake.clock, sleep=fake.sleep)

    def make(*, limits: Limits | None = None, **options: Any) -> GitHub:
        return GitHub(
            session,
            base_url=sim.base_url,
            installation_id=INSTALLATION,
            tokens=tokens,
            limits=limits or shared,
            metrics=metrics,
            sleep=fake.sleep,
            **options,
        )

    return make


def calls_to(sim: Simulator, method: str, fragment: str) -> list[Any]:
    return [r for r in sim.requests if r.method == method and fragment in r.path]


# --- plain calls ---------------------------------------------------------------------------


async def test_get_pull_counts_the_call(
    sim: Simulator, make_client: MakeClient, metrics: Metrics
) -> None:
    gh = make_client()
    pull = await gh.get_pull(OWNER, NAME, 1)
    assert pull["number"] == 1
    assert pull["head"]["sha"] == HEAD_SHA
    assert gh.stats.calls == 1
    assert gh.stats.by_status["200"] == 1
    assert gh.stats.retries == 0
    assert metrics.github_calls.value(method="GET", status="200") == 1
    request = calls_to(sim, "GET", PULL_PATH)[0]
    assert request.auth == "token"
    assert request.installation_id == INSTALLATION
    assert request.headers["x-github-api-version"] == "2022-11-28"
    assert request.headers["user-agent"] == f"ladder-bot/{bot.__version__}"


async def test_many_calls_use_one_installation_token(
    sim: Simulator, make_client: MakeClient
) -> None:
    gh = make_client()
    for _ in range(5):
        await gh.get_pull(OWNER, NAME, 1)
    await make_client().get_pull(OWNER, NAME, 1)  # another review, same installation
    assert sim.tokens_issued == 1


async def test_rate_limit_remaining_is_tracked(
    sim: Simulator, make_client: MakeClient, metrics: Metrics
) -> None:
    gh = make_client()
    await gh.get_pull(OWNER, NAME, 1)
    await gh.get_pull(OWNER, NAME, 1)
    assert gh.stats.rate_limit_remaining == 5000 - 2
    assert metrics.rate_limit_remaining.value() == 5000 - 2


# --- token refresh --------------------------------------------------------------------------


async def test_401_drops_the_token_and_retries_once_with_a_fresh_one(
    sim: Simulator, make_client: MakeClient, tokens: TokenCache, metrics: Metrics
) -> None:
    gh = make_client()
    await gh.get_pull(OWNER, NAME, 1)
    old = await tokens.token(INSTALLATION)
    sim.expire_tokens()
    pull = await gh.get_pull(OWNER, NAME, 1)
    assert pull["number"] == 1
    assert sim.tokens_issued == 2
    assert await tokens.token(INSTALLATION) != old
    assert gh.stats.by_status["401"] == 1
    assert gh.stats.retries == 1
    assert metrics.github_retries.value(reason="unauthorized") == 1


async def test_persistent_401_is_an_auth_error(sim: Simulator, make_client: MakeClient) -> None:
    sim.inject(method="GET", path=PULL_PATH, status=401, times=5, body={"message": "Bad"})
    gh = make_client()
    with pytest.raises(AuthError) as info:
        await gh.get_pull(OWNER, NAME, 1)
    assert info.value.status == 401
    assert len(calls_to(sim, "GET", PULL_PATH)) == 2  # the call and one retry, no more


async def test_token_request_failure_is_an_auth_error(
    sim: Simulator, make_client: MakeClient
) -> None:
    sim.inject(method="POST", path=r"/app/installations/.*", status=404, times=5)
    with pytest.raises(AuthError) as info:
        await make_client().get_pull(OWNER, NAME, 1)
    assert info.value.status == 404
    assert calls_to(sim, "GET", PULL_PATH) == []


async def test_token_request_5xx_is_retried(
    sim: Simulator, make_client: MakeClient, fake: FakeTime
) -> None:
    sim.inject(method="POST", path=r"/app/installations/.*", status=502, times=1)
    pull = await make_client().get_pull(OWNER, NAME, 1)
    assert pull["number"] == 1
    assert sim.tokens_issued == 1
    assert fake.sleeps == [0.5]


# --- 5xx and transport failures ----------------------------------------------------------


async def test_503_once_is_retried(
    sim: Simulator, make_client: MakeClient, metrics: Metrics, fake: FakeTime
) -> None:
    sim.inject(method="GET", path=PULL_PATH, status=503, times=1)
    gh = make_client()
    assert (await gh.get_pull(OWNER, NAME, 1))["number"] == 1
    assert gh.stats.retries == 1
    assert gh.stats.by_status == {"503": 1, "200": 1}
    assert metrics.github_retries.value(reason="server_error") == 1
    assert metrics.github_calls.value(method="GET", status="503") == 1
    assert fake.sleeps == [0.5]


async def test_503_forever_gives_up_after_max_attempts(
    sim: Simulator, make_client: MakeClient, fake: FakeTime
) -> None:
    sim.inject(method="GET", path=PULL_PATH, status=503, times=100)
    gh = make_client(max_attempts=3, backoff=0.25)
    with pytest.raises(GitHubError) as info:
        await gh.get_pull(OWNER, NAME, 1)
    assert info.value.status == 503
    assert "3 attempts" in info.value.message
    assert len(calls_to(sim, "GET", PULL_PATH)) == 3
    assert fake.sleeps == [0.25, 0.5]  # exponential backoff between the three attempts
    assert gh.stats.retries == 2


async def test_a_hanging_request_times_out_and_is_retried(
    sim: Simulator, make_client: MakeClient, metrics: Metrics
) -> None:
    sim.inject(method="GET", path=PULL_PATH, hang=True, times=1)
    gh = make_client()
    started = time.monotonic()
    assert (await gh.get_pull(OWNER, NAME, 1))["number"] == 1
    assert time.monotonic() - started < 5  # the session timeout (1.5 s) bounded the hang
    assert gh.stats.by_status["timeout"] == 1
    assert gh.stats.by_status["200"] == 1
    assert metrics.github_retries.value(reason="timeout") == 1


async def test_connection_refused_is_retried_then_reported(
    session: aiohttp.ClientSession, tokens: TokenCache, fake: FakeTime
) -> None:
    # A port nobody listens on: every attempt fails at connect time.
    await tokens.token(INSTALLATION)  # the token comes from the real simulator
    gh = GitHub(
        session,
        base_url="http://127.0.0.1:9",
        installation_id=INSTALLATION,
        tokens=tokens,
        limits=Limits(clock=fake.clock, sleep=fake.sleep),
        sleep=fake.sleep,
        max_attempts=2,
    )
    with pytest.raises(GitHubError) as info:
        await gh.get_pull(OWNER, NAME, 1)
    assert info.value.status is None
    assert gh.stats.by_status["error"] == 2
    assert fake.sleeps == [0.5]


# --- rate limits ---------------------------------------------------------------------------


async def test_403_with_retry_after_waits_then_succeeds(
    sim: Simulator, make_client: MakeClient, fake: FakeTime, metrics: Metrics
) -> None:
    sim.inject(
        method="GET",
        path=PULL_PATH,
        status=403,
        headers={"Retry-After": "1"},
        body={"message": "You have exceeded a secondary rate limit."},
    )
    gh = make_client()
    assert (await gh.get_pull(OWNER, NAME, 1))["number"] == 1
    assert fake.sleeps == [1.0]
    assert gh.stats.by_status == {"403": 1, "200": 1}
    assert metrics.github_retries.value(reason="rate_limit") == 1


async def test_secondary_limit_without_headers_waits_a_minute(
    sim: Simulator, make_client: MakeClient, fake: FakeTime
) -> None:
    sim.inject(method="GET", path=PULL_PATH, status=429, body={"message": "Too many"})
    gh = make_client()
    assert (await gh.get_pull(OWNER, NAME, 1))["number"] == 1
    assert fake.sleeps == [60.0]


@pytest.mark.parametrize("status", [403, 429])
async def test_exhausted_primary_limit_fails_fast(
    sim: Simulator, make_client: MakeClient, fake: FakeTime, status: int
) -> None:
    reset = int(time.time()) + 3600
    sim.inject(
        method="GET",
        path=PULL_PATH,
        status=status,
        headers={
            "x-ratelimit-limit": "5000",
            "x-ratelimit-remaining": "0",
            "x-ratelimit-reset": str(reset),
        },
        body={"message": "API rate limit exceeded"},
        times=10,
    )
    gh = make_client()
    started = time.monotonic()
    with pytest.raises(RateLimited) as info:
        await gh.get_pull(OWNER, NAME, 1)
    assert time.monotonic() - started < 2
    assert 3500 < info.value.wait <= 3602
    assert info.value.status == status
    assert fake.sleeps == []
    assert len(calls_to(sim, "GET", PULL_PATH)) == 1
    # Every other call of the installation now fails fast without touching GitHub.
    with pytest.raises(RateLimited):
        await make_client().create_issue_comment(OWNER, NAME, 1, "hello")
    assert len(calls_to(sim, "GET", PULL_PATH)) == 1
    assert calls_to(sim, "POST", "/issues/1/comments") == []


async def test_a_forbidden_403_is_not_a_rate_limit(
    sim: Simulator, make_client: MakeClient, fake: FakeTime
) -> None:
    sim.inject(
        method="POST",
        path=r"/repos/octo/shop/check-runs",
        status=403,
        body={"message": "Resource not accessible by integration"},
    )
    gh = make_client()
    with pytest.raises(GitHubError) as info:
        await gh.create_check_run(OWNER, NAME, {"name": "ladder", "head_sha": HEAD_SHA})
    assert info.value.status == 403
    assert "not accessible" in info.value.message
    assert fake.sleeps == []
    assert gh.stats.retries == 0


def test_rate_limit_wait_rules() -> None:
    now = time.time()
    assert rate_limit_wait(403, {"retry-after": "7"}, "") == 7.0
    assert rate_limit_wait(429, {}, "") == 60.0
    assert rate_limit_wait(403, {}, "Resource not accessible by integration") is None
    assert rate_limit_wait(403, {}, "You have exceeded a secondary rate limit") == 60.0
    assert rate_limit_wait(404, {"retry-after": "7"}, "") is None
    wait = rate_limit_wait(
        403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(now) + 30)}, ""
    )
    assert wait is not None
    assert 29 <= wait <= 31.5


# --- 4xx -----------------------------------------------------------------------------------


async def test_422_keeps_githubs_errors_and_is_not_retried(
    sim: Simulator, make_client: MakeClient, fake: FakeTime
) -> None:
    gh = make_client()
    body = {
        "commit_id": HEAD_SHA,
        "event": "COMMENT",
        "body": "ladder",
        "comments": [{"path": "README.md", "line": 1, "side": "RIGHT", "body": "unchanged"}],
    }
    with pytest.raises(GitHubError) as info:
        await gh.create_review(OWNER, NAME, 1, body)
    assert info.value.status == 422
    assert info.value.errors
    assert any("diff" in str(e) for e in info.value.errors)
    assert len(calls_to(sim, "POST", "/pulls/1/reviews")) == 1
    assert sim.reviews == []
    assert fake.sleeps == []
    assert gh.stats.retries == 0


async def test_a_review_inside_the_diff_is_stored(
    sim: Simulator, make_client: MakeClient
) -> None:
    gh = make_client()
    review = await gh.create_review(
        OWNER,
        NAME,
        1,
        {
            "commit_id": HEAD_SHA,
            "event": "COMMENT",
            "body": "ladder",
            "comments": [{"path": "lib/shop.ex", "line": 3, "side": "RIGHT", "body": "spec?"}],
        },
    )
    assert review["id"]
    assert len(sim.reviews) == 1
    comments = await gh.list_review_comments(OWNER, NAME, 1)
    assert [c["body"] for c in comments] == ["spec?"]


# --- listings and contents -----------------------------------------------------------------


async def test_pull_files_are_read_across_pages(sim: Simulator, make_client: MakeClient) -> None:
    head = {f"lib/m{i:03}.ex": f"defmodule M{i} do\nend\n".encode() for i in range(250)}
    sim.add_pull(REPO, 2, base={}, head=head, head_sha="c" * 40, base_sha="d" * 40)
    gh = make_client()
    files = await gh.list_pull_files(OWNER, NAME, 2)
    assert sorted(f["filename"] for f in files) == sorted(head)
    assert all(f["status"] == "added" for f in files)
    pages = calls_to(sim, "GET", "/pulls/2/files")
    assert len(pages) == 3
    assert [p.query.get("per_page") for p in pages] == ["100"] * 3
    assert [p.query.get("page", "1") for p in pages] == ["1", "2", "3"]
    assert gh.stats.calls == 3


async def test_pull_files_stop_at_3000(sim: Simulator, make_client: MakeClient) -> None:
    head = {f"f/{i:04}.txt": b"x\n" for i in range(3050)}
    sim.add_pull(REPO, 3, base={}, head=head, head_sha="e" * 40, base_sha="f" * 40)
    files = await make_client().list_pull_files(OWNER, NAME, 3)
    assert len(files) == 3000
    assert len(calls_to(sim, "GET", "/pulls/3/files")) == 30


async def test_get_file_returns_bytes_at_a_ref(sim: Simulator, make_client: MakeClient) -> None:
    gh = make_client()
    assert await gh.get_file(OWNER, NAME, "lib/shop.ex", HEAD_SHA) == HEAD_TREE["lib/shop.ex"]
    assert await gh.get_file(OWNER, NAME, "lib/shop.ex", BASE_SHA) == BASE_TREE["lib/shop.ex"]
    assert await gh.get_file(OWNER, NAME, "lib/shop.ex", "main") == BASE_TREE["lib/shop.ex"]
    assert await gh.get_file(OWNER, NAME, "priv/logo.bin", HEAD_SHA) == bytes(range(256))
    assert (
        await gh.get_file(OWNER, NAME, "lib/new file.ex", HEAD_SHA)
        == HEAD_TREE["lib/new file.ex"]
    )


async def test_get_file_missing_is_none(sim: Simulator, make_client: MakeClient) -> None:
    gh = make_client()
    assert await gh.get_file(OWNER, NAME, "lib/nope.ex", HEAD_SHA) is None
    assert await gh.get_file(OWNER, NAME, "lib/new file.ex", BASE_SHA) is None
    assert await gh.get_file(OWNER, NAME, "lib/shop.ex", "0" * 40) is None
    assert gh.stats.by_status["404"] == 3
    assert gh.stats.retries == 0


async def test_get_file_over_one_megabyte_is_too_large(
    sim: Simulator, make_client: MakeClient
) -> None:
    with pytest.raises(FileTooLarge) as info:
        await make_client().get_file(OWNER, NAME, "priv/huge.txt", HEAD_SHA)
    assert "priv/huge.txt" in str(info.value)
    assert "1 MB" in str(info.value)


async def test_get_file_on_a_directory_is_not_a_file(
    sim: Simulator, make_client: MakeClient
) -> None:
    sim.inject(
        method="GET",
        path=r"/repos/octo/shop/contents/lib",
        status=200,
        body=[{"type": "file", "name": "shop.ex", "path": "lib/shop.ex"}],
    )
    with pytest.raises(NotAFile):
        await make_client().get_file(OWNER, NAME, "lib", HEAD_SHA)


async def test_get_file_decodes_base64_with_newlines(
    sim: Simulator, make_client: MakeClient
) -> None:
    payload = b"defmodule Wrapped do\n" + b"  # " + b"y" * 200 + b"\nend\n"
    encoded = base64.encodebytes(payload).decode()  # GitHub wraps base64 at 60/76 columns
    assert "\n" in encoded.strip()
    sim.inject(
        method="GET",
        path=r"/repos/octo/shop/contents/lib/wrapped\.ex",
        status=200,
        body={
            "type": "file",
            "encoding": "base64",
            "content": encoded,
            "size": len(payload),
            "name": "wrapped.ex",
            "path": "lib/wrapped.ex",
            "sha": "1" * 40,
        },
    )
    assert await make_client().get_file(OWNER, NAME, "lib/wrapped.ex", HEAD_SHA) == payload


# --- writes, reactions, permissions --------------------------------------------------------


async def test_check_run_create_and_update(sim: Simulator, make_client: MakeClient) -> None:
    gh = make_client()
    run = await gh.create_check_run(
        OWNER, NAME, {"name": "ladder", "head_sha": HEAD_SHA, "status": "in_progress"}
    )
    updated = await gh.update_check_run(
        OWNER,
        NAME,
        run["id"],
        {
            "status": "completed",
            "conclusion": "success",
            "output": {"title": "L3 reached", "summary": "ok"},
        },
    )
    assert updated["conclusion"] == "success"
    assert len(sim.check_runs) == 1


async def test_issue_comment_and_reaction(sim: Simulator, make_client: MakeClient) -> None:
    gh = make_client()
    comment = await gh.create_issue_comment(OWNER, NAME, 1, "hello")
    assert comment["body"] == "hello"
    await gh.add_reaction(OWNER, NAME, comment["id"], "eyes")
    await gh.add_reaction(OWNER, NAME, comment["id"], "eyes")  # 200 the second time
    assert [c["body"] for c in sim.issue_comments] == ["hello"]
    assert len(sim.reactions) == 1


async def test_permission_levels(sim: Simulator, make_client: MakeClient) -> None:
    sim.set_permission(REPO, "alice", "admin")
    sim.set_permission(REPO, "bob", "maintain")
    sim.set_permission(REPO, "carol", "read")
    gh = make_client()
    assert await gh.permission(OWNER, NAME, "alice") == "admin"
    assert await gh.permission(OWNER, NAME, "bob") == "write"
    assert await gh.permission(OWNER, NAME, "carol") == "read"
    assert await gh.permission(OWNER, NAME, "mallory") == "none"


async def test_permission_404_is_none(sim: Simulator, make_client: MakeClient) -> None:
    sim.inject(
        method="GET", path=r".*/collaborators/ghost/permission", status=404, body={"message": "x"}
    )
    assert await make_client().permission(OWNER, NAME, "ghost") == "none"


# --- pacing and concurrency ----------------------------------------------------------------


async def test_a_normal_review_never_waits_for_pacing(
    sim: Simulator, make_client: MakeClient, fake: FakeTime
) -> None:
    gh = make_client()
    run = await gh.create_check_run(OWNER, NAME, {"name": "ladder", "head_sha": HEAD_SHA})
    for _ in range(3):
        await gh.update_check_run(OWNER, NAME, run["id"], {"status": "in_progress"})
    await gh.create_issue_comment(OWNER, NAME, 1, "done")
    assert fake.sleeps == []
    assert gh.stats.waited == 0


async def test_sustained_writes_are_paced_by_the_bucket(
    sim: Simulator, make_client: MakeClient, fake: FakeTime
) -> None:
    # Burst of 3, then one write per second (60 per minute).
    limits = Limits(write_burst=3, write_rate=60, clock=fake.clock, sleep=fake.sleep)
    gh = make_client(limits=limits)
    for i in range(5):
        await gh.create_issue_comment(OWNER, NAME, 1, f"c{i}")
    assert fake.sleeps == [pytest.approx(1.0), pytest.approx(1.0)]
    assert gh.stats.waited == pytest.approx(2.0)
    assert len(sim.issue_comments) == 5
    # Reads are never paced.
    await gh.get_pull(OWNER, NAME, 1)
    assert len(fake.sleeps) == 2


async def test_bucket_refills_with_time() -> None:
    fake = FakeTime()
    bucket = TokenBucket(2, 80, 60, clock=fake.clock, sleep=fake.sleep)
    assert await bucket.acquire() == 0
    assert await bucket.acquire() == 0
    waited = await bucket.acquire()
    assert waited == pytest.approx(60 / 80)
    fake.now += 60  # a quiet minute refills to capacity, never beyond
    assert bucket.available == pytest.approx(2)
    assert await bucket.acquire() == 0
    assert await bucket.acquire() == 0
    assert fake.sleeps == [pytest.approx(0.75)]


async def test_bucket_with_a_sleep_that_does_not_advance_the_clock_terminates() -> None:
    sleeps: list[float] = []

    async def record(seconds: float) -> None:
        sleeps.append(seconds)

    bucket = TokenBucket(1, 1, 1, clock=lambda: 0.0, sleep=record)
    for _ in range(3):
        await bucket.acquire()
    assert sleeps == [pytest.approx(1.0), pytest.approx(1.0)]


async def test_writes_of_one_installation_are_serialised(
    sim: Simulator, session: aiohttp.ClientSession, tokens: TokenCache
) -> None:
    await tokens.token(INSTALLATION)
    limits = Limits()
    gh = GitHub(
        session,
        base_url=sim.base_url,
        installation_id=INSTALLATION,
        tokens=tokens,
        limits=limits,
    )
    sim.latency = 0.15
    started = time.monotonic()
    await asyncio.gather(*(gh.create_issue_comment(OWNER, NAME, 1, f"w{i}") for i in range(3)))
    writes = time.monotonic() - started
    started = time.monotonic()
    await asyncio.gather(*(gh.get_pull(OWNER, NAME, 1) for _ in range(3)))
    reads = time.monotonic() - started
    assert writes >= 0.44  # one after the other
    assert reads < 0.4  # in parallel under the read semaphore
    assert len(sim.issue_comments) == 3


# --- logging -------------------------------------------------------------------------------


async def test_retries_are_logged_without_the_token(
    sim: Simulator, make_client: MakeClient, tokens: TokenCache, caplog: pytest.LogCaptureFixture
) -> None:
    sim.inject(method="GET", path=PULL_PATH, status=502, times=1)
    caplog.set_level(logging.WARNING, logger="ladder.github")
    await make_client().get_pull(OWNER, NAME, 1)
    token = await tokens.token(INSTALLATION)
    messages = [r.getMessage() for r in caplog.records if r.name == "ladder.github"]
    assert len(messages) == 1
    assert "GET /repos/{owner}/{repo}/pulls/{pull_number}" in messages[0]
    assert "status=502" in messages[0]
    assert "wait=0.50s" in messages[0]
    assert all(token not in m for m in messages)


async def test_concurrent_401s_fetch_a_single_new_token(
    sim: Simulator, make_client: MakeClient
) -> None:
    sim.latency = 0.05
    gh = make_client()
    await gh.get_pull(OWNER, NAME, 1)
    sim.expire_tokens()
    pulls = await asyncio.gather(*(gh.get_pull(OWNER, NAME, 1) for _ in range(6)))
    assert all(p["number"] == 1 for p in pulls)
    assert sim.tokens_issued == 2
    assert gh.stats.by_status["401"] == 6


async def test_githubs_own_primary_limit_fails_fast(
    sim: Simulator, make_client: MakeClient, fake: FakeTime
) -> None:
    sim.set_rate_limit(INSTALLATION, 0, reset_in=3600)
    gh = make_client()
    with pytest.raises(RateLimited) as info:
        await gh.get_pull(OWNER, NAME, 1)
    assert info.value.status == 403
    assert 3500 < info.value.wait <= 3602
    assert fake.sleeps == []
    assert gh.stats.rate_limit_remaining == 0


async def test_last_call_of_the_hour_makes_the_next_one_wait_for_the_reset(
    keys: tuple[str, bytes], session: aiohttp.ClientSession, fake: FakeTime
) -> None:
    # GitHub's clock moves with the fake sleep, so waiting for the reset really resets.
    start = fake.now
    sim = Simulator(
        app_id=1, public_key_pem=keys[1], clock=lambda: time.time() + fake.now - start
    )
    await sim.start()
    try:
        sim.add_installation(INSTALLATION, [REPO])
        sim.add_pull(
            REPO, 1, base=BASE_TREE, head=HEAD_TREE, head_sha=HEAD_SHA, base_sha=BASE_SHA
        )
        sim.set_rate_limit(INSTALLATION, 1, reset_in=5)
        tokens = TokenCache(AppCredentials("1", keys[0]), session, base_url=sim.base_url)
        gh = GitHub(
            session,
            base_url=sim.base_url,
            installation_id=INSTALLATION,
            tokens=tokens,
            limits=Limits(clock=fake.clock, sleep=fake.sleep),
            sleep=fake.sleep,
        )
        await gh.get_pull(OWNER, NAME, 1)
        assert gh.stats.rate_limit_remaining == 0
        assert fake.sleeps == []
        await gh.get_pull(OWNER, NAME, 1)  # waits for the reset instead of earning a 403
        assert len(fake.sleeps) == 1
        assert 4 <= fake.sleeps[0] <= 7.5
        assert gh.stats.by_status == {"200": 2}
        assert sim.invalid_requests == []
    finally:
        await sim.stop()
