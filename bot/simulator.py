"""A stateful fake of the GitHub REST API: the one GitHub of the tests, `ladder demo` and bench.

Why a real HTTP server and not mocks: the App talks to GitHub through gidgethub over aiohttp, and
the bugs that matter live in that conversation — pagination via Link headers, retries on 5xx and
rate limits, installation tokens that expire, the 422 GitHub answers when an inline comment is not
inside the diff. Serving on 127.0.0.1 exercises exactly the client code that runs in production.

Why it validates every request against GitHub's own OpenAPI description
(`bot/data/github-rest-subset.json`): a request the real API would reject must fail here too, and
be listed in `invalid_requests` so that every test can assert the App never sent one.

State is seeded with plain Python (`add_installation`, `add_pull`, `push`, `set_permission`) and
inspected through plain lists of GitHub-shaped dicts (`check_runs`, `reviews`, ...). Faults
(status codes, delays, hangs) are injected per method + path regex.

Simplifications, deliberately: one default branch per repository, no rename detection (a moved
file is "removed" + "added"), no git function-context after hunk headers, commits form a simple
chain per pull request. Everything else follows the documented behaviour cited at each handler
(see /work/shared/research/github-platform.md for the sources).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import difflib
import functools
import hashlib
import json
import math
import re
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jwt
from aiohttp import web
from jsonschema import Draft4Validator, FormatChecker  # type: ignore[import-untyped]
from jsonschema.exceptions import best_match  # type: ignore[import-untyped]

JSON = dict[str, Any]

DEFAULT_SPEC_PATH = Path(__file__).parent / "data" / "github-rest-subset.json"
WEB = "https://github.com"
DOCS = "https://docs.github.com/rest"
BOT_LOGIN = "ladder[bot]"
APP_SLUG = "ladder"
APP_HOMEPAGE = "https://github.com/apps/ladder"
PER_PAGE_DEFAULT = 30
PER_PAGE_MAX = 100  # documented "(max 100)"; GitHub silently serves 100 when asked for more
FILES_CAP = 3000  # "Responses include a maximum of 3000 files"
COMPARE_FILES_CAP = 300
CONTENTS_INLINE_MAX = 1024 * 1024  # above 1 MB: content "" and encoding "none"
CHECK_TEXT_MAX = 65535
COMMENT_BODY_MAX = 65536
RATE_LIMIT = 5000
# What a Ladder installation is granted (app.yml); tests may pass narrower permissions.
DEFAULT_PERMISSIONS: dict[str, str] = {
    "checks": "write",
    "contents": "read",
    "issues": "write",
    "metadata": "read",
    "pull_requests": "write",
}
_APP_EVENTS = ["check_run", "check_suite", "issue_comment", "pull_request"]
_JWT_OPERATIONS = frozenset(
    {"apps/create-installation-access-token", "apps/get-repo-installation"}
)
# Any one of the alternatives suffices (issue comments on a PR accept issues or pull_requests).
_NEEDS: dict[str, tuple[tuple[str, str], ...]] = {
    "checks/create": (("checks", "write"),),
    "checks/update": (("checks", "write"),),
    "checks/rerequest-run": (("checks", "write"),),
    "checks/get": (("checks", "read"),),
    "checks/list-annotations": (("checks", "read"),),
    "checks/list-for-ref": (("checks", "read"),),
    "pulls/get": (("pull_requests", "read"),),
    "pulls/list-files": (("pull_requests", "read"),),
    "pulls/list-reviews": (("pull_requests", "read"),),
    "pulls/list-review-comments": (("pull_requests", "read"),),
    "pulls/create-review": (("pull_requests", "write"),),
    "pulls/create-review-comment": (("pull_requests", "write"),),
    "issues/list-comments": (("issues", "read"), ("pull_requests", "read")),
    "issues/create-comment": (("issues", "write"), ("pull_requests", "write")),
    "issues/update-comment": (("issues", "write"), ("pull_requests", "write")),
    "reactions/create-for-issue-comment": (("issues", "write"), ("pull_requests", "write")),
    "repos/get-content": (("contents", "read"),),
    "repos/get-collaborator-permission-level": (("metadata", "read"),),
    "repos/compare-commits": (("contents", "read"),),
}
_LEVEL = {"none": 0, "read": 1, "write": 2, "admin": 3}
# Legacy base permission reported for each role ("maintain" -> write, "triage" -> read).
_ROLE_PERMISSION = {
    "admin": "admin",
    "maintain": "write",
    "write": "write",
    "triage": "read",
    "read": "read",
    "none": "none",
}
_REACTIONS = ("+1", "-1", "laugh", "confused", "heart", "hooray", "eyes", "rocket")
_REVIEW_STATE = {
    "APPROVE": "APPROVED",
    "REQUEST_CHANGES": "CHANGES_REQUESTED",
    "COMMENT": "COMMENTED",
}
# Real error strings GitHub returns for inline comments (github-platform.md §b.3).
_LINE_NOT_IN_DIFF = "Pull request review thread line must be part of the diff"
_HUNK_BLANK = "Pull request review thread diff hunk can't be blank"
_PATH_INVALID = "Pull request review thread path is invalid"
_START_SAME_HUNK = (
    "Pull request review thread start line must be part of the same hunk as the line."
)
_START_PRECEDES = "Pull request review thread start line must precede the end line."
_PLACEHOLDER_BASE = "http://simulator.invalid"


# --------------------------------------------------------------------------------------------
# The OpenAPI description: matching requests to operations and validating them
# --------------------------------------------------------------------------------------------

_SCHEMA_ANNOTATIONS = frozenset(
    {
        "discriminator",
        "example",
        "examples",
        "deprecated",
        "readOnly",
        "writeOnly",
        "xml",
        "externalDocs",
        "description",
        "title",
        "nullable",
    }
)


def openapi_to_json_schema(node: Any) -> Any:
    """Translate an OpenAPI 3.0 Schema Object into a JSON Schema Draft 4 schema.

    OpenAPI 3.0's dialect is Draft 4 (boolean exclusiveMinimum/Maximum included) plus `nullable`;
    jsonschema ignores unknown keywords, so only `nullable: true` needs rewriting (to a "null"
    type, or an anyOf when combinators are involved). Annotations are dropped so compiled
    validators stay small and error messages short.
    """
    if isinstance(node, list):
        return [openapi_to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: JSON = {}
    for key, value in node.items():
        if key in _SCHEMA_ANNOTATIONS or key.startswith("x-"):
            continue
        if key in ("properties", "patternProperties"):
            out[key] = {name: openapi_to_json_schema(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "not", "allOf", "anyOf", "oneOf"):
            out[key] = openapi_to_json_schema(value)
        else:
            out[key] = value
    if node.get("nullable") is True:
        if any(key in out for key in ("allOf", "anyOf", "oneOf", "not")):
            return {"anyOf": [{"type": "null"}, out]}
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    return out


_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})\Z")
_FORMATS = FormatChecker(formats=())


@_FORMATS.checks("date-time", raises=ValueError)  # type: ignore[untyped-decorator]
def _is_date_time(value: object) -> bool:
    """ISO 8601 as GitHub documents it (`YYYY-MM-DDTHH:MM:SSZ`), offsets allowed as in RFC 3339.

    Only `date-time` is checked: it is the one format in request schemas that GitHub enforces;
    `uri`/`int64` would need optional packages and add nothing for this API subset."""
    if not isinstance(value, str):
        return True
    if not _DATE_TIME.match(value):
        return False
    datetime.fromisoformat(value.replace("Z", "+00:00"))  # rejects month 13 and friends
    return True


@dataclass
class Operation:
    """One (method, path template) of the description, with its validators compiled once."""

    method: str
    template: str
    operation_id: str
    pattern: re.Pattern[str]
    path_params: dict[str, JSON]
    query_params: dict[str, JSON]
    body_validator: Any  # Draft4Validator | None
    body_required: bool
    documentation_url: str
    responses: JSON = field(repr=False)
    _response_validators: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def literal_length(self) -> int:
        return len(re.sub(r"\{\w+\}", "", self.template))

    def response_errors(self, status: int, body: Any) -> list[str]:
        """Validate a response body against the documented 2xx schema (compiled lazily: the
        response schemas are most of the 640 KB, and only tests that opt in need them)."""
        key = str(status)
        if key not in self.responses:
            return [f"status {status} is not documented for {self.operation_id}"]
        if key not in self._response_validators:
            content = self.responses[key].get("content", {}).get("application/json")
            schema = openapi_to_json_schema(content["schema"]) if content else None
            self._response_validators[key] = (
                Draft4Validator(schema, format_checker=_FORMATS) if schema else None
            )
        validator = self._response_validators[key]
        if validator is None:
            return []
        return [
            f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {_shorten(e.message)}"
            for e in validator.iter_errors(body)
        ]


class Spec:
    """The operations of the vendored OpenAPI subset, matched most-specific template first."""

    def __init__(self, document: JSON) -> None:
        self.operations: list[Operation] = []
        for template, item in document["paths"].items():
            shared = item.get("parameters", [])
            for method, op in item.items():
                if method == "parameters":
                    continue
                params = [*shared, *op.get("parameters", [])]
                body = op.get("requestBody")
                body_schema = body["content"]["application/json"]["schema"] if body else None
                self.operations.append(
                    Operation(
                        method=method.upper(),
                        template=template,
                        operation_id=op["operationId"],
                        pattern=_template_pattern(template),
                        path_params={p["name"]: p["schema"] for p in params if p["in"] == "path"},
                        query_params={
                            p["name"]: openapi_to_json_schema(p["schema"])
                            for p in params
                            if p["in"] == "query"
                        },
                        body_validator=(
                            Draft4Validator(
                                openapi_to_json_schema(body_schema), format_checker=_FORMATS
                            )
                            if body_schema is not None
                            else None
                        ),
                        body_required=bool(body and body.get("required")),
                        documentation_url=op.get("externalDocs", {}).get("url", DOCS),
                        responses=op["responses"],
                    )
                )
        self.operations.sort(key=lambda o: -o.literal_length)

    def match(self, method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
        for op in self.operations:
            if op.method != method.upper():
                continue
            m = op.pattern.fullmatch(path)
            if m is not None:
                return op, m.groupdict()
        return None

    def operation(self, operation_id: str) -> Operation:
        return next(o for o in self.operations if o.operation_id == operation_id)


def _template_pattern(template: str) -> re.Pattern[str]:
    """`/repos/{owner}/{repo}/contents/{path}` -> a regex; path, ref and basehead may hold '/'."""
    out = []
    for part in re.split(r"(\{\w+\})", template):
        m = re.fullmatch(r"\{(\w+)\}", part)
        if m is None:
            out.append(re.escape(part))
        else:
            name = m.group(1)
            out.append(f"(?P<{name}>{'.+' if name in ('path', 'ref', 'basehead') else '[^/]+'})")
    return re.compile("".join(out))


@functools.lru_cache(maxsize=4)
def load_spec(path: Path = DEFAULT_SPEC_PATH) -> Spec:
    """Parse the description once per process (lazily, never at import time)."""
    return Spec(json.loads(path.read_text(encoding="utf-8")))


def _shorten(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _describe_errors(errors: list[Any]) -> str:
    """One readable line for a failed body, worded like GitHub where we know its wording."""
    for e in errors:
        if e.validator == "maxLength" and isinstance(e.instance, str):
            supplied = len(e.instance)
            return f"Only {e.validator_value} characters are allowed; {supplied} were supplied."
    error = best_match(errors)
    where = "/".join(map(str, error.absolute_path))
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [k for k in error.validator_value if k not in error.instance]
        if missing:
            prefix = f"For '{where}', " if where else ""
            return f'{prefix}"{missing[0]}" wasn\'t supplied.'
    return f"{_shorten(error.message)} (at {where or 'the request body'})"


# --------------------------------------------------------------------------------------------
# Diffs in GitHub's patch format
# --------------------------------------------------------------------------------------------


def _split_lines(text: str) -> list[str]:
    """Split like git (on '\\n' only), keeping the newline so a missing final one shows."""
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def unified_patch(old: str, new: str) -> str:
    """GitHub's `patch`: the hunks of a 3-context-line unified diff, without ---/+++ headers."""
    out: list[str] = []
    diff = difflib.unified_diff(_split_lines(old), _split_lines(new), lineterm="", n=3)
    for i, line in enumerate(diff):
        if i < 2:  # the '---' / '+++' file headers
            continue
        if line.startswith("@@"):
            out.append(line)
        elif line.endswith("\n"):
            out.append(line[:-1])
        else:
            out.extend((line, "\\ No newline at end of file"))
    return "\n".join(out)


