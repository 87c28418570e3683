"""The only module that knows GitHub REST URLs: a small typed client for what a review needs.

Every call goes through one retry loop that encodes GitHub's published etiquette:

* 5xx answers, timeouts and connection errors are retried with exponential backoff, up to
  `max_attempts` tries in all;
* 403/429 rate limits wait for `Retry-After`, or until `x-ratelimit-reset` when
  `x-ratelimit-remaining` is 0, or a minute for a secondary limit without headers — but never
  longer than `max_wait`: a review that would have to sleep for half an hour fails fast with
  `RateLimited` instead of holding a worker. The wait is recorded on the installation, so every
  other call of that installation waits (or fails fast) too instead of hammering GitHub, which
  "may result in the banning of your integration";
* a 401 means the cached installation token died (revoked, expired early): drop it, fetch a new
  one and retry once;
* any other 4xx is a bug or a permission problem that a retry cannot fix: `GitHubError` at once,
  keeping GitHub's `errors` list (a 422 on a review says which comment was outside the diff).

Writes (POST/PATCH/PUT/DELETE) of one installation are serialised and paced by a token bucket
(burst 10, 80 per minute) because GitHub's secondary limit allows about 80 content-creating
requests per minute; a normal review (≈5 writes) never waits. Reads are bounded by a semaphore
(GitHub allows at most 100 concurrent requests per App, across all installations).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import email.utils
import inspect
import logging
import time
import urllib.parse
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import aiohttp
import gidgethub
import gidgethub.aiohttp

from bot.auth import USER_AGENT, TokenCache
from bot.metrics import Metrics

log = logging.getLogger("ladder.github")

API_VERSION = "2022-11-28"
MAX_PULL_FILES = 3000  # GitHub's own cap on `GET /pulls/{n}/files`
MAX_LIST_ITEMS = 10_000  # guard for other listings (a runaway Link chain must end)
PER_PAGE = 100
SECONDARY_LIMIT_WAIT = 60.0  # "wait for at least one minute before retrying"
WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]


class GitHubError(Exception):
    """A GitHub call that failed for good. `status` is None for transport failures (timeout,
    connection refused); `errors` is GitHub's `errors` list for a 422."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        errors: list[Any] | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        self.message = message
        self.status = status
        self.errors: list[Any] = list(errors or [])
        self.method = method
        self.path = path
        super().__init__(message)

    def __str__(self) -> str:
        where = f"{self.method} {self.path}: " if self.method and self.path else ""
        status = f"{self.status} " if self.status is not None else ""
        return f"{where}{status}{self.message}"


class Unanswered(GitHubError):
    """A request that creates content timed out, lost its connection or got a 5xx: GitHub may
    have carried it out, so it is not sent again blindly (a retried review would post every
    comment twice). The caller looks before it tries again."""


class RateLimited(GitHubError):
    """GitHub asked us to wait `wait` seconds, longer than the client may wait."""

    def __init__(self, message: str, *, wait: float, **kwargs: Any) -> None:
        self.wait = wait
        super().__init__(message, **kwargs)


class AuthError(GitHubError):
    """The installation token could not be obtained (App not installed, suspended, wrong key),
    or GitHub kept rejecting a freshly minted one."""


class FileTooLarge(GitHubError):
    """The contents API does not return this file's content (over 1 MB)."""


class NotAFile(GitHubError):
    """The path is a directory, symlink or submodule, not a regular file."""


@dataclass
class CallStats:
    """What one `GitHub` object (one review) did; logged with the review."""

    calls: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    rate_limit_remaining: int | None = None
    retries: int = 0
    waited: float = 0.0  # seconds slept for backoff, rate limits and write pacing


