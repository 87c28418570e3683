"""L5 secure: cross-site scripting, where Phoenix's automatic HTML escaping is switched off.

HEEx and EEx escape every `<%= value %>` and `{value}`; XSS needs an explicit way out:
`raw/1` (`Phoenix.HTML.raw/1`) on something that is not a literal, a controller `html/2` with a
built body, `send_resp` of a variable body after declaring an HTML content type, or a content
type chosen from data. `raw/1` is looked for in `.ex` functions, inside `~H`/`~E` sigils (which
sobelow does not see) and in `.heex`/`.eex` template files, whose code the engine does not
parse: their `<%= ... %>`/`{...}` expressions are parsed here one by one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from tree_sitter import Node

from checks import elixir
from checks import security_support as sec
from checks.context import FileContext
from checks.model import FileKind, Finding, Rule, Severity

CODE: frozenset[FileKind] = frozenset({"lib"})
CODE_AND_TEMPLATES: frozenset[FileKind] = frozenset({"lib", "template"})

RAW_MODULES = ("Phoenix.HTML", "HTML")
_RAW_TEXT = re.compile(r"\braw\b")

_RAW_FIX = (
    "let the template escape the value (`<%= @body %>`), or sanitise it first "
    "(e.g. HtmlSanitizeEx) and keep `raw/1` for literals"
)


def _raw_calls(root: Node) -> Iterator[Node]:
    for node in elixir.walk(root):
        if node.type != "call":
            continue
        if elixir.local_name(node) == "raw" or sec.is_remote(node, RAW_MODULES, ("raw",)):
            yield node


def _xss_raw(ctx: FileContext) -> Iterable[Finding]:
    if ctx.kind == "template":
        return _raw_in_templates(ctx) if "raw" in ctx.text else ()
    calls = ctx.index.calls_named("raw")
    if sec.calls_module(ctx, *RAW_MODULES):
        calls = calls + [n for m in RAW_MODULES for n in ctx.index.remote_calls(m, "raw")]
    # Templates of an Elixir file live in its sigils: only a sigil's text can hold `raw`.
    find = ctx.source.find
    templates = any(
        find(b"raw", s.start_byte, s.end_byte) != -1 for s in ctx.index.nodes("sigil")
    )
    if not calls and not templates:
        return ()  # the common case, without starting a generator
    return _raw_found(ctx, calls, templates)


def _raw_found(ctx: FileContext, calls: list[Node], templates: bool) -> Iterator[Finding]:
    yield from _raw_in_code(ctx, calls)
    if templates:
        yield from _raw_in_templates(ctx)


def _raw_in_code(ctx: FileContext, calls: list[Node]) -> Iterator[Finding]:
    for call in sorted(calls, key=lambda n: n.start_byte):
        if elixir.enclosing_def(call) is None:
            continue
        arg = sec.argument(call, 0)
        if arg is None or elixir.is_literal(arg):
            continue
        origin = sec.origin(ctx, arg)
        if origin is None:
            continue
        yield ctx.finding(
            XSS_RAW,
            call,
            f"`raw/1` marks `{_short(arg)}` as safe HTML, bypassing escaping "
            f"({origin.describe()})",
            severity=origin.severity,
            fix=_RAW_FIX,
        )


def _raw_in_templates(ctx: FileContext) -> Iterator[Finding]:
    where = "template" if ctx.kind == "template" else "~H template"
    for expr in sec.file_templates(ctx):
        if not _RAW_TEXT.search(expr.code):
            continue
        tree = sec.parse_expression(expr.code)
        for call in _raw_calls(tree.root_node):
            args = elixir.call_args(call)
            if not args or elixir.is_literal(args[0]):
                continue
            line, column = expr.position(call)
            yield ctx.finding(
                XSS_RAW,
                line,
                f"`raw/1` in a {where} marks `{_short(args[0])}` as safe HTML, bypassing "
                "escaping (medium confidence: an assign or variable whose origin is not traced)",
                column=column,
                severity=Severity.WARNING,
                fix=_RAW_FIX,
            )


def _short(node: Node) -> str:
    raw = elixir.text(node).replace("\n", " ")
    return raw if len(raw) <= 40 else raw[:37] + "..."


# --- html/2, send_resp, put_resp_content_type ------------------------------------------------

_HTML_TYPE = re.compile(r"html", re.IGNORECASE)


def _html_response(ctx: FileContext) -> Iterable[Finding]:
    index = ctx.index
    if index.calls_named("html") or index.calls_named("send_resp"):
        return _html_response_found(ctx)
    return ()


def _html_response_found(ctx: FileContext) -> Iterator[Finding]:
    for call in ctx.index.calls_named("html"):
        body = sec.argument(call, 1)
        if body is None or elixir.enclosing_def(call) is None or elixir.is_literal(body):
            continue
        origin = sec.origin(ctx, body)
        if origin is None:
            continue
        yield ctx.finding(
            XSS_HTML,
            call,
            f"`html/2` sends `{_short(body)}` as an HTML page without escaping "
            f"({origin.describe()})",
            severity=origin.severity,
            fix="render a template (escaped) or escape with `Phoenix.HTML.html_escape/1`",
        )
    for call in ctx.index.calls_named("send_resp"):
        body = sec.argument(call, 2)
        if body is None or elixir.is_literal(body):
            continue
        def_call = elixir.enclosing_def(call)
        if def_call is None or not _sets_html_type(ctx, def_call):
            continue
        origin = sec.origin(ctx, body)
        if origin is None:
            continue
        yield ctx.finding(
            XSS_HTML,
            call,
            f"`send_resp` sends `{_short(body)}` with an HTML content type, unescaped "
            f"({origin.describe()})",
            severity=origin.severity,
            fix="render a template, escape the body, or send it as text/plain or JSON",
        )


def _sets_html_type(ctx: FileContext, def_call: Node) -> bool:
    for call in ctx.index.calls_named("put_resp_content_type"):
        if not (def_call.start_byte <= call.start_byte < def_call.end_byte):
            continue
        kind = elixir.string_literal(sec.argument(call, 1))
        if kind is not None and _HTML_TYPE.search(kind):
            return True
    return False


def _content_type(ctx: FileContext) -> Iterable[Finding]:
    if ctx.index.calls_named("put_resp_content_type"):
        return _content_type_found(ctx)
    return ()


def _content_type_found(ctx: FileContext) -> Iterator[Finding]:
    for call in ctx.index.calls_named("put_resp_content_type"):
        kind = sec.argument(call, 1)
        if kind is None or elixir.is_literal(kind) or elixir.enclosing_def(call) is None:
            continue
        origin = sec.origin(ctx, kind)
        if origin is None:
            continue
        yield ctx.finding(
            XSS_CONTENT_TYPE,
            call,
            f"the response content type comes from `{_short(kind)}` ({origin.describe()}); "
            "a caller who can choose `text/html` can make the body run as a page",
            severity=origin.severity,
            fix="pick the content type from a fixed allowlist of literals",
        )


XSS_RAW = Rule(
    id="L5.xss-raw",
    severity=Severity.ERROR,
    title="Escaping bypassed with raw/1 on a non-literal",
    explanation=(
        "Phoenix escapes everything a template outputs; `raw/1` (`Phoenix.HTML.raw/1`) turns "
        "that off for its argument. On user-influenced data that is stored or reflected XSS: "
        "a `<script>` in a profile field runs in every visitor's browser with their session. "
        "Only literals are safe to mark raw; sanitise anything else first. Reported in `.ex` "
        "code (confidence from the variable's origin), inside `~H`/`~E` sigils and in "
        "`.heex`/`.eex` templates (medium confidence: assigns are not traced to the "
        "controller)."
    ),
    bad_example=(
        "defmodule ShopWeb.ProductHTML do\n"
        '  @moduledoc "Product views."\n'
        "  use Phoenix.Component\n"
        "  def description(assigns) do\n"
        '    ~H"""\n'
        "    <div><%= raw(@product.description) %></div>\n"
        '    """\n'
        "  end\n"
        "end\n"
    ),
    good_example=(
        "defmodule ShopWeb.ProductHTML do\n"
        '  @moduledoc "Product views."\n'
        "  use Phoenix.Component\n"
        "  def description(assigns) do\n"
        '    ~H"""\n'
        '    <div><%= @product.description %><%= raw("&nbsp;") %></div>\n'
        '    """\n'
        "  end\n"
        "end\n"
    ),
    applies_to=CODE_AND_TEMPLATES,
    sobelow=("XSS.Raw",),
    check=_xss_raw,
)

