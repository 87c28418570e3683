"""The fake GitHub itself: every other App test trusts it, so its GitHub behaviour is pinned here.

Talks to a started Simulator over real HTTP (aiohttp.ClientSession, and gidgethub for pagination)
exactly as the App does.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import json
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
import jwt
import pytest
from gidgethub.aiohttp import GitHubAPI

from bot.demo import new_key
from bot.diff import parse_patch
from bot.simulator import (
    BOT_LOGIN,
    Simulator,
    diff_trees,
    load_spec,
    openapi_to_json_schema,
    unified_patch,
)
from tests import harness

REPO = "acme/widgets"
INSTALLATION = 11
APP_ID = 7
NOT_IN_DIFF = "Pull request review thread line must be part of the diff"
BASE_SHA = "b" * 40
HEAD_SHA = "a" * 40


def rsa_private_key_pem() -> tuple[bytes, bytes]:
    """(private PEM, public PEM) of the test App's key (one per run)."""
    private, public = harness.keys()
    return private.encode(), public


@functools.cache
def other_private_key_pem() -> bytes:
    """A second key: a JWT it signs must not verify against the App's public key."""
    return new_key()[0].encode()


def app_jwt(now: float, *, iss: Any = APP_ID, exp_in: int = 540, key: bytes | None = None) -> str:
    payload = {"iat": int(now) - 60, "exp": int(now) + exp_in, "iss": str(iss)}
    return jwt.encode(payload, key or rsa_private_key_pem()[0], algorithm="RS256")


