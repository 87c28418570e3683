"""App JWT claims and the installation-token cache, against the GitHub simulator (which verifies
the JWT signature and claims like GitHub does)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import aiohttp
import gidgethub
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from bot.auth import AppCredentials, TokenCache, parse_expires_at
from bot.metrics import Metrics
from bot.simulator import Simulator

INSTALLATION = 42


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def private_pem(rsa_key: rsa.RSAPrivateKey) -> str:
    return rsa_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture(scope="module")
def public_pem(rsa_key: rsa.RSAPrivateKey) -> bytes:
    return rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@pytest.fixture
def credentials(private_pem: str) -> AppCredentials:
    return AppCredentials("1", private_pem)


@pytest.fixture
async def sim(public_pem: bytes) -> AsyncIterator[Simulator]:
    simulator = Simulator(app_id=1, public_key_pem=public_pem)
    await simulator.start()
    simulator.add_installation(INSTALLATION, ["octo/shop"])
    simulator.add_installation(7, ["octo/other"])
    try:
        yield simulator
        assert simulator.invalid_requests == []
    finally:
        await simulator.stop()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as s:
        yield s


class WallClock:
    """Real time plus an offset the test moves, to reach a token's expiry without waiting."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


# --- JWT ------------------------------------------------------------------------------------


def test_jwt_claims_follow_githubs_rules(credentials: AppCredentials, public_pem: bytes) -> None:
    now = 1_800_000_000.0
    token = credentials.jwt(now=now)
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    claims = jwt.decode(
        token,
        public_pem,
        algorithms=["RS256"],
        options={"verify_exp": False, "verify_iat": False},
    )
    assert claims["iss"] == "1"
    assert claims["iat"] == now - 60
    assert claims["exp"] == now + 540
    assert claims["exp"] <= now + 600
    assert claims["exp"] - claims["iat"] <= 600


def test_jwt_without_now_is_valid_right_now(
    credentials: AppCredentials, public_pem: bytes
) -> None:
    claims = jwt.decode(credentials.jwt(), public_pem, algorithms=["RS256"])
    now = time.time()
    assert claims["iat"] <= now - 59
    assert now < claims["exp"] <= now + 600


def test_jwt_is_rejected_by_another_key(credentials: AppCredentials) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(credentials.jwt(), other, algorithms=["RS256"])


def test_numeric_app_id_is_a_string_claim(private_pem: str, public_pem: bytes) -> None:
    creds = AppCredentials(12345, private_pem)  # type: ignore[arg-type]
    claims = jwt.decode(creds.jwt(), public_pem, algorithms=["RS256"])
    assert claims["iss"] == "12345"


def test_repr_and_str_hide_the_private_key(credentials: AppCredentials, private_pem: str) -> None:
    body = private_pem.splitlines()[1]
    for text in (repr(credentials), str(credentials), f"{credentials}"):
        assert "PRIVATE KEY" not in text
        assert body not in text
        assert "'1'" in text


def test_one_line_pem_with_literal_backslash_n_is_accepted(
    private_pem: str, public_pem: bytes
) -> None:
    creds = AppCredentials("1", private_pem.replace("\n", "\\n"))
    assert jwt.decode(creds.jwt(), public_pem, algorithms=["RS256"])["iss"] == "1"


def test_non_rsa_key_is_refused_with_a_clear_error() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    with pytest.raises(ValueError, match="RSA"):
        AppCredentials("1", pem).jwt()


def test_parse_expires_at() -> None:
    assert parse_expires_at("2026-11-21T10:00:00Z") == 1795255200.0
    assert parse_expires_at("2026-11-21T11:00:00+01:00") == 1795255200.0
    assert parse_expires_at("soon") is None
    assert parse_expires_at(None) is None


# --- token cache against the simulator ------------------------------------------------------


async def test_one_token_fetch_serves_many_calls(
    sim: Simulator, session: aiohttp.ClientSession, credentials: AppCredentials
) -> None:
    metrics = Metrics()
    cache = TokenCache(credentials, session, base_url=sim.base_url, metrics=metrics)
    first = await cache.token(INSTALLATION)
    for _ in range(10):
        assert await cache.token(INSTALLATION) == first
    assert sim.tokens_issued == 1
    assert cache.fetches == 1
    assert metrics.token_refreshes.total() == 1
    # The token request was a JWT-authenticated POST with no body.
    posts = [r for r in sim.requests if r.path.endswith("/access_tokens")]
    assert [r.method for r in posts] == ["POST"]
    assert posts[0].path == f"/app/installations/{INSTALLATION}/access_tokens"
    assert posts[0].status == 201


