"""The service's settings, read from the environment once, at start.

A missing or malformed setting stops the start with a message that names the variable, because a
service that boots with a typo in its webhook secret answers every delivery with 401 and looks
healthy while doing it. Secrets are wrapped so that no repr, log line or traceback shows them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


class Secret:
    """A string that never shows itself in a repr or an f-string."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


_APP_ID = re.compile(r"^(?:[1-9]\d{0,11}|Iv[0-9A-Za-z.]{4,40})$")


@dataclass(frozen=True)
class Settings:
    app_id: str
    private_key: Secret = field(repr=False)
    webhook_secret: Secret = field(repr=False)
    api_url: str = "https://api.github.com"
    host: str = "0.0.0.0"
    port: int = 8080
    # Reviews run at the same time (each also bounded by GitHub's limits per installation).
    workers: int = 2
    # Reviews allowed to wait; beyond this the webhook answers 503 so GitHub shows the failed
    # delivery (and it can be redelivered) instead of the bot silently dropping it.
    max_queue: int = 500
    log_level: str = "INFO"
    # Whether to start the Elixir helper for L1 (formatting) and L0 (syntax by the compiler).
    elixir: bool = True
    # Seconds a stopping service lets running reviews finish before cancelling them (whose
    # Check Runs then complete as cancelled). Below Docker's 10 s stop timeout by default.
    stop_grace: float = 8.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        app_id = _required(env, "GITHUB_APP_ID")
        if not _APP_ID.match(app_id):
            raise SettingsError(
                "GITHUB_APP_ID must be the App's numeric id (or its client id, Iv...), "
                f"got {app_id[:20]!r}"
            )
        secret = _required(env, "GITHUB_WEBHOOK_SECRET")
        return cls(
            app_id=app_id,
            private_key=Secret(_private_key(env)),
            webhook_secret=Secret(secret),
            api_url=_url(env.get("GITHUB_API_URL", "").strip() or "https://api.github.com"),
            host=env.get("HOST", "").strip() or "0.0.0.0",
            port=_int(env, "PORT", 8080, 1, 65535),
            workers=_int(env, "LADDER_WORKERS", 2, 1, 64),
            max_queue=_int(env, "LADDER_MAX_QUEUE", 500, 1, 100_000),
            log_level=_choice(
                env, "LADDER_LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR")
            ),
            elixir=_flag(env, "LADDER_ELIXIR", True),
            stop_grace=float(_int(env, "LADDER_STOP_GRACE", 8, 0, 600)),
        )


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise SettingsError(f"{name} is not set")
    return value


def _private_key(env: Mapping[str, str]) -> str:
    inline = env.get("GITHUB_PRIVATE_KEY", "").strip()
    path = env.get("GITHUB_PRIVATE_KEY_PATH", "").strip()
    if inline and path:
        raise SettingsError("set GITHUB_PRIVATE_KEY or GITHUB_PRIVATE_KEY_PATH, not both")
    if inline:
        name = "GITHUB_PRIVATE_KEY"
        # Platforms that take one-line variables store the PEM with literal "\n".
        pem = inline.replace("\\n", "\n")
    elif path:
        name = "GITHUB_PRIVATE_KEY_PATH"
        try:
            pem = Path(path).read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            raise SettingsError(f"GITHUB_PRIVATE_KEY_PATH: cannot read {path}: {exc}") from exc
    else:
        raise SettingsError("GITHUB_PRIVATE_KEY (PEM) or GITHUB_PRIVATE_KEY_PATH is not set")
    try:
        key = load_pem_private_key(pem.encode("ascii", "replace"), password=None)
    except (ValueError, TypeError) as exc:
        raise SettingsError(
            f"{name} is not a PEM private key without a passphrase "
            "(GitHub's download starts with -----BEGIN RSA PRIVATE KEY-----)"
        ) from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise SettingsError(f"{name} must be an RSA key (GitHub App keys are RSA)")
    return pem


def _url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SettingsError(
            f"GITHUB_API_URL must be an http(s) URL such as https://api.github.com, got {value!r}"
        )
    return value.rstrip("/")


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _choice(env: Mapping[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    raw = env.get(name, "").strip().upper()
    if not raw:
        return default
    if raw not in allowed:
        raise SettingsError(f"{name} must be one of {', '.join(allowed)}, got {raw!r}")
    return raw


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")