class Clock:
    """A settable clock so token expiry is tested without sleeping."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def numbered(count: int, changed: dict[int, str] | None = None) -> bytes:
    lines = [f"line {i}" for i in range(1, count + 1)]
    for number, text in (changed or {}).items():
        lines[number - 1] = text
    return ("\n".join(lines) + "\n").encode()


# lib/a.ex: line 5 changed and a line inserted after 30 -> two hunks (2-8 and 28-34 new side).
BASE_TREE = {"lib/a.ex": numbered(40), "old.ex": b"gone\n", "README.md": b"# hi\n"}
HEAD_TREE = {
    "lib/a.ex": numbered(40, {5: "line five", 30: "line 30\nextra"}),
    "new.ex": b"a\nb\n",
    "README.md": b"# hi\n",
    "big.bin": b"\0" * 10,
}


@dataclass
class Answer:
    status: int
    headers: Any
    body: Any


class Client:
    """A thin caller that keeps status, headers and the decoded body together."""

    def __init__(self, session: aiohttp.ClientSession, sim: Simulator) -> None:
        self.session = session
        self.sim = sim
        self.token = ""

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        auth: str | None = None,
        headers: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> Answer:
        sent = dict(headers or {})
        sent.setdefault("Authorization", auth if auth is not None else f"token {self.token}")
        if not sent["Authorization"]:
            del sent["Authorization"]
        kwargs: dict[str, Any] = {"headers": sent}
        if body is not None:
            kwargs["json"] = body
        if timeout is not None:
            kwargs["timeout"] = aiohttp.ClientTimeout(total=timeout)
        async with self.session.request(method, self.sim.base_url + path, **kwargs) as resp:
            raw = await resp.read()
            try:
                decoded: Any = json.loads(raw)
            except ValueError:
                decoded = raw
            return Answer(resp.status, resp.headers, decoded)

    async def login(self) -> str:
        answer = await self.call(
            "POST",
            f"/app/installations/{INSTALLATION}/access_tokens",
            auth=f"Bearer {app_jwt(self.sim._clock())}",
        )
        assert answer.status == 201, answer.body
        self.token = answer.body["token"]
        return self.token


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def sim(clock: Clock) -> Any:
    simulator = Simulator(
        app_id=APP_ID,
        public_key_pem=rsa_private_key_pem()[1],
        token_ttl=3600,
        validate_responses=True,
        clock=clock,
    )
    simulator.add_installation(INSTALLATION, [REPO])
    simulator.add_pull(
        REPO, 3, base=BASE_TREE, head=HEAD_TREE, head_sha=HEAD_SHA, base_sha=BASE_SHA
    )
    async with simulator:
        yield simulator
    assert simulator.invalid_responses == []


@pytest.fixture
async def gh(sim: Simulator) -> Any:
    async with aiohttp.ClientSession() as session:
        client = Client(session, sim)
        await client.login()
        yield client


# ------------------------------------------------------------------ spec and patches


def test_spec_loads_under_a_second_and_lists_21_operations() -> None:
    load_spec.cache_clear()
    started = time.perf_counter()
    spec = load_spec()
    assert time.perf_counter() - started < 1.0
    assert len(spec.operations) == 21
    op, params = spec.match("GET", "/repos/o/r/contents/lib/deep/a.ex") or (None, {})
    assert op is not None
    assert op.operation_id == "repos/get-content"
    assert params == {"owner": "o", "repo": "r", "path": "lib/deep/a.ex"}
    assert spec.match("DELETE", "/repos/o/r/pulls/1") is None


def test_nullable_allows_null_and_keeps_enums() -> None:
    schema = openapi_to_json_schema(
        {"type": "string", "enum": ["a"], "nullable": True, "example": "a", "x-foo": 1}
    )
    assert schema == {"type": ["string", "null"], "enum": ["a", None]}
    combined = openapi_to_json_schema({"nullable": True, "allOf": [{"type": "object"}]})
    assert combined == {"anyOf": [{"type": "null"}, {"allOf": [{"type": "object"}]}]}


def test_patch_is_hunks_only_and_agrees_with_the_engine_parser() -> None:
    old = numbered(40).decode()
    new = numbered(40, {5: "line five", 30: "line 30\nextra"}).decode()
    patch = unified_patch(old, new)
    assert not patch.startswith(("---", "+++"))
    assert patch.splitlines()[0] == "@@ -2,7 +2,7 @@"
    change = parse_patch(patch)
    assert change.added == {5, 31}
    assert change.hunks == [(2, 8), (28, 34)]
    added = unified_patch("", "a\nb\n")
    assert added == "@@ -0,0 +1,2 @@\n+a\n+b"
    assert unified_patch("a\n", "a") == "@@ -1 +1 @@\n-a\n+a\n\\ No newline at end of file"


def test_diff_trees_lists_only_changes_with_statuses() -> None:
    files = {f.filename: f for f in diff_trees(BASE_TREE, HEAD_TREE, no_patch={"new.ex"})}
    assert sorted(files) == ["big.bin", "lib/a.ex", "new.ex", "old.ex"]
    assert files["old.ex"].status == "removed"
    assert files["old.ex"].patch == "@@ -1 +0,0 @@\n-gone"
    assert files["new.ex"].status == "added"
    assert files["new.ex"].patch is None  # GitHub omits huge patches
    assert files["new.ex"].additions == 2
    assert files["big.bin"].patch is None  # binary
    assert (files["lib/a.ex"].additions, files["lib/a.ex"].deletions) == (2, 1)


# ------------------------------------------------------------------ auth


async def test_jwt_exchanges_for_an_installation_token(sim: Simulator, clock: Clock) -> None:
    async with aiohttp.ClientSession() as session:
        client = Client(session, sim)
        answer = await client.call(
            "POST",
            f"/app/installations/{INSTALLATION}/access_tokens",
            auth=f"Bearer {app_jwt(clock.now)}",
        )
    assert answer.status == 201
    assert answer.body["token"].startswith("ghs_")
    expected = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(clock.now + 3600))
    assert answer.body["expires_at"] == expected
    assert answer.body["permissions"]["checks"] == "write"
    assert answer.body["repository_selection"] == "selected"
    assert sim.tokens_issued == 1
    record = sim.requests[-1]
    assert record.auth == "jwt"
    assert record.headers["authorization"] == "Bearer [redacted]"
    assert answer.body["token"] not in repr(sim.requests)


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("other key", "A JSON web token could not be decoded"),
        ("expired", "'Expiration time' claim ('exp') must be a numeric value"),
        ("too far", "'Expiration time' claim ('exp') is too far in the future"),
        ("wrong issuer", "Integration not found"),
        ("hs256", "A JSON web token could not be decoded"),
        ("token scheme", "A JSON web token could not be decoded"),
    ],
)
async def test_bad_jwts_are_401(sim: Simulator, clock: Clock, kind: str, message: str) -> None:
    other_pem = other_private_key_pem()
    auth = {
        "other key": f"Bearer {app_jwt(clock.now, key=other_pem)}",
        "expired": f"Bearer {app_jwt(clock.now - 3600)}",
        "too far": f"Bearer {app_jwt(clock.now, exp_in=3600)}",
        "wrong issuer": f"Bearer {app_jwt(clock.now, iss=999)}",
        "hs256": "Bearer " + jwt.encode({"iss": "7"}, "secret-secret-secret-secret-32by"),
        "token scheme": f"token {app_jwt(clock.now)}",
    }[kind]
    async with aiohttp.ClientSession() as session:
        answer = await Client(session, sim).call(
            "POST", f"/app/installations/{INSTALLATION}/access_tokens", auth=auth
        )
    assert answer.status == 401
    assert answer.body["message"].startswith(message)
    assert sim.tokens_issued == 0


async def test_unknown_installation_is_404(sim: Simulator, clock: Clock) -> None:
    async with aiohttp.ClientSession() as session:
        answer = await Client(session, sim).call(
            "POST", "/app/installations/999/access_tokens", auth=f"Bearer {app_jwt(clock.now)}"
        )
    assert answer.status == 404


async def test_tokens_expire_with_the_clock_and_on_demand(gh: Client, clock: Clock) -> None:
    assert (await gh.call("GET", f"/repos/{REPO}/pulls/3")).status == 200
    clock.now += 3601
    expired = await gh.call("GET", f"/repos/{REPO}/pulls/3")
    assert expired.status == 401
    assert expired.body["message"] == "Bad credentials"
    await gh.login()
    assert (await gh.call("GET", f"/repos/{REPO}/pulls/3")).status == 200
    gh.sim.expire_tokens()
    assert (await gh.call("GET", f"/repos/{REPO}/pulls/3")).status == 401
    assert (await gh.call("GET", f"/repos/{REPO}/pulls/3", auth="")).status == 401
    assert (await gh.call("GET", f"/repos/{REPO}/pulls/3", auth="token nope")).status == 401


async def test_token_sees_only_its_installation_and_permissions(
    sim: Simulator, gh: Client, clock: Clock
) -> None:
    sim.add_installation(12, ["other/repo"])
    sim.add_pull("other/repo", 1, base={}, head={"a": b"x\n"}, head_sha="c1", base_sha="c0")
    assert (await gh.call("GET", "/repos/other/repo/pulls/1")).status == 404
    narrowed = await gh.call(
        "POST",
        f"/app/installations/{INSTALLATION}/access_tokens",
        {"permissions": {"pull_requests": "read"}},
        auth=f"Bearer {app_jwt(clock.now)}",
    )
    assert narrowed.status == 201
    read_only = f"token {narrowed.body['token']}"
    assert (await gh.call("GET", f"/repos/{REPO}/pulls/3", auth=read_only)).status == 200
    denied = await gh.call(
        "POST", f"/repos/{REPO}/check-runs", {"name": "x", "head_sha": HEAD_SHA}, auth=read_only
    )
    assert denied.status == 403
    assert denied.body["message"] == "Resource not accessible by integration"
    too_much = await gh.call(
        "POST",
        f"/app/installations/{INSTALLATION}/access_tokens",
        {"permissions": {"administration": "write"}},
        auth=f"Bearer {app_jwt(clock.now)}",
    )
    assert too_much.status == 422


# ------------------------------------------------------------------ pagination


async def test_pagination_over_250_files_with_github_link_headers(sim: Simulator) -> None:
    head = {f"lib/f{i:03}.ex": b"new\n" for i in range(250)}
    sim.add_pull(REPO, 9, base={}, head=head, head_sha="d" * 40, base_sha="e" * 40)
    async with aiohttp.ClientSession() as session:
        gh = Client(session, sim)
        await gh.login()
        path = f"/repos/{REPO}/pulls/9/files"
        first = await gh.call("GET", f"{path}?per_page=100")
        url = f"{sim.base_url}{path}"
        assert first.headers["Link"] == (
            f'<{url}?per_page=100&page=2>; rel="next", <{url}?per_page=100&page=3>; rel="last"'
        )
        names = [f["filename"] for f in first.body]
        link = first.headers["Link"]
        sizes = [len(first.body)]
        while 'rel="next"' in link:
            next_url = next(
                part.split(">", 1)[0].strip(" <")
                for part in link.split(",")
                if part.endswith('rel="next"')
            )
            page = await gh.call("GET", next_url.removeprefix(sim.base_url))
            sizes.append(len(page.body))
            names += [f["filename"] for f in page.body]
            link = page.headers.get("Link", "")
        assert sizes == [100, 100, 50]
        assert link == (
            f'<{url}?per_page=100&page=2>; rel="prev", <{url}?per_page=100&page=1>; rel="first"'
        )
        assert names == sorted(head)
        default = await gh.call("GET", path)
        assert len(default.body) == 30
        assert f'<{url}?page=9>; rel="last"' in default.headers["Link"]
        # gidgethub follows the links on its own.
        api = GitHubAPI(session, "ladder-test", oauth_token=gh.token, base_url=sim.base_url)
        listed = [f["filename"] async for f in api.getiter(f"{path}?per_page=100")]
        assert listed == sorted(head)
    assert sim.invalid_requests == []


async def test_per_page_above_100_is_served_as_100_and_recorded(sim: Simulator) -> None:
    sim.add_pull(
        REPO,
        9,
        base={},
        head={f"f{i}": b"x\n" for i in range(150)},
        head_sha="d" * 40,
        base_sha="e" * 40,
    )
    async with aiohttp.ClientSession() as session:
        gh = Client(session, sim)
        await gh.login()
        answer = await gh.call("GET", f"/repos/{REPO}/pulls/9/files?per_page=500")
        bad_type = await gh.call("GET", f"/repos/{REPO}/pulls/9/files?page=two")
    assert len(answer.body) == 100
    assert bad_type.status == 422
    assert len(sim.invalid_requests) == 2
    assert "per_page=500" in sim.invalid_requests[0]
    assert "'page'" in sim.invalid_requests[1]


# ------------------------------------------------------------------ reviews


async def test_review_with_one_bad_line_is_rejected_whole(gh: Client) -> None:
    sim = gh.sim
    good = {"path": "lib/a.ex", "line": 5, "body": "changed line"}
    bad = {"path": "lib/a.ex", "line": 20, "body": "outside any hunk"}
    answer = await gh.call(
        "POST",
        f"/repos/{REPO}/pulls/3/reviews",
        {"event": "COMMENT", "body": "Ladder", "comments": [good, bad]},
    )
    assert answer.status == 422
    assert answer.body["message"] == "Unprocessable Entity"
    assert answer.body["errors"] == [
        "Pull request review thread line must be part of the diff",
        "Pull request review thread diff hunk can't be blank",
    ]
    assert sim.reviews == []
    assert sim.review_comments == []
    accepted = await gh.call(
        "POST",
        f"/repos/{REPO}/pulls/3/reviews",
        {"event": "COMMENT", "body": "Ladder", "commit_id": HEAD_SHA, "comments": [good]},
    )
    assert accepted.status == 200
    assert accepted.body["state"] == "COMMENTED"
    assert accepted.body["user"]["login"] == BOT_LOGIN
    assert accepted.body["user"]["type"] == "Bot"
    assert sim.reviews[0]["comments"] == [good]
    comment = sim.review_comments[0]
    assert comment["pull_request_review_id"] == accepted.body["id"]
    assert (comment["path"], comment["line"], comment["side"]) == ("lib/a.ex", 5, "RIGHT")
    assert comment["diff_hunk"].splitlines()[0] == "@@ -2,7 +2,7 @@"
    assert comment["diff_hunk"].splitlines()[-1] == "+line five"
    assert comment["user"]["login"] == BOT_LOGIN
    listed = await gh.call("GET", f"/repos/{REPO}/pulls/3/comments")
    assert [c["id"] for c in listed.body] == [comment["id"]]
    assert sim.invalid_requests == []


@pytest.mark.parametrize(
    ("comment", "error"),
    [
        ({"path": "lib/a.ex", "start_line": 28, "line": 31}, None),
        (
            {"path": "lib/a.ex", "start_line": 5, "line": 31},
            "Pull request review thread start line must be part of the same hunk as the line.",
        ),
        (
            {"path": "lib/a.ex", "start_line": 31, "line": 31},
            "Pull request review thread start line must precede the end line.",
        ),
        ({"path": "missing.ex", "line": 1}, "Pull request review thread path is invalid"),
        ({"path": "old.ex", "line": 1, "side": "LEFT"}, None),
        ({"path": "old.ex", "line": 1}, NOT_IN_DIFF),
        ({"path": "big.bin", "line": 1}, NOT_IN_DIFF),
        ({"path": "lib/a.ex", "position": 5}, None),
    ],
)
async def test_inline_comment_rules(
    gh: Client, comment: dict[str, Any], error: str | None
) -> None:
    answer = await gh.call(
        "POST",
        f"/repos/{REPO}/pulls/3/reviews",
        {"event": "COMMENT", "body": "x", "comments": [{**comment, "body": "note"}]},
    )
    if error is None:
        assert answer.status == 200, answer.body
        assert len(gh.sim.review_comments) == 1
    else:
        assert answer.status == 422
        assert error in answer.body["errors"]
        assert gh.sim.review_comments == []


async def test_position_maps_to_the_line(gh: Client) -> None:
    await gh.call(
        "POST",
        f"/repos/{REPO}/pulls/3/reviews",
        {
            "event": "COMMENT",
            "body": "x",
            "comments": [{"path": "lib/a.ex", "position": 5, "body": "n"}],
        },
    )
    assert gh.sim.review_comments[0]["line"] == 5  # rows 1-4 are context/'-', row 5 is '+'


async def test_review_needs_a_known_commit_and_a_body(gh: Client) -> None:
    stale = await gh.call(
        "POST",
        f"/repos/{REPO}/pulls/3/reviews",
        {"event": "COMMENT", "body": "x", "commit_id": "f" * 40},
    )
    assert stale.status == 422
    empty = await gh.call("POST", f"/repos/{REPO}/pulls/3/reviews", {"event": "COMMENT"})
    assert empty.status == 422
    assert gh.sim.reviews == []


async def test_single_comment_reply_and_file_level(gh: Client) -> None:
    first = await gh.call(
        "POST",
        f"/repos/{REPO}/pulls/3/comments",
        {"body": "a", "commit_id": HEAD_SHA, "path": "lib/a.ex", "line": 31},
    )
    assert first.status == 201
    assert first.headers["Location"] == first.body["url"]
    reply = await gh.call(
        "POST",
        f"/repos/{REPO}/pulls/3/comments",
        {"body": "b", "commit_id": HEAD_SHA, "path": "lib/a.ex", "in_reply_to": first.body["id"]},
    )
    assert reply.body["in_reply_to_id"] == first.body["id"]
    assert reply.body["line"] == 31
    whole = await gh.call(
        "POST",
        f"/repos/{REPO}/pulls/3/comments",
        {"body": "c", "commit_id": HEAD_SHA, "path": "README.md", "subject_type": "file"},
    )
    assert whole.status == 422  # README.md is not part of the PR
    on_file = await gh.call(
        "POST",
        f"/repos/{REPO}/pulls/3/comments",
        {"body": "c", "commit_id": HEAD_SHA, "path": "big.bin", "subject_type": "file"},
    )
    assert on_file.status == 201
    assert on_file.body["subject_type"] == "file"
    assert "line" not in on_file.body
    assert len(gh.sim.reviews) == 3  # GitHub wraps each single comment in a review


# ------------------------------------------------------------------ check runs


async def test_schema_invalid_check_run_bodies_are_422_and_recorded(gh: Client) -> None:
    url = f"/repos/{REPO}/check-runs"
    note = {
        "path": "a",
        "start_line": 1,
        "end_line": 1,
        "annotation_level": "notice",
        "message": "m",
    }
    missing = await gh.call("POST", url, {"name": "ladder"})
    assert missing.status == 422
    assert missing.body["message"] == 'Invalid request.\n\n"head_sha" wasn\'t supplied.'
    no_conclusion = await gh.call(
        "POST", url, {"name": "ladder", "head_sha": HEAD_SHA, "status": "completed"}
    )
    assert no_conclusion.status == 422
    too_many = await gh.call(
        "POST",
        url,
        {
            "name": "ladder",
            "head_sha": HEAD_SHA,
            "output": {"title": "t", "summary": "s", "annotations": [note] * 51},
        },
    )
    assert too_many.status == 422
    too_long = await gh.call(
        "POST",
        url,
        {
            "name": "ladder",
            "head_sha": HEAD_SHA,
            "output": {"title": "t", "summary": "x" * 65536},
        },
    )
    assert too_long.status == 422
    assert too_long.body["message"] == (
        "Invalid request.\n\nOnly 65535 characters are allowed; 65536 were supplied."
    )
    bad_date = await gh.call(
        "POST", url, {"name": "ladder", "head_sha": HEAD_SHA, "started_at": "yesterday"}
    )
    assert bad_date.status == 422
    assert len(gh.sim.invalid_requests) == 5
    assert all("checks/create" in line for line in gh.sim.invalid_requests)
    assert gh.sim.check_runs == []
    unknown_sha = await gh.call("POST", url, {"name": "ladder", "head_sha": "0" * 40})
    assert unknown_sha.status == 422  # valid schema, but no such commit
    assert len(gh.sim.invalid_requests) == 5


async def test_check_run_lifecycle_appends_annotations(gh: Client) -> None:
    created = await gh.call(
        "POST",
        f"/repos/{REPO}/check-runs",
        {"name": "ladder", "head_sha": HEAD_SHA, "status": "in_progress", "external_id": "r1"},
    )
    assert created.status == 201
    run_id = created.body["id"]
    assert created.body["pull_requests"][0]["number"] == 3
    assert created.body["app"]["id"] == APP_ID
    assert created.body["conclusion"] is None
    notes = [
        {
            "path": "lib/a.ex",
            "start_line": i,
            "end_line": i,
            "annotation_level": "warning",
            "message": f"m{i}",
        }
        for i in range(1, 61)
    ]
    for batch in (notes[:50], notes[50:]):
        answer = await gh.call(
            "PATCH",
            f"/repos/{REPO}/check-runs/{run_id}",
            {"output": {"title": "Ladder", "summary": "", "annotations": batch}},
        )
        assert answer.status == 200
    done = await gh.call(
        "PATCH",
        f"/repos/{REPO}/check-runs/{run_id}",
        {"conclusion": "failure", "output": {"title": "Ladder: L2", "summary": "2 findings"}},
    )
    assert done.body["status"] == "completed"
    assert done.body["completed_at"] is not None
    assert done.body["output"]["annotations_count"] == 60
    assert done.body["output"]["summary"] == "2 findings"
    run = gh.sim.check_runs[0]
    assert len(run["annotations"]) == 60
    assert len(run["updates"]) == 3
    assert run["annotations"][59]["message"] == "m60"
    page = await gh.call(
        "GET", f"/repos/{REPO}/check-runs/{run_id}/annotations?per_page=50&page=2"
    )
    assert [a["message"] for a in page.body] == [f"m{i}" for i in range(51, 61)]
    for ref in ("feature", HEAD_SHA):
        listed = await gh.call("GET", f"/repos/{REPO}/commits/{ref}/check-runs?check_name=ladder")
        assert listed.body["total_count"] == 1
        assert listed.body["check_runs"][0]["id"] == run_id
    assert (await gh.call("POST", f"/repos/{REPO}/check-runs/{run_id}/rerequest")).status == 201
    assert (await gh.call("GET", f"/repos/{REPO}/check-runs/424242")).status == 404
    assert gh.sim.invalid_requests == []


# ------------------------------------------------------------------ faults, latency, limits


async def test_fault_503_once_then_ok(gh: Client) -> None:
    gh.sim.inject(method="GET", path=r"/pulls/3$", status=503)
    first = await gh.call("GET", f"/repos/{REPO}/pulls/3")
    second = await gh.call("GET", f"/repos/{REPO}/pulls/3")
    assert (first.status, second.status) == (503, 200)
    assert first.body["message"] == "Service Unavailable"
    assert [r.status for r in gh.sim.requests[-2:]] == [503, 200]
    assert gh.sim.requests[-2].operation_id == "pulls/get"


async def test_fault_403_with_retry_after(gh: Client) -> None:
    body = {"message": "You have exceeded a secondary rate limit."}
    gh.sim.inject(
        method="POST",
        path=r"/reviews$",
        status=403,
        headers={"Retry-After": "1"},
        body=body,
        times=2,
    )
    review = {"event": "COMMENT", "body": "x"}
    answers = [await gh.call("POST", f"/repos/{REPO}/pulls/3/reviews", review) for _ in range(3)]
    assert [a.status for a in answers] == [403, 403, 200]
    assert answers[0].headers["Retry-After"] == "1"
    assert answers[0].body == body
    assert int(answers[0].headers["x-ratelimit-remaining"]) > 0
    assert len(gh.sim.reviews) == 1


async def test_fault_hang_times_out_and_stop_is_prompt(gh: Client) -> None:
    gh.sim.inject(method="*", path=r"/files", hang=True)
    with pytest.raises(asyncio.TimeoutError):
        await gh.call("GET", f"/repos/{REPO}/pulls/3/files", timeout=0.3)
    assert gh.sim.requests[-1].status == 0
    assert (await gh.call("GET", f"/repos/{REPO}/pulls/3/files")).status == 200
    started = time.perf_counter()
    await gh.sim.stop()
    assert time.perf_counter() - started < 1.0
    await gh.sim.start()  # the fixture's teardown stops it again


async def test_delay_fault_and_latency(gh: Client) -> None:
    gh.sim.inject(method="GET", path=r"/pulls/3$", delay=0.3)
    started = time.perf_counter()
    assert (await gh.call("GET", f"/repos/{REPO}/pulls/3")).status == 200
    assert time.perf_counter() - started >= 0.3
    gh.sim.latency = 0.2
    started = time.perf_counter()
    assert (await gh.call("GET", f"/repos/{REPO}/pulls/3")).status == 200
    assert time.perf_counter() - started >= 0.2


async def test_rate_limit_headers_count_down_and_run_out(gh: Client) -> None:
    first = await gh.call("GET", f"/repos/{REPO}/pulls/3")
    second = await gh.call("GET", f"/repos/{REPO}/pulls/3")
    assert first.headers["x-ratelimit-limit"] == "5000"
    assert first.headers["x-ratelimit-resource"] == "core"
    remaining = int(first.headers["x-ratelimit-remaining"])
    assert int(second.headers["x-ratelimit-remaining"]) == remaining - 1
    assert int(second.headers["x-ratelimit-used"]) == 5000 - remaining + 1
    assert int(first.headers["x-ratelimit-reset"]) > time.time()
    gh.sim.set_rate_limit(INSTALLATION, 0, reset_in=30)
    limited = await gh.call("GET", f"/repos/{REPO}/pulls/3")
    assert limited.status == 403
    assert limited.headers["x-ratelimit-remaining"] == "0"
    assert limited.body["message"].startswith("API rate limit exceeded")


async def test_etag_gives_304(gh: Client) -> None:
    first = await gh.call("GET", f"/repos/{REPO}/pulls/3")
    again = await gh.call(
        "GET", f"/repos/{REPO}/pulls/3", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert again.status == 304
    assert again.headers["x-ratelimit-remaining"] == first.headers["x-ratelimit-remaining"]


# ------------------------------------------------------------------ contents, comments, misc


async def test_contents_base64_raw_large_missing(sim: Simulator, gh: Client) -> None:
    big = b"x" * (1024 * 1024 + 1)
    sim.push(REPO, 3, head={**HEAD_TREE, "huge.txt": big}, head_sha="c" * 40)
    for ref in (HEAD_SHA, "c" * 40, "feature"):
        answer = await gh.call("GET", f"/repos/{REPO}/contents/lib/a.ex?ref={ref}")
        assert answer.body["encoding"] == "base64"
        assert base64.b64decode(answer.body["content"]) == HEAD_TREE["lib/a.ex"]
        assert answer.body["type"] == "file"
        assert answer.body["size"] == len(HEAD_TREE["lib/a.ex"])
    base = await gh.call("GET", f"/repos/{REPO}/contents/old.ex?ref=main")
    assert base64.b64decode(base.body["content"]) == b"gone\n"
    large = await gh.call("GET", f"/repos/{REPO}/contents/huge.txt?ref=feature")
    assert (large.body["encoding"], large.body["content"]) == ("none", "")
    raw = await gh.call(
        "GET",
        f"/repos/{REPO}/contents/huge.txt?ref=feature",
        headers={"Accept": "application/vnd.github.raw"},
    )
    assert raw.body == big
    assert (await gh.call("GET", f"/repos/{REPO}/contents/nope.ex?ref=feature")).status == 404
    assert (await gh.call("GET", f"/repos/{REPO}/contents/lib/a.ex?ref=nobranch")).status == 404
    listing = await gh.call("GET", f"/repos/{REPO}/contents/lib?ref={HEAD_SHA}")
    assert [(e["path"], e["type"]) for e in listing.body] == [("lib/a.ex", "file")]


async def test_issue_comments_and_reactions(sim: Simulator, gh: Client) -> None:
    human = sim.add_issue_comment(REPO, 3, "/ladder recheck", author="alice")
    url = f"/repos/{REPO}/issues/comments/{human['id']}/reactions"
    assert (await gh.call("POST", url, {"content": "eyes"})).status == 201
    again = await gh.call("POST", url, {"content": "eyes"})
    assert again.status == 200
    assert len(sim.reactions) == 1
    assert sim.reactions[0]["comment_id"] == human["id"]
    assert sim.reactions[0]["user"]["login"] == BOT_LOGIN
    assert (await gh.call("POST", url, {"content": "thumbs"})).status == 422
    created = await gh.call("POST", f"/repos/{REPO}/issues/3/comments", {"body": "summary"})
    assert created.status == 201
    assert created.body["user"]["login"] == BOT_LOGIN
    assert created.body["performed_via_github_app"]["slug"] == "ladder"
    edited = await gh.call(
        "PATCH", f"/repos/{REPO}/issues/comments/{created.body['id']}", {"body": "v2"}
    )
    assert edited.body["body"] == "v2"
    too_long = await gh.call("POST", f"/repos/{REPO}/issues/3/comments", {"body": "x" * 65537})
    assert too_long.status == 422
    assert (
        too_long.body["errors"][0]["message"] == "Body is too long (maximum is 65536 characters)"
    )
    listed = await gh.call("GET", f"/repos/{REPO}/issues/3/comments")
    assert [c["body"] for c in listed.body] == ["/ladder recheck", "v2"]
    assert listed.body[0]["reactions"]["eyes"] == 1
    assert (
        await gh.call("POST", f"/repos/{REPO}/issues/77/comments", {"body": "x"})
    ).status == 404


@pytest.mark.parametrize(
    ("role", "permission"),
    [
        ("admin", "admin"),
        ("maintain", "write"),
        ("write", "write"),
        ("triage", "read"),
        ("read", "read"),
        (None, "none"),
    ],
)
async def test_permission_levels(
    sim: Simulator, gh: Client, role: str | None, permission: str
) -> None:
    if role is not None:
        sim.set_permission(REPO, "bob", role)
    answer = await gh.call("GET", f"/repos/{REPO}/collaborators/bob/permission")
    assert answer.status == 200
    assert answer.body["permission"] == permission
    assert answer.body["role_name"] == (role or "none")
    assert answer.body["user"]["login"] == "bob"


async def test_push_moves_or_outdates_review_comments(sim: Simulator, gh: Client) -> None:
    await gh.call(
        "POST",
        f"/repos/{REPO}/pulls/3/reviews",
        {
            "event": "COMMENT",
            "body": "x",
            "comments": [
                {"path": "lib/a.ex", "line": 5, "body": "kept"},
                {"path": "lib/a.ex", "line": 31, "body": "goes"},
            ],
        },
    )
    new_head = {**HEAD_TREE, "lib/a.ex": numbered(40, {5: "line five"})}
    sim.push(REPO, 3, head=new_head, head_sha="c" * 40)
    kept, gone = sim.review_comments
    assert (kept["line"], kept["commit_id"]) == (5, "c" * 40)
    assert (gone["line"], gone["original_line"], gone["commit_id"]) == (None, 31, HEAD_SHA)
    files = await gh.call("GET", f"/repos/{REPO}/pulls/3/files")
    patch = next(f["patch"] for f in files.body if f["filename"] == "lib/a.ex")
    assert "+extra" not in patch
    pull = await gh.call("GET", f"/repos/{REPO}/pulls/3")
    assert pull.body["head"]["sha"] == "c" * 40
    assert pull.body["commits"] == 2
    old = await gh.call("GET", f"/repos/{REPO}/contents/lib/a.ex?ref={HEAD_SHA}")
    assert base64.b64decode(old.body["content"]) == HEAD_TREE["lib/a.ex"]


async def test_fork_pull_has_no_check_run_pull_requests(sim: Simulator, gh: Client) -> None:
    sim.add_pull(
        REPO,
        4,
        base={},
        head={"x.ex": b"x\n"},
        head_sha="f" * 40,
        base_sha="e" * 40,
        head_repo="forker/widgets",
        head_ref="patch-1",
    )
    pull = await gh.call("GET", f"/repos/{REPO}/pulls/4")
    assert pull.body["head"]["repo"]["full_name"] == "forker/widgets"
    assert pull.body["head"]["label"] == "forker:patch-1"
    run = await gh.call("POST", f"/repos/{REPO}/check-runs", {"name": "l", "head_sha": "f" * 40})
    assert run.body["pull_requests"] == []
    content = await gh.call("GET", f"/repos/{REPO}/contents/x.ex?ref={'f' * 40}")
    assert content.status == 200


async def test_unknown_routes_and_bad_path_params(gh: Client) -> None:
    assert (await gh.call("GET", f"/repos/{REPO}/nothing-here")).status == 404
    assert (await gh.call("DELETE", f"/repos/{REPO}/pulls/3")).status == 404
    assert (await gh.call("GET", f"/repos/{REPO}/pulls/abc")).status == 404
    assert (await gh.call("GET", f"/repos/{REPO}/pulls/99")).status == 404
    assert gh.sim.invalid_requests == [
        f"GET /repos/{REPO}/pulls/abc (pulls/get): path parameter pull_number='abc' is not an "
        "integer"
    ]


async def test_invalid_json_is_400_and_recorded(gh: Client) -> None:
    async with gh.session.post(
        f"{gh.sim.base_url}/repos/{REPO}/issues/3/comments",
        data=b"{not json",
        headers={"Authorization": f"token {gh.token}", "Content-Type": "application/json"},
    ) as resp:
        assert resp.status == 400
        assert (await resp.json())["message"] == "Problems parsing JSON"
    assert len(gh.sim.invalid_requests) == 1


async def test_every_operation_answers_in_the_documented_shape(
    sim: Simulator, gh: Client
) -> None:
    """All 21 operations, valid requests: no request is flagged and every 2xx body validates
    against the response schema of the description (checked in the fixture teardown)."""
    sim.set_permission(REPO, "alice", "write")
    human = sim.add_issue_comment(REPO, 3, "hello", author="alice")
    jwt_auth = f"Bearer {app_jwt(sim._clock())}"
    await gh.call("GET", f"/repos/{REPO}/installation", auth=jwt_auth)
    run = await gh.call("POST", f"/repos/{REPO}/check-runs", {"name": "l", "head_sha": HEAD_SHA})
    run_id = run.body["id"]
    note = {
        "path": "lib/a.ex",
        "start_line": 5,
        "end_line": 5,
        "start_column": 1,
        "end_column": 3,
        "annotation_level": "failure",
        "message": "m",
        "title": "t",
        "raw_details": "d",
    }
    await gh.call(
        "PATCH",
        f"/repos/{REPO}/check-runs/{run_id}",
        {
            "status": "completed",
            "conclusion": "success",
            "completed_at": "2026-01-01T00:00:00Z",
            "output": {"title": "t", "summary": "s", "text": "x", "annotations": [note]},
        },
    )
    await gh.call("GET", f"/repos/{REPO}/check-runs/{run_id}")
    await gh.call("GET", f"/repos/{REPO}/check-runs/{run_id}/annotations")
    await gh.call("POST", f"/repos/{REPO}/check-runs/{run_id}/rerequest")
    await gh.call(
        "GET", f"/repos/{REPO}/commits/{HEAD_SHA}/check-runs?filter=all&status=completed"
    )
    await gh.call("GET", f"/repos/{REPO}/pulls/3")
    await gh.call("GET", f"/repos/{REPO}/pulls/3/files")
    await gh.call(
        "POST",
        f"/repos/{REPO}/pulls/3/reviews",
        {
            "event": "COMMENT",
            "body": "b",
            "comments": [{"path": "new.ex", "line": 2, "body": "c"}],
        },
    )
    await gh.call("GET", f"/repos/{REPO}/pulls/3/reviews")
    await gh.call(
        "POST",
        f"/repos/{REPO}/pulls/3/comments",
        {
            "body": "c",
            "commit_id": HEAD_SHA,
            "path": "lib/a.ex",
            "line": 31,
            "start_line": 29,
            "side": "RIGHT",
            "start_side": "RIGHT",
        },
    )
    await gh.call(
        "GET",
        f"/repos/{REPO}/pulls/3/comments?sort=created&direction=desc&since=2000-01-01T00:00:00Z",
    )
    comment = await gh.call("POST", f"/repos/{REPO}/issues/3/comments", {"body": "s"})
    await gh.call("PATCH", f"/repos/{REPO}/issues/comments/{comment.body['id']}", {"body": "t"})
    await gh.call("GET", f"/repos/{REPO}/issues/3/comments?since=2000-01-01T00:00:00Z")
    await gh.call(
        "POST", f"/repos/{REPO}/issues/comments/{human['id']}/reactions", {"content": "+1"}
    )
    await gh.call("GET", f"/repos/{REPO}/contents/new.ex?ref=feature")
    await gh.call("GET", f"/repos/{REPO}/collaborators/alice/permission")
    compare = await gh.call("GET", f"/repos/{REPO}/compare/main...feature")
    assert compare.body["status"] == "ahead"
    assert compare.body["ahead_by"] == 1
    assert {f["filename"] for f in compare.body["files"]} == {
        "lib/a.ex",
        "new.ex",
        "old.ex",
        "big.bin",
    }
    statuses = {r.operation_id: r.status for r in sim.requests}
    assert len(statuses) == 21
    assert all(200 <= status < 300 for status in statuses.values()), statuses
    assert sim.invalid_requests == []
