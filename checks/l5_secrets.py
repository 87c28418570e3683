"""L5 secure: secrets in configuration, written in the source or read at compile time.

Two mistakes, both about `config/*.exs`:

* a literal secret (`secret_key_base: "..."`, `password: "..."`, `api_key: "..."`, also a
  literal fallback as in `System.get_env("X") || "dev-secret"`) ends up in git history and in
  every build;
* `System.get_env/fetch_env!` for a secret in a *compile-time* config file (`config.exs`,
  `prod.exs`) bakes the build machine's value into the release, so rotating the secret needs a
  rebuild and the value sits inside the artefact. `config/runtime.exs` runs when the release
  boots: that is where secrets are read.

`config/dev.exs` and `config/test.exs` hold throwaway development values by Phoenix's own
generators, so they are exempt by default (parameter `ignore`); sobelow reports them too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from tree_sitter import Node

from checks import elixir
from checks.context import FileContext
from checks.model import FileKind, Finding, Rule, Severity
from checks.paths import any_match

CONFIG: frozenset[FileKind] = frozenset({"config"})

SECRET_KEY = re.compile(
    r"(^secret_key_base$|_key$|^key$|password|passwd|secret|token|credential|private_key)",
    re.IGNORECASE,
)
# Keys that merely mention a secret word but hold a name or a setting, not a secret.
NOT_SECRET_KEY = re.compile(
    r"(_(type|name|names|header|field|param|ttl|age|length|size|module|adapter|path|url|"
    r"env|prefix|mode|strategy|algorithm|alg|id|count|salt|source)$|^primary_key$)",
    re.IGNORECASE,
)
SECRET_ENV = re.compile(
    r"(SECRET|PASSWORD|PASSWD|TOKEN|_KEY$|^KEY_|_KEY_|CREDENTIAL|PRIVATE|DATABASE_URL)",
    re.IGNORECASE,
)
ENV_FUNCTIONS = ("get_env", "fetch_env", "fetch_env!")

RUNTIME_CONFIG = ("config/runtime.exs", "**/config/runtime.exs", "config/releases.exs")


def _ignored(ctx: FileContext, rule: Rule) -> bool:
    return any_match(ctx.path, ctx.param(rule, "ignore"))


def _is_secret_key(key: str) -> bool:
    return bool(SECRET_KEY.search(key)) and not NOT_SECRET_KEY.search(key)


def _pairs(node: Node) -> Iterator[tuple[str, Node, Node]]:
    """(key, pair, value) for every keyword pair in a config call, nested lists included."""
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == "pair":
            value = current.child_by_field_name("value")
            if value is not None:
                yield elixir.keyword_key(current), current, value
                stack.append(value)
            continue
        if current.type in ("keywords", "list", "arguments", "map", "map_content", "tuple"):
            stack.extend(reversed(current.named_children))
        elif current.type == "binary_operator":
            op = current.child_by_field_name("operator")
            if op is not None and op.type == "=>":
                key = elixir.string_literal(current.child_by_field_name("left"))
                value = current.child_by_field_name("right")
                left = current.child_by_field_name("left")
                if left is not None and left.type == "atom":
                    key = elixir.text(left).lstrip(":")
                if key is not None and value is not None:
                    yield key, current, value
                    stack.append(value)


def _literal_secret(value: Node) -> Node | None:
    """The non-empty literal string a secret is set to (or falls back to with `||`)."""
    text = elixir.string_literal(value)
    if text is not None:
        return value if text.strip() and not text.startswith("${") else None
    if value.type == "binary_operator":
        op = value.child_by_field_name("operator")
        if op is not None and op.type in ("||", "or"):
            right = value.child_by_field_name("right")
            return _literal_secret(right) if right is not None else None
    return None


def _hardcoded(ctx: FileContext) -> Iterator[Finding]:
    if _ignored(ctx, HARDCODED_SECRET):
        return
    allowed = set(ctx.param(HARDCODED_SECRET, "allow_keys"))
    for call in ctx.index.calls_named("config"):
        args = elixir.arguments_node(call)
        if args is None:
            continue
        for key, _pair, value in _pairs(args):
            if key in allowed or not _is_secret_key(key):
                continue
            literal = _literal_secret(value)
            if literal is None:
                continue
            fallback = literal is not value
            what = "falls back to a literal" if fallback else "is a literal string"
            yield ctx.finding(
                HARDCODED_SECRET,
                literal,
                f"secret `{key}` {what} in {ctx.path}: it is in git history and every build",
                fix=f'read it in config/runtime.exs: `{key}: System.fetch_env!("{key.upper()}")`',
            )


def _compile_time_env(ctx: FileContext) -> Iterator[Finding]:
    if _ignored(ctx, COMPILE_TIME_ENV) or any_match(ctx.path, RUNTIME_CONFIG):
        return
    for call in ctx.index.remote_calls("System", *ENV_FUNCTIONS):
        if elixir.enclosing_def(call) is not None:
            continue  # a function body runs when called, not when the config is compiled
        args = elixir.call_args(call)
        env = elixir.string_literal(args[0]) if args else None
        key = _config_key(call)
        secret = (env is not None and SECRET_ENV.search(env)) or (
            key is not None and _is_secret_key(key)
        )
        if not secret:
            continue
        name = f'"{env}"' if env is not None else elixir.text(args[0]) if args else "?"
        fun = elixir.remote_name(call)
        label = f"System.{fun[1]}" if fun else "System.get_env"
        yield ctx.finding(
            COMPILE_TIME_ENV,
            call,
            f"`{label}({name})` in compile-time config {ctx.path} bakes the build machine's "
            "secret into the release",
            fix="move this setting to config/runtime.exs, which runs when the release boots",
        )


def _config_key(call: Node) -> str | None:
    for anc in elixir.ancestors(call):
        if anc.type == "pair":
            return elixir.keyword_key(anc)
        if anc.type == "call" and elixir.local_name(anc) == "config":
            return None
    return None


HARDCODED_SECRET = Rule(
    id="L5.hardcoded-secret",
    severity=Severity.ERROR,
    title="Secret written as a literal in config",
    explanation=(
        "A literal `secret_key_base`, password, token or API key in `config/*.exs` is in git "
        "history forever, in every clone and every build artefact; anyone with read access can "
        "sign session cookies or log in to the database. Read secrets from the environment in "
        "`config/runtime.exs` (`System.fetch_env!/1`). A literal fallback "
        '(`System.get_env("X") || "dev"`) is the same leak. `config/dev.exs` and '
        "`config/test.exs` are exempt by default (parameter `ignore`); keys that hold names "
        "rather than secrets can be listed in `allow_keys`."
    ),
    bad_example=(
        "import Config\n"
        "config :shop, ShopWeb.Endpoint,\n"
        '  secret_key_base: "kqX2v9w0Qm5cD1lKZ8pT6yR3sN7bH4fJ"\n'
    ),
    good_example=(
        "import Config\n"
        "config :shop, ShopWeb.Endpoint,\n"
        '  secret_key_base: System.fetch_env!("SECRET_KEY_BASE")\n'
    ),
    applies_to=CONFIG,
    example_path="config/runtime.exs",
    params={"ignore": ("config/dev.exs", "config/test.exs"), "allow_keys": ()},
    sobelow=("Config.Secrets",),
    check=_hardcoded,
)

COMPILE_TIME_ENV = Rule(
    id="L5.secret-read-at-compile-time",
    severity=Severity.WARNING,
    title="Secret read from the environment in compile-time config",
    explanation=(
        "`config/config.exs` and `config/prod.exs` are evaluated when the release is BUILT: "
        '`System.get_env("DATABASE_PASSWORD")` there captures the build machine\'s value (or '
        "nil) and stores it inside the release. Rotating the secret then needs a rebuild, and "
        "the artefact carries it. `config/runtime.exs` runs when the release boots; read "
        "secrets there."
    ),
    bad_example=(
        "import Config\n"
        "config :shop, Shop.Repo,\n"
        '  password: System.get_env("DATABASE_PASSWORD")\n'
    ),
    good_example=("import Config\nconfig :shop, Shop.Repo,\n  pool_size: 10\n"),
    applies_to=CONFIG,
    example_path="config/prod.exs",
    params={"ignore": ("config/dev.exs", "config/test.exs")},
    check=_compile_time_env,
)

RULES = (HARDCODED_SECRET, COMPILE_TIME_ENV)
