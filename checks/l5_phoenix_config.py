"""L5 secure: Phoenix's own defences switched off or never switched on.

* A browser pipeline (one that fetches the session) without `plug :protect_from_forgery` lets
  any site submit forms as the logged-in user (CSRF).
* An HTML pipeline without `plug :put_secure_browser_headers` sends no clickjacking/sniffing
  protections.
* `check_origin: false` accepts WebSocket connections from any origin, so another site can
  open the user's LiveView socket with their cookies (cross-site WebSocket hijacking).
* Production config with neither `force_ssl` nor an `https:` endpoint serves sessions over
  plain HTTP (a notice: TLS may be terminated by a proxy that the config cannot show).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from tree_sitter import Node

from checks import elixir
from checks.context import FileContext, ProjectContext
from checks.model import FileKind, Finding, Rule, Severity
from checks.paths import any_match

LIB: frozenset[FileKind] = frozenset({"lib"})
LIB_AND_CONFIG: frozenset[FileKind] = frozenset({"lib", "config"})


def _plugs(pipeline: Node) -> dict[str, Node]:
    """`plug :name` statements of a router pipeline, by name."""
    found: dict[str, Node] = {}
    for stmt in elixir.block_statements(elixir.do_block(pipeline)):
        if elixir.local_name(stmt) != "plug":
            continue
        args = elixir.call_args(stmt)
        if args and args[0].type in ("atom", "alias"):
            found.setdefault(elixir.text(args[0]).lstrip(":"), stmt)
    return found


def _accepts_html(plug: Node | None) -> bool:
    if plug is None:
        return False
    args = elixir.call_args(plug)
    return len(args) > 1 and any(elixir.string_literal(n) == "html" for n in elixir.walk(args[1]))


def _pipelines(ctx: FileContext) -> Iterator[tuple[str, Node, dict[str, Node]]]:
    for pipeline in ctx.index.calls_named("pipeline"):
        args = elixir.call_args(pipeline)
        if not args or elixir.do_block(pipeline) is None:
            continue
        yield elixir.text(args[0]), pipeline, _plugs(pipeline)


def _csrf(ctx: FileContext) -> Iterable[Finding]:
    return _csrf_found(ctx) if ctx.index.calls_named("pipeline") else ()


def _csrf_found(ctx: FileContext) -> Iterator[Finding]:
    for name, pipeline, plugs in _pipelines(ctx):
        if "fetch_session" not in plugs or "protect_from_forgery" in plugs:
            continue
        yield ctx.finding(
            CSRF,
            pipeline,
            f"pipeline {name} fetches the session but has no `plug :protect_from_forgery`: "
            "other sites can submit forms as the signed-in user",
            end_line=elixir.line_of(pipeline),
            fix="add `plug :protect_from_forgery` after `plug :fetch_session`",
        )


def _headers(ctx: FileContext) -> Iterable[Finding]:
    return _headers_found(ctx) if ctx.index.calls_named("pipeline") else ()


def _headers_found(ctx: FileContext) -> Iterator[Finding]:
    for name, pipeline, plugs in _pipelines(ctx):
        if not _accepts_html(plugs.get("accepts")) or "put_secure_browser_headers" in plugs:
            continue
        yield ctx.finding(
            SECURE_HEADERS,
            pipeline,
            f"HTML pipeline {name} has no `plug :put_secure_browser_headers` "
            "(no clickjacking, content-sniffing or CSP headers)",
            end_line=elixir.line_of(pipeline),
            fix='add `plug :put_secure_browser_headers, %{"content-security-policy" => ...}`',
        )


def _check_origin(ctx: FileContext) -> Iterable[Finding]:
    return _check_origin_found(ctx) if "check_origin" in ctx.text else ()


def _check_origin_found(ctx: FileContext) -> Iterator[Finding]:
    if any_match(ctx.path, ctx.param(CHECK_ORIGIN, "ignore")):
        return
    data = ctx.text.encode("utf-8")
    start = data.find(b"check_origin:")
    while start != -1:
        node = ctx.root.descendant_for_byte_range(start, start + len("check_origin:"))
        pair = node.parent if node is not None and node.type == "keyword" else None
        if pair is not None and pair.type == "pair":
            value = pair.child_by_field_name("value")
            if elixir.is_false_literal(value):
                yield ctx.finding(
                    CHECK_ORIGIN,
                    pair,
                    "`check_origin: false` accepts WebSocket connections from any site, which "
                    "can then drive the user's socket with their cookies",
                    fix='list the allowed origins: `check_origin: ["https://shop.example"]`',
                )
        start = data.find(b"check_origin:", start + 1)


# --- HTTPS in production (project-wide: prod.exs, runtime.exs and the endpoint together) ----

_TLS_MARKERS = re.compile(r"\bforce_ssl\b|\bhttps:\s|\bPlug\.SSL\b")


def _tls_summary(ctx: FileContext) -> dict[str, Any]:
    text = ctx.text
    maybe = "force_ssl" in text or "https:" in text or "Plug.SSL" in text
    # Phoenix's generated configs mention force_ssl and https: in commented-out examples.
    tls = maybe and any(
        _TLS_MARKERS.search(line.split("#", 1)[0]) is not None for line in ctx.lines
    )
    return {"tls": tls, "line": _endpoint_line(ctx) if ctx.path.endswith("prod.exs") else 1}


def _endpoint_line(ctx: FileContext) -> int:
    """Where to report: the endpoint's `config` call, else the first `config` call, else 1."""
    if ctx.kind != "config":
        return 1
    calls = ctx.index.calls_named("config")
    for call in calls:
        found = elixir.call_args(call)
        if len(found) > 1 and elixir.text(found[1]).endswith("Endpoint"):
            return elixir.line_of(call)
    return elixir.line_of(calls[0]) if calls else 1


