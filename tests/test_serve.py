"""`ladder serve` as an operator runs it: a separate process configured by the environment,
logging JSON lines, answering health checks, reviewing against GITHUB_API_URL, and refusing to
start with a message that names the bad setting."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp

from bot.demo import sign
from bot.simulator import Simulator
from tests import harness

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _env(api_url: str, port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "LADDER_"))}
    env.update(
        GITHUB_APP_ID=str(harness.APP_ID),
        GITHUB_PRIVATE_KEY=harness.keys()[0].replace("\n", "\\n"),  # one-line form
        GITHUB_WEBHOOK_SECRET=harness.SECRET,
        GITHUB_API_URL=api_url,
        HOST="127.0.0.1",
        PORT=str(port),
        LADDER_ELIXIR="false",
        LADDER_STOP_GRACE="2",
    )
    env.update(extra)
    return env


def test_serve_refuses_to_start_and_names_the_setting() -> None:
    env = _env("https://api.github.com", _free_port())
    del env["GITHUB_WEBHOOK_SECRET"]
    done = subprocess.run(
        [sys.executable, "-m", "bot", "serve"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == "ladder serve: GITHUB_WEBHOOK_SECRET is not set"


async def test_serve_reviews_a_delivery_and_logs_json_lines() -> None:
    async with Simulator(app_id=harness.APP_ID, public_key_pem=harness.keys()[1]) as sim:
        harness.seed_opened(sim)
        port = _free_port()
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "serve",
            env=_env(sim.base_url, port),
            cwd=ROOT,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            async with aiohttp.ClientSession() as client:
                await _until_ready(client, base)
                body = harness.raw_payload("pull_request.opened")
                async with client.post(
                    f"{base}/webhook",
                    data=body,
                    headers={
                        "Content-Type": "application/json",
                        "X-GitHub-Event": "pull_request",
                        "X-GitHub-Delivery": "serve-1",
                        "X-Hub-Signature-256": sign(body, harness.SECRET),
                    },
                ) as response:
                    assert response.status == 202
                for _ in range(200):
                    if sim.check_runs and sim.check_runs[0]["status"] == "completed":
                        break
                    await asyncio.sleep(0.05)
        finally:
            process.terminate()
            _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
        assert process.returncode == 0
    [run] = sim.check_runs
    assert (run["status"], run["conclusion"]) == ("completed", "failure")
    assert sim.invalid_requests == []
    lines: list[dict[str, Any]] = [json.loads(line) for line in stderr.decode().splitlines()]
    messages = [line["msg"] for line in lines]
    assert messages[0] == "service started"
    assert "service stopped" in messages
    [review] = [line for line in lines if line["msg"] == "review"]
    assert review["delivery_id"] == "serve-1"
    assert review["repo"] == "Codertocat/Hello-World"
    assert review["conclusion"] == "failure"
    assert review["github_calls"] > 5
    webhook = next(line for line in lines if line["msg"] == "webhook")
    assert (webhook["status"], webhook["outcome"]) == (202, "queued")
    # The key and the secret never reach the log.
    text = stderr.decode()
    assert harness.SECRET not in text
    assert "PRIVATE KEY" not in text


async def _until_ready(client: aiohttp.ClientSession, base: str) -> None:
    for _ in range(300):
        try:
            async with client.get(f"{base}/readyz") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientConnectionError:
            pass
        await asyncio.sleep(0.05)
    raise AssertionError("ladder serve did not become ready")
