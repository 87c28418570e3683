"""L5 (secure) rules: positive, negative (the safe patterns) and suppressed cases for each rule,
and the sobelow-style confidence model (high -> error, medium -> warning)."""

from __future__ import annotations

from textwrap import dedent

import pytest

from checks import (
    l5_dos_rce,
    l5_mass_assignment,
    l5_phoenix_config,
    l5_secrets,
    l5_sql,
    l5_timing,
    l5_xss,
)
from checks import security_support as sec
from checks.config import Config, RuleSetting
from checks.context import FileContext, SourceFile
from checks.model import Finding, Rule, Severity
from checks.sources import prepare
from tests.conftest import findings_for, lines_of


def src(text: str) -> str:
    return dedent(text).lstrip("\n")


def direct(rule: Rule, source: str, path: str = "lib/shop/x.ex") -> list[Finding]:
    """Run a rule's check without the engine: the per-finding severity (confidence) as the
    rule chose it (the engine currently overrides it with the rule's default severity)."""
    config = Config()
    prepared = prepare(path, source.encode(), config)
    assert isinstance(prepared, SourceFile)
    assert rule.check is not None
    return list(rule.check(FileContext.build(prepared, config)))


CONTROLLER = "lib/shop_web/controllers/page_controller.ex"

# --- SQL ------------------------------------------------------------------------------------

SQL_BAD = src(
    """
    defmodule ShopWeb.SearchController do
      use ShopWeb, :controller

      def index(conn, %{"q" => q}) do
        Repo.query!("SELECT * FROM products WHERE name = '#{q}'")
      end

      def show(conn, params) do
        sql = "SELECT * FROM products WHERE id = " <> params["id"]
        Ecto.Adapters.SQL.query!(Repo, sql, [])
      end

      def raw(conn, params) do
        table = pick(conn)
        Repo.query("SELECT * FROM #{table}")
      end

      def frag(conn, %{"col" => col}) do
        from(p in Product, where: fragment("lower(#{col}) = 'x'"))
      end

      def streamed(conn, _params) do
        q = "SELECT #{conn.assigns.col} FROM t"
        Ecto.Adapters.SQL.stream(Repo, q)
      end
    end
    """
)


def test_sql_injection_positive_with_confidence():
    found = findings_for(l5_sql.SQL_INJECTION, SQL_BAD, path=CONTROLLER)
    assert lines_of(found) == [5, 10, 15, 19, 24]
    sev = {f.line: f.severity for f in direct(l5_sql.SQL_INJECTION, SQL_BAD, CONTROLLER)}
    assert sev == {
        5: Severity.ERROR,
        10: Severity.ERROR,
        15: Severity.WARNING,
        19: Severity.ERROR,
        24: Severity.WARNING,
    }
    messages = {f.line: f.message for f in found}
    assert "high confidence: `q` comes from the action's params" in messages[5]
    assert "built from strings on line 9" in messages[10]
    assert "medium confidence: `table`" in messages[15]


def test_sql_injection_safe_patterns():
    good = src(
        """
        defmodule Shop.Search do
          @table "products"
          def by_name(name), do: Repo.query!("SELECT * FROM products WHERE name = $1", [name])
          def by_id(id), do: Ecto.Adapters.SQL.query!(Repo, "SELECT * FROM t WHERE id = ?", [id])
          def attr, do: Repo.query!("SELECT * FROM #{@table}")
          def run(sql, params), do: Repo.query(sql, params)
          def q(term), do: from(p in P, where: fragment("lower(?)", p.name) == ^term)
          def piped(id), do: "SELECT 1 WHERE $1" |> Repo.query([id])
        end
        """
    )
    assert findings_for(l5_sql.SQL_INJECTION, good) == []


def test_sql_injection_piped_and_suppressed():
    piped = src(
        """
        defmodule Shop.Search do
          def by_name(name), do: "SELECT '#{name}'" |> Repo.query!()
        end
        """
    )
    assert lines_of(findings_for(l5_sql.SQL_INJECTION, piped)) == [2]
    skipped = src(
        """
        defmodule Shop.Search do
          # sobelow_skip ["SQL"]
          def by_name(name) do
            Repo.query!("SELECT '#{name}'")
          end

          def other(name) do
            # ladder:disable-next-line L5.sql-injection -- name is an enum value checked above
            Repo.query!("SELECT '#{name}'")
          end
        end
        """
    )
    assert findings_for(l5_sql.SQL_INJECTION, skipped) == []


