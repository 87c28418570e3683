"""Service latency: webhook acknowledgement and a whole review, against the GitHub simulator.

1. Ack latency: 200 signed `pull_request.opened` deliveries sent at once (distinct delivery ids)
   to the real service on loopback; p50/p99 of the time until each 202 arrives.
   Target (issue 3): p99 < 20 ms.
2. Review latency: a 50-file pull request (generated Elixir, a mix of added and modified files)
   with 30 ms of injected latency on every GitHub call; time from delivery until the Check Run is
   completed, and the GitHub calls the review made. Target: < 1.5 s when write pacing is not
   triggered (a single review stays far below the write budget).

    python bench/webhook.py
    python bench/webhook.py --deliveries 500 --files 100 --latency 0.05
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import multiprocessing
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import generate  # noqa: E402

from bot.app import SERVICE, create_app  # noqa: E402
from bot.demo import local_settings, new_key, seed_pull, sign  # noqa: E402
from bot.simulator import Simulator  # noqa: E402

EXAMPLE = ROOT / "tests" / "fixtures" / "webhook-examples" / "pull_request.opened.json"
SECRET = "bench-secret"


def pull_trees(files: int, seed: int = 11) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """(base, head): `files` changed lib files; half added, half modified (every 9th line of
    the base differs), plus a few unchanged tests as context."""
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp), 1.0, seed=seed)
        sources = {
            p.relative_to(tmp).as_posix(): p.read_bytes()
            for p in sorted(Path(tmp).rglob("*.ex*"))
        }
    lib = [p for p in sources if p.startswith("lib/")]
    chosen = rng.sample(lib, files)
    base = {p: d for p, d in sources.items() if p.startswith("test/")}
    base["mix.exs"] = b"defmodule Shop.MixProject do\n  use Mix.Project\nend\n"
    head = dict(base)
    for i, path in enumerate(chosen):
        head[path] = sources[path]
        if i % 2:
            lines = sources[path].split(b"\n")
            base[path] = b"\n".join(
                line + b"  # old" if n % 9 == 4 else line for n, line in enumerate(lines)
            )
    return base, head


async def serve(
    sim: Simulator, private_pem: str, use_elixir: bool, *, timings: list[float] | None = None
) -> tuple[web.AppRunner, str]:
    settings = local_settings(sim.base_url, private_pem, webhook_secret=SECRET, elixir=use_elixir)
    app = create_app(settings)
    if timings is not None:

        @web.middleware
        async def timed(request: web.Request, handler: Any) -> web.StreamResponse:
            started = time.perf_counter()
            try:
                response: web.StreamResponse = await handler(request)
                return response
            finally:
                if request.path == "/webhook":
                    timings.append((time.perf_counter() - started) * 1000)

        app.middlewares.append(timed)

        async def collected(_request: web.Request) -> web.Response:
            await app[SERVICE].scheduler.join()
            data = list(timings)
            timings.clear()
            return web.json_response(data)

        app.router.add_get("/bench-timings", collected)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    # GitHub opens a connection per delivery: a burst needs a listen backlog above the
    # default 128, or the kernel drops SYNs and the client retries after a second.
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}/webhook"


def headers(body: bytes) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-GitHub-Event": "pull_request",
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": sign(body, SECRET),
    }


def _server_process(ready: Any, stop: Any) -> None:
    """The service and the simulator in their own process, as in production: the load
    generator must not share the service's event loop."""
    logging.basicConfig(level=logging.CRITICAL)

    async def run() -> None:
        body = EXAMPLE.read_bytes()
        private, public = new_key()
        async with Simulator(app_id=4242, public_key_pem=public) as sim:
            base, head = pull_trees(5)
            seed_pull(sim, json.loads(body), base=base, head=head)
            runner, url = await serve(sim, private, use_elixir=False, timings=[])
            ready.put(url)
            await asyncio.get_running_loop().run_in_executor(None, stop.wait)
            await runner.cleanup()

    asyncio.run(run())


def _floor_process(ready: Any, stop: Any) -> None:
    """The floor: an aiohttp handler that reads the body and answers 202, nothing else. What a
    burst costs here is the HTTP stack's share, which no webhook handler can go below."""

    async def run() -> None:
        app = web.Application()
        timings: list[float] = []

        async def accept(request: web.Request) -> web.Response:
            started = time.perf_counter()
            await request.read()
            response = web.json_response({"status": "queued"}, status=202)
            timings.append((time.perf_counter() - started) * 1000)
            return response

        async def collected(_request: web.Request) -> web.Response:
            data = list(timings)
            timings.clear()
            return web.json_response(data)

        app.router.add_post("/webhook", accept)
        app.router.add_get("/bench-timings", collected)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        ready.put(f"http://127.0.0.1:{runner.addresses[0][1]}/webhook")
        await asyncio.get_running_loop().run_in_executor(None, stop.wait)
        await runner.cleanup()

    asyncio.run(run())