XSS_HTML = Rule(
    id="L5.xss-html-response",
    severity=Severity.ERROR,
    title="HTML response built from unescaped data",
    explanation=(
        "`html(conn, body)` and `send_resp(conn, status, body)` after "
        '`put_resp_content_type(conn, "text/html")` send `body` to the browser as a page, '
        "with no template escaping in between. If `body` contains request data, an attacker "
        "can inject script. Render a template, escape with `Phoenix.HTML.html_escape/1`, or "
        "send text/plain or JSON."
    ),
    bad_example=(
        "defmodule ShopWeb.GreetController do\n"
        '  @moduledoc "Greetings."\n'
        "  use ShopWeb, :controller\n"
        '  def show(conn, %{"name" => name}) do\n'
        '    html(conn, "<h1>Hello #{name}</h1>")\n'
        "  end\n"
        "end\n"
    ),
    good_example=(
        "defmodule ShopWeb.GreetController do\n"
        '  @moduledoc "Greetings."\n'
        "  use ShopWeb, :controller\n"
        '  def show(conn, %{"name" => name}) do\n'
        "    render(conn, :show, name: name)\n"
        "  end\n"
        "end\n"
    ),
    applies_to=CODE,
    sobelow=("XSS.HTML", "XSS.SendResp"),
    check=_html_response,
)

XSS_CONTENT_TYPE = Rule(
    id="L5.xss-content-type",
    severity=Severity.ERROR,
    title="Response content type taken from data",
    explanation=(
        "`put_resp_content_type(conn, type)` with a variable lets whoever controls `type` "
        "serve an uploaded file or an echoed value as `text/html`, which the browser then runs "
        "as a page (XSS). Choose the content type from a fixed allowlist of literals."
    ),
    bad_example=(
        "defmodule ShopWeb.FileController do\n"
        '  @moduledoc "Files."\n'
        "  use ShopWeb, :controller\n"
        '  def show(conn, %{"type" => type, "id" => id}) do\n'
        "    conn\n"
        "    |> put_resp_content_type(type)\n"
        "    |> send_resp(200, Files.read(id))\n"
        "  end\n"
        "end\n"
    ),
    good_example=(
        "defmodule ShopWeb.FileController do\n"
        '  @moduledoc "Files."\n'
        "  use ShopWeb, :controller\n"
        '  def show(conn, %{"id" => id}) do\n'
        "    conn\n"
        '    |> put_resp_content_type("application/octet-stream")\n'
        "    |> send_resp(200, Files.read(id))\n"
        "  end\n"
        "end\n"
    ),
    applies_to=CODE,
    sobelow=("XSS.ContentType",),
    check=_content_type,
)

RULES = (XSS_RAW, XSS_HTML, XSS_CONTENT_TYPE)