# --- XSS --------------------------------------------------------------------------------------


def test_xss_raw_in_code_sigils_and_templates():
    code = src(
        '''
        defmodule ShopWeb.PageController do
          use ShopWeb, :controller
          import Phoenix.HTML

          def show(conn, %{"bio" => bio}) do
            html = raw(bio)
            render(conn, :show, bio: html)
          end

          def helper(text), do: Phoenix.HTML.raw(text)
          def fine, do: raw("<br>")
        end

        defmodule ShopWeb.Card do
          use Phoenix.Component

          def card(assigns) do
            ~H"""
            <div class="card">
              <p>{raw(@body)}</p>
              <%= raw("&nbsp;") %>
              <span><%= raw @title %></span>
            </div>
            """
          end
        end
        '''
    )
    found = findings_for(l5_xss.XSS_RAW, code, path=CONTROLLER)
    assert [(f.line, f.column) for f in found] == [(6, 12), (10, 25), (20, 11), (22, 17)]
    sev = {f.line: f.severity for f in direct(l5_xss.XSS_RAW, code, CONTROLLER)}
    assert sev[6] is Severity.ERROR
    assert sev[10] is Severity.WARNING
    assert "~H template" in found[2].message


def test_xss_raw_in_template_files():
    heex = src(
        """
        <h1><%= @title %></h1>
        <div>
          <%= raw(@post.body) %>
        </div>
        <%# raw(@ignored) is in a comment %>
        <p class={@cls}>{raw(@intro)}</p>
        <p>{raw("<hr>")}</p>
        """
    )
    found = findings_for(l5_xss.XSS_RAW, heex, path="lib/shop_web/templates/post/show.html.heex")
    assert [(f.line, f.column) for f in found] == [(3, 7), (6, 18)]
    eex = "<p>\n<%= Phoenix.HTML.raw(@x) %>\n{raw(@not_heex)}\n</p>\n"
    found = findings_for(l5_xss.XSS_RAW, eex, path="lib/shop_web/templates/p/x.html.eex")
    assert lines_of(found) == [2]


def test_xss_raw_suppressed():
    heex = "<%# ladder:disable-next-line L5.xss-raw -- sanitised by Markdown.render %>\n"
    heex += "<%= raw(@html) %>\n"
    assert findings_for(l5_xss.XSS_RAW, heex, path="lib/shop_web/t/a.html.heex") == []
    code = src(
        """
        defmodule ShopWeb.View do
          # sobelow_skip ["XSS.Raw"]
          def render_body(body), do: raw(body)
        end
        """
    )
    assert findings_for(l5_xss.XSS_RAW, code) == []


def test_xss_html_response():
    code = src(
        """
        defmodule ShopWeb.PageController do
          use ShopWeb, :controller

          def hello(conn, %{"name" => name}), do: html(conn, "<p>#{name}</p>")

          def page(conn, _params) do
            body = Pages.render(conn.assigns.page)
            conn
            |> put_resp_content_type("text/html")
            |> send_resp(200, body)
          end

          def json(conn, _params) do
            body = Jason.encode!(%{a: 1})
            conn |> put_resp_content_type("application/json") |> send_resp(200, body)
          end

          def static(conn, _params), do: html(conn, "<p>hi</p>")
        end
        """
    )
    found = findings_for(l5_xss.XSS_HTML, code, path=CONTROLLER)
    assert lines_of(found) == [4, 10]
    sev = {f.line: f.severity for f in direct(l5_xss.XSS_HTML, code, CONTROLLER)}
    assert sev == {4: Severity.ERROR, 10: Severity.WARNING}
    skipped = code.replace("  def hello", '  # sobelow_skip ["XSS.HTML"]\n  def hello')
    assert lines_of(findings_for(l5_xss.XSS_HTML, skipped, path=CONTROLLER)) == [11]


def test_xss_content_type():
    code = src(
        """
        defmodule ShopWeb.FileController do
          use ShopWeb, :controller

          def show(conn, %{"type" => type}) do
            put_resp_content_type(conn, type)
          end

          def fixed(conn, _), do: put_resp_content_type(conn, "text/csv")

          def other(conn, _) do
            # ladder:disable-next-line L5.xss-content-type -- type comes from our allowlist
            put_resp_content_type(conn, conn.assigns.type)
          end
        end
        """
    )
    found = findings_for(l5_xss.XSS_CONTENT_TYPE, code, path=CONTROLLER)
    assert lines_of(found) == [5]
    assert "high confidence: `type`" in found[0].message


