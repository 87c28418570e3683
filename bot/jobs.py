"""Background work with bounded concurrency, tracked tasks and superseding.

The webhook answers in milliseconds and hands the review to this scheduler. Reviews of one pull
request share a key: a newer head replaces a queued older one (nobody wants a verdict on a commit
that is already outdated), a running older one is told it was superseded so it stops before it
posts anything, and a second request for the head that is already queued, running or just done
is dropped unless it was asked for explicitly (`/ladder recheck`, the Recheck button). GitHub
sends `pull_request.synchronize` and `check_suite.requested` for the same push; this is what
keeps that from becoming two reviews.

Every task is tracked: a crash is logged with the job's delivery id, counted, and reported to
`on_failure` (which lets GitHub redeliver the webhook); shutdown waits for running jobs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Literal

from cachetools import TTLCache

from bot.metrics import Metrics

log = logging.getLogger("ladder.jobs")

Outcome = Literal["queued", "replaced", "duplicate"]


class QueueFull(Exception):
    """More jobs are waiting than the service accepts."""


class ShuttingDown(Exception):
    """The service stopped before the job ran."""


@dataclass(eq=False)
class Job:
    """One unit of background work. `key` groups jobs that supersede each other (one pull
    request); `revision` is what they are about (the head sha)."""

    run: Callable[[Job], Awaitable[None]]
    label: str
    delivery_id: str
    key: Hashable | None = None
    revision: str | None = None
    force: bool = False
    # Whether the job knows its revision is current (a pull_request event, an explicit
    # request). A check_suite event may arrive after a newer push: it never displaces a job
    # for another revision.
    authoritative: bool = True
    # Set when a newer job for the same key arrives while this one runs.
    superseded_by: str | None = None
    dropped: bool = False
    enqueued_at: float = field(default_factory=time.monotonic)

    @property
    def superseded(self) -> bool:
        return self.superseded_by is not None


class Scheduler:
    def __init__(
        self,
        *,
        workers: int,
        max_queue: int,
        metrics: Metrics,
        on_failure: Callable[[Job, BaseException], None] | None = None,
        recent_ttl: float = 600.0,
    ) -> None:
        self.workers = workers
        self.max_queue = max_queue
        self.metrics = metrics
        self.on_failure = on_failure
        self._queue: asyncio.Queue[Job] = asyncio.Queue()
        self._pending: dict[Hashable, Job] = {}
        self._running: dict[Hashable, Job] = {}
        self._busy = 0
        self._depth = 0
        self._tasks: list[asyncio.Task[None]] = []
        # (key, revision) reviewed lately: an automatic request for the same head is dropped.
        self._recent: TTLCache[tuple[Hashable, str], bool] = TTLCache(
            maxsize=10_000, ttl=recent_ttl
        )
        self._idle = asyncio.Event()
        self._idle.set()
        self._no_running = asyncio.Event()
        self._no_running.set()
        self._closing = False
        self._held: list[Job] = []

    # --- state ---------------------------------------------------------------------------

    @property
    def depth(self) -> int:
        """Jobs waiting for a worker."""
        return self._depth

    @property
    def running(self) -> int:
        return self._busy

    @property
    def saturated(self) -> bool:
        return self._depth >= self.max_queue

    # --- submitting ----------------------------------------------------------------------

    def submit(self, job: Job) -> Outcome:
        """Queue `job`; raises QueueFull when the queue is at its bound."""
        outcome: Outcome = "queued"
        key = job.key
        if key is not None:
            pending = self._pending.get(key)
            running = self._running.get(key)
            same = job.revision is not None and not job.force
            if same and pending is not None and pending.revision == job.revision:
                return "duplicate"
            if same and running is not None and running.revision == job.revision:
                return "duplicate"
            if same and (key, job.revision) in self._recent:
                return "duplicate"
            if not job.authoritative and any(
                other is not None and other.revision != job.revision
                for other in (pending, running)
            ):
                return "duplicate"
            if pending is not None:
                pending.dropped = True
                self._depth -= 1
                outcome = "replaced"
                log.info(
                    "queued job replaced by a newer one",
                    extra={"job": pending.label, "by": job.label},
                )
            if running is not None and running.superseded_by is None:
                running.superseded_by = job.revision or job.delivery_id
        if outcome == "queued" and self.saturated:
            raise QueueFull(f"{self._depth} jobs are waiting (LADDER_MAX_QUEUE={self.max_queue})")
        if key is not None:
            self._pending[key] = job
        self._depth += 1
        self._idle.clear()
        self._queue.put_nowait(job)
        self._gauge()
        return outcome

    # --- running -------------------------------------------------------------------------

    def start(self) -> None:
        if self._tasks:
            return
        for n in range(self.workers):
            self._tasks.append(asyncio.create_task(self._worker(), name=f"ladder-worker-{n}"))

    async def stop(self, grace: float = 30.0) -> None:
        """Start nothing new, let running jobs finish (up to `grace` seconds), then cancel the
        workers. Jobs still queued are reported, not started: one that began near the end of
        the grace would only be cancelled seconds later."""
        self._closing = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._no_running.wait(), timeout=grace)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        # Work that never started: say so, and let its delivery be redelivered.
        while not self._queue.empty():
            self._held.append(self._queue.get_nowait())
        held, self._held = self._held, []
        for job in held:
            if job.dropped:
                continue
            log.warning(
                "queued job dropped at shutdown",
                extra={"job": job.label, "delivery_id": job.delivery_id},
            )
            if self.on_failure is not None:
                with contextlib.suppress(Exception):
                    self.on_failure(job, ShuttingDown("the service stopped before this job ran"))
        self._pending.clear()
        self._depth = 0
        self._closing = False
        self._idle.set()
        self._gauge()

    async def join(self) -> None:
        """Wait until no job is queued or running (tests and the demo use this)."""
        await self._idle.wait()

    async def _worker(self) -> None:
        while True:
            job = await self._queue.get()
            try:
                if job.dropped:
                    continue
                if self._closing:
                    self._held.append(job)  # reported by stop(), never started
                    continue
                await self._run(job)
            finally:
                self._queue.task_done()
                if self._depth == 0 and self._busy == 0:
                    self._idle.set()

    async def _run(self, job: Job) -> None:
        key = job.key
        if key is not None and self._pending.get(key) is job:
            del self._pending[key]
        self._depth -= 1
        self._busy += 1
        self._no_running.clear()
        if key is not None:
            self._running[key] = job
        self._gauge()
        try:
            await job.run(job)
            if key is not None and job.revision is not None and not job.superseded:
                self._recent[(key, job.revision)] = True
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a failed job must never take a worker down
            log.exception(
                "background job failed",
                extra={"job": job.label, "delivery_id": job.delivery_id},
            )
            if self.on_failure is not None:
                # A bug in the callback must not take the worker down either: after
                # `workers` such bugs nothing would run any more, with no sign of it.
                try:
                    self.on_failure(job, exc)
                except Exception:
                    log.exception(
                        "on_failure callback failed",
                        extra={"job": job.label, "delivery_id": job.delivery_id},
                    )
        finally:
            self._busy -= 1
            if self._busy == 0:
                self._no_running.set()
            if key is not None and self._running.get(key) is job:
                del self._running[key]
            self._gauge()

    def _gauge(self) -> None:
        self.metrics.queue_depth.set(self._depth)
        self.metrics.reviews_running.set(self._busy)