def blob_sha(data: bytes) -> str:
    """The git blob id GitHub reports as `sha` for file contents."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class FileDiff:
    """One entry of "list pull request files" before the URL fields are rendered."""

    filename: str
    status: str  # added | removed | modified
    additions: int
    deletions: int
    sha: str
    patch: str | None


def _text(data: bytes) -> str | None:
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def diff_trees(
    base: Mapping[str, bytes], head: Mapping[str, bytes], no_patch: Iterable[str] = ()
) -> list[FileDiff]:
    """Changed files between two trees, in path order as GitHub lists them.

    Binary files and paths in `no_patch` carry no patch (GitHub omits it for binaries and for
    diffs too large to render); unchanged files are not listed."""
    skip = set(no_patch)
    out = []
    for path in sorted(set(base) | set(head)):
        old, new = base.get(path), head.get(path)
        if old == new:
            continue
        status = "added" if old is None else "removed" if new is None else "modified"
        old_text = "" if old is None else _text(old)
        new_text = "" if new is None else _text(new)
        patch = None
        additions = deletions = 0
        if old_text is not None and new_text is not None:
            patch = unified_patch(old_text, new_text)
            for line in patch.split("\n"):
                if line.startswith("+"):
                    additions += 1
                elif line.startswith("-"):
                    deletions += 1
            if not patch or path in skip:
                patch = None
        sha = blob_sha(new if new is not None else old or b"")
        out.append(FileDiff(path, status, additions, deletions, sha, patch))
    return out


@dataclass
class _Row:
    """A line of a patch: its position (lines below the first @@) and old/new line numbers."""

    position: int
    kind: str  # ' ', '+', '-'
    old: int | None
    new: int | None


@dataclass
class _Hunk:
    header_index: int
    rows: list[_Row]


_HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def _hunks(patch: str) -> tuple[list[str], list[_Hunk]]:
    lines = patch.split("\n")
    hunks: list[_Hunk] = []
    old = new = 0
    for index, line in enumerate(lines):
        m = _HUNK_HEADER.match(line)
        if m is not None:
            old, new = int(m.group(1)), int(m.group(3))
            hunks.append(_Hunk(index, []))
        elif hunks and line[:1] in (" ", "+", "-"):
            kind = line[0]
            row = _Row(index, kind, old if kind != "+" else None, new if kind != "-" else None)
            hunks[-1].rows.append(row)
            old += kind != "+"
            new += kind != "-"
    return lines, hunks


def _find_row(hunks: list[_Hunk], line: int, side: str) -> tuple[int, _Row] | None:
    for number, hunk in enumerate(hunks):
        for row in hunk.rows:
            if (row.new if side == "RIGHT" else row.old) == line:
                return number, row
    return None


# --------------------------------------------------------------------------------------------
# Simulator state
# --------------------------------------------------------------------------------------------


@dataclass
class Recorded:
    """One request as the simulator saw it. Credentials in `headers` are redacted."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int = 0  # 0 while unanswered (a hung request stays 0)
    operation_id: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    auth: str = "none"  # none | jwt | token | invalid
    installation_id: int | None = None


@dataclass
class _Fault:
    method: str
    pattern: re.Pattern[str]
    status: int | None
    remaining: int  # < 0: unlimited
    delay: float
    headers: dict[str, str]
    body: Any
    hang: bool
    answer_lost: bool = False


@dataclass
class _Token:
    installation_id: int
    expires_at: float
    repositories: frozenset[str] | None  # lower-case full names; None = the whole installation
    permissions: dict[str, str]


@dataclass
class _Installation:
    id: int
    repos: list[str]
    permissions: dict[str, str]
    created_at: str


@dataclass
class _Commit:
    sha: str
    parent: str | None
    message: str
    date: str
    author: str


@dataclass
class _Pull:
    number: int
    id: int
    title: str
    body: str | None
    author: str
    draft: bool
    state: str
    base_ref: str
    head_ref: str
    base_sha: str
    head_sha: str
    head_repo: str
    no_patch: frozenset[str]
    created_at: str
    updated_at: str
    shas: list[str]  # head commits, oldest first
    diffs: dict[str, list[FileDiff]]  # head sha -> files changed against the base tree


@dataclass
class _Repo:
    full_name: str
    id: int
    created_at: str
    default_branch: str = "main"
    installation_id: int | None = None
    trees: dict[str, dict[str, bytes]] = field(default_factory=dict)  # commit sha -> tree
    refs: dict[str, str] = field(default_factory=dict)  # branch -> commit sha
    commits: dict[str, _Commit] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)  # lower-case login -> role
    pulls: dict[int, _Pull] = field(default_factory=dict)

    @property
    def owner(self) -> str:
        return self.full_name.split("/", 1)[0]

    @property
    def name(self) -> str:
        return self.full_name.split("/", 1)[1]


@dataclass
class _Bucket:
    used: int
    reset: float
    limit: int = RATE_LIMIT


@dataclass
class _Reply:
    status: int
    body: Any = None  # JSON-serialisable; bytes are sent as-is
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json; charset=utf-8"