# --- mass assignment --------------------------------------------------------------------------


def test_mass_assignment():
    code = src(
        """
        defmodule Shop.Accounts do
          def a(user, params), do: cast(user, params, Map.keys(params))
          def b(user, attrs), do: user |> cast(attrs, User.__schema__(:fields))
          def c(attrs), do: struct(User, attrs)
          def d(params), do: Map.merge(%User{}, params)
          def e(params), do: %User{} |> Map.merge(params)
          def f(user, attrs), do: cast(user, attrs, [:name, :email])
          def g(opts), do: struct(Config, opts)
          def h(user, changes), do: Map.merge(user, changes)
          def i(params), do: Map.merge(%{a: 1}, params)
        end
        """
    )
    found = findings_for(l5_mass_assignment.MASS_ASSIGNMENT, code)
    assert lines_of(found) == [2, 3, 4, 5, 6]
    assert "Map.keys/1" in found[0].message
    assert "__schema__(:fields)" in found[1].message


def test_mass_assignment_confidence_and_suppression():
    code = src(
        """
        defmodule ShopWeb.UserController do
          use ShopWeb, :controller

          def create(conn, %{"user" => user_params}) do
            Repo.insert(struct(User, user_params))
          end

          # sobelow_skip ["Anything"]
          def update(conn, params) do
            # ladder:disable-next-line L5.mass-assignment -- admin-only endpoint, fields checked
            Repo.insert(struct(User, params))
          end
        end
        """
    )
    found = direct(l5_mass_assignment.MASS_ASSIGNMENT, code, CONTROLLER)
    assert [(f.line, f.severity) for f in found] == [(5, Severity.ERROR), (11, Severity.ERROR)]
    assert lines_of(findings_for(l5_mass_assignment.MASS_ASSIGNMENT, code, CONTROLLER)) == [5]


# --- secrets ----------------------------------------------------------------------------------

PROD = src(
    """
    import Config

    config :shop, ShopWeb.Endpoint,
      secret_key_base: "kqX2v9w0Qm5cD1lKZ8pT6yR3sN7bH4fJ",
      live_view: [signing_salt: "abcdefgh"]

    config :shop, Shop.Repo,
      username: "postgres",
      password: System.get_env("DB_PASSWORD") || "postgres",
      pool_size: 10

    config :shop, :stripe, api_key: "sk_live_123", token_header: "x-token", webhook_secret: ""
    config :shop, :mailer, api_key: "${MAILER_KEY}"
    """
)


def test_hardcoded_secret():
    found = findings_for(l5_secrets.HARDCODED_SECRET, PROD, path="config/prod.exs")
    assert lines_of(found) == [4, 9, 12]
    assert "falls back to a literal" in found[1].message
    assert findings_for(l5_secrets.HARDCODED_SECRET, PROD, path="config/dev.exs") == []
    runtime = src(
        """
        import Config
        if config_env() == :prod do
          config :shop, ShopWeb.Endpoint, secret_key_base: System.fetch_env!("SECRET_KEY_BASE")
          config :shop, Shop.Repo, password: System.get_env("DB_PASSWORD")
        end
        """
    )
    assert findings_for(l5_secrets.HARDCODED_SECRET, runtime, path="config/runtime.exs") == []


def test_hardcoded_secret_suppressed_and_tuned():
    text = src(
        """
        import Config
        # ladder:disable-next-line L5.hardcoded-secret -- public test key of the sandbox
        config :shop, :stripe, api_key: "pk_test_123"
        config :shop, :stripe, publishable_key: "pk_test_456"
        """
    )
    config = Config(
        rules={"L5.hardcoded-secret": RuleSetting(params={"allow_keys": ["publishable_key"]})}
    )
    assert findings_for(l5_secrets.HARDCODED_SECRET, text, "config/config.exs", config) == []