def _quantiles(times: list[float]) -> dict[str, float]:
    times = sorted(times)
    return {
        "p50_ms": round(statistics.median(times), 2),
        "p99_ms": round(times[max(0, math.ceil(len(times) * 0.99) - 1)], 2),
        "max_ms": round(times[-1], 2),
    }


async def _deliver(host: str, port: int, body: bytes) -> tuple[float, int]:
    """One delivery over a fresh connection, written as raw HTTP/1.1: an HTTP client library
    in the load generator costs more per request than the service does, and would measure
    itself."""
    request = (
        "POST /webhook HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "X-GitHub-Event: pull_request\r\n"
        f"X-GitHub-Delivery: {uuid.uuid4()}\r\n"
        f"X-Hub-Signature-256: {sign(body, SECRET)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode() + body
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(request)
    response = await reader.read()
    elapsed = (time.perf_counter() - started) * 1000
    writer.close()
    status = int(response.split(b" ", 2)[1]) if response else 0
    return elapsed, status


async def _send_all(url: str, deliveries: int, rate: float | None) -> dict[str, Any]:
    body = EXAMPLE.read_bytes()
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", int(parts.port or 80)
    async with aiohttp.ClientSession() as client:
        for _ in range(5):  # warm up; the first delivery queues the one real review
            await _deliver(host, port, body)
        async with client.get(url.replace("/webhook", "/bench-timings")) as r:
            await r.read()

        async def one(delay: float) -> tuple[float, int]:
            await asyncio.sleep(delay)
            return await _deliver(host, port, body)

        delays = [i / rate if rate else 0.0 for i in range(deliveries)]
        results = await asyncio.gather(*(one(d) for d in delays))
        async with client.get(url.replace("/webhook", "/bench-timings")) as r:
            server = await r.json()
    return {
        "statuses": dict(Counter(s for _, s in results)),
        "client_observed": _quantiles([t for t, _ in results]),
        "server_handling": _quantiles(server),
    }


def _measure(target: Any, deliveries: int, rate: float) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    ready, stop = ctx.Queue(), ctx.Event()
    server = ctx.Process(target=target, args=(ready, stop), daemon=True)
    server.start()
    try:
        url = ready.get(timeout=60)
        burst = asyncio.run(_send_all(url, deliveries, None))
        paced = asyncio.run(_send_all(url, deliveries, rate))
    finally:
        stop.set()
        server.join(timeout=30)
    return {f"{deliveries}_at_once": burst, f"{deliveries}_paced_at_{rate:g}_per_second": paced}


def ack_latency(deliveries: int, rate: float) -> dict[str, Any]:
    return {
        "ladder": _measure(_server_process, deliveries, rate),
        "floor_trivial_aiohttp_handler": _measure(_floor_process, deliveries, rate),
    }


async def review_latency(files: int, latency: float, use_elixir: bool) -> dict[str, Any]:
    body = EXAMPLE.read_bytes()
    payload = json.loads(body)
    private, public = new_key()
    base, head = pull_trees(files)
    async with Simulator(app_id=4242, public_key_pem=public) as sim:
        seed_pull(sim, payload, base=base, head=head)
        runner, url = await serve(sim, private, use_elixir)
        service = runner.app[SERVICE]
        try:
            deadline = time.monotonic() + 30
            while not service.engine.ready and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            sim.latency = latency
            async with aiohttp.ClientSession() as client:
                started = time.perf_counter()
                async with client.post(url, data=body, headers=headers(body)) as response:
                    status = response.status
                await service.scheduler.join()
                elapsed = time.perf_counter() - started
        finally:
            await runner.cleanup()
    run = sim.check_runs[-1]
    calls = Counter(f"{r.method} {r.operation_id}" for r in sim.requests)
    return {
        "files": files,
        "latency_ms_per_call": latency * 1000,
        "ack_status": status,
        "seconds": round(elapsed, 3),
        "check_run": f"{run['status']}/{run.get('conclusion')}: {run['output'].get('title')}",
        "annotations": len(run.get("annotations", [])),
        "inline_comments": len(sim.review_comments),
        "github_calls": len(sim.requests),
        "calls_by_operation": dict(sorted(calls.items())),
        "invalid_requests": len(sim.invalid_requests),
        "elixir_helper": service.engine.helper_state,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--deliveries", type=int, default=200)
    parser.add_argument("--rate", type=float, default=200.0, help="paced deliveries per second")
    parser.add_argument("--files", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.03)
    parser.add_argument("--runs", type=int, default=3, help="review runs (best and median)")
    parser.add_argument("--no-elixir", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL)
    ack = ack_latency(args.deliveries, args.rate)
    print("ack latency:", json.dumps(ack, indent=2))
    reviews = [
        asyncio.run(review_latency(args.files, args.latency, not args.no_elixir))
        for _ in range(args.runs)
    ]
    seconds = sorted(r["seconds"] for r in reviews)
    print("review latency (last run):", json.dumps(reviews[-1], indent=2))
    print(
        f"review seconds over {args.runs} runs: best {seconds[0]}, median "
        f"{statistics.median(seconds)}"
    )


if __name__ == "__main__":
    main()
