"""Fixtures and helpers shared by the end-to-end tests of the App (test_app_e2e, test_app_faults).

Every test runs the real service (`create_app`) against the one GitHub simulator, and every test
ends with the simulator's verdict on the requests it received: `invalid_requests` must be empty,
i.e. each request the bot made matched GitHub's OpenAPI description: `running_simulator` asserts
it on the way out, so no test can forget. Each test module wraps these context managers in its
own `sim`, `launch` and `app` fixtures.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

from bot.diff import FileChange, parse_patch
from bot.github import Limits
from bot.simulator import Recorded, Simulator, diff_trees
from tests import harness

OPENED = harness.payload("pull_request.opened")
REPO = OPENED["repository"]["full_name"]  # Codertocat/Hello-World
NUMBER = OPENED["number"]  # 2
INSTALLATION = OPENED["installation"]["id"]
HEAD_SHA = OPENED["pull_request"]["head"]["sha"]
BASE_SHA = OPENED["pull_request"]["base"]["sha"]
ACCOUNTS = "lib/shop/accounts.ex"
MARKER = re.compile(r"<!-- ladder:fp=([0-9a-f]{16}) -->")

# The harness's sample change, plus trailing whitespace on line 13 (`def ping`): an L1 finding
# whose suggestion is the exact replacement line, and which needs no Elixir to be found.
PING = b"  def ping, do: :pong\n"
PING_SPACES = b"  def ping, do: :pong   \n"
ACCOUNTS_WITH_SPACES = harness.HEAD_ACCOUNTS.replace(PING, PING_SPACES, 1)
# The four findings of the harness's sample change (elixir disabled), by rule.
SAMPLE_RULES = {
    "L2.io-inspect",
    "L4.spec-missing",
    "L5.sql-injection",
    "L7.doc-example-missing",
}


class Launch(Protocol):
    def __call__(
        self,
        *,
        github_options: dict[str, Any] | None = None,
        limits: Limits | None = None,
        request_timeout: float = 2.0,
        **settings: Any,
    ) -> Awaitable[harness.Harness]: ...


@contextlib.asynccontextmanager
async def running_simulator() -> AsyncIterator[Simulator]:
    """The simulator for one test. On the way out it asserts that every request the bot made
    matched GitHub's OpenAPI description."""
    simulator = Simulator(app_id=harness.APP_ID, public_key_pem=harness.keys()[1])
    await simulator.start()
    try:
        yield simulator
    finally:
        await simulator.stop()
    assert simulator.invalid_requests == []


@contextlib.asynccontextmanager
async def launcher(sim: Simulator) -> AsyncIterator[Launch]:
    """Start the real app against `sim` (options as harness.start);
    every app started is closed on the way out, before the simulator stops."""
    started: list[harness.Harness] = []

    async def go(**options: Any) -> harness.Harness:
        h = await harness.start(sim, **options)
        started.append(h)
        return h

    try:
        yield go
    finally:
        for h in reversed(started):
            await h.close()


async def settle(h: harness.Harness, timeout: float = 30.0) -> None:
    await asyncio.wait_for(h.settle(), timeout=timeout)


async def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll until `predicate()` holds (used to line events up with a review in flight)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.005)


def sample_head(**files: bytes) -> dict[str, bytes]:
    """The harness's head tree with whole files replaced or added by path."""
    tree = harness.head_tree()
    tree.update(files)
    return tree


def changes_of(base: dict[str, bytes], head: dict[str, bytes]) -> dict[str, FileChange]:
    """The diff GitHub (the simulator) shows for base..head, parsed like the bot parses it."""
    return {
        d.filename: parse_patch(d.patch, d.filename)
        for d in diff_trees(base, head)
        if d.patch is not None
    }


def calls(sim: Simulator, method: str, pattern: str) -> list[Recorded]:
    """Requests the bot made whose method matches and whose path matches `pattern`."""
    regex = re.compile(pattern)
    return [r for r in sim.requests if r.method == method and regex.search(r.path)]


def review_requests(sim: Simulator) -> list[Recorded]:
    return calls(sim, "POST", r"/pulls/\d+/reviews$")


def fingerprints(comments: list[dict[str, Any]]) -> list[str]:
    found: list[str] = []
    for comment in comments:
        found += MARKER.findall(comment["body"])
    return found


def rule_of(comment: dict[str, Any]) -> str:
    """The rule id an inline comment is about (its header is **`RULE`** · severity · level)."""
    match = re.match(r"\*\*`([^`]+)`\*\*", comment["body"])
    assert match is not None, comment["body"][:200]
    return match.group(1)


def assert_all_completed(sim: Simulator) -> None:
    assert sim.check_runs, "no check run was created"
    left = [(r["id"], r["status"]) for r in sim.check_runs if r["status"] != "completed"]
    assert left == [], f"check runs left unfinished: {left}"


def seed_pull(
    sim: Simulator,
    *,
    base: dict[str, bytes] | None = None,
    head: dict[str, bytes] | None = None,
    head_sha: str = HEAD_SHA,
    **extra: Any,
) -> None:
    """Like harness.seed_opened (the repository, installation and PR of the opened payload),
    with any base tree and head sha."""
    pull = OPENED["pull_request"]
    sim.add_installation(OPENED["installation"]["id"], [REPO])
    sim.add_pull(
        REPO,
        NUMBER,
        base=base if base is not None else dict(harness.BASE_TREE),
        head=head if head is not None else harness.head_tree(),
        head_sha=head_sha,
        base_sha=BASE_SHA,
        author=pull["user"]["login"],
        base_ref=pull["base"]["ref"],
        head_ref=pull["head"]["ref"],
        **extra,
    )


def with_head(data: dict[str, Any], sha: str) -> dict[str, Any]:
    """A pull_request payload moved to another head commit (as GitHub would send it)."""
    data["pull_request"]["head"]["sha"] = sha
    if "after" in data:
        data["after"] = sha
    return data
