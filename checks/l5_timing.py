"""L5 secure: secrets compared in variable time, and passwords hashed with a fast hash.

`==` on binaries stops at the first differing byte, so the time a comparison takes tells an
attacker how many leading bytes of their guess were right; a token or HMAC can then be guessed
byte by byte. `Plug.Crypto.secure_compare/2` takes the same time whatever the inputs. The same
leak exists in a pin match (`^expected_token ->`). Sobelow has no check for this.

Passwords need a deliberately slow, salted hash (Argon2, Bcrypt, Pbkdf2 via their libraries);
`:crypto.hash(:sha256, password)` is fast enough to brute-force billions of guesses a second.
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

SECRET_NAME = re.compile(
    r"(token|secret|signature|digest|hmac|password|passwd|api_?key|csrf)", re.IGNORECASE
)
# SECRET_NAME for lower-cased ASCII text.
_SECRET_WORD = re.compile(SECRET_NAME.pattern)
# Names that mention a secret but hold metadata about it, not the secret itself.
NOT_SECRET_NAME = re.compile(
    r"(_(type|kind|name|id|at|count|length|size|confirmation|ttl|version|format|hint|field|"
    r"expires_at|expiry|valid|present|required|changed)$|^(is_|has_))",
    re.IGNORECASE,
)
PASSWORD_NAME = re.compile(r"(password|passwd|passphrase|^pwd$|^pass$)", re.IGNORECASE)
COMPARISONS = ("==", "!=", "===", "!==")
# A cheap text gate before looking at every unary operator for `^secret` pins.
_PIN_TEXT = re.compile(
    r"\^\s*[\w.]*(token|secret|signature|digest|hmac|password|passwd|api_?key|csrf)",
    re.IGNORECASE,
)
QUERY_MACROS = frozenset({"from", "where", "or_where", "having", "join", "on", "select"})


def _value_name(node: Node) -> str | None:
    """The name a compared value is known by: `token`, `user.token`, `params["token"]`."""
    if node.type == "identifier":
        return elixir.text(node)
    if node.type == "call" and elixir.arguments_node(node) is None:
        target = node.child_by_field_name("target")
        right = target.child_by_field_name("right") if target is not None else None
        if target is not None and target.type == "dot" and right is not None:
            return elixir.text(right)
    if node.type == "access_call":
        keys = [c for c in node.named_children if c.type in ("string", "atom")]
        if len(node.named_children) == 2 and keys and keys[0] == node.named_children[1]:
            raw = elixir.string_literal(keys[0])
            return raw if raw is not None else elixir.text(keys[0]).lstrip(":")
    return None


def _secret_name(node: Node) -> str | None:
    name = _value_name(node)
    if name is None or not SECRET_NAME.search(name) or NOT_SECRET_NAME.search(name):
        return None
    return name


def _trivial(node: Node) -> bool:
    """Comparisons with nil, atoms, numbers or "" leak nothing secret."""
    if node.type in ("nil", "atom", "boolean", "integer", "float"):
        return True
    text = elixir.string_literal(node)
    return text == ""


def _in_query(node: Node) -> bool:
    """`where: t.token == ^token` runs in the database, not in the BEAM."""
    for anc in elixir.ancestors(node):
        if anc.type == "call":
            name = elixir.local_name(anc)
            if name in QUERY_MACROS:
                return True
            if name in elixir.DEF_KINDS:
                return False
        if anc.type == "unary_operator":
            op = anc.child_by_field_name("operator")
            if op is not None and op.type == "^":
                return True
    return False


def _compare(ctx: FileContext) -> Iterable[Finding]:
    comparisons = ctx.index.binary_operators(*COMPARISONS)
    if not comparisons and "^" not in ctx.text:
        return ()  # no comparison and no pin: without starting a generator
    return _compare_found(ctx, comparisons)


def _compare_found(ctx: FileContext, comparisons: list[Node]) -> Iterator[Finding]:
    text = ctx.text
    # A secret's name is written inside the comparison, so a comparison whose text names no
    # secret word is skipped without asking the tree. Byte offsets are character offsets, and
    # lower-casing is SECRET_NAME's case folding, only when the file is ASCII; otherwise every
    # comparison is looked at.
    ascii_text = len(text) == len(ctx.source)
    search = _SECRET_WORD.search
    for node in comparisons:
        if ascii_text and search(text[node.start_byte : node.end_byte].lower()) is None:
            continue
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        if left is None or right is None or _trivial(left) or _trivial(right):
            continue
        name = _secret_name(left) or _secret_name(right)
        if name is None or _in_query(node) or _has_pin(node):
            continue
        op = node.child_by_field_name("operator")
        yield _finding(ctx, node, f"`{elixir.text(op)}` compares `{name}`", node)
    if not _pins_a_secret(text):
        return
    for node in ctx.index.nodes("unary_operator"):
        op = node.child_by_field_name("operator")
        operand = node.child_by_field_name("operand")
        if op is None or op.type != "^" or operand is None:
            continue
        name = _secret_name(operand)
        if name is None or not _in_pattern(node) or _in_query(node.parent or node):
            continue
        yield _finding(ctx, node, f"the pin match `^{name}` compares a secret", operand)


def _pins_a_secret(text: str) -> bool:
    """`_PIN_TEXT.search(text)`, tried only where a `^` is (most files have few or none)."""
    find, match = text.find, _PIN_TEXT.match
    at = find("^")
    while at != -1:
        if match(text, at) is not None:
            return True
        at = find("^", at + 1)
    return False


def _has_pin(node: Node) -> bool:
    return any(
        n.type == "unary_operator"
        and (op := n.child_by_field_name("operator")) is not None
        and op.type == "^"
        for n in elixir.walk(node)
    )


def _in_pattern(node: Node) -> bool:
    """A pin inside a case/fn clause head or the left side of `=`."""
    child = node
    for anc in elixir.ancestors(node):
        if anc.type == "stab_clause":
            return anc.child_by_field_name("left") == child
        if anc.type == "binary_operator":
            op = anc.child_by_field_name("operator")
            if op is not None and op.type in ("=", "<-"):
                return anc.child_by_field_name("left") == child
        if anc.type in ("call", "do_block", "body", "anonymous_function"):
            return False
        child = anc
    return False


def _finding(ctx: FileContext, at: Node, what: str, value: Node) -> Finding:
    origin = sec.high_origin(ctx, value)
    severity = origin.severity if origin is not None else Severity.WARNING
    why = f" ({origin.describe()})" if origin is not None else ""
    return ctx.finding(
        TIMING_COMPARE,
        at,
        f"{what} in variable time: the time taken leaks how many leading bytes match{why}",
        severity=severity,
        fix="use `Plug.Crypto.secure_compare(a, b)`",
    )


def _fast_hash(ctx: FileContext) -> Iterable[Finding]:
    return _fast_hash_found(ctx) if sec.calls_module(ctx, ":crypto") else ()


def _fast_hash_found(ctx: FileContext) -> Iterator[Finding]:
    for call in ctx.index.remote_calls(":crypto", "hash", "mac", "hmac"):
        args = elixir.call_args(call)
        for arg in args[1:]:
            name = _password_name(arg)
            if name is None:
                continue
            fun = elixir.remote_name(call)
            label = f":crypto.{fun[1]}" if fun else ":crypto.hash"
            yield ctx.finding(
                WEAK_PASSWORD_HASH,
                call,
                f"`{label}` on `{name}`: a fast hash lets a leaked database be brute-forced",
                fix="hash passwords with Argon2, Bcrypt or Pbkdf2 "
                "(`Argon2.hash_pwd_salt/1`, `Bcrypt.hash_pwd_salt/1`)",
            )
            break


def _password_name(node: Node) -> str | None:
    for n in elixir.walk(node):
        name = _value_name(n) if n.type in ("identifier", "call", "access_call") else None
        if name is not None and PASSWORD_NAME.search(name) and not NOT_SECRET_NAME.search(name):
            return name
    return None


TIMING_COMPARE = Rule(
    id="L5.timing-unsafe-compare",
    severity=Severity.ERROR,
    title="Secret compared with == instead of a constant-time comparison",
    explanation=(
        "`==` on two binaries returns as soon as a byte differs, so its running time reveals "
        "how much of a guessed token, signature or HMAC is right; an attacker who can time "
        "requests recovers the secret byte by byte. `Plug.Crypto.secure_compare/2` always "
        "takes the same time. Reported for `==`/`!=` and pin matches (`^token ->`) on values "
        "named like token/secret/signature/digest/hmac/password; comparisons with nil or atoms "
        "and Ecto query conditions are fine. High confidence (error) when the value comes from "
        "the request, otherwise a warning."
    ),
    bad_example=(
        "defmodule Shop.Webhooks do\n"
        '  @moduledoc "Webhooks."\n'
        "  def valid?(payload, signature) do\n"
        "    expected = sign(payload)\n"
        "    expected == signature\n"
        "  end\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.Webhooks do\n"
        '  @moduledoc "Webhooks."\n'
        "  def valid?(payload, signature) do\n"
        "    expected = sign(payload)\n"
        "    Plug.Crypto.secure_compare(expected, signature)\n"
        "  end\n"
        "end\n"
    ),
    applies_to=CODE,
    check=_compare,
)

WEAK_PASSWORD_HASH = Rule(
    id="L5.weak-password-hash",
    severity=Severity.WARNING,
    title="Password hashed with a fast general-purpose hash",
    explanation=(
        "SHA-2, MD5 and HMAC are built to be fast: a GPU tries billions of guesses a second "
        "against a leaked `:crypto.hash(:sha256, password)`. Password hashes must be slow, "
        "salted and tunable: use Argon2 (`argon2_elixir`), Bcrypt (`bcrypt_elixir`) or "
        "Pbkdf2 (`pbkdf2_elixir`), as `mix phx.gen.auth` does."
    ),
    bad_example=(
        "defmodule Shop.Accounts do\n"
        '  @moduledoc "Accounts."\n'
        "  def hash_password(password) do\n"
        "    :crypto.hash(:sha256, password) |> Base.encode16()\n"
        "  end\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.Accounts do\n"
        '  @moduledoc "Accounts."\n'
        "  def hash_password(password) do\n"
        "    Argon2.hash_pwd_salt(password)\n"
        "  end\n"
        "end\n"
    ),
    applies_to=CODE,
    check=_fast_hash,
)

RULES = (TIMING_COMPARE, WEAK_PASSWORD_HASH)
