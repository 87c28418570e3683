"""`ladder demo`: the whole App, end to end, on this machine, with nothing to register.

It starts the GitHub simulator on loopback with a sample pull request (bot/data/demo: an Elixir
project before and after a change), starts the real service against it with a throwaway App key,
delivers the real `pull_request.opened` payload GitHub documents (signed, exactly as GitHub would
send it), waits for the background review, and prints what a pull request author would see: the
Check Run's title, conclusion and summary, the annotations and the inline review comments.
Every request the service sent was validated against GitHub's OpenAPI description; the demo
says how many there were and fails loudly if one was invalid.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
import uuid
from pathlib import Path
from typing import Any, TextIO

import aiohttp
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.app import SERVICE, create_app
from bot.config import Secret, Settings
from bot.simulator import Simulator

DATA = Path(__file__).parent / "data"
DEMO = DATA / "demo"
WEBHOOK_SECRET = "demo-webhook-secret"


def read_tree(root: Path) -> dict[str, bytes]:
    """Every file under `root`, by POSIX path relative to it (dotfiles included)."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


# The sample pull request adds these files; bot/data/demo/base holds the files it modifies, as
# they were before. Everything else is the same on both sides.
ADDED_BY_THE_CHANGE = (
    "lib/shop_web/controllers/user_controller.ex",
    "priv/repo/migrations/20240301000000_add_active_to_users.exs",
)


def demo_trees() -> tuple[dict[str, bytes], dict[str, bytes]]:
    """(base, head) file trees of the sample pull request."""
    head = read_tree(DEMO / "head")
    base = {path: data for path, data in head.items() if path not in ADDED_BY_THE_CHANGE}
    base.update(read_tree(DEMO / "base"))
    return base, head


def new_key() -> tuple[str, bytes]:
    """A throwaway App key: (private PEM, public PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode("ascii")
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public


def local_settings(
    api_url: str,
    private_pem: str,
    *,
    webhook_secret: str = WEBHOOK_SECRET,
    elixir: bool = True,
    workers: int = 2,
    app_id: int = 4242,
) -> Settings:
    """Settings for a service on loopback against the simulator (demo, tests, benchmarks)."""
    return Settings(
        app_id=str(app_id),
        private_key=Secret(private_pem),
        webhook_secret=Secret(webhook_secret),
        api_url=api_url,
        host="127.0.0.1",
        port=0,
        workers=workers,
        elixir=elixir,
    )


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def seed_pull(
    sim: Simulator,
    payload: dict[str, Any],
    *,
    base: dict[str, bytes] | None = None,
    head: dict[str, bytes] | None = None,
    **extra: Any,
) -> None:
    """Give the simulator the repository, installation and pull request a `pull_request`
    payload names, with the given trees (default: the sample pull request)."""
    pull = payload["pull_request"]
    full_name = payload["repository"]["full_name"]
    sim.add_installation(payload["installation"]["id"], [full_name])
    if base is None or head is None:
        base, head = demo_trees()
    sim.add_pull(
        full_name,
        payload["number"],
        base=base,
        head=head,
        head_sha=pull["head"]["sha"],
        base_sha=pull["base"]["sha"],
        author=pull["user"]["login"],
        title=pull["title"],
        base_ref=pull["base"]["ref"],
        head_ref=pull["head"]["ref"],
        **extra,
    )


async def run_demo(out: TextIO, *, use_elixir: bool = True) -> int:
    payload_bytes = (DEMO / "pull_request.opened.json").read_bytes()
    payload = json.loads(payload_bytes)
    private_pem, public_pem = new_key()
    async with Simulator(app_id=4242, public_key_pem=public_pem) as sim:
        seed_pull(sim, payload)
        app = create_app(local_settings(sim.base_url, private_pem, elixir=use_elixir))
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        try:
            service = app[SERVICE]
            await _wait_for_helper(service.engine)
            port = runner.addresses[0][1]
            started = time.perf_counter()
            async with aiohttp.ClientSession() as client:
                response = await client.post(
                    f"http://127.0.0.1:{port}/webhook",
                    data=payload_bytes,
                    headers={
                        "Content-Type": "application/json",
                        "X-GitHub-Event": "pull_request",
                        "X-GitHub-Delivery": str(uuid.uuid4()),
                        "X-Hub-Signature-256": sign(payload_bytes, WEBHOOK_SECRET),
                        "User-Agent": "GitHub-Hookshot/demo",
                    },
                )
                ack = (time.perf_counter() - started) * 1000
                answer = await response.text()
            await service.scheduler.join()
            elapsed = time.perf_counter() - started
        finally:
            await runner.cleanup()
        return _print(out, sim, payload, response.status, answer, ack, elapsed)


async def _wait_for_helper(engine: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not engine.ready and time.monotonic() < deadline:
        await asyncio.sleep(0.05)


def _print(
    out: TextIO,
    sim: Simulator,
    payload: dict[str, Any],
    status: int,
    answer: str,
    ack_ms: float,
    elapsed: float,
) -> int:
    rule = "─" * 78
    pr = f"{payload['repository']['full_name']}#{payload['number']}"
    out.write(
        f"Delivered pull_request.opened for {pr}: HTTP {status} in {ack_ms:.1f} ms {answer}\n"
    )
    out.write(f"Review finished {elapsed:.2f} s after delivery.\n\n")
    runs = sim.check_runs
    if not runs:
        out.write("No check run was created.\n")
        return 1
    run = runs[-1]
    output = run.get("output") or {}
    out.write(f"{rule}\nCheck Run “{run['name']}”: {run['status']} / {run.get('conclusion')}\n")
    out.write(f"Title: {output.get('title')}\n{rule}\n{output.get('summary', '')}\n\n")
    annotations = run.get("annotations", [])
    out.write(f"{rule}\nAnnotations ({len(annotations)})\n{rule}\n")
    for a in annotations:
        out.write(
            f"  {a['path']}:{a['start_line']}  {a['annotation_level']:<7}  {a.get('title', '')}\n"
        )
    comments = sim.review_comments
    out.write(f"\n{rule}\nInline review comments ({len(comments)})\n{rule}\n")
    for c in comments:
        out.write(f"\n▶ {c['path']}:{c.get('line')}\n{c['body']}\n")
    out.write(
        f"\n{len(sim.requests)} GitHub API calls, each validated against GitHub's OpenAPI "
        f"description: {len(sim.invalid_requests)} invalid.\n"
    )
    for problem in sim.invalid_requests:
        out.write(f"  INVALID: {problem}\n")
    ok = run["status"] == "completed" and not sim.invalid_requests
    return 0 if ok else 1