def test_secret_read_at_compile_time():
    text = src(
        """
        import Config
        config :shop, Shop.Repo,
          url: System.get_env("DATABASE_URL"),
          password: System.fetch_env!("DB_PASS"),
          pool_size: String.to_integer(System.get_env("POOL_SIZE") || "10")

        config :shop, :token, System.get_env("GITHUB_TOKEN")
        # ladder:disable-next-line L5.secret-read-at-compile-time -- CI-only build secret
        config :shop, :license_key, System.get_env("LICENSE_KEY")
        """
    )
    rule = l5_secrets.COMPILE_TIME_ENV
    assert lines_of(findings_for(rule, text, path="config/prod.exs")) == [3, 4, 7]
    assert findings_for(rule, text, path="config/runtime.exs") == []
    assert findings_for(rule, text, path="config/test.exs") == []


# --- timing -----------------------------------------------------------------------------------


def test_timing_unsafe_compare():
    code = src(
        """
        defmodule ShopWeb.WebhookController do
          use ShopWeb, :controller

          def create(conn, %{"signature" => signature} = params) do
            if sign(params) == signature, do: ok(conn), else: deny(conn)
          end

          defp check(user, given) do
            user.api_token != given
          end

          def pinned(expected_token, value) do
            case value do
              ^expected_token -> :ok
              _ -> :error
            end
          end

          def fine(user, token) do
            token == nil or user.token_type == :bearer or
              Plug.Crypto.secure_compare(user.token, token)
          end

          def query(token), do: from(t in Token, where: t.token == ^token)
        end
        """
    )
    rule = l5_timing.TIMING_COMPARE
    found = findings_for(rule, code, path=CONTROLLER)
    assert lines_of(found) == [5, 9, 14]
    sev = {f.line: f.severity for f in direct(rule, code, CONTROLLER)}
    assert sev == {5: Severity.ERROR, 9: Severity.WARNING, 14: Severity.WARNING}
    assert "secure_compare" in (found[0].fix or "")
    suppressed = code.replace(
        "    user.api_token != given",
        "    # ladder:disable-next-line L5.timing-unsafe-compare -- both are public ids\n"
        "    user.api_token != given",
    )
    assert lines_of(findings_for(rule, suppressed, path=CONTROLLER)) == [5, 15]


def test_timing_pin_of_a_bare_token():
    code = src(
        """
        defmodule Shop.Tokens do
          def check(token, given) do
            case given do
              ^token -> :ok
              _ -> :error
            end
          end
        end
        """
    )
    assert lines_of(findings_for(l5_timing.TIMING_COMPARE, code)) == [4]


def test_weak_password_hash():
    code = src(
        """
        defmodule Shop.Accounts do
          def hash(password), do: :crypto.hash(:sha256, password)
          def hash2(user), do: :crypto.hash(:md5, "#{user.salt}#{user.password}")
          def digest(body), do: :crypto.hash(:sha256, body)
          def good(password), do: Bcrypt.hash_pwd_salt(password)
          # ladder:disable-next-line L5.weak-password-hash -- legacy import, rehashed at login
          def legacy(password), do: :crypto.hash(:sha, password)
        end
        """
    )
    assert lines_of(findings_for(l5_timing.WEAK_PASSWORD_HASH, code)) == [2, 3]


# --- DoS / RCE ----------------------------------------------------------------------------


def test_atom_exhaustion():
    code = src(
        """
        defmodule ShopWeb.SortController do
          use ShopWeb, :controller

          def index(conn, %{"sort" => sort}), do: json(conn, String.to_atom(sort))
          def other(conn, _), do: List.to_atom(conn.assigns.chars)
          def interp(conn, params), do: :"sort_#{params["by"]}"
          def fine(conn, _), do: {String.to_atom("literal"), :"plain", String.to_existing_atom(x)}
          def helper(name), do: :erlang.binary_to_atom(name, :utf8)

          # sobelow_skip ["DOS"]
          def skipped(conn, %{"s" => s}), do: String.to_atom(s)
        end
        """
    )
    rule = l5_dos_rce.ATOM_EXHAUSTION
    found = findings_for(rule, code, path=CONTROLLER)
    assert lines_of(found) == [4, 5, 6, 8]
    sev = {f.line: f.severity for f in direct(rule, code, CONTROLLER)}
    assert sev[4] is Severity.ERROR
    assert sev[5] is Severity.WARNING
    assert sev[6] is Severity.ERROR
    assert "String.to_existing_atom/1" in (found[0].fix or "")


