"""GitHub App authentication: the App JWT and a cache of installation access tokens.

A GitHub App proves who it is with a short-lived RS256 JWT signed by its private key, and trades
that JWT for an installation token (valid one hour) that every REST call of a review then uses.
Fetching a token costs a request and a signature, so tokens are cached per installation and
refreshed a few minutes before they expire; a per-installation lock makes concurrent reviews of
one installation share a single fetch instead of racing to mint several tokens.

Errors are left as gidgethub exceptions / aiohttp errors: `bot.github.GitHub` calls
`TokenCache.token()` inside its retry loop, so a 5xx or a timeout while minting a token is
retried exactly like any other call, and a 4xx becomes `bot.github.AuthError`.
"""

from __future__ import annotations

import asyncio
import datetime
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import gidgethub
import gidgethub.aiohttp
import jwt as pyjwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot import __version__
from bot.metrics import Metrics

USER_AGENT = f"ladder-bot/{__version__}"
# GitHub recommends backdating `iat` by 60 s against clock drift and rejects `exp` more than
# 10 minutes ahead; 540 s after *now* keeps the token's total lifetime at exactly 10 minutes.
JWT_BACKDATE = 60
JWT_LIFETIME = 540
# When GitHub's answer lacks `expires_at` (it never should), assume the documented hour.
DEFAULT_TOKEN_TTL = 3600.0


@dataclass(frozen=True)
class AppCredentials:
    """The App id and its PEM private key. The key is excluded from repr/str so a settings
    object or a traceback that prints the credentials never leaks it."""

    app_id: str
    private_key: str = field(repr=False)
    _loaded: list[rsa.RSAPrivateKey] = field(
        default_factory=list, init=False, repr=False, compare=False, hash=False
    )

    def _key(self) -> rsa.RSAPrivateKey:
        # Parse the PEM once: RS256 signing itself is cheap, loading the key is not.
        if not self._loaded:
            pem = self.private_key
            if "\n" not in pem and "\\n" in pem:
                # A PEM pasted into a one-line environment variable keeps literal "\n".
                pem = pem.replace("\\n", "\n")
            key = serialization.load_pem_private_key(pem.encode(), password=None)
            if not isinstance(key, rsa.RSAPrivateKey):
                raise ValueError("a GitHub App private key must be an RSA key (RS256)")
            self._loaded.append(key)
        return self._loaded[0]

    def jwt(self, now: float | None = None) -> str:
        """An App JWT (RS256) issued 60 s in the past and valid until now + 540 s."""
        issued = int(time.time() if now is None else now)
        claims = {
            "iat": issued - JWT_BACKDATE,
            "exp": issued + JWT_LIFETIME,
            "iss": str(self.app_id),
        }
        return pyjwt.encode(claims, self._key(), algorithm="RS256")


@dataclass(frozen=True)
class _Token:
    value: str = field(repr=False)
    expires_at: float


def parse_expires_at(value: Any) -> float | None:
    """`expires_at` ("2026-11-21T10:00:00Z") as a POSIX timestamp, None if unusable."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return parsed.timestamp()


class TokenCache:
    """Installation tokens, cached until `expires_at - refresh_margin`.

    `clock` is wall-clock time, the one notion of "now" for both the freshness check (GitHub's
    `expires_at` is an absolute UTC instant) and the JWT's `iat`/`exp`. Tests inject one, shared
    with the simulator, to jump towards expiry without waiting.
    """

    def __init__(
        self,
        credentials: AppCredentials,
        session: aiohttp.ClientSession,
        *,
        base_url: str,
        metrics: Metrics | None = None,
        refresh_margin: float = 300.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.credentials = credentials
        self._session = session
        self.base_url = base_url
        self.metrics = metrics
        self.refresh_margin = refresh_margin
        self._clock = clock
        self._tokens: dict[int, _Token] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self.fetches = 0

    def __repr__(self) -> str:
        return f"TokenCache(base_url={self.base_url!r}, cached={sorted(self._tokens)})"

    def _fresh(self, entry: _Token | None) -> bool:
        return entry is not None and self._clock() < entry.expires_at - self.refresh_margin

    async def token(self, installation_id: int, *, force: bool = False) -> str:
        """A valid token for the installation, fetched at most once per refresh period.

        `force` asks for a token other than the one cached when the call started (after a
        401). Concurrent forced calls still share one fetch: whoever gets the lock second
        finds a token newer than the one it saw and uses that.
        """
        seen = self._tokens.get(installation_id)
        if not force and seen is not None and self._fresh(seen):
            return seen.value
        lock = self._locks.setdefault(installation_id, asyncio.Lock())
        async with lock:
            current = self._tokens.get(installation_id)
            if current is not None and self._fresh(current) and not (force and current is seen):
                return current.value
            fetched = await self._fetch(installation_id)
            self._store(installation_id, fetched)
            return fetched.value

    def drop(self, installation_id: int, *, if_token: str | None = None) -> None:
        """Forget the installation's token (after a 401, or when the installation is deleted
        or suspended). With `if_token`, only if that is still the cached one, so a late 401
        from an old token cannot evict the fresh token another request just fetched."""
        entry = self._tokens.get(installation_id)
        if entry is None or (if_token is not None and entry.value != if_token):
            return
        del self._tokens[installation_id]

    def _store(self, installation_id: int, token: _Token) -> None:
        now = self._clock()
        # Evict tokens that expired anyway, so uninstalled installations do not pile up.
        for key in [k for k, v in self._tokens.items() if v.expires_at <= now]:
            del self._tokens[key]
        self._tokens[installation_id] = token

    async def _fetch(self, installation_id: int) -> _Token:
        gh = gidgethub.aiohttp.GitHubAPI(self._session, USER_AGENT, base_url=self.base_url)
        self.fetches += 1
        if self.metrics is not None:
            self.metrics.token_refreshes.inc()
        data = await gh.post(
            "/app/installations/{installation_id}/access_tokens",
            {"installation_id": installation_id},
            data=b"",
            jwt=self.credentials.jwt(now=self._clock()),
        )
        value = data.get("token") if isinstance(data, dict) else None
        if not isinstance(value, str) or not value:
            raise gidgethub.GitHubException("installation token response carried no token")
        expires = parse_expires_at(data.get("expires_at"))
        if expires is None:
            expires = self._clock() + DEFAULT_TOKEN_TTL
        return _Token(value, expires)