class TokenBucket:
    """`capacity` requests at once, refilled at `rate` per `per` seconds. `acquire` sleeps
    until a token is available and returns how long it waited.

    A sleep is credited as elapsed time even if the clock did not move (an injected test sleep
    that only records), so a fake sleep can never spin the loop forever.
    """

    def __init__(
        self,
        capacity: float,
        rate: float,
        per: float = 60.0,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if capacity < 1 or rate <= 0 or per <= 0:
            raise ValueError("a token bucket needs capacity >= 1 and a positive rate")
        self.capacity = float(capacity)
        self.per_second = rate / per
        self._clock = clock
        self._sleep = sleep
        self._tokens = self.capacity
        self._stamp = clock()

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self._stamp)
        self._tokens = min(self.capacity, self._tokens + elapsed * self.per_second)
        self._stamp = max(self._stamp, now)

    @property
    def available(self) -> float:
        self._refill(self._clock())
        return self._tokens

    async def acquire(self) -> float:
        waited = 0.0
        self._refill(self._clock())
        while self._tokens < 1.0:
            wait = (1.0 - self._tokens) / self.per_second
            await self._sleep(wait)
            waited += wait
            self._refill(max(self._clock(), self._stamp + wait))
        self._tokens -= 1.0
        return waited


class InstallationLimits:
    """Shared by every review of one installation: the write lock and bucket, the read
    semaphore, and the time until which GitHub told us to stay quiet."""

    def __init__(
        self,
        *,
        write_burst: float = 10,
        write_rate: float = 80,
        write_period: float = 60.0,
        read_concurrency: int = 8,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.write_lock = asyncio.Lock()
        self.bucket = TokenBucket(write_burst, write_rate, write_period, clock=clock, sleep=sleep)
        self.reads = asyncio.Semaphore(read_concurrency)
        self._clock = clock
        self._resume_at = 0.0

    @contextlib.asynccontextmanager
    async def writing(self) -> AsyncIterator[float]:
        """Hold the installation's write slot; yields the seconds spent waiting for pacing."""
        async with self.write_lock:
            yield await self.bucket.acquire()

    @contextlib.asynccontextmanager
    async def reading(self) -> AsyncIterator[float]:
        async with self.reads:
            yield 0.0

    def pause(self, seconds: float) -> None:
        """No request of this installation before `seconds` from now (a rate limit)."""
        self._resume_at = max(self._resume_at, self._clock() + seconds)

    def paused_for(self) -> float:
        return max(0.0, self._resume_at - self._clock())


class Limits:
    """The registry of per-installation limits; one owned by the app, shared by all reviews.
    Takes the keyword arguments of `InstallationLimits` (checked here, so a typo fails at
    start rather than at the first review)."""

    def __init__(self, **settings: Any) -> None:
        inspect.signature(InstallationLimits).bind(**settings)
        self._settings = settings
        self._by_installation: dict[int, InstallationLimits] = {}

    def for_installation(self, installation_id: int) -> InstallationLimits:
        limits = self._by_installation.get(installation_id)
        if limits is None:
            limits = self._by_installation[installation_id] = InstallationLimits(**self._settings)
        return limits

    def forget(self, installation_id: int) -> None:
        """Drop an uninstalled installation's state."""
        self._by_installation.pop(installation_id, None)


class _API(gidgethub.aiohttp.GitHubAPI):
    """gidgethub over the app's session, remembering the last response's status and headers:
    the retry loop needs them for 401/403/429 decisions and pagination needs the Link header.
    One instance per attempt, so concurrent reads never see each other's headers."""

    status: int | None = None
    headers: Mapping[str, str] = {}

    async def _request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes = b""
    ) -> tuple[int, Mapping[str, str], bytes]:
        status, response_headers, data = await super()._request(method, url, headers, body)
        self.status, self.headers = status, response_headers
        return status, response_headers, data


class _NoBody:
    """Marker: a request without a body (gidgethub's `data=b""`)."""


_NO_BODY: Final = _NoBody()


@dataclass
class _Response:
    data: Any
    headers: Mapping[str, str]
    missing: bool = False  # a 404 the caller said it expects


@dataclass
class _Retry:
    reason: str
    wait: float
    status: str