def test_unsafe_binary_to_term():
    code = src(
        """
        defmodule Shop.Cache do
          def a(blob), do: :erlang.binary_to_term(blob)
          def b(blob), do: :erlang.binary_to_term(blob, [:used])
          def c(blob), do: :erlang.binary_to_term(blob, [:safe])
          def d(blob), do: Plug.Crypto.non_executable_binary_to_term(blob, [:safe])
          # sobelow_skip ["Misc.BinToTerm"]
          def e(blob), do: :erlang.binary_to_term(blob)
        end
        """
    )
    assert lines_of(findings_for(l5_dos_rce.BINARY_TO_TERM, code)) == [2, 3]


def test_code_eval():
    code = src(
        """
        defmodule Shop.Rules do
          def a(src), do: Code.eval_string(src)
          def b(path), do: EEx.eval_file(path, assigns: [])
          def c, do: Code.eval_string("1 + 1")
          def d(q), do: Code.eval_quoted(q)
          # ladder:disable-next-line L5.code-eval -- the config DSL is trusted operator input
          def e(src), do: Code.eval_string(src)
        end
        """
    )
    assert lines_of(findings_for(l5_dos_rce.CODE_EVAL, code)) == [2, 3, 5]


def test_command_injection():
    code = src(
        """
        defmodule ShopWeb.ToolController do
          use ShopWeb, :controller

          def run(conn, %{"cmd" => cmd}), do: System.cmd(cmd, [])
          def os(conn, %{"f" => f}), do: :os.cmd(~c"ls #{f}")
          def sh(conn, %{"q" => q}), do: System.cmd("sh", ["-c", "grep " <> q])
          def fine(conn, %{"f" => f}), do: System.cmd("convert", [f, "out.png"])
          def fine2(conn, _), do: :os.cmd(~c"uptime")
          # sobelow_skip ["CI.System"]
          def skipped(conn, %{"cmd" => cmd}), do: System.cmd(cmd, [])
        end
        """
    )
    found = findings_for(l5_dos_rce.COMMAND_INJECTION, code, path=CONTROLLER)
    assert lines_of(found) == [4, 5, 6]
    assert all(
        f.severity is Severity.ERROR
        for f in direct(l5_dos_rce.COMMAND_INJECTION, code, CONTROLLER)
    )


def test_path_traversal():
    code = src(
        """
        defmodule ShopWeb.DownloadController do
          use ShopWeb, :controller

          def show(conn, %{"name" => name}) do
            path = Path.join("priv/exports", name)
            send_file(conn, 200, path)
          end

          def raw(conn, _params) do
            File.read!(conn.params["file"])
          end

          def dl(conn, params), do: send_download(conn, {:file, params["path"]})

          def by_id(conn, %{"id" => id}) do
            export = Shop.Exports.get!(id)
            send_file(conn, 200, export.path)
          end

          def internal(conn, _), do: File.read!(Application.app_dir(:shop, "priv/x"))
          defp helper(path), do: File.read!(path)

          # sobelow_skip ["Traversal"]
          def skipped(conn, %{"name" => name}), do: File.rm!(name)
        end
        """
    )
    found = findings_for(l5_dos_rce.PATH_TRAVERSAL, code, path=CONTROLLER)
    assert lines_of(found) == [6, 10, 13]
    assert "high confidence: `path` is derived from `name` (request params)" in found[0].message
    # Outside a controller only `conn.params` is known to be request data.
    plain = code.replace("Web.DownloadController", ".Downloads").replace(
        "use ShopWeb, :controller", ""
    )
    assert lines_of(findings_for(l5_dos_rce.PATH_TRAVERSAL, plain, path="lib/shop/files.ex")) == [
        10
    ]


def test_liveview_params_are_request_data():
    code = src(
        """
        defmodule ShopWeb.SearchLive do
          use ShopWeb, :live_view

          def handle_event("sort", %{"by" => by}, socket) do
            {:noreply, assign(socket, sort: String.to_atom(by))}
          end
        end
        """
    )
    found = direct(l5_dos_rce.ATOM_EXHAUSTION, code, "lib/shop_web/live/search_live.ex")
    assert [(f.line, f.severity) for f in found] == [(5, Severity.ERROR)]
    assert "handle_event params" in found[0].message


# --- Phoenix config ---------------------------------------------------------------------------