def _tls_project(project: ProjectContext) -> Iterator[Finding]:
    summaries = project.of(FORCE_SSL)
    prod = [s for s in summaries if s.path.endswith("config/prod.exs")]
    if not prod or any(s.data.get("tls") for s in summaries):
        return
    for summary in prod:
        yield project.finding(
            FORCE_SSL,
            summary.path,
            summary.data.get("line", 1),
            "production config sets neither `force_ssl` nor an `https:` endpoint (checked "
            "together with runtime.exs and the endpoint): sessions may travel over plain HTTP",
            fix="config :my_app, MyAppWeb.Endpoint, force_ssl: [hsts: true] "
            "(or say in a comment that a proxy terminates TLS and suppress this)",
        )


CSRF = Rule(
    id="L5.csrf-protection-missing",
    severity=Severity.ERROR,
    title="Browser pipeline without CSRF protection",
    explanation=(
        "A router pipeline that fetches the session serves requests authenticated by a "
        "cookie, which the browser attaches to requests that ANY site triggers. "
        "`plug :protect_from_forgery` requires the per-session CSRF token on state-changing "
        "requests; without it another site can post forms (change email, transfer money) as "
        "the signed-in user."
    ),
    bad_example=(
        "defmodule ShopWeb.Router do\n"
        '  @moduledoc "Routes."\n'
        "  use ShopWeb, :router\n"
        "  pipeline :browser do\n"
        '    plug :accepts, ["html"]\n'
        "    plug :fetch_session\n"
        "    plug :put_secure_browser_headers\n"
        "  end\n"
        "end\n"
    ),
    good_example=(
        "defmodule ShopWeb.Router do\n"
        '  @moduledoc "Routes."\n'
        "  use ShopWeb, :router\n"
        "  pipeline :browser do\n"
        '    plug :accepts, ["html"]\n'
        "    plug :fetch_session\n"
        "    plug :protect_from_forgery\n"
        "    plug :put_secure_browser_headers\n"
        "  end\n"
        "end\n"
    ),
    applies_to=LIB,
    sobelow=("Config.CSRF",),
    check=_csrf,
)