class _Fail(Exception):
    """Raised inside request handling to answer with a GitHub error document."""

    def __init__(self, status: int, body: JSON, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.reply = _Reply(status, body, headers or {})


def _error(status: int, message: str, documentation_url: str = DOCS, **extra: Any) -> _Fail:
    return _Fail(
        status,
        {
            "message": message,
            **extra,
            "documentation_url": documentation_url,
            "status": str(status),
        },
    )


def _node_id(kind: str, number: int) -> str:
    """Legacy global node ids, e.g. base64("012:IssueComment396813441")."""
    return base64.b64encode(f"0{len(kind)}:{kind}{number}".encode()).decode()


@dataclass
class _Ctx:
    request: web.Request
    op: Operation
    params: dict[str, Any]
    query: dict[str, Any]
    raw_query: list[tuple[str, str]]
    body: Any
    token: _Token | None
    repo: _Repo | None


class Simulator:
    """A fake GitHub on 127.0.0.1 (ephemeral port). See the module docstring for why."""

    def __init__(
        self,
        *,
        app_id: int = 1,
        public_key_pem: bytes | None = None,
        latency: float = 0.0,
        spec_path: Path | None = None,
        token_ttl: float = 3600,
        validate_responses: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.app_id = app_id
        self.public_key_pem = public_key_pem
        self.latency = latency
        self.token_ttl = token_ttl
        # When on, every JSON response is checked against the documented response schema and
        # failures land in `invalid_responses`: keeps the fake honest about GitHub's shapes.
        self.validate_responses = validate_responses
        self._clock = clock
        self._spec_path = spec_path or DEFAULT_SPEC_PATH
        self._spec: Spec | None = None
        self.base_url = _PLACEHOLDER_BASE
        # Inspection: plain GitHub-shaped dicts.
        self.check_runs: list[JSON] = []
        self.reviews: list[JSON] = []
        self.review_comments: list[JSON] = []
        self.issue_comments: list[JSON] = []
        self.reactions: list[JSON] = []
        self.requests: list[Recorded] = []
        self.invalid_requests: list[str] = []
        self.invalid_responses: list[str] = []
        self.tokens_issued = 0
        # State.
        self._next = 1_000_000
        self._users: dict[str, int] = {BOT_LOGIN.lower(): 41_000_001}
        self._repos: dict[str, _Repo] = {}
        self._installations: dict[int, _Installation] = {}
        self._tokens: dict[str, _Token] = {}
        self._faults: list[_Fault] = []
        self._buckets: dict[str, _Bucket] = {}
        self._suites: dict[tuple[str, str], int] = {}
        self._where: dict[int, tuple[str, int | None]] = {}  # object id -> (repo, pull number)
        self._runner: web.AppRunner | None = None
        self._closing: asyncio.Event | None = None
        self._handlers: dict[str, Callable[[_Ctx], _Reply]] = {
            "apps/create-installation-access-token": self._create_token,
            "apps/get-repo-installation": self._get_repo_installation,
            "checks/create": self._create_check_run,
            "checks/get": self._get_check_run,
            "checks/update": self._update_check_run,
            "checks/list-annotations": self._list_annotations,
            "checks/rerequest-run": self._rerequest_check_run,
            "checks/list-for-ref": self._list_check_runs_for_ref,
            "pulls/get": self._get_pull,
            "pulls/list-files": self._list_files,
            "pulls/list-reviews": self._list_reviews,
            "pulls/create-review": self._create_review,
            "pulls/list-review-comments": self._list_review_comments,
            "pulls/create-review-comment": self._create_review_comment,
            "issues/list-comments": self._list_issue_comments,
            "issues/create-comment": self._create_issue_comment,
            "issues/update-comment": self._update_issue_comment,
            "reactions/create-for-issue-comment": self._create_reaction,
            "repos/get-content": self._get_content,
            "repos/get-collaborator-permission-level": self._get_permission,
            "repos/compare-commits": self._compare,
        }

    def __repr__(self) -> str:
        return f"Simulator(base_url={self.base_url!r}, repos={len(self._repos)})"

    # ---------------------------------------------------------------- lifecycle

    @property
    def spec(self) -> Spec:
        if self._spec is None:
            self._spec = load_spec(self._spec_path.resolve())
        return self._spec

    async def start(self) -> str:
        """Bind 127.0.0.1 on an ephemeral port; return the base URL ("http://127.0.0.1:PORT")."""
        if self._runner is not None:
            return self.base_url
        _ = self.spec  # parse before the first request, not during it
        self._closing = asyncio.Event()
        app = web.Application(client_max_size=32 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        host, port = runner.addresses[0][:2]
        old, self.base_url = self.base_url, f"http://{host}:{port}"
        # Objects seeded before start carry the placeholder base; point them at the server.
        for bucket in (self.issue_comments, self.review_comments, self.reviews, self.reactions):
            for i, obj in enumerate(bucket):
                bucket[i] = _rebase(obj, old, self.base_url)
        return self.base_url

    async def stop(self) -> None:
        """Release hung/delayed handlers first so shutdown does not wait for them."""
        if self._closing is not None:
            self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Simulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ---------------------------------------------------------------- seeding

    def add_installation(
        self, installation_id: int, repos: list[str], *, permissions: dict[str, str] | None = None
    ) -> None:
        """An installation of the App on `repos` ("owner/name"); re-adding replaces it."""
        self._installations[installation_id] = _Installation(
            installation_id, list(repos), dict(permissions or DEFAULT_PERMISSIONS), self._now()
        )
        for full_name in repos:
            self._repo(full_name, create=True).installation_id = installation_id

    def add_pull(
        self,
        full_name: str,
        number: int,
        *,
        base: dict[str, bytes],
        head: dict[str, bytes],
        head_sha: str,
        base_sha: str,
        author: str = "octocat",
        draft: bool = False,
        title: str = "Update the code",
        base_ref: str = "main",
        head_ref: str = "feature",
        no_patch: Iterable[str] = frozenset(),
        head_repo: str | None = None,
        body: str | None = None,
        state: str = "open",
    ) -> None:
        """An open pull request; its file list and patches are computed from the two trees.

        `head_repo` makes it a fork PR (GitHub still serves the head commit through the base
        repository, and check runs for it carry an empty `pull_requests`)."""
        repo = self._repo(full_name, create=True)
        now = self._now()
        repo.trees[base_sha] = dict(base)
        repo.trees[head_sha] = dict(head)
        repo.commits.setdefault(base_sha, _Commit(base_sha, None, "Initial commit", now, author))
        repo.commits[head_sha] = _Commit(head_sha, base_sha, title, now, author)
        repo.refs[base_ref] = base_sha
        if head_repo is None or head_repo.lower() == full_name.lower():
            repo.refs[head_ref] = head_sha
        skip = frozenset(no_patch)
        repo.pulls[number] = _Pull(
            number=number,
            id=self._id(),
            title=title,
            body=body,
            author=author,
            draft=draft,
            state=state,
            base_ref=base_ref,
            head_ref=head_ref,
            base_sha=base_sha,
            head_sha=head_sha,
            head_repo=head_repo or repo.full_name,
            no_patch=skip,
            created_at=now,
            updated_at=now,
            shas=[head_sha],
            diffs={head_sha: diff_trees(base, head, skip)},
        )
        self._user_id(author)

    def push(self, full_name: str, number: int, *, head: dict[str, bytes], head_sha: str) -> None:
        """A new head commit for the PR (a `synchronize`); older trees stay readable by sha.

        Existing review comments follow GitHub: one whose line still shows the same text inside
        the new diff moves to the new commit; otherwise it becomes outdated (`line`/`position`
        null, `original_*` kept)."""
        repo = self._repo(full_name)
        pull = repo.pulls[number]
        previous = pull.head_sha
        now = self._now()
        repo.trees[head_sha] = dict(head)
        repo.commits[head_sha] = _Commit(
            head_sha, previous, f"Update #{number}", now, pull.author
        )
        if pull.head_repo.lower() == repo.full_name.lower():
            repo.refs[pull.head_ref] = head_sha
        pull.head_sha = head_sha
        pull.updated_at = now
        pull.shas.append(head_sha)
        pull.diffs[head_sha] = diff_trees(repo.trees[pull.base_sha], head, pull.no_patch)
        for comment in self.review_comments:
            if self._where.get(comment["id"]) == (repo.full_name.lower(), number):
                self._carry_comment(repo, pull, comment, previous)

    def set_permission(self, full_name: str, username: str, permission: str) -> None:
        """Role of a user on a repo: admin | maintain | write | triage | read | none."""
        if permission not in _ROLE_PERMISSION:
            raise ValueError(f"unknown permission {permission!r}")
        self._repo(full_name, create=True).roles[username.lower()] = permission
        self._user_id(username)

    def add_issue_comment(
        self, full_name: str, number: int, body: str, *, author: str = "octocat"
    ) -> JSON:
        """Seed a comment written by a person (e.g. "/ladder recheck"); returns it."""
        repo = self._repo(full_name)
        if number not in repo.pulls:
            raise KeyError(f"no pull request #{number} in {full_name}")
        return self._new_issue_comment(repo, number, body, author, via_app=False)

    def set_rate_limit(
        self, installation_id: int, remaining: int, *, reset_in: float = 60.0
    ) -> None:
        """Make an installation's primary rate limit have `remaining` calls until `reset_in`."""
        self._buckets[f"installation:{installation_id}"] = _Bucket(
            used=RATE_LIMIT - remaining, reset=self._clock() + reset_in
        )

    def expire_tokens(self) -> None:
        """Every installation token issued so far answers 401 from now on."""
        for token in self._tokens.values():
            token.expires_at = 0.0

    def inject(
        self,
        *,
        method: str,
        path: str,
        status: int | None = None,
        times: int = 1,
        delay: float = 0.0,
        headers: dict[str, str] | None = None,
        body: Any = None,
        hang: bool = False,
        answer_lost: bool = False,
    ) -> None:
        """Fault the next `times` requests (negative: all) whose method matches ("*" = any)
        and whose URL path matches the regex `path` (re.search).

        `delay` sleeps first; `hang` never answers (until stop); `answer_lost` carries the
        request out and then never answers, like a response lost on the way back; `status`
        answers with that status, `headers` and `body` (default: GitHub's error document for
        the status)."""
        if status is None and not hang and not answer_lost and delay <= 0:
            raise ValueError("a fault needs status, delay or hang")
        if times == 0:
            raise ValueError("times must be positive (or negative for every request)")
        self._faults.append(
            _Fault(
                method.upper(),
                re.compile(path),
                status,
                times,
                delay,
                dict(headers or {}),
                body,
                hang,
                answer_lost,
            )
        )

    # ---------------------------------------------------------------- views for webhook payloads

    def pull_json(self, full_name: str, number: int) -> JSON:
        """The pull request as `GET /pulls/{n}` returns it (handy for webhook payloads).

        Call after start(): API URLs inside are built from `base_url`."""
        repo = self._repo(full_name)
        return self._pull_view(repo, repo.pulls[number])

    def repository_json(self, full_name: str) -> JSON:
        return self._repo_view(self._repo(full_name))

    def installation_json(self, installation_id: int) -> JSON:
        return self._installation_view(self._installations[installation_id])

    # ---------------------------------------------------------------- request pipeline

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        body: Any = None
        bad_json = False
        if raw.strip():
            try:
                body = json.loads(raw)
            except ValueError:
                body, bad_json = raw.decode("utf-8", "replace"), True
        record = Recorded(
            method=request.method,
            path=request.path,
            query=dict(request.query),
            body=body,
            headers=_redacted(request.headers),
        )
        self.requests.append(record)
        # Who is asking, leniently, so that even faulted answers carry that caller's limits.
        token = self._tokens.get(
            request.headers.get("Authorization", "").partition(" ")[2].strip()
        )
        if token is not None:
            record.installation_id = token.installation_id
        match = self.spec.match(request.method, request.path)
        record.operation_id = match[0].operation_id if match else None
        await self._pause(self.latency)
        fault = self._take_fault(request.method, request.path)
        if fault is not None:
            await self._pause(fault.delay)
            if fault.hang:
                if self._closing is not None:
                    await self._closing.wait()
                return self._send(request, record, match, _Reply(503, {"message": "stopped"}))
            if fault.status is not None:
                reply = _Reply(
                    fault.status,
                    fault.body if fault.body is not None else _error_body(fault.status),
                    fault.headers,
                )
                return self._send(request, record, match, reply)
        try:
            reply = self._process(request, match, body, bad_json, record)
        except _Fail as fail:
            reply = fail.reply
        if fault is not None and fault.answer_lost:
            record.status = reply.status  # carried out; the caller never hears of it
            if self._closing is not None:
                await self._closing.wait()
            return self._send(request, record, match, _Reply(503, {"message": "stopped"}))
        return self._send(request, record, match, reply)

    def _process(
        self,
        request: web.Request,
        match: tuple[Operation, dict[str, str]] | None,
        body: Any,
        bad_json: bool,
        record: Recorded,
    ) -> _Reply:
        if match is None:
            raise _error(404, "Not Found")
        op, raw_params = match
        token = self._authenticate(request, op, record)
        self._check_rate(record)
        where = f"{request.method} {request.path} ({op.operation_id})"
        params = self._path_params(op, raw_params, where)
        raw_query = list(request.query.items())
        query = self._query_params(op, raw_query, where)
        if bad_json:
            self.invalid_requests.append(f"{where}: body is not JSON")
            raise _error(400, "Problems parsing JSON", op.documentation_url)
        repo = self._authorize(op, params, token)
        self._validate_body(op, body, where)
        ctx = _Ctx(request, op, params, query, raw_query, body, token, repo)
        return self._handlers[op.operation_id](ctx)

    def _send(
        self,
        request: web.Request,
        record: Recorded,
        match: tuple[Operation, dict[str, str]] | None,
        reply: _Reply,
    ) -> web.StreamResponse:
        headers = {
            "x-github-request-id": _request_id(),
            "x-github-api-version-selected": "2022-11-28",
        }
        if isinstance(reply.body, bytes):
            payload = reply.body
        else:
            payload = json.dumps(reply.body, separators=(",", ":")).encode()
            if self.validate_responses and match is not None and 200 <= reply.status < 300:
                for problem in match[0].response_errors(reply.status, reply.body):
                    self.invalid_responses.append(
                        f"{request.method} {request.path} -> {reply.status}: {problem}"
                    )
        if request.method == "GET" and reply.status == 200:
            etag = f'W/"{hashlib.sha256(payload).hexdigest()[:40]}"'
            headers["ETag"] = etag
            if request.headers.get("If-None-Match") == etag:
                # A 304 does not count against the primary rate limit (documented).
                record.status = 304
                headers.update(self._rate_headers(record, charge=False))
                return web.Response(status=304, headers=headers)
        record.status = reply.status
        headers.update(self._rate_headers(record, charge=True))
        headers.update(reply.headers)  # an injected fault's headers win
        return web.Response(
            status=reply.status,
            body=payload,
            headers={**headers, "Content-Type": reply.content_type},
        )

    async def _pause(self, seconds: float) -> None:
        """Sleep, but wake up when the server stops so shutdown is never held up."""
        if seconds <= 0:
            return
        if self._closing is None:
            await asyncio.sleep(seconds)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), timeout=seconds)

    def _take_fault(self, method: str, path: str) -> _Fault | None:
        for fault in self._faults:
            if fault.method not in ("*", method.upper()) or not fault.pattern.search(path):
                continue
            if fault.remaining > 0:
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
            return fault
        return None

    # ---------------------------------------------------------------- auth and limits

    def _authenticate(
        self, request: web.Request, op: Operation, record: Recorded
    ) -> _Token | None:
        header = request.headers.get("Authorization", "")
        scheme, _, credential = header.partition(" ")
        scheme, credential = scheme.lower(), credential.strip()
        if op.operation_id in _JWT_OPERATIONS:
            if scheme != "bearer" or not credential:
                record.auth = "invalid" if header else "none"
                raise _error(401, "A JSON web token could not be decoded", op.documentation_url)
            try:
                self._verify_jwt(credential)
            except _Fail:
                record.auth = "invalid"
                raise
            record.auth = "jwt"
            return None
        if not header:
            raise _error(401, "Requires authentication", op.documentation_url)
        token = self._tokens.get(credential) if scheme in ("token", "bearer") else None
        if token is None or self._clock() >= token.expires_at:
            record.auth = "invalid"
            record.installation_id = None  # a 401 counts against the anonymous limit
            raise _error(401, "Bad credentials")
        record.auth = "token"
        record.installation_id = token.installation_id
        return token

    def _verify_jwt(self, token: str) -> None:
        """The App JWT rules GitHub documents: RS256, iat not in the future (60 s of drift
        allowed), exp in the future but at most 10 minutes ahead, iss = the App id."""
        now = self._clock()
        try:
            if jwt.get_unverified_header(token).get("alg") != "RS256":
                raise _error(401, "A JSON web token could not be decoded")
            if self.public_key_pem is not None:
                claims = jwt.decode(
                    token,
                    self.public_key_pem,
                    algorithms=["RS256"],
                    options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
                )
            else:
                claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise _error(401, "A JSON web token could not be decoded") from None
        iat, exp = claims.get("iat"), claims.get("exp")
        if not isinstance(iat, int) or iat > now + 60:
            raise _error(
                401,
                "'Issued at' claim ('iat') must be an Integer representing the time that the "
                "assertion was issued",
            )
        if not isinstance(exp, int | float) or exp <= now:
            raise _error(
                401,
                "'Expiration time' claim ('exp') must be a numeric value representing the future "
                "time at which the assertion expires",
            )
        if exp > now + 601:
            raise _error(401, "'Expiration time' claim ('exp') is too far in the future")
        if str(claims.get("iss")) != str(self.app_id):
            raise _error(401, "Integration not found")

    def _bucket(self, record: Recorded) -> _Bucket:
        if record.installation_id is not None:
            key = f"installation:{record.installation_id}"
        else:
            key = "app" if record.auth == "jwt" else "anonymous"
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None or now >= bucket.reset:
            bucket = self._buckets[key] = _Bucket(
                used=0, reset=now + 3600, limit=60 if key == "anonymous" else RATE_LIMIT
            )
        return bucket

    def _check_rate(self, record: Recorded) -> None:
        bucket = self._bucket(record)
        if bucket.used >= bucket.limit:
            who = (
                f"installation ID {record.installation_id}"
                if record.installation_id is not None
                else "this client"
            )
            raise _error(403, f"API rate limit exceeded for {who}.")

    def _rate_headers(self, record: Recorded, *, charge: bool) -> dict[str, str]:
        bucket = self._bucket(record)
        if charge and bucket.used < bucket.limit:
            bucket.used += 1
        return {
            "x-ratelimit-limit": str(bucket.limit),
            "x-ratelimit-remaining": str(max(0, bucket.limit - bucket.used)),
            "x-ratelimit-reset": str(math.ceil(bucket.reset)),
            "x-ratelimit-used": str(bucket.used),
            "x-ratelimit-resource": "core",
        }

    def _authorize(
        self, op: Operation, params: dict[str, Any], token: _Token | None
    ) -> _Repo | None:
        """Repos outside the token's installation are invisible (404, as for private repos);
        a granted repo without the needed permission is 403."""
        if "owner" not in params:
            return None
        repo = self._repos.get(f"{params['owner']}/{params['repo']}".lower())
        if op.operation_id == "apps/get-repo-installation":
            if repo is None or repo.installation_id not in self._installations:
                raise _error(404, "Not Found", op.documentation_url)
            return repo
        if repo is None or token is None or repo.installation_id != token.installation_id:
            raise _error(404, "Not Found", op.documentation_url)
        if token.repositories is not None and repo.full_name.lower() not in token.repositories:
            raise _error(404, "Not Found", op.documentation_url)
        needs = _NEEDS.get(op.operation_id, ())
        if needs and not any(
            _LEVEL.get(token.permissions.get(perm, "none"), 0) >= _LEVEL[level]
            for perm, level in needs
        ):
            raise _error(403, "Resource not accessible by integration", op.documentation_url)
        return repo

    # ---------------------------------------------------------------- validation

    def _path_params(self, op: Operation, raw: dict[str, str], where: str) -> dict[str, Any]:
        params: dict[str, Any] = {}
        for name, value in raw.items():
            schema = op.path_params.get(name, {})
            if schema.get("type") == "integer":
                if not value.isdigit():
                    self.invalid_requests.append(
                        f"{where}: path parameter {name}={value!r} is not an integer"
                    )
                    raise _error(404, "Not Found", op.documentation_url)
                params[name] = int(value)
            else:
                params[name] = value
        return params

    def _query_params(
        self, op: Operation, raw: list[tuple[str, str]], where: str
    ) -> dict[str, Any]:
        """Declared query parameters, coerced and checked; unknown ones are ignored (as GitHub
        does). per_page above 100 is served as 100, like GitHub, but recorded as invalid."""
        query: dict[str, Any] = {}
        for name, value in raw:
            schema = op.query_params.get(name)
            if schema is None:
                continue
            coerced: Any = value
            kinds = schema.get("type")
            kinds = kinds if isinstance(kinds, list) else [kinds]
            if "integer" in kinds:
                if not re.fullmatch(r"-?\d+", value):
                    message = f"For '{name}', \"{value}\" is not an integer."
                    self.invalid_requests.append(f"{where}: query {message}")
                    raise _error(422, f"Invalid request.\n\n{message}", op.documentation_url)
                coerced = int(value)
            elif "boolean" in kinds and value in ("true", "false"):
                coerced = value == "true"
            errors = list(Draft4Validator(schema, format_checker=_FORMATS).iter_errors(coerced))
            if errors:
                message = f"For '{name}', {_shorten(errors[0].message)}"
                self.invalid_requests.append(f"{where}: query {message}")
                raise _error(422, f"Invalid request.\n\n{message}", op.documentation_url)
            if name == "per_page" and coerced > PER_PAGE_MAX:
                self.invalid_requests.append(
                    f"{where}: query per_page={coerced} exceeds the documented maximum "
                    f"{PER_PAGE_MAX}"
                )
            query[name] = coerced
        return query

    def _validate_body(self, op: Operation, body: Any, where: str) -> None:
        if op.body_validator is None:
            return
        if body is None:
            if not op.body_required:
                return
            body = {}
        errors = list(op.body_validator.iter_errors(body))
        if not errors:
            return
        message = _describe_errors(errors)
        self.invalid_requests.append(f"{where}: {message}")
        raise _error(422, f"Invalid request.\n\n{message}", op.documentation_url)

    # ---------------------------------------------------------------- small helpers

    def _now(self) -> str:
        return datetime.fromtimestamp(self._clock(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def _id(self) -> int:
        self._next += 1
        return self._next

    def _user_id(self, login: str) -> int:
        key = login.lower()
        if key not in self._users:
            self._users[key] = 5_000_000 + len(self._users)
        return self._users[key]

    def _repo(self, full_name: str, *, create: bool = False) -> _Repo:
        key = full_name.lower()
        if key not in self._repos:
            if not create:
                raise KeyError(f"unknown repository {full_name!r}")
            if full_name.count("/") != 1:
                raise ValueError(f"repository must be 'owner/name', got {full_name!r}")
            self._repos[key] = _Repo(full_name, self._id(), self._now())
            self._user_id(full_name.split("/")[0])
        return self._repos[key]

    def _pull(self, ctx: _Ctx, number_param: str = "pull_number") -> _Pull:
        assert ctx.repo is not None
        pull = ctx.repo.pulls.get(ctx.params[number_param])
        if pull is None:
            raise _error(404, "Not Found", ctx.op.documentation_url)
        return pull

    def _page(
        self, ctx: _Ctx, items: list[Any], wrap: Callable[[list[Any]], Any] | None = None
    ) -> _Reply:
        """Serve one page with GitHub's Link header (prev, next, last, first), built from the
        simulator's own URL so clients that follow `rel="next"` come back here."""
        per_page = max(1, min(int(ctx.query.get("per_page", PER_PAGE_DEFAULT)), PER_PAGE_MAX))
        page = max(1, int(ctx.query.get("page", 1)))
        last = max(1, math.ceil(len(items) / per_page))
        chunk = items[(page - 1) * per_page : page * per_page]
        base = f"{self.base_url}{ctx.request.rel_url.raw_path}"

        def url(number: int) -> str:
            pairs = [(k, v) for k, v in ctx.raw_query if k != "page"]
            return f"<{base}?{urlencode([*pairs, ('page', str(number))])}>"

        links = []
        if page > 1:
            links.append(f'{url(min(page - 1, last))}; rel="prev"')
        if page < last:
            links += [f'{url(page + 1)}; rel="next"', f'{url(last)}; rel="last"']
        if page > 1:
            links.append(f'{url(1)}; rel="first"')
        headers = {"Link": ", ".join(links)} if links else {}
        return _Reply(200, wrap(chunk) if wrap else chunk, headers)

    def _resolve(self, repo: _Repo, ref: str) -> str | None:
        """A commit sha, or a branch name -> its sha."""
        if ref in repo.commits or ref in repo.trees:
            return ref
        ref = ref.removeprefix("refs/heads/")
        return repo.refs.get(ref)

    # ---------------------------------------------------------------- views (GitHub shapes)

    def _user(self, login: str) -> JSON:
        uid = self._user_id(login)
        api = f"{self.base_url}/users/{login}"
        bot = login.lower() == BOT_LOGIN
        return {
            "login": login,
            "id": uid,
            "node_id": _node_id("Bot" if bot else "User", uid),
            "avatar_url": f"https://avatars.githubusercontent.com/u/{uid}?v=4",
            "gravatar_id": "",
            "url": api,
            "html_url": APP_HOMEPAGE if bot else f"{WEB}/{login}",
            "followers_url": f"{api}/followers",
            "following_url": f"{api}/following{{/other_user}}",
            "gists_url": f"{api}/gists{{/gist_id}}",
            "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{api}/subscriptions",
            "organizations_url": f"{api}/orgs",
            "repos_url": f"{api}/repos",
            "events_url": f"{api}/events{{/privacy}}",
            "received_events_url": f"{api}/received_events",
            "type": "Bot" if bot else "User",
            "user_view_type": "public",
            "site_admin": False,
        }

    def _app_view(self) -> JSON:
        return {
            "id": self.app_id,
            "slug": APP_SLUG,
            "node_id": _node_id("App", self.app_id),
            "client_id": f"Iv1.{self.app_id:016x}",
            "owner": self._user("ladder-dev"),
            "name": "Ladder",
            "description": "Reviews Elixir changes against the production-readiness ladder.",
            "external_url": APP_HOMEPAGE,
            "html_url": APP_HOMEPAGE,
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
            "permissions": dict(DEFAULT_PERMISSIONS),
            "events": list(_APP_EVENTS),
        }

    def _repo_view(self, repo: _Repo) -> JSON:
        api = f"{self.base_url}/repos/{repo.full_name}"
        html = f"{WEB}/{repo.full_name}"
        templates = {
            "archive_url": "/{archive_format}{/ref}",
            "assignees_url": "/assignees{/user}",
            "blobs_url": "/git/blobs{/sha}",
            "branches_url": "/branches{/branch}",
            "collaborators_url": "/collaborators{/collaborator}",
            "comments_url": "/comments{/number}",
            "commits_url": "/commits{/sha}",
            "compare_url": "/compare/{base}...{head}",
            "contents_url": "/contents/{+path}",
            "contributors_url": "/contributors",
            "deployments_url": "/deployments",
            "downloads_url": "/downloads",
            "events_url": "/events",
            "forks_url": "/forks",
            "git_commits_url": "/git/commits{/sha}",
            "git_refs_url": "/git/refs{/sha}",
            "git_tags_url": "/git/tags{/sha}",
            "hooks_url": "/hooks",
            "issue_comment_url": "/issues/comments{/number}",
            "issue_events_url": "/issues/events{/number}",
            "issues_url": "/issues{/number}",
            "keys_url": "/keys{/key_id}",
            "labels_url": "/labels{/name}",
            "languages_url": "/languages",
            "merges_url": "/merges",
            "milestones_url": "/milestones{/number}",
            "notifications_url": "/notifications{?since,all,participating}",
            "pulls_url": "/pulls{/number}",
            "releases_url": "/releases{/id}",
            "stargazers_url": "/stargazers",
            "statuses_url": "/statuses/{sha}",
            "subscribers_url": "/subscribers",
            "subscription_url": "/subscription",
            "tags_url": "/tags",
            "teams_url": "/teams",
            "trees_url": "/git/trees{/sha}",
        }
        open_pulls = sum(1 for p in repo.pulls.values() if p.state == "open")
        return {
            "id": repo.id,
            "node_id": _node_id("Repository", repo.id),
            "name": repo.name,
            "full_name": repo.full_name,
            "private": False,
            "owner": self._user(repo.owner),
            "html_url": html,
            "description": None,
            "fork": False,
            "url": api,
            **{key: api + suffix for key, suffix in templates.items()},
            "git_url": f"git://github.com/{repo.full_name}.git",
            "ssh_url": f"git@github.com:{repo.full_name}.git",
            "clone_url": f"{html}.git",
            "svn_url": html,
            "mirror_url": None,
            "homepage": None,
            "language": "Elixir",
            "size": 0,
            "forks": 0,
            "forks_count": 0,
            "stargazers_count": 0,
            "watchers": 0,
            "watchers_count": 0,
            "open_issues": open_pulls,
            "open_issues_count": open_pulls,
            "default_branch": repo.default_branch,
            "topics": [],
            "has_issues": True,
            "has_projects": True,
            "has_wiki": True,
            "has_pages": False,
            "has_downloads": True,
            "has_discussions": False,
            "archived": False,
            "disabled": False,
            "is_template": False,
            "allow_forking": True,
            "web_commit_signoff_required": False,
            "visibility": "public",
            "license": None,
            "pushed_at": repo.created_at,
            "created_at": repo.created_at,
            "updated_at": repo.created_at,
        }

    def _branch_view(self, repo_name: str, ref: str, sha: str, owner_login: str) -> JSON:
        repo = self._repo(repo_name, create=True)
        return {
            "label": f"{repo.owner}:{ref}",
            "ref": ref,
            "sha": sha,
            "user": self._user(owner_login),
            "repo": self._repo_view(repo),
        }

    def _pull_view(self, repo: _Repo, pull: _Pull) -> JSON:
        api = f"{self.base_url}/repos/{repo.full_name}"
        html = f"{WEB}/{repo.full_name}/pull/{pull.number}"
        files = pull.diffs[pull.head_sha]
        head_owner = pull.head_repo.split("/", 1)[0]
        link = {
            "self": f"{api}/pulls/{pull.number}",
            "html": html,
            "issue": f"{api}/issues/{pull.number}",
            "comments": f"{api}/issues/{pull.number}/comments",
            "review_comments": f"{api}/pulls/{pull.number}/comments",
            "review_comment": f"{api}/pulls/comments{{/number}}",
            "commits": f"{api}/pulls/{pull.number}/commits",
            "statuses": f"{api}/statuses/{pull.head_sha}",
        }
        return {
            "url": link["self"],
            "id": pull.id,
            "node_id": _node_id("PullRequest", pull.id),
            "html_url": html,
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "issue_url": link["issue"],
            "commits_url": link["commits"],
            "review_comments_url": link["review_comments"],
            "review_comment_url": link["review_comment"],
            "comments_url": link["comments"],
            "statuses_url": link["statuses"],
            "number": pull.number,
            "state": pull.state,
            "locked": False,
            "title": pull.title,
            "user": self._user(pull.author),
            "body": pull.body,
            "labels": [],
            "milestone": None,
            "active_lock_reason": None,
            "created_at": pull.created_at,
            "updated_at": pull.updated_at,
            "closed_at": None,
            "merged_at": None,
            "merge_commit_sha": None,
            "assignee": None,
            "assignees": [],
            "requested_reviewers": [],
            "requested_teams": [],
            "head": self._branch_view(pull.head_repo, pull.head_ref, pull.head_sha, head_owner),
            "base": self._branch_view(repo.full_name, pull.base_ref, pull.base_sha, repo.owner),
            "_links": {key: {"href": value} for key, value in link.items()},
            "author_association": self._association(repo, pull.author),
            "auto_merge": None,
            "draft": pull.draft,
            "merged": False,
            "mergeable": True,
            "rebaseable": True,
            "mergeable_state": "clean",
            "merged_by": None,
            "comments": sum(1 for c in self.issue_comments if self._in(c, repo, pull.number)),
            "review_comments": sum(
                1 for c in self.review_comments if self._in(c, repo, pull.number)
            ),
            "maintainer_can_modify": False,
            "commits": len(pull.shas),
            "additions": sum(f.additions for f in files),
            "deletions": sum(f.deletions for f in files),
            "changed_files": len(files),
        }

    def _in(self, obj: JSON, repo: _Repo, number: int) -> bool:
        return self._where.get(obj["id"]) == (repo.full_name.lower(), number)

    def _association(self, repo: _Repo, login: str) -> str:
        if login.lower() == BOT_LOGIN:
            return "NONE"
        if login.lower() == repo.owner.lower():
            return "OWNER"
        role = repo.roles.get(login.lower(), "none")
        return "COLLABORATOR" if role != "none" else "CONTRIBUTOR"

    def _file_view(self, repo: _Repo, head_sha: str, diff: FileDiff) -> JSON:
        entry: JSON = {
            "sha": diff.sha,
            "filename": diff.filename,
            "status": diff.status,
            "additions": diff.additions,
            "deletions": diff.deletions,
            "changes": diff.additions + diff.deletions,
            "blob_url": f"{WEB}/{repo.full_name}/blob/{head_sha}/{diff.filename}",
            "raw_url": f"{WEB}/{repo.full_name}/raw/{head_sha}/{diff.filename}",
            "contents_url": (
                f"{self.base_url}/repos/{repo.full_name}/contents/{diff.filename}?ref={head_sha}"
            ),
        }
        if diff.patch is not None:
            entry["patch"] = diff.patch
        return entry

    def _installation_view(self, inst: _Installation) -> JSON:
        owner = inst.repos[0].split("/", 1)[0] if inst.repos else "octo-org"
        account = self._user(owner)
        return {
            "id": inst.id,
            "account": account,
            "repository_selection": "selected",
            "access_tokens_url": f"{self.base_url}/app/installations/{inst.id}/access_tokens",
            "repositories_url": f"{self.base_url}/installation/repositories",
            "html_url": f"{WEB}/settings/installations/{inst.id}",
            "app_id": self.app_id,
            "app_slug": APP_SLUG,
            "client_id": f"Iv1.{self.app_id:016x}",
            "target_id": account["id"],
            "target_type": "User",
            "permissions": dict(inst.permissions),
            "events": list(_APP_EVENTS),
            "created_at": inst.created_at,
            "updated_at": inst.created_at,
            "single_file_name": None,
            "has_multiple_single_files": False,
            "single_file_paths": [],
            "suspended_by": None,
            "suspended_at": None,
        }

    def _commit_view(self, repo: _Repo, sha: str) -> JSON:
        api = f"{self.base_url}/repos/{repo.full_name}"
        commit = repo.commits.get(sha) or _Commit(sha, None, "", repo.created_at, repo.owner)
        person = {
            "name": commit.author,
            "email": f"{commit.author}@example.com",
            "date": commit.date,
        }
        tree = repo.trees.get(sha, {})
        tree_sha = hashlib.sha1(
            "".join(f"{p}:{blob_sha(d)}\n" for p, d in sorted(tree.items())).encode()
        ).hexdigest()
        parents = [commit.parent] if commit.parent else []
        return {
            "url": f"{api}/commits/{sha}",
            "sha": sha,
            "node_id": _node_id("Commit", int(hashlib.sha1(sha.encode()).hexdigest()[:8], 16)),
            "html_url": f"{WEB}/{repo.full_name}/commit/{sha}",
            "comments_url": f"{api}/commits/{sha}/comments",
            "commit": {
                "url": f"{api}/git/commits/{sha}",
                "author": person,
                "committer": person,
                "message": commit.message,
                "tree": {"sha": tree_sha, "url": f"{api}/git/trees/{tree_sha}"},
                "comment_count": 0,
                "verification": {
                    "verified": False,
                    "reason": "unsigned",
                    "payload": None,
                    "signature": None,
                    "verified_at": None,
                },
            },
            "author": self._user(commit.author),
            "committer": self._user(commit.author),
            "parents": [
                {
                    "sha": p,
                    "url": f"{api}/commits/{p}",
                    "html_url": f"{WEB}/{repo.full_name}/commit/{p}",
                }
                for p in parents
            ],
        }

    # ---------------------------------------------------------------- apps

    def _create_token(self, ctx: _Ctx) -> _Reply:
        """Installation token: opaque, expires after `token_ttl` (GitHub: one hour); may be
        down-scoped to some repositories and permissions."""
        inst = self._installations.get(ctx.params["installation_id"])
        if inst is None:
            raise _error(404, "Not Found", ctx.op.documentation_url)
        body = ctx.body or {}
        scope: frozenset[str] | None = None
        names = body.get("repositories")
        ids = body.get("repository_ids")
        if names is not None or ids is not None:
            granted = {self._repo(r).full_name.lower(): self._repo(r) for r in inst.repos}
            by_name = {r.name.lower(): key for key, r in granted.items()}
            by_id = {r.id: key for key, r in granted.items()}
            chosen = set()
            for name in names or []:
                if name.lower() not in by_name:
                    raise _error(
                        422,
                        "There is at least one repository that does not exist or is not "
                        "accessible to the parent installation.",
                        ctx.op.documentation_url,
                    )
                chosen.add(by_name[name.lower()])
            for rid in ids or []:
                if rid not in by_id:
                    raise _error(
                        422,
                        "There is at least one repository that does not exist or is not "
                        "accessible to the parent installation.",
                        ctx.op.documentation_url,
                    )
                chosen.add(by_id[rid])
            scope = frozenset(chosen)
        permissions = dict(inst.permissions)
        if "permissions" in body:
            for name, level in body["permissions"].items():
                if _LEVEL.get(inst.permissions.get(name, "none"), 0) < _LEVEL.get(level, 3):
                    raise _error(
                        422,
                        "The permissions requested are not granted to this installation.",
                        ctx.op.documentation_url,
                    )
            permissions = dict(body["permissions"])
        value = "ghs_" + secrets.token_urlsafe(27)
        expires = self._clock() + self.token_ttl
        self._tokens[value] = _Token(inst.id, expires, scope, permissions)
        self.tokens_issued += 1
        answer: JSON = {
            "token": value,
            "expires_at": datetime.fromtimestamp(expires, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "permissions": permissions,
            "repository_selection": "selected",
        }
        if scope is not None:
            answer["repositories"] = [self._repo_view(self._repos[key]) for key in sorted(scope)]
        return _Reply(201, answer)

    def _get_repo_installation(self, ctx: _Ctx) -> _Reply:
        assert ctx.repo is not None
        assert ctx.repo.installation_id is not None
        return _Reply(200, self._installation_view(self._installations[ctx.repo.installation_id]))

    # ---------------------------------------------------------------- checks

    def _run(self, ctx: _Ctx) -> JSON:
        assert ctx.repo is not None
        run_id = ctx.params["check_run_id"]
        for run in self.check_runs:
            if (
                run["id"] == run_id
                and self._where.get(run_id, ("", None))[0] == ctx.repo.full_name.lower()
            ):
                return run
        raise _error(404, "Not Found", ctx.op.documentation_url)

    def _run_pull_requests(self, repo: _Repo, head_sha: str) -> list[JSON]:
        """PRs of this repo whose head is `head_sha`; fork PRs are not listed (GitHub only
        looks at pushes in the repository where the check run was created)."""
        out = []
        api = f"{self.base_url}/repos/{repo.full_name}"
        ref = {"id": repo.id, "url": api, "name": repo.name}
        for pull in repo.pulls.values():
            if pull.head_sha == head_sha and pull.head_repo.lower() == repo.full_name.lower():
                out.append(
                    {
                        "id": pull.id,
                        "number": pull.number,
                        "url": f"{api}/pulls/{pull.number}",
                        "head": {"ref": pull.head_ref, "sha": pull.head_sha, "repo": ref},
                        "base": {"ref": pull.base_ref, "sha": pull.base_sha, "repo": ref},
                    }
                )
        return out

    def _add_annotations(self, run: JSON, items: list[JSON]) -> None:
        blob = run["html_url"].rsplit("/runs/", 1)[0] + f"/blob/{run['head_sha']}/"
        for item in items:
            run["annotations"].append(
                {
                    "path": item["path"],
                    "start_line": item["start_line"],
                    "end_line": item["end_line"],
                    "start_column": item.get("start_column"),
                    "end_column": item.get("end_column"),
                    "annotation_level": item["annotation_level"],
                    "title": item.get("title"),
                    "message": item["message"],
                    "raw_details": item.get("raw_details"),
                    "blob_href": blob + item["path"],
                }
            )
        run["output"]["annotations_count"] = len(run["annotations"])

    def _create_check_run(self, ctx: _Ctx) -> _Reply:
        """Create: status defaults to queued; a conclusion implies completed (and a
        completed_at); the head sha must be a commit of the repository."""
        repo, body = ctx.repo, ctx.body
        assert repo is not None
        if body["head_sha"] not in repo.commits:
            raise _error(
                422, f"No commit found for SHA: {body['head_sha']}", ctx.op.documentation_url
            )
        now = self._now()
        conclusion = body.get("conclusion")
        status = "completed" if conclusion else body.get("status", "queued")
        run_id = self._id()
        url = f"{self.base_url}/repos/{repo.full_name}/check-runs/{run_id}"
        output = body.get("output") or {}
        suite = self._suites.setdefault((repo.full_name.lower(), body["head_sha"]), self._id())
        run: JSON = {
            "id": run_id,
            "head_sha": body["head_sha"],
            "node_id": _node_id("CheckRun", run_id),
            "external_id": body.get("external_id", ""),
            "url": url,
            "html_url": f"{WEB}/{repo.full_name}/runs/{run_id}",
            "details_url": body.get("details_url", APP_HOMEPAGE),
            "status": status,
            "conclusion": conclusion,
            "started_at": body.get("started_at", now),
            "completed_at": body.get("completed_at") or (now if status == "completed" else None),
            "output": {
                "title": output.get("title"),
                "summary": output.get("summary"),
                "text": output.get("text"),
                "annotations_count": 0,
                "annotations_url": f"{url}/annotations",
            },
            "name": body["name"],
            "check_suite": {"id": suite},
            "app": self._app_view(),
            "pull_requests": self._run_pull_requests(repo, body["head_sha"]),
            # Simulator-only, for assertions; stripped from answers:
            "annotations": [],
            "created_with": body,
            "updates": [],
        }
        self._add_annotations(run, output.get("annotations", []))
        self.check_runs.append(run)
        self._where[run_id] = (repo.full_name.lower(), None)
        return _Reply(201, _public_run(run))

    def _get_check_run(self, ctx: _Ctx) -> _Reply:
        return _Reply(200, _public_run(self._run(ctx)))

    def _update_check_run(self, ctx: _Ctx) -> _Reply:
        """Update: fields replace; output.annotations are appended to what exists (GitHub's
        documented batching of 50 per request)."""
        run, body = self._run(ctx), ctx.body
        run["updates"].append(body)
        for key in ("name", "details_url", "external_id", "started_at", "completed_at"):
            if key in body:
                run[key] = body[key]
        if "status" in body:
            run["status"] = body["status"]
            if body["status"] != "completed":
                run["conclusion"] = None
                run["completed_at"] = body.get("completed_at")
        if body.get("conclusion"):
            run["conclusion"] = body["conclusion"]
            run["status"] = "completed"
            run["completed_at"] = body.get("completed_at") or run["completed_at"] or self._now()
        output = body.get("output")
        if output:
            for key in ("title", "summary", "text"):
                if key in output:
                    run["output"][key] = output[key]
            self._add_annotations(run, output.get("annotations", []))
        return _Reply(200, _public_run(run))

    def _list_annotations(self, ctx: _Ctx) -> _Reply:
        return self._page(ctx, list(self._run(ctx)["annotations"]))

    def _rerequest_check_run(self, ctx: _Ctx) -> _Reply:
        """GitHub answers 201 {} and sends a webhook; the run itself is not updated."""
        run = self._run(ctx)
        run["rerequested"] = run.get("rerequested", 0) + 1
        return _Reply(201, {})

    def _list_check_runs_for_ref(self, ctx: _Ctx) -> _Reply:
        repo = ctx.repo
        assert repo is not None
        sha = self._resolve(repo, ctx.params["ref"])
        if sha is None:
            raise _error(
                422, f"No commit found for SHA: {ctx.params['ref']}", ctx.op.documentation_url
            )
        runs = [
            r
            for r in self.check_runs
            if r["head_sha"] == sha and self._where[r["id"]][0] == repo.full_name.lower()
        ]
        if "check_name" in ctx.query:
            runs = [r for r in runs if r["name"] == ctx.query["check_name"]]
        if "status" in ctx.query:
            runs = [r for r in runs if r["status"] == ctx.query["status"]]
        if "app_id" in ctx.query:
            runs = [r for r in runs if r["app"]["id"] == ctx.query["app_id"]]
        runs.sort(key=lambda r: -r["id"])
        if ctx.query.get("filter", "latest") == "latest":
            newest: dict[str, JSON] = {}
            for run in runs:
                newest.setdefault(run["name"], run)
            runs = list(newest.values())
        total = len(runs)
        return self._page(
            ctx,
            [_public_run(r) for r in runs],
            lambda chunk: {"total_count": total, "check_runs": chunk},
        )

    # ---------------------------------------------------------------- pulls

    def _get_pull(self, ctx: _Ctx) -> _Reply:
        assert ctx.repo is not None
        return _Reply(200, self._pull_view(ctx.repo, self._pull(ctx)))

    def _list_files(self, ctx: _Ctx) -> _Reply:
        """At most 3000 files, 30 per page by default (documented)."""
        assert ctx.repo is not None
        pull = self._pull(ctx)
        files = pull.diffs[pull.head_sha][:FILES_CAP]
        return self._page(ctx, [self._file_view(ctx.repo, pull.head_sha, f) for f in files])

    def _list_reviews(self, ctx: _Ctx) -> _Reply:
        assert ctx.repo is not None
        pull = self._pull(ctx)
        return self._page(
            ctx, [_public_review(r) for r in self.reviews if self._in(r, ctx.repo, pull.number)]
        )

    def _check_comment(
        self, pull: _Pull, commit_id: str, comment: JSON
    ) -> tuple[list[str], JSON]:
        """GitHub's rules for an inline comment; returns (errors, resolved placement).

        The path must be a file of the PR with a patch; `line` (on `side`, default RIGHT) must be
        a line of one hunk; `start_line` must precede it inside the same hunk. Legacy `position`
        counts lines below the first @@ header."""
        diffs = {d.filename: d for d in pull.diffs.get(commit_id, pull.diffs[pull.head_sha])}
        diff = diffs.get(comment["path"])
        if diff is None:
            return [_PATH_INVALID, _HUNK_BLANK], {}
        if diff.patch is None:
            return [_LINE_NOT_IN_DIFF, _HUNK_BLANK], {}
        lines, hunks = _hunks(diff.patch)
        side = comment.get("side") or "RIGHT"
        found: tuple[int, _Row] | None = None
        if comment.get("line") is not None:
            found = _find_row(hunks, comment["line"], side)
        elif comment.get("position") is not None:
            for number, hunk in enumerate(hunks):
                for row in hunk.rows:
                    if row.position == comment["position"]:
                        found = (number, row)
                        side = "LEFT" if row.kind == "-" else "RIGHT"
        if found is None:
            return [_LINE_NOT_IN_DIFF, _HUNK_BLANK], {}
        hunk_number, row = found
        line = row.new if side == "RIGHT" else row.old
        start = comment.get("start_line")
        start_side = comment.get("start_side") or side
        if start is not None:
            if line is not None and start >= line:
                return [_START_PRECEDES], {}
            begin = _find_row(hunks, start, start_side)
            if begin is None or begin[0] != hunk_number:
                return [_START_SAME_HUNK], {}
        hunk = hunks[hunk_number]
        diff_hunk = "\n".join(lines[hunk.header_index : row.position + 1])
        placement = {
            "line": line,
            "side": side,
            "start_line": start,
            "start_side": start_side if start is not None else None,
            "position": row.position,
            "diff_hunk": diff_hunk,
        }
        return [], placement

    def _comment_view(
        self,
        repo: _Repo,
        pull: _Pull,
        review_id: int,
        commit_id: str,
        body: str,
        author: str,
        placement: JSON,
        subject_type: str = "line",
        in_reply_to: int | None = None,
    ) -> JSON:
        cid = self._id()
        now = self._now()
        api = f"{self.base_url}/repos/{repo.full_name}"
        html = f"{WEB}/{repo.full_name}/pull/{pull.number}#discussion_r{cid}"
        comment: JSON = {
            "url": f"{api}/pulls/comments/{cid}",
            "pull_request_review_id": review_id,
            "id": cid,
            "node_id": _node_id("PullRequestReviewComment", cid),
            "diff_hunk": placement.get("diff_hunk", ""),
            "path": placement["path"],
            "position": placement.get("position"),
            "original_position": placement.get("position"),
            "commit_id": commit_id,
            "original_commit_id": commit_id,
            "user": self._user(author),
            "body": body,
            "created_at": now,
            "updated_at": now,
            "html_url": html,
            "pull_request_url": f"{api}/pulls/{pull.number}",
            "author_association": self._association(repo, author),
            "_links": {
                "self": {"href": f"{api}/pulls/comments/{cid}"},
                "html": {"href": html},
                "pull_request": {"href": f"{api}/pulls/{pull.number}"},
            },
            "start_line": placement.get("start_line"),
            "original_start_line": placement.get("start_line"),
            "start_side": placement.get("start_side"),
            "line": placement.get("line"),
            "original_line": placement.get("line"),
            "side": placement.get("side"),
            "subject_type": subject_type,
            "reactions": _reaction_summary(f"{api}/pulls/comments/{cid}/reactions", []),
        }
        if in_reply_to is not None:
            comment["in_reply_to_id"] = in_reply_to
        self._where[cid] = (repo.full_name.lower(), pull.number)
        return comment

    def _review_view(
        self,
        repo: _Repo,
        pull: _Pull,
        author: str,
        body: str,
        state: str,
        commit_id: str,
        comments: list[JSON],
    ) -> JSON:
        rid = self._id()
        api = f"{self.base_url}/repos/{repo.full_name}"
        html = f"{WEB}/{repo.full_name}/pull/{pull.number}#pullrequestreview-{rid}"
        review: JSON = {
            "id": rid,
            "node_id": _node_id("PullRequestReview", rid),
            "user": self._user(author),
            "body": body,
            "state": state,
            "html_url": html,
            "pull_request_url": f"{api}/pulls/{pull.number}",
            "_links": {
                "html": {"href": html},
                "pull_request": {"href": f"{api}/pulls/{pull.number}"},
            },
            "commit_id": commit_id,
            "author_association": self._association(repo, author),
            "comments": comments,  # simulator-only: the inline comments as sent
        }
        if state != "PENDING":
            review["submitted_at"] = self._now()
        self._where[rid] = (repo.full_name.lower(), pull.number)
        return review

    def _author(self, ctx: _Ctx) -> str:
        return BOT_LOGIN if ctx.token is not None else "octocat"

    def _commit_for(self, ctx: _Ctx, pull: _Pull, commit_id: str | None) -> str:
        if commit_id is None:
            return pull.head_sha
        if commit_id not in pull.shas:
            raise _error(
                422,
                "Unprocessable Entity",
                ctx.op.documentation_url,
                errors=[f"No commit found for SHA: {commit_id}"],
            )
        return commit_id

    def _create_review(self, ctx: _Ctx) -> _Reply:
        """Create a review: every inline comment is checked like GitHub does and one bad comment
        rejects the whole review with a 422 (all-or-nothing; nothing is stored)."""
        repo = ctx.repo
        assert repo is not None
        pull = self._pull(ctx)
        body = ctx.body or {}
        commit_id = self._commit_for(ctx, pull, body.get("commit_id"))
        event = body.get("event")
        comments = body.get("comments", [])
        if event in ("REQUEST_CHANGES", "COMMENT") and not body.get("body") and not comments:
            raise _error(
                422,
                "Unprocessable Entity",
                ctx.op.documentation_url,
                errors=[f"Body is required when using {event}"],
            )
        errors: list[str] = []
        placements = []
        for comment in comments:
            problems, placement = self._check_comment(pull, commit_id, comment)
            errors += [p for p in problems if p not in errors]
            placements.append({**placement, "path": comment["path"]})
        if errors:
            raise _error(422, "Unprocessable Entity", ctx.op.documentation_url, errors=errors)
        state = _REVIEW_STATE.get(event or "", "PENDING")
        author = self._author(ctx)
        review = self._review_view(
            repo, pull, author, body.get("body", ""), state, commit_id, comments
        )
        self.reviews.append(review)
        for comment, placement in zip(comments, placements, strict=True):
            self.review_comments.append(
                self._comment_view(
                    repo, pull, review["id"], commit_id, comment["body"], author, placement
                )
            )
        return _Reply(200, _public_review(review))

    def _list_review_comments(self, ctx: _Ctx) -> _Reply:
        """Ascending by id unless `sort`/`direction` say otherwise; `since` filters updated_at."""
        repo = ctx.repo
        assert repo is not None
        pull = self._pull(ctx)
        items = [c for c in self.review_comments if self._in(c, repo, pull.number)]
        if "since" in ctx.query:
            items = [c for c in items if c["updated_at"] >= _utc(ctx.query["since"])]
        if "sort" in ctx.query:
            key = "updated_at" if ctx.query["sort"] == "updated" else "created_at"
            descending = ctx.query.get("direction", "desc") == "desc"
            items.sort(key=lambda c: (c[key], c["id"]), reverse=descending)
        return self._page(ctx, [_public_comment(c) for c in items])

    def _create_review_comment(self, ctx: _Ctx) -> _Reply:
        """One inline comment (GitHub wraps it in a new COMMENTED review). `in_reply_to` copies
        the parent's placement; `subject_type: file` needs only a path in the PR."""
        repo, body = ctx.repo, ctx.body
        assert repo is not None
        pull = self._pull(ctx)
        commit_id = self._commit_for(ctx, pull, body["commit_id"])
        author = self._author(ctx)
        reply_to = body.get("in_reply_to")
        subject = body.get("subject_type", "line")
        if reply_to is not None:
            parent = next(
                (
                    c
                    for c in self.review_comments
                    if c["id"] == reply_to and self._in(c, repo, pull.number)
                ),
                None,
            )
            if parent is None:
                raise _error(404, "Not Found", ctx.op.documentation_url)
            placement = {
                k: parent[k]
                for k in (
                    "path",
                    "line",
                    "side",
                    "start_line",
                    "start_side",
                    "position",
                    "diff_hunk",
                )
            }
            subject = parent["subject_type"]
        elif subject == "file":
            if body["path"] not in {d.filename for d in pull.diffs[pull.head_sha]}:
                raise _error(
                    422, "Unprocessable Entity", ctx.op.documentation_url, errors=[_PATH_INVALID]
                )
            placement = {"path": body["path"], "line": None, "side": None}
        else:
            if body.get("line") is None and body.get("position") is None:
                raise _error(
                    422,
                    "Unprocessable Entity",
                    ctx.op.documentation_url,
                    errors=[_LINE_NOT_IN_DIFF],
                )
            problems, placement = self._check_comment(pull, commit_id, body)
            if problems:
                raise _error(
                    422, "Unprocessable Entity", ctx.op.documentation_url, errors=problems
                )
            placement["path"] = body["path"]
        review = self._review_view(repo, pull, author, "", "COMMENTED", commit_id, [body])
        self.reviews.append(review)
        comment = self._comment_view(
            repo,
            pull,
            review["id"],
            commit_id,
            body["body"],
            author,
            placement,
            subject,
            reply_to,
        )
        self.review_comments.append(comment)
        return _Reply(201, _public_comment(comment), {"Location": comment["url"]})

    def _carry_comment(self, repo: _Repo, pull: _Pull, comment: JSON, previous: str) -> None:
        if (
            comment["line"] is None
            or comment["side"] != "RIGHT"
            or comment["commit_id"] != previous
        ):
            return
        old_tree = repo.trees.get(previous, {})
        new_tree = repo.trees[pull.head_sha]
        path, line = comment["path"], comment["line"]
        old_lines = (_text(old_tree.get(path, b"")) or "").split("\n")
        new_lines = (_text(new_tree.get(path, b"")) or "").split("\n")
        same_text = (
            line <= len(old_lines)
            and line <= len(new_lines)
            and old_lines[line - 1] == new_lines[line - 1]
        )
        problems, placement = self._check_comment(pull, pull.head_sha, comment)
        if same_text and not problems:
            comment.update(
                commit_id=pull.head_sha,
                position=placement["position"],
                diff_hunk=placement["diff_hunk"],
            )
        else:
            comment.update(line=None, position=None)

    # ---------------------------------------------------------------- issue comments, reactions

    def _new_issue_comment(
        self, repo: _Repo, number: int, body: str, author: str, *, via_app: bool
    ) -> JSON:
        cid = self._id()
        now = self._now()
        api = f"{self.base_url}/repos/{repo.full_name}"
        comment: JSON = {
            "id": cid,
            "node_id": _node_id("IssueComment", cid),
            "url": f"{api}/issues/comments/{cid}",
            "html_url": f"{WEB}/{repo.full_name}/pull/{number}#issuecomment-{cid}",
            "body": body,
            "user": self._user(author),
            "created_at": now,
            "updated_at": now,
            "issue_url": f"{api}/issues/{number}",
            "author_association": self._association(repo, author),
            "performed_via_github_app": self._app_view() if via_app else None,
            "reactions": _reaction_summary(f"{api}/issues/comments/{cid}/reactions", []),
        }
        self.issue_comments.append(comment)
        self._where[cid] = (repo.full_name.lower(), number)
        return comment

    def _list_issue_comments(self, ctx: _Ctx) -> _Reply:
        repo = ctx.repo
        assert repo is not None
        pull = self._pull(ctx, "issue_number")
        items = [c for c in self.issue_comments if self._in(c, repo, pull.number)]
        if "since" in ctx.query:
            items = [c for c in items if c["updated_at"] >= _utc(ctx.query["since"])]
        return self._page(ctx, items)

    def _check_body_length(self, ctx: _Ctx) -> None:
        """GitHub's cap on comment bodies, with its real error document."""
        if len(ctx.body["body"]) > COMMENT_BODY_MAX:
            raise _error(
                422,
                "Validation Failed",
                ctx.op.documentation_url,
                errors=[
                    {
                        "resource": "IssueComment",
                        "code": "unprocessable",
                        "field": "data",
                        "message": f"Body is too long (maximum is {COMMENT_BODY_MAX} characters)",
                    }
                ],
            )

    def _create_issue_comment(self, ctx: _Ctx) -> _Reply:
        assert ctx.repo is not None
        pull = self._pull(ctx, "issue_number")
        self._check_body_length(ctx)
        comment = self._new_issue_comment(
            ctx.repo, pull.number, ctx.body["body"], self._author(ctx), via_app=True
        )
        return _Reply(201, comment, {"Location": comment["url"]})

    def _issue_comment(self, ctx: _Ctx) -> JSON:
        assert ctx.repo is not None
        cid = ctx.params["comment_id"]
        for comment in self.issue_comments:
            if comment["id"] == cid and self._where[cid][0] == ctx.repo.full_name.lower():
                return comment
        raise _error(404, "Not Found", ctx.op.documentation_url)

    def _update_issue_comment(self, ctx: _Ctx) -> _Reply:
        comment = self._issue_comment(ctx)
        self._check_body_length(ctx)
        comment["body"] = ctx.body["body"]
        comment["updated_at"] = self._now()
        return _Reply(200, comment)

    def _create_reaction(self, ctx: _Ctx) -> _Reply:
        """201 for a new reaction; 200 with the existing one if this user already reacted so."""
        comment = self._issue_comment(ctx)
        user = self._author(ctx)
        content = ctx.body["content"]
        for reaction in self.reactions:
            if (
                reaction["comment_id"] == comment["id"]
                and reaction["content"] == content
                and reaction["user"]["login"] == user
            ):
                return _Reply(200, _public_reaction(reaction))
        rid = self._id()
        reaction = {
            "id": rid,
            "node_id": _node_id("Reaction", rid),
            "user": self._user(user),
            "content": content,
            "created_at": self._now(),
            "comment_id": comment["id"],  # simulator-only
        }
        self.reactions.append(reaction)
        mine = [r for r in self.reactions if r["comment_id"] == comment["id"]]
        comment["reactions"] = _reaction_summary(comment["reactions"]["url"], mine)
        return _Reply(201, _public_reaction(reaction))

    # ---------------------------------------------------------------- repos

    def _get_content(self, ctx: _Ctx) -> _Reply:
        """A file as JSON with base64 content (raw bytes for the raw media type), a directory as
        a list; over 1 MB the JSON form has content "" and encoding "none" (documented)."""
        repo = ctx.repo
        assert repo is not None
        ref = ctx.query.get("ref", repo.default_branch)
        sha = self._resolve(repo, ref)
        if sha is None or sha not in repo.trees:
            raise _error(404, f"No commit found for the ref {ref}", ctx.op.documentation_url)
        tree = repo.trees[sha]
        path = ctx.params["path"].strip("/")
        api = f"{self.base_url}/repos/{repo.full_name}/contents"
        accept = ctx.request.headers.get("Accept", "")
        git_api = f"{self.base_url}/repos/{repo.full_name}/git"

        def entry(name: str, kind: str, data: bytes | None) -> JSON:
            item_sha = blob_sha(data) if data is not None else blob_sha(name.encode())
            url = f"{api}/{name}?ref={ref}"
            html = f"{WEB}/{repo.full_name}/{'blob' if kind == 'file' else 'tree'}/{ref}/{name}"
            git = f"{git_api}/{'blobs' if kind == 'file' else 'trees'}/{item_sha}"
            return {
                "type": kind,
                "size": len(data) if data is not None else 0,
                "name": name.rsplit("/", 1)[-1],
                "path": name,
                "sha": item_sha,
                "url": url,
                "git_url": git,
                "html_url": html,
                "download_url": (
                    f"https://raw.githubusercontent.com/{repo.full_name}/{sha}/{name}"
                    if kind == "file"
                    else None
                ),
                "_links": {"self": url, "git": git, "html": html},
            }

        if path in tree:
            data = tree[path]
            if "raw" in accept:
                return _Reply(200, data, content_type="text/plain; charset=utf-8")
            item = entry(path, "file", data)
            if len(data) > CONTENTS_INLINE_MAX:
                item.update(content="", encoding="none")
            else:
                encoded = base64.b64encode(data).decode()
                lines = [encoded[i : i + 60] for i in range(0, len(encoded), 60)]
                item.update(content="\n".join(lines) + "\n" if lines else "", encoding="base64")
            return _Reply(200, item)
        prefix = path + "/" if path else ""
        children: dict[str, str] = {}
        for name in tree:
            if name.startswith(prefix):
                rest = name[len(prefix) :]
                head, _, tail = rest.partition("/")
                children[prefix + head] = "dir" if tail else "file"
        if not children:
            raise _error(404, "Not Found", ctx.op.documentation_url)
        return _Reply(
            200,
            [
                entry(n, k, tree.get(n) if k == "file" else None)
                for n, k in sorted(children.items())
            ],
        )

    def _get_permission(self, ctx: _Ctx) -> _Reply:
        """Legacy base permission plus role_name; unknown users read as "none"."""
        repo = ctx.repo
        assert repo is not None
        login = ctx.params["username"]
        role = repo.roles.get(login.lower(), "none")
        permission = _ROLE_PERMISSION[role]
        user = self._user(login)
        user["permissions"] = {
            "admin": role == "admin",
            "maintain": role in ("admin", "maintain"),
            "push": role in ("admin", "maintain", "write"),
            "triage": role in ("admin", "maintain", "write", "triage"),
            "pull": role != "none",
        }
        user["role_name"] = role
        return _Reply(200, {"permission": permission, "role_name": role, "user": user})

    def _compare(self, ctx: _Ctx) -> _Reply:
        """BASE...HEAD: the files of the whole comparison (up to 300, first page only) and the
        commits from base to head along the chain of parents."""
        repo = ctx.repo
        assert repo is not None
        basehead = ctx.params["basehead"]
        if "..." not in basehead:
            raise _error(404, "Not Found", ctx.op.documentation_url)
        base_ref, head_ref = basehead.split("...", 1)
        base_sha, head_sha = self._resolve(repo, base_ref), self._resolve(repo, head_ref)
        if (
            base_sha is None
            or head_sha is None
            or base_sha not in repo.trees
            or head_sha not in repo.trees
        ):
            raise _error(404, "Not Found", ctx.op.documentation_url)
        chain: list[str] = []
        cursor: str | None = head_sha
        while cursor is not None and cursor != base_sha:
            chain.append(cursor)
            commit = repo.commits.get(cursor)
            cursor = commit.parent if commit else None
        chain.reverse()
        status = (
            "identical" if base_sha == head_sha else "ahead" if cursor == base_sha else "diverged"
        )
        files = diff_trees(repo.trees[base_sha], repo.trees[head_sha])[:COMPARE_FILES_CAP]
        api = f"{self.base_url}/repos/{repo.full_name}"
        page = int(ctx.query.get("page", 1))

        def wrap(commits: list[JSON]) -> JSON:
            answer: JSON = {
                "url": f"{api}/compare/{basehead}",
                "html_url": f"{WEB}/{repo.full_name}/compare/{basehead}",
                "permalink_url": f"{WEB}/{repo.full_name}/compare/{base_sha}...{head_sha}",
                "diff_url": f"{WEB}/{repo.full_name}/compare/{basehead}.diff",
                "patch_url": f"{WEB}/{repo.full_name}/compare/{basehead}.patch",
                "base_commit": self._commit_view(repo, base_sha),
                "merge_base_commit": self._commit_view(repo, base_sha),
                "status": status,
                "ahead_by": len(chain),
                "behind_by": 0,
                "total_commits": len(chain),
                "commits": commits,
            }
            if page == 1:
                answer["files"] = [self._file_view(repo, head_sha, f) for f in files]
            return answer

        return self._page(ctx, [self._commit_view(repo, sha) for sha in chain], wrap)


# ------------------------------------------------------------------------------------------------
# Module helpers
# ------------------------------------------------------------------------------------------------


def _public_run(run: JSON) -> JSON:
    return {
        k: v
        for k, v in run.items()
        if k not in ("annotations", "created_with", "updates", "rerequested")
    }


def _public_comment(comment: JSON) -> JSON:
    """The documented schema has no nulls for these (file-level and outdated comments): omit."""
    optional = ("position", "original_position", "line", "original_line", "side")
    return {k: v for k, v in comment.items() if not (k in optional and v is None)}


def _public_review(review: JSON) -> JSON:
    return {k: v for k, v in review.items() if k != "comments"}


def _public_reaction(reaction: JSON) -> JSON:
    return {k: v for k, v in reaction.items() if k != "comment_id"}


def _reaction_summary(url: str, reactions: list[JSON]) -> JSON:
    counts = {name: sum(1 for r in reactions if r["content"] == name) for name in _REACTIONS}
    return {"url": url, "total_count": len(reactions), **counts}


def _utc(value: str) -> str:
    """A date-time query value as GitHub's `...Z` form, for string comparison."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _error_body(status: int) -> JSON:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return {"message": phrase, "documentation_url": DOCS, "status": str(status)}


def _redacted(headers: Mapping[str, str]) -> dict[str, str]:
    """Request headers for `Recorded`, with the credential replaced (never keep secrets)."""
    out = {}
    for key, value in headers.items():
        if key.lower() == "authorization":
            scheme = value.split(" ", 1)[0]
            value = f"{scheme} [redacted]"
        out[key.lower()] = value
    return out


def _request_id() -> str:
    return secrets.token_hex(4).upper() + ":" + secrets.token_hex(6).upper()


def _rebase(obj: Any, old: str, new: str) -> Any:
    if isinstance(obj, str):
        return new + obj[len(old) :] if obj.startswith(old) else obj
    if isinstance(obj, dict):
        return {k: _rebase(v, old, new) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_rebase(v, old, new) for v in obj]
    return obj