ROUTER = src(
    """
    defmodule ShopWeb.Router do
      use ShopWeb, :router

      pipeline :browser do
        plug :accepts, ["html"]
        plug :fetch_session
        plug :fetch_live_flash
      end

      pipeline :api do
        plug :accepts, ["json"]
      end

      # ladder:disable-next-line L5.csrf-protection-missing, L5.secure-headers-missing -- webhook
      pipeline :hooks do
        plug :accepts, ["html"]
        plug :fetch_session
      end

      pipeline :ok do
        plug :accepts, ["html"]
        plug :fetch_session
        plug :protect_from_forgery
        plug :put_secure_browser_headers
      end
    end
    """
)


def test_csrf_and_headers():
    path = "lib/shop_web/router.ex"
    assert lines_of(findings_for(l5_phoenix_config.CSRF, ROUTER, path=path)) == [4]
    assert lines_of(findings_for(l5_phoenix_config.SECURE_HEADERS, ROUTER, path=path)) == [4]


def test_check_origin_disabled():
    endpoint = src(
        """
        defmodule ShopWeb.Endpoint do
          use Phoenix.Endpoint, otp_app: :shop
          socket "/live", Phoenix.LiveView.Socket, websocket: [check_origin: false]
          socket "/ok", ShopWeb.Socket, websocket: [check_origin: ["https://shop.example"]]
          # ladder:disable-next-line L5.check-origin-disabled -- dev-only socket behind VPN
          socket "/dev", ShopWeb.DevSocket, websocket: [check_origin: false]
          @doc "check_origin: false in a string is not code"
        end
        """
    )
    rule = l5_phoenix_config.CHECK_ORIGIN
    assert lines_of(findings_for(rule, endpoint, path="lib/shop_web/endpoint.ex")) == [3]
    config = "import Config\nconfig :shop, ShopWeb.Endpoint, check_origin: false\n"
    assert lines_of(findings_for(rule, config, path="config/prod.exs")) == [2]
    # Phoenix generates `check_origin: false` in config/dev.exs: exempt by default.
    assert findings_for(rule, config, path="config/dev.exs") == []


def test_force_ssl_missing_is_project_wide():
    rule = l5_phoenix_config.FORCE_SSL
    prod = 'import Config\nconfig :shop, ShopWeb.Endpoint, url: [host: "shop.example"]\n'
    found = findings_for(rule, {"config/prod.exs": prod})
    assert [(f.path, f.line, f.severity) for f in found] == [
        ("config/prod.exs", 2, Severity.NOTICE)
    ]
    runtime = "import Config\nconfig :shop, ShopWeb.Endpoint, force_ssl: [hsts: true]\n"
    assert findings_for(rule, {"config/prod.exs": prod, "config/runtime.exs": runtime}) == []
    commented = prod + "# config :shop, ShopWeb.Endpoint, force_ssl: [hsts: true]\n"
    assert len(findings_for(rule, {"config/prod.exs": commented})) == 1
    url_only = prod.replace('"shop.example"', '"https://shop.example"')
    assert len(findings_for(rule, {"config/prod.exs": url_only})) == 1
    comment = "# ladder:disable-next-line L5.force-ssl-missing -- TLS ends at the LB\n"
    suppressed = prod.replace("config :shop", comment + "config :shop")
    assert findings_for(rule, {"config/prod.exs": suppressed}) == []


# --- shared machinery -------------------------------------------------------------------------


def test_template_expression_positions():
    text = 'a <%= x %>\n<p class={@c}>\n  <%= y(1,\n 2) %></p>{"}"}'
    exprs = list(sec.template_expressions(text, line=10, column=5))
    assert [(e.code.strip(), e.line, e.column) for e in exprs] == [
        ("x", 10, 10),
        ("y(1,\n 2)", 12, 6),
        ("@c", 11, 11),
        ('"}"', 13, 12),
    ]


@pytest.mark.parametrize(
    "rule",
    [
        r
        for m in (
            l5_dos_rce,
            l5_mass_assignment,
            l5_phoenix_config,
            l5_secrets,
            l5_sql,
            l5_timing,
            l5_xss,
        )
        for r in m.RULES
    ],
    ids=lambda r: r.id,
)
def test_rule_is_l5_and_blocks_or_is_documented_notice(rule):
    assert rule.level == 5
    assert not rule.id.startswith("L5.migration-")
    assert rule.severity.blocks or rule.id == "L5.force-ssl-missing"