SECURE_HEADERS = Rule(
    id="L5.secure-headers-missing",
    severity=Severity.WARNING,
    title="HTML pipeline without put_secure_browser_headers",
    explanation=(
        "`plug :put_secure_browser_headers` sets `x-frame-options`, "
        "`x-content-type-options`, `referrer-policy` and (given a map) a "
        "`content-security-policy`. Without them pages can be framed for clickjacking and "
        "uploaded files sniffed into scripts. Every pipeline that accepts HTML should have it."
    ),
    bad_example=(
        "defmodule ShopWeb.Router do\n"
        '  @moduledoc "Routes."\n'
        "  use ShopWeb, :router\n"
        "  pipeline :browser do\n"
        '    plug :accepts, ["html"]\n'
        "    plug :fetch_session\n"
        "    plug :protect_from_forgery\n"
        "  end\n"
        "end\n"
    ),
    good_example=(
        "defmodule ShopWeb.Router do\n"
        '  @moduledoc "Routes."\n'
        "  use ShopWeb, :router\n"
        "  pipeline :browser do\n"
        '    plug :accepts, ["html"]\n'
        "    plug :fetch_session\n"
        "    plug :protect_from_forgery\n"
        "    plug :put_secure_browser_headers\n"
        "  end\n"
        "end\n"
    ),
    applies_to=LIB,
    sobelow=("Config.Headers",),
    check=_headers,
)

CHECK_ORIGIN = Rule(
    id="L5.check-origin-disabled",
    severity=Severity.ERROR,
    title="WebSocket origin check disabled",
    explanation=(
        "Browsers send cookies with WebSocket handshakes from any page, and the WebSocket "
        "protocol has no same-origin policy. Phoenix's `check_origin` is the only thing that "
        "stops another site from opening a socket (LiveView, channels) as the visiting user. "
        "`check_origin: false` turns it off; list the allowed origins instead. "
        "`config/dev.exs` and `config/test.exs` (where Phoenix generates it) are exempt by "
        "default (parameter `ignore`)."
    ),
    bad_example=(
        "defmodule ShopWeb.Endpoint do\n"
        '  @moduledoc "Endpoint."\n'
        "  use Phoenix.Endpoint, otp_app: :shop\n"
        '  socket "/live", Phoenix.LiveView.Socket, websocket: [check_origin: false]\n'
        "end\n"
    ),
    good_example=(
        "defmodule ShopWeb.Endpoint do\n"
        '  @moduledoc "Endpoint."\n'
        "  use Phoenix.Endpoint, otp_app: :shop\n"
        '  socket "/live", Phoenix.LiveView.Socket, websocket: [check_origin: true]\n'
        "end\n"
    ),
    applies_to=LIB_AND_CONFIG,
    params={"ignore": ("config/dev.exs", "config/test.exs")},
    sobelow=("Config.CSWH",),
    check=_check_origin,
)

FORCE_SSL = Rule(
    id="L5.force-ssl-missing",
    severity=Severity.NOTICE,
    title="Production config without force_ssl or HTTPS",
    explanation=(
        "Session cookies and CSRF tokens sent over plain HTTP can be read and replayed by "
        "anyone on the network path. `force_ssl: [hsts: true]` in the endpoint config "
        "redirects to HTTPS and tells browsers never to use HTTP again. A notice, because TLS "
        "is often terminated by a load balancer the config cannot show; `config/prod.exs` is "
        "checked together with `config/runtime.exs` and the endpoint when they are reviewed."
    ),
    bad_example=(
        "# file: config/prod.exs\n"
        "import Config\n"
        'config :shop, ShopWeb.Endpoint, cache_static_manifest: "priv/static/manifest.json"\n'
    ),
    good_example=(
        "# file: config/prod.exs\n"
        "import Config\n"
        "config :shop, ShopWeb.Endpoint,\n"
        '  cache_static_manifest: "priv/static/manifest.json",\n'
        "  force_ssl: [hsts: true]\n"
    ),
    applies_to=LIB_AND_CONFIG,
    example_path="config/prod.exs",
    sobelow=("Config.HTTPS",),
    summarize=_tls_summary,
    check_project=_tls_project,
)

RULES = (CSRF, SECURE_HEADERS, CHECK_ORIGIN, FORCE_SSL)
