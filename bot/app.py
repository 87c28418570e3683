"""create_app(): one ClientSession, token cache, limits, scheduler, engine and the routes.

Everything long-lived is created in the app's cleanup context, so it exists once per process,
is shut down in order (stop taking work, finish running reviews, close the session, stop the
Elixir helper) and never at import time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import web
from cachetools import TTLCache

from bot import __version__, webhook
from bot.auth import AppCredentials, TokenCache
from bot.config import Settings
from bot.engine import Engine
from bot.github import GitHub, Limits
from bot.jobs import Job, Scheduler
from bot.metrics import Metrics
from bot.respond import CommandDeps, ReplyThrottle, run_command
from bot.review import Deps, run_review
from bot.routes import CommandRequest, ReviewRequest, Work

log = logging.getLogger("ladder.app")

SERVICE: web.AppKey[Service] = web.AppKey("service")
# Attempts of a deferred job (each after its delay) before it is given up and logged.
DEFERRED_ATTEMPTS = 5


class Service:
    """The state one running service shares between webhooks and background reviews."""

    def __init__(
        self,
        settings: Settings,
        *,
        metrics: Metrics | None = None,
        limits: Limits | None = None,
        engine: Engine | None = None,
        github_options: dict[str, Any] | None = None,
        request_timeout: float = 30.0,
        stop_grace: float | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = metrics or Metrics()
        self.limits = limits or Limits()
        self.engine = engine or Engine(workers=settings.workers, use_elixir=settings.elixir)
        self.github_options = dict(github_options or {})
        self.request_timeout = request_timeout
        # How long a shutdown waits for running reviews before cancelling them (a cancelled
        # review completes its Check Run as cancelled on the way out).
        self.stop_grace = settings.stop_grace if stop_grace is None else stop_grace
        self.credentials = AppCredentials(settings.app_id, settings.private_key.reveal())
        self.scheduler = Scheduler(
            workers=settings.workers,
            max_queue=settings.max_queue,
            metrics=self.metrics,
            on_failure=self._job_failed,
        )
        # Delivery ids already accepted; a failed job forgets its id so a redelivery re-runs.
        self._deliveries: TTLCache[str, bool] = TTLCache(maxsize=100_000, ttl=3 * 24 * 3600)
        self._session: aiohttp.ClientSession | None = None
        self._tokens: TokenCache | None = None
        self.replies = ReplyThrottle()
        # Webhook bodies above webhook.INLINE_BYTES read at the same time (each up to 25 MB).
        self.large_bodies = asyncio.Semaphore(2)
        self._deferred: dict[asyncio.Task[None], Callable[[], Awaitable[None]]] = {}

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.request_timeout, connect=10),
            headers={"User-Agent": f"ladder-bot/{__version__}"},
        )
        self._tokens = TokenCache(
            self.credentials,
            self._session,
            base_url=self.settings.api_url,
            metrics=self.metrics,
        )
        self.engine.start()
        self.scheduler.start()
        log.info(
            "service started",
            extra={"api_url": self.settings.api_url, "workers": self.settings.workers},
        )

    async def stop(self) -> None:
        await self.scheduler.stop(grace=self.stop_grace)
        pending = list(self._deferred.items())
        for task, _work in pending:
            task.cancel()
        await asyncio.gather(*(task for task, _ in pending), return_exceptions=True)
        if pending:
            # One last attempt each (e.g. completing a Check Run), bounded like a cancel.
            log.warning("running deferred work before shutdown", extra={"jobs": len(pending)})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    asyncio.gather(*(work() for _, work in pending), return_exceptions=True),
                    timeout=2.0,
                )
        if self._session is not None:
            await self._session.close()
            self._session = None
        await self.engine.close()
        log.info("service stopped")

    async def cleanup_ctx(self, _app: web.Application) -> AsyncIterator[None]:
        await self.start()
        yield
        await self.stop()

    # --- collaborators ------------------------------------------------------------------

    def github(self, installation_id: int) -> GitHub:
        if self._session is None or self._tokens is None:
            raise RuntimeError("the service is not started")
        return GitHub(
            self._session,
            base_url=self.settings.api_url,
            installation_id=installation_id,
            tokens=self._tokens,
            limits=self.limits,
            metrics=self.metrics,
            **self.github_options,
        )

    @property
    def review_deps(self) -> Deps:
        return Deps(
            github=self.github, engine=self.engine, metrics=self.metrics, later=self.later
        )

    def later(self, delay: float, work: Callable[[], Awaitable[None]], label: str) -> None:
        """Run `work` after `delay` seconds (a Check Run to complete once a rate limit resets
        or an outage passes), again after each failure up to `DEFERRED_ATTEMPTS` times;
        tracked, so shutdown makes one last attempt instead of forgetting it."""

        async def run() -> None:
            for attempt in range(1, DEFERRED_ATTEMPTS + 1):
                await asyncio.sleep(delay)
                try:
                    await work()
                    return
                except Exception:
                    log.warning(
                        "deferred work failed",
                        extra={"job": label, "attempt": attempt},
                        exc_info=True,
                    )
            log.error("deferred work given up", extra={"job": label})

        task = asyncio.create_task(run(), name=label)
        self._deferred[task] = work
        task.add_done_callback(lambda done: self._deferred.pop(done, None))

    # --- work ---------------------------------------------------------------------------

    def submit(self, work: Work) -> str:
        if isinstance(work, ReviewRequest):
            return self.enqueue_review(work)
        return self._enqueue_command(work)

    def enqueue_review(self, request: ReviewRequest) -> str:
        deps = self.review_deps

        async def run(job: Job) -> None:
            await run_review(request, job, deps)

        return self.scheduler.submit(
            Job(
                run=run,
                label=f"review {request.repo.full_name}#{request.number}",
                delivery_id=request.delivery_id,
                key=request.key,
                revision=request.head_sha,
                force=request.force,
                authoritative=request.authoritative,
            )
        )

    def _enqueue_command(self, request: CommandRequest) -> str:
        deps = CommandDeps(
            github=self.github, enqueue_review=self.enqueue_review, throttle=self.replies
        )

        async def run(_job: Job) -> None:
            done = await run_command(request, deps)
            log.info(
                "command",
                extra={
                    "delivery_id": request.delivery_id,
                    "repo": request.repo.full_name,
                    "pr": request.number,
                    "command": request.command.name,
                    "user": request.commenter,
                    "outcome": done,
                },
            )

        return self.scheduler.submit(
            Job(
                run=run,
                label=f"/ladder {request.command.name} {request.repo.full_name}#{request.number}",
                delivery_id=request.delivery_id,
            )
        )

    def seen(self, delivery: str) -> bool:
        return delivery in self._deliveries

    def remember(self, delivery: str) -> None:
        self._deliveries[delivery] = True

    def _job_failed(self, job: Job, _exc: BaseException) -> None:
        self._deliveries.pop(job.delivery_id, None)

    def installation_changed(self, action: str, installation_id: int) -> None:
        if action in ("deleted", "suspend", "new_permissions_accepted") and self._tokens:
            self._tokens.drop(installation_id)
        if action == "deleted":
            self.limits.forget(installation_id)

    # --- health -------------------------------------------------------------------------

    def readiness(self) -> tuple[bool, dict[str, Any]]:
        checks = {
            "config": "loaded",
            "elixir_helper": self.engine.helper_state,
            "queue_depth": self.scheduler.depth,
            "queue_limit": self.scheduler.max_queue,
            "reviews_running": self.scheduler.running,
            "session": "open" if self._session is not None else "closed",
        }
        ready = self._session is not None and self.engine.ready and not self.scheduler.saturated
        return ready, checks


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "alive", "version": __version__})


async def readyz(request: web.Request) -> web.Response:
    ready, checks = request.app[SERVICE].readiness()
    return web.json_response(
        {"status": "ready" if ready else "not ready", **checks}, status=200 if ready else 503
    )


async def metrics(request: web.Request) -> web.Response:
    text = request.app[SERVICE].metrics.render()
    return web.Response(text=text, content_type="text/plain", charset="utf-8")


def create_app(settings: Settings, **service_options: Any) -> web.Application:
    service = Service(settings, **service_options)
    # GitHub's cap: aiohttp refuses bodies *over* client_max_size, so a chunked body one byte
    # over the cap makes `request.read()` raise and the webhook answers 413 itself.
    app = web.Application(client_max_size=webhook.MAX_BODY)
    app[SERVICE] = service
    app.cleanup_ctx.append(service.cleanup_ctx)
    app.router.add_post("/webhook", webhook.receive)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    return app