def _retry_after(value: str) -> float | None:
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def rate_limit_wait(status: int, headers: Mapping[str, str], message: str) -> float | None:
    """How long GitHub wants us to wait after this 403/429, or None if it is not a rate limit
    (a 403 can equally mean "Resource not accessible by integration")."""
    if status not in (403, 429):
        return None
    retry_after = headers.get("retry-after")
    if retry_after is not None:
        wait = _retry_after(retry_after)
        if wait is not None:
            return wait
    if headers.get("x-ratelimit-remaining") == "0":
        try:
            reset = float(headers["x-ratelimit-reset"])
        except (KeyError, ValueError):
            return SECONDARY_LIMIT_WAIT
        return max(0.0, reset - time.time()) + 1.0  # reset is whole seconds; land after it
    if status == 429 or "rate limit" in message.lower() or "abuse" in message.lower():
        return SECONDARY_LIMIT_WAIT
    return None


def _remaining(headers: Mapping[str, str]) -> int | None:
    try:
        return int(headers["x-ratelimit-remaining"])
    except (KeyError, ValueError):
        return None


class GitHub:
    """One review's view of GitHub for one installation. Cheap to create; shares the app's
    ClientSession, token cache and limits."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        base_url: str,
        installation_id: int,
        tokens: TokenCache,
        limits: Limits,
        metrics: Metrics | None = None,
        max_attempts: int = 4,
        max_wait: float = 60.0,
        backoff: float = 0.5,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._session = session
        self.base_url = base_url.rstrip("/")
        self.installation_id = installation_id
        self.tokens = tokens
        self.limits = limits.for_installation(installation_id)
        self.metrics = metrics
        self.max_attempts = max(1, max_attempts)
        self.max_wait = max_wait
        self.backoff = backoff
        self._sleep = sleep
        self.stats = CallStats()

    def __repr__(self) -> str:
        return f"GitHub(base_url={self.base_url!r}, installation_id={self.installation_id})"

    # -- the REST operations a review uses ---------------------------------------------------

    async def get_pull(self, owner: str, repo: str, number: int) -> dict[str, Any]:
        response = await self._call(
            "GET",
            "/repos/{owner}/{repo}/pulls/{pull_number}",
            {"owner": owner, "repo": repo, "pull_number": number},
        )
        return _object(response.data, "pull request")

    async def list_pull_files(self, owner: str, repo: str, number: int) -> list[dict[str, Any]]:
        """Every changed file (all pages), at most GitHub's 3000."""
        return await self._list(
            "/repos/{owner}/{repo}/pulls/{pull_number}/files{?per_page}",
            {"owner": owner, "repo": repo, "pull_number": number},
            limit=MAX_PULL_FILES,
        )

    async def get_file(self, owner: str, repo: str, path: str, ref: str) -> bytes | None:
        """The file's bytes at `ref`, None if it does not exist there.

        Uses the default JSON media type (base64 `content`) rather than `raw`, because raw
        bodies come back from gidgethub as decoded text and a non-UTF-8 file would not survive.
        """
        response = await self._contents(owner, repo, path, ref)
        if response.missing:
            return None
        where = f"contents/{path}@{ref}"
        data = response.data
        if isinstance(data, list):
            raise NotAFile(f"{path} is a directory", method="GET", path=where)
        data = _object(data, "file contents")
        if data.get("type", "file") != "file":
            raise NotAFile(
                f"{path} is a {data.get('type')}, not a file", method="GET", path=where
            )
        encoding = data.get("encoding")
        if encoding == "none":
            size = data.get("size")
            raise FileTooLarge(
                f"{path} is too large for the contents API ({size} bytes; limit 1 MB)",
                method="GET",
                path=where,
            )
        if encoding != "base64":
            raise GitHubError(
                f"{path}: unexpected content encoding {encoding!r}", method="GET", path=where
            )
        try:
            return base64.b64decode(str(data.get("content", "")), validate=False)
        except (binascii.Error, ValueError) as exc:
            raise GitHubError(
                f"{path}: undecodable base64 content ({exc})", method="GET", path=where
            ) from exc

    async def _contents(self, owner: str, repo: str, path: str, ref: str) -> _Response:
        """GET contents of a file or a directory at `ref` (404 is `missing`, not an error)."""
        return await self._call(
            "GET",
            "/repos/{owner}/{repo}/contents/{+path}{?ref}",
            {
                "owner": owner,
                "repo": repo,
                "path": urllib.parse.quote(path.strip("/"), safe="/"),
                "ref": ref,
            },
            missing_ok=True,
        )

    async def list_directory(
        self, owner: str, repo: str, path: str, ref: str
    ) -> list[dict[str, Any]] | None:
        """The entries of a directory at `ref` (GitHub lists up to 1,000), None if there is no
        such directory. One call answers "which of these test files exist?" for a whole
        directory, where asking for each file costs a call per guess."""
        response = await self._contents(owner, repo, path, ref)
        if response.missing or not isinstance(response.data, list):
            return None
        return [entry for entry in response.data if isinstance(entry, dict)]

    async def create_check_run(
        self, owner: str, repo: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        response = await self._call(
            "POST",
            "/repos/{owner}/{repo}/check-runs",
            {"owner": owner, "repo": repo},
            data=body,
            creates="a check run",
        )
        return _object(response.data, "check run")

    async def list_check_runs(
        self, owner: str, repo: str, ref: str, name: str
    ) -> list[dict[str, Any]]:
        """The latest check runs named `name` on `ref` (one page: a commit has few)."""
        response = await self._call(
            "GET",
            "/repos/{owner}/{repo}/commits/{ref}/check-runs{?check_name,filter,per_page}",
            {
                "owner": owner,
                "repo": repo,
                "ref": ref,
                "check_name": name,
                "filter": "latest",
                "per_page": PER_PAGE,
            },
        )
        data = _object(response.data, "check runs")
        runs = data.get("check_runs")
        return [r for r in runs if isinstance(r, dict)] if isinstance(runs, list) else []

    async def update_check_run(
        self,
        owner: str,
        repo: str,
        check_run_id: int,
        body: dict[str, Any],
        *,
        final: bool = False,
    ) -> dict[str, Any]:
        """`final`: the last word of a review that failed. It is sent once even while the
        installation is paused for longer than `max_wait` (a rate limit hit by this very
        review), because failing fast there would leave the Check Run in progress for good."""
        response = await self._call(
            "PATCH",
            "/repos/{owner}/{repo}/check-runs/{check_run_id}",
            {"owner": owner, "repo": repo, "check_run_id": check_run_id},
            data=body,
            final=final,
        )
        return _object(response.data, "check run")

    async def list_review_comments(
        self, owner: str, repo: str, number: int
    ) -> list[dict[str, Any]]:
        return await self._list(
            "/repos/{owner}/{repo}/pulls/{pull_number}/comments{?per_page}",
            {"owner": owner, "repo": repo, "pull_number": number},
            limit=MAX_LIST_ITEMS,
        )

    async def create_review(
        self, owner: str, repo: str, number: int, body: dict[str, Any]
    ) -> dict[str, Any]:
        response = await self._call(
            "POST",
            "/repos/{owner}/{repo}/pulls/{pull_number}/reviews",
            {"owner": owner, "repo": repo, "pull_number": number},
            data=body,
            creates="a review",
        )
        return _object(response.data, "review")

    async def create_issue_comment(
        self, owner: str, repo: str, number: int, body: str
    ) -> dict[str, Any]:
        response = await self._call(
            "POST",
            "/repos/{owner}/{repo}/issues/{issue_number}/comments",
            {"owner": owner, "repo": repo, "issue_number": number},
            data={"body": body},
            creates="a comment",
        )
        return _object(response.data, "issue comment")

    async def add_reaction(self, owner: str, repo: str, comment_id: int, content: str) -> None:
        await self._call(
            "POST",
            "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions",
            {"owner": owner, "repo": repo, "comment_id": comment_id},
            data={"content": content},
        )

    async def permission(self, owner: str, repo: str, username: str) -> str:
        """admin | write | read | none. A 404 (not a collaborator, or no such user) is "none";
        the legacy field already folds maintain into write and triage into read, and we map
        them again in case GitHub ever returns the role names there."""
        response = await self._call(
            "GET",
            "/repos/{owner}/{repo}/collaborators/{username}/permission",
            {"owner": owner, "repo": repo, "username": username},
            missing_ok=True,
        )
        if response.missing:
            return "none"
        value = _object(response.data, "permission").get("permission")
        mapped = {"maintain": "write", "triage": "read"}.get(str(value), str(value))
        return mapped if mapped in ("admin", "write", "read") else "none"

    # -- plumbing ---------------------------------------------------------------------------

    async def _list(
        self, template: str, url_vars: dict[str, Any], *, limit: int
    ) -> list[dict[str, Any]]:
        """Follow `Link: rel="next"` until the end or `limit` items. Each page is its own call
        with its own retries, so a 502 on page 7 does not restart the listing."""
        items: list[dict[str, Any]] = []
        url: str | None = template
        variables: dict[str, Any] = {**url_vars, "per_page": PER_PAGE}
        seen: set[str] = set()
        while url is not None and len(items) < limit:
            response = await self._call("GET", url, variables, log_path=template)
            page = response.data
            if not isinstance(page, list):
                raise GitHubError(
                    "expected a JSON array", method="GET", path=template, status=None
                )
            items.extend(item for item in page if isinstance(item, dict))
            url = self._next_page(response.headers.get("link"), template)
            if url is not None:
                if url in seen:
                    break
                seen.add(url)
                variables = {}
        return items[:limit]

    def _next_page(self, link: str | None, template: str) -> str | None:
        if not link:
            return None
        for part in link.split(","):
            section = part.split(";")
            if len(section) < 2:
                continue
            target = section[0].strip()
            params = {p.strip() for p in section[1:]}
            if 'rel="next"' in params and target.startswith("<") and target.endswith(">"):
                url = target[1:-1]
                # Never send the installation token to another host than the API's.
                if not url.startswith(self.base_url + "/"):
                    raise GitHubError(
                        f"pagination link leaves {self.base_url}", method="GET", path=template
                    )
                return url
        return None

    async def _call(
        self,
        method: str,
        template: str,
        url_vars: Mapping[str, Any],
        *,
        data: Any = _NO_BODY,
        missing_ok: bool = False,
        log_path: str | None = None,
        final: bool = False,
        creates: str | None = None,
    ) -> _Response:
        """One logical call with GitHub's retry etiquette (see the module docstring). A `final`
        call makes its first attempt even during a pause longer than `max_wait`. A call that
        `creates` content (named for the message) is not retried after a timeout."""
        path = log_path or template
        attempt = 0
        token_refreshed = False
        while True:
            attempt += 1
            await self._respect_pause(method, path, try_once=final and attempt == 1)
            token: str | None = None
            try:
                token = await self._token()
                return await self._attempt(method, template, url_vars, token, data, missing_ok)
            except _Unauthorized as exc:
                if token_refreshed or token is None:
                    raise AuthError(
                        "GitHub rejected a freshly issued installation token",
                        status=401,
                        method=method,
                        path=path,
                    ) from exc
                token_refreshed = True
                # Evict only the token that failed: a concurrent call may already have put a
                # fresh one in the cache, and the next `token()` will use (or fetch) it.
                self.tokens.drop(self.installation_id, if_token=token)
                self._note_retry(method, path, _Retry("unauthorized", 0.0, "401"), attempt)
                attempt -= 1  # a revoked token is not a failed attempt of this call
            except _Transient as exc:
                retry = exc.retry
                if creates is not None and retry.reason != "rate_limit":
                    # GitHub sometimes carries out a POST and still answers 5xx or drops the
                    # connection; only the caller can look and see whether it exists.
                    raise Unanswered(
                        f"creating {creates} failed without a clear answer ({exc.detail}); "
                        "it may exist, so it is not sent again blindly",
                        status=exc.status,
                        method=method,
                        path=path,
                    ) from exc
                if retry.reason != "rate_limit":
                    retry.wait = self.backoff * 2 ** (attempt - 1)
                elif retry.wait > self.max_wait:
                    self.limits.pause(retry.wait)
                    raise RateLimited(
                        f"rate limited for {retry.wait:.0f} s (max wait {self.max_wait:.0f} s)"
                        f": {exc.detail}",
                        wait=retry.wait,
                        status=exc.status,
                        method=method,
                        path=path,
                    ) from exc
                if attempt >= self.max_attempts:
                    message = f"gave up after {attempt} attempts: {exc.detail}"
                    if retry.reason == "rate_limit":
                        raise RateLimited(
                            message, wait=retry.wait, status=exc.status, method=method, path=path
                        ) from exc
                    raise GitHubError(
                        message, status=exc.status, method=method, path=path
                    ) from exc
                self._note_retry(method, path, retry, attempt)
                if retry.reason == "rate_limit":
                    # Everyone in the installation waits; this call serves the pause at the
                    # top of the loop like the others.
                    self.limits.pause(retry.wait)
                else:
                    await self._wait(retry.wait)
            except GitHubError as exc:
                if exc.method is None:
                    exc.method, exc.path = method, path
                raise

    async def _token(self) -> str:
        """The installation token, with failures of the token request itself classified like
        any other call: transient ones are retried, the rest are an AuthError."""
        try:
            return await self.tokens.token(self.installation_id)
        except TimeoutError as exc:
            detail = "token request timed out"
            raise _Transient(_Retry("timeout", 0.0, "timeout"), None, detail) from exc
        except aiohttp.ClientError as exc:
            detail = f"token request failed: {type(exc).__name__}: {exc}"
            raise _Transient(_Retry("connection", 0.0, "error"), None, detail) from exc
        except gidgethub.GitHubBroken as exc:
            code = int(exc.status_code)
            raise _Transient(
                _Retry("server_error", 0.0, str(code)), code, f"token request: {exc}"
            ) from exc
        except gidgethub.HTTPException as exc:
            code = int(exc.status_code)
            wait = rate_limit_wait(code, exc.headers, str(exc))
            if wait is not None:
                raise _Transient(
                    _Retry("rate_limit", wait, str(code)), code, f"token request: {exc}"
                ) from exc
            raise AuthError(f"could not get an installation token: {exc}", status=code) from exc
        except gidgethub.GitHubException as exc:
            raise AuthError(f"could not get an installation token: {exc}") from exc

    async def _respect_pause(self, method: str, path: str, *, try_once: bool = False) -> None:
        wait = self.limits.paused_for()
        if wait <= 0 or try_once:
            # A final call (the completion of a failing or cancelled review) makes its first
            # attempt at once: it is the one write that must not sit out a pause.
            return
        if wait > self.max_wait:
            raise RateLimited(
                f"installation is rate limited for another {wait:.0f} s",
                wait=wait,
                method=method,
                path=path,
            )
        await self._wait(wait)

    async def _wait(self, seconds: float) -> None:
        self.stats.waited += seconds
        await self._sleep(seconds)

    async def _send(
        self,
        gh: _API,
        method: str,
        template: str,
        url_vars: Mapping[str, Any],
        token: str,
        data: Any,
    ) -> Any:
        headers = {"x-github-api-version": API_VERSION}
        if method == "GET":
            return await gh.getitem(template, url_vars, oauth_token=token, extra_headers=headers)
        body = b"" if isinstance(data, _NoBody) else data
        if method == "POST":
            return await gh.post(
                template, url_vars, data=body, oauth_token=token, extra_headers=headers
            )
        if method == "PATCH":
            return await gh.patch(
                template, url_vars, data=body, oauth_token=token, extra_headers=headers
            )
        if method == "PUT":
            return await gh.put(
                template, url_vars, data=body, oauth_token=token, extra_headers=headers
            )
        if method == "DELETE":
            await gh.delete(
                template, url_vars, data=body, oauth_token=token, extra_headers=headers
            )
            return None
        raise ValueError(f"unsupported method {method}")

    async def _attempt(
        self,
        method: str,
        template: str,
        url_vars: Mapping[str, Any],
        token: str,
        data: Any,
        missing_ok: bool,
    ) -> _Response:
        """Exactly one HTTP request, under the installation's read or write gate. Failures
        come out classified: _Transient, _Unauthorized, or a final GitHubError."""
        gh = _API(self._session, USER_AGENT, base_url=self.base_url)
        gate = self.limits.writing() if method in WRITE_METHODS else self.limits.reading()
        status: str | None = None
        try:
            async with gate as paced:
                self.stats.waited += paced
                status = "error"
                try:
                    result = await self._send(gh, method, template, url_vars, token, data)
                finally:
                    if gh.status is not None:
                        status = str(gh.status)
                        if gh.status != 401:  # a 401 reports the anonymous limit, not ours
                            self._note_rate_limit(gh.headers)
            return _Response(result, gh.headers)
        except TimeoutError as exc:
            status = "timeout"
            raise _Transient(_Retry("timeout", 0.0, status), None, "timed out") from exc
        except aiohttp.ClientError as exc:
            detail = f"{type(exc).__name__}: {exc}"
            raise _Transient(_Retry("connection", 0.0, "error"), None, detail) from exc
        except gidgethub.GitHubBroken as exc:
            code = int(exc.status_code)
            raise _Transient(_Retry("server_error", 0.0, str(code)), code, str(exc)) from exc
        except gidgethub.BadRequest as exc:
            code = int(exc.status_code)
            if code == 401:
                raise _Unauthorized() from exc
            if code == 404 and missing_ok:
                return _Response(None, exc.headers, missing=True)
            wait = rate_limit_wait(code, exc.headers, str(exc))
            if wait is not None:
                raise _Transient(_Retry("rate_limit", wait, str(code)), code, str(exc)) from exc
            if isinstance(exc, gidgethub.BadRequestUnknownError):
                errors: Any = [exc.response]
            else:
                errors = getattr(exc, "errors", None)
            raise GitHubError(
                str(exc),
                status=code,
                errors=errors if isinstance(errors, list) else ([errors] if errors else []),
                method=method,
                path=template,
            ) from exc
        except gidgethub.HTTPException as exc:  # a 3xx aiohttp did not follow
            code = int(exc.status_code)
            raise GitHubError(str(exc), status=code, method=method, path=template) from exc
        finally:
            if status is not None:
                self._count(method, status)

    def _count(self, method: str, status: str) -> None:
        self.stats.calls += 1
        self.stats.by_status[status] += 1
        if self.metrics is not None:
            self.metrics.github_calls.inc(method=method, status=status)

    def _note_rate_limit(self, headers: Mapping[str, str]) -> None:
        remaining = _remaining(headers)
        if remaining is None:
            return
        self.stats.rate_limit_remaining = remaining
        if self.metrics is not None:
            self.metrics.rate_limit_remaining.set(remaining)
        if remaining == 0:
            # The primary limit is spent: nobody in this installation should try before reset.
            wait = rate_limit_wait(403, headers, "")
            if wait is not None:
                self.limits.pause(wait)

    def _note_retry(self, method: str, path: str, retry: _Retry, attempt: int) -> None:
        self.stats.retries += 1
        if self.metrics is not None:
            self.metrics.github_retries.inc(reason=retry.reason)
        log.warning(
            "github retry: %s %s status=%s reason=%s wait=%.2fs attempt=%d/%d",
            method,
            path,
            retry.status,
            retry.reason,
            retry.wait,
            attempt,
            self.max_attempts,
        )


class _Unauthorized(Exception):
    """Internal: the request got a 401."""


class _Transient(Exception):
    """Internal: a failure worth retrying, with the wait GitHub or the backoff asks for."""

    def __init__(self, retry: _Retry, status: int | None, detail: str) -> None:
        self.retry = retry
        self.status = status
        self.detail = detail
        super().__init__(detail)


def _object(data: Any, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise GitHubError(f"expected a JSON object for the {what}, got {type(data).__name__}")
    return data