async def test_installations_have_separate_tokens(
    sim: Simulator, session: aiohttp.ClientSession, credentials: AppCredentials
) -> None:
    cache = TokenCache(credentials, session, base_url=sim.base_url)
    a = await cache.token(INSTALLATION)
    b = await cache.token(7)
    assert a != b
    assert sim.tokens_issued == 2
    assert await cache.token(INSTALLATION) == a


async def test_token_is_refreshed_near_expiry(
    public_pem: bytes, session: aiohttp.ClientSession, credentials: AppCredentials
) -> None:
    # One clock for GitHub and the cache: GitHub computes expires_at and checks the JWT with it.
    clock = WallClock()
    sim = Simulator(app_id=1, public_key_pem=public_pem, clock=clock)
    await sim.start()
    sim.add_installation(INSTALLATION, ["octo/shop"])
    try:
        cache = TokenCache(
            credentials, session, base_url=sim.base_url, refresh_margin=300, clock=clock
        )
        first = await cache.token(INSTALLATION)
        # The simulator issues one-hour tokens: 10 s before the refresh point it is still used...
        clock.offset = 3600 - 300 - 10
        assert await cache.token(INSTALLATION) == first
        assert sim.tokens_issued == 1
        # ...and once inside the margin a new one is fetched and cached.
        clock.offset = 3600 - 300 + 1
        second = await cache.token(INSTALLATION)
        assert second != first
        assert sim.tokens_issued == 2
        assert await cache.token(INSTALLATION) == second
        assert sim.tokens_issued == 2
        # The new token lives a full hour from its own issue time.
        clock.offset += 3600 - 300 - 10
        assert await cache.token(INSTALLATION) == second
        clock.offset += 20
        assert await cache.token(INSTALLATION) not in (first, second)
        assert sim.tokens_issued == 3
        assert sim.invalid_requests == []
    finally:
        await sim.stop()


async def test_concurrent_callers_share_one_fetch(
    sim: Simulator, session: aiohttp.ClientSession, credentials: AppCredentials
) -> None:
    sim.latency = 0.1  # keep the first fetch in flight while the others arrive
    cache = TokenCache(credentials, session, base_url=sim.base_url)
    tokens = await asyncio.gather(*(cache.token(INSTALLATION) for _ in range(20)))
    assert len(set(tokens)) == 1
    assert sim.tokens_issued == 1
    # Forced refreshes that overlap also coalesce into a single new token.
    forced = await asyncio.gather(*(cache.token(INSTALLATION, force=True) for _ in range(5)))
    assert len(set(forced)) == 1
    assert forced[0] != tokens[0]
    assert sim.tokens_issued == 2


async def test_drop_evicts_and_the_next_call_refetches(
    sim: Simulator, session: aiohttp.ClientSession, credentials: AppCredentials
) -> None:
    cache = TokenCache(credentials, session, base_url=sim.base_url)
    first = await cache.token(INSTALLATION)
    cache.drop(INSTALLATION, if_token="some-other-token")  # not the cached one: kept
    assert await cache.token(INSTALLATION) == first
    cache.drop(INSTALLATION)
    second = await cache.token(INSTALLATION)
    assert second != first
    assert sim.tokens_issued == 2
    cache.drop(999)  # unknown installation: nothing to do


async def test_token_never_appears_in_the_cache_repr(
    sim: Simulator, session: aiohttp.ClientSession, credentials: AppCredentials
) -> None:
    cache = TokenCache(credentials, session, base_url=sim.base_url)
    token = await cache.token(INSTALLATION)
    assert token not in repr(cache)
    assert token not in repr(cache._tokens)


async def test_wrong_private_key_is_refused_by_github(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = other.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    cache = TokenCache(AppCredentials("1", pem), session, base_url=sim.base_url)
    with pytest.raises(gidgethub.BadRequest) as info:
        await cache.token(INSTALLATION)
    assert info.value.status_code == 401
    assert sim.tokens_issued == 0


async def test_wrong_app_id_is_refused_by_github(
    sim: Simulator, session: aiohttp.ClientSession, private_pem: str
) -> None:
    cache = TokenCache(AppCredentials("2", private_pem), session, base_url=sim.base_url)
    with pytest.raises(gidgethub.BadRequest) as info:
        await cache.token(INSTALLATION)
    assert info.value.status_code == 401
    assert sim.tokens_issued == 0
