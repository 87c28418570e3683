"""End-to-end harness: the real service (create_app) against the one GitHub simulator.

Deliveries are the real payloads in tests/fixtures/webhook-examples, signed with a test secret
exactly as GitHub signs them. The simulator is seeded with the repository, installation and pull
request each payload names, so the payloads are sent unmodified wherever possible.
"""

from __future__ import annotations

import copy
import functools
import json
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.app import SERVICE, Service, create_app
from bot.config import Settings
from bot.demo import local_settings, new_key, seed_pull, sign
from bot.github import Limits
from bot.simulator import Simulator

EXAMPLES = Path(__file__).parent / "fixtures" / "webhook-examples"
SECRET = "test-webhook-secret"
APP_ID = 4242


def payload(name: str) -> dict[str, Any]:
    """A fresh copy of a real webhook payload (tests may change one field of it)."""
    return copy.deepcopy(_load(name))


@functools.cache
def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text())
    return data


def raw_payload(name: str) -> bytes:
    return (EXAMPLES / f"{name}.json").read_bytes()


@functools.cache
def keys() -> tuple[str, bytes]:
    """(private PEM, public PEM) of the test App's key, made once per run (RSA is slow)."""
    return new_key()


def settings(api_url: str, **overrides: Any) -> Settings:
    private, _ = keys()
    base = local_settings(api_url, private, webhook_secret=SECRET, elixir=False, app_id=APP_ID)
    return replace(base, **overrides)


@dataclass
class Harness:
    sim: Simulator
    app: web.Application
    client: TestClient[Any, Any]
    last_delivery: str = ""

    @property
    def service(self) -> Service:
        return self.app[SERVICE]

    async def deliver(
        self,
        event: str,
        body: dict[str, Any] | bytes,
        *,
        delivery: str | None = None,
        secret: str | None = SECRET,
        headers: dict[str, str] | None = None,
    ) -> aiohttp.ClientResponse:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.last_delivery = delivery or str(uuid.uuid4())
        sent = {
            "Content-Type": "application/json",
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": self.last_delivery,
            "User-Agent": "GitHub-Hookshot/test",
        }
        if secret is not None:
            sent["X-Hub-Signature-256"] = sign(data, secret)
        sent.update(headers or {})
        return await self.client.post("/webhook", data=data, headers=sent)

    async def settle(self) -> None:
        """Wait until every queued review and command has finished."""
        await self.service.scheduler.join()

    async def close(self) -> None:
        await self.client.close()


async def start(
    sim: Simulator,
    *,
    github_options: dict[str, Any] | None = None,
    limits: Limits | None = None,
    request_timeout: float = 2.0,
    service: dict[str, Any] | None = None,
    **setting_overrides: Any,
) -> Harness:
    """The real app against `sim`: settings overrides as keywords, Service options in
    `service`, quick retries unless `github_options` say otherwise."""
    options = {"backoff": 0.01, "max_wait": 5.0}
    options.update(github_options or {})
    app = create_app(
        settings(sim.base_url, **setting_overrides),
        github_options=options,
        limits=limits,
        request_timeout=request_timeout,
        **(service or {}),
    )
    client: TestClient[Any, Any] = TestClient(TestServer(app))
    await client.start_server()
    return Harness(sim, app, client)


# --- the sample pull request ------------------------------------------------------------------

BASE_TREE: dict[str, bytes] = {
    "mix.exs": b"defmodule Shop.MixProject do\n  use Mix.Project\n\n  def project do\n"
    b'    [app: :shop, version: "0.1.0", elixir: "~> 1.14"]\n  end\nend\n',
    "lib/shop/accounts.ex": b'defmodule Shop.Accounts do\n  @moduledoc """\n  Accounts.\n'
    b'  """\n\n  @doc """\n  Fetches a user.\n\n      iex> Shop.Accounts.ping()\n      :pong\n'
    b'  """\n  @spec ping() :: :pong\n  def ping, do: :pong\nend\n',
    "test/shop/accounts_test.exs": b"defmodule Shop.AccountsTest do\n"
    b"  use ExUnit.Case, async: true\n\n"
    b'  test "ping answers pong" do\n    assert Shop.Accounts.ping() == :pong\n  end\nend\n',
}

# The change adds a function with a missing @spec, a SQL injection and a debugging leftover.
HEAD_ACCOUNTS = (
    b'defmodule Shop.Accounts do\n  @moduledoc """\n  Accounts.\n  """\n\n'
    b'  @doc """\n  Fetches a user.\n\n      iex> Shop.Accounts.ping()\n      :pong\n  """\n'
    b"  @spec ping() :: :pong\n  def ping, do: :pong\n\n"
    b'  @doc """\n  Finds users by name prefix.\n  """\n'
    b"  def search(prefix) do\n"
    b"    IO.inspect(prefix)\n"
    b"    Repo.query!(\"SELECT * FROM users WHERE name LIKE '#{prefix}%'\")\n"
    b"  end\nend\n"
)


def head_tree(**changes: bytes) -> dict[str, bytes]:
    tree = dict(BASE_TREE)
    tree["lib/shop/accounts.ex"] = HEAD_ACCOUNTS
    tree.update({k.replace("__", "/"): v for k, v in changes.items()})
    return tree


def seed_opened(sim: Simulator, *, head: dict[str, bytes] | None = None, **extra: Any) -> None:
    """Seed the repository, installation and PR that pull_request.opened.json names."""
    tree = head if head is not None else head_tree()
    seed_pull(sim, _load("pull_request.opened"), base=dict(BASE_TREE), head=tree, **extra)
