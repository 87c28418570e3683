"""The scheduler: bounded workers, bounded queue, superseding and de-duplication by key."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Hashable

import pytest

from bot.jobs import Job, QueueFull, Scheduler
from bot.metrics import Metrics

KEY = (1, "octo/repo", 7)


async def until(condition: Callable[[], bool], timeout: float = 2.0) -> None:
    """Yield to the loop until `condition` holds (fails the test after `timeout`)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.001)


class Recorder:
    """Jobs whose runs are recorded and held until the test releases them."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.finished: list[str] = []
        self.cancelled: list[str] = []
        self.gates: dict[str, asyncio.Event] = {}
        self.active = 0
        self.peak = 0

    def gate(self, label: str) -> asyncio.Event:
        return self.gates.setdefault(label, asyncio.Event())

    def job(
        self,
        label: str,
        *,
        key: Hashable | None = None,
        revision: str | None = None,
        force: bool = False,
        hold: bool = False,
        fail: BaseException | None = None,
    ) -> Job:
        gate = self.gate(label)
        if not hold:
            gate.set()

        async def run(job: Job) -> None:
            assert job.label == label
            self.started.append(label)
            self.active += 1
            self.peak = max(self.peak, self.active)
            try:
                await gate.wait()
                if fail is not None:
                    raise fail
                self.finished.append(label)
            except asyncio.CancelledError:
                self.cancelled.append(label)
                raise
            finally:
                self.active -= 1

        return Job(
            run=run,
            label=label,
            delivery_id=f"delivery-{label}",
            key=key,
            revision=revision,
            force=force,
        )


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
def rec() -> Recorder:
    return Recorder()


@pytest.fixture
async def sched(metrics: Metrics) -> AsyncIterator[Scheduler]:
    scheduler = Scheduler(workers=2, max_queue=10, metrics=metrics)
    yield scheduler
    await scheduler.stop(grace=0.05)


# --- concurrency and the queue bound ------------------------------------------------------


async def test_never_more_running_than_workers(
    sched: Scheduler, rec: Recorder, metrics: Metrics
) -> None:
    labels = [f"j{n}" for n in range(5)]
    for label in labels:
        assert sched.submit(rec.job(label, hold=True)) == "queued"
    assert sched.depth == 5
    assert metrics.queue_depth.value() == 5
    sched.start()
    await until(lambda: len(rec.started) == 2)
    # Give the loop a few more turns: a third job must not start while two hold.
    for _ in range(10):
        await asyncio.sleep(0)
    assert rec.started == ["j0", "j1"]
    assert sched.running == 2
    assert sched.depth == 3
    assert metrics.reviews_running.value() == 2
    assert metrics.queue_depth.value() == 3

    rec.gate("j0").set()
    await until(lambda: len(rec.started) == 3)
    assert rec.started[2] == "j2"
    for label in labels:
        rec.gate(label).set()
    await asyncio.wait_for(sched.join(), 2)
    assert sorted(rec.finished) == labels
    assert rec.peak == 2
    assert (sched.running, sched.depth) == (0, 0)
    assert metrics.reviews_running.value() == 0
    assert metrics.queue_depth.value() == 0


async def test_one_worker_runs_jobs_in_order(metrics: Metrics, rec: Recorder) -> None:
    scheduler = Scheduler(workers=1, max_queue=10, metrics=metrics)
    for label in ("a", "b", "c"):
        scheduler.submit(rec.job(label))
    scheduler.start()
    scheduler.start()  # a second start adds no workers
    await asyncio.wait_for(scheduler.join(), 2)
    await scheduler.stop(grace=0.05)
    assert rec.finished == ["a", "b", "c"]
    assert rec.peak == 1


async def test_full_queue_raises(metrics: Metrics, rec: Recorder) -> None:
    scheduler = Scheduler(workers=1, max_queue=2, metrics=metrics)
    scheduler.submit(rec.job("a"))
    assert (scheduler.depth, scheduler.saturated) == (1, False)
    scheduler.submit(rec.job("b"))
    assert scheduler.saturated
    with pytest.raises(QueueFull, match="LADDER_MAX_QUEUE=2"):
        scheduler.submit(rec.job("c"))
    assert scheduler.depth == 2
    assert metrics.queue_depth.value() == 2
    scheduler.start()
    await asyncio.wait_for(scheduler.join(), 2)
    await scheduler.stop(grace=0.05)
    # The refused job never ran; the accepted ones did.
    assert rec.finished == ["a", "b"]


async def test_replacing_a_queued_job_is_allowed_when_the_queue_is_full(
    metrics: Metrics, rec: Recorder
) -> None:
    # A replacement does not grow the queue, so a full queue must not refuse it.
    scheduler = Scheduler(workers=1, max_queue=2, metrics=metrics)
    scheduler.submit(rec.job("other"))
    scheduler.submit(rec.job("old", key=KEY, revision="sha1"))
    assert scheduler.saturated
    assert scheduler.submit(rec.job("new", key=KEY, revision="sha2")) == "replaced"
    assert scheduler.depth == 2
    scheduler.start()
    await asyncio.wait_for(scheduler.join(), 2)
    await scheduler.stop(grace=0.05)
    assert rec.started == ["other", "new"]


async def test_queue_frees_up_as_jobs_start(metrics: Metrics, rec: Recorder) -> None:
    scheduler = Scheduler(workers=1, max_queue=1, metrics=metrics)
    scheduler.submit(rec.job("a", hold=True))
    with pytest.raises(QueueFull):
        scheduler.submit(rec.job("b"))
    scheduler.start()
    await until(lambda: rec.started == ["a"])
    # "a" is running, not waiting: there is room for one more.
    assert scheduler.depth == 0
    assert scheduler.submit(rec.job("b")) == "queued"
    rec.gate("a").set()
    await asyncio.wait_for(scheduler.join(), 2)
    await scheduler.stop(grace=0.05)
    assert rec.finished == ["a", "b"]


# --- superseding and de-duplication -------------------------------------------------------


async def test_newer_revision_replaces_the_queued_older_one(
    sched: Scheduler, rec: Recorder, metrics: Metrics
) -> None:
    old = rec.job("old", key=KEY, revision="sha1")
    assert sched.submit(old) == "queued"
    assert sched.submit(rec.job("new", key=KEY, revision="sha2")) == "replaced"
    assert old.dropped
    assert sched.depth == 1
    assert metrics.queue_depth.value() == 1
    sched.start()
    await asyncio.wait_for(sched.join(), 2)
    assert rec.started == ["new"]
    assert rec.finished == ["new"]


async def test_other_keys_are_independent(sched: Scheduler, rec: Recorder) -> None:
    assert sched.submit(rec.job("a", key=(1, "octo/repo", 1), revision="sha")) == "queued"
    assert sched.submit(rec.job("b", key=(1, "octo/repo", 2), revision="sha")) == "queued"
    assert sched.submit(rec.job("c", key=None, revision="sha")) == "queued"
    assert sched.submit(rec.job("d", key=None, revision="sha")) == "queued"
    sched.start()
    await asyncio.wait_for(sched.join(), 2)
    assert sorted(rec.finished) == ["a", "b", "c", "d"]


async def test_same_revision_is_a_duplicate_while_queued(sched: Scheduler, rec: Recorder) -> None:
    first = rec.job("first", key=KEY, revision="sha1")
    sched.submit(first)
    assert sched.submit(rec.job("second", key=KEY, revision="sha1")) == "duplicate"
    assert not first.dropped
    assert sched.depth == 1
    sched.start()
    await asyncio.wait_for(sched.join(), 2)
    assert rec.started == ["first"]


async def test_same_revision_is_a_duplicate_while_running(
    sched: Scheduler, rec: Recorder
) -> None:
    running = rec.job("running", key=KEY, revision="sha1", hold=True)
    sched.submit(running)
    sched.start()
    await until(lambda: rec.started == ["running"])
    assert sched.submit(rec.job("again", key=KEY, revision="sha1")) == "duplicate"
    # A duplicate is not news: the running job is not told it was superseded.
    assert running.superseded_by is None
    rec.gate("running").set()
    await asyncio.wait_for(sched.join(), 2)
    assert rec.started == ["running"]


async def test_same_revision_is_a_duplicate_after_it_was_reviewed(
    sched: Scheduler, rec: Recorder
) -> None:
    sched.start()
    sched.submit(rec.job("done", key=KEY, revision="sha1"))
    await asyncio.wait_for(sched.join(), 2)
    assert sched.submit(rec.job("late", key=KEY, revision="sha1")) == "duplicate"
    await asyncio.wait_for(sched.join(), 2)
    assert rec.started == ["done"]


async def test_recently_reviewed_expires(metrics: Metrics, rec: Recorder) -> None:
    scheduler = Scheduler(workers=1, max_queue=10, metrics=metrics, recent_ttl=0.02)
    scheduler.start()
    scheduler.submit(rec.job("done", key=KEY, revision="sha1"))
    await asyncio.wait_for(scheduler.join(), 2)
    await asyncio.sleep(0.04)
    assert scheduler.submit(rec.job("later", key=KEY, revision="sha1")) == "queued"
    await asyncio.wait_for(scheduler.join(), 2)
    await scheduler.stop(grace=0.05)
    assert rec.finished == ["done", "later"]


async def test_forced_job_runs_even_for_a_reviewed_revision(
    sched: Scheduler, rec: Recorder
) -> None:
    sched.start()
    sched.submit(rec.job("done", key=KEY, revision="sha1"))
    await asyncio.wait_for(sched.join(), 2)
    assert sched.submit(rec.job("recheck", key=KEY, revision="sha1", force=True)) == "queued"
    await asyncio.wait_for(sched.join(), 2)
    assert rec.finished == ["done", "recheck"]


async def test_forced_job_replaces_a_queued_one_of_the_same_revision(
    sched: Scheduler, rec: Recorder
) -> None:
    queued = rec.job("queued", key=KEY, revision="sha1")
    sched.submit(queued)
    assert sched.submit(rec.job("forced", key=KEY, revision="sha1", force=True)) == "replaced"
    assert queued.dropped
    sched.start()
    await asyncio.wait_for(sched.join(), 2)
    assert rec.started == ["forced"]


async def test_job_without_revision_is_never_a_duplicate(sched: Scheduler, rec: Recorder) -> None:
    # A command reply (no head sha) must not be swallowed as a duplicate of another.
    first = rec.job("first", key=KEY)
    sched.submit(first)
    assert sched.submit(rec.job("second", key=KEY)) == "replaced"
    assert first.dropped


async def test_running_job_is_superseded_by_a_newer_revision(
    sched: Scheduler, rec: Recorder
) -> None:
    old = rec.job("old", key=KEY, revision="sha1", hold=True)
    sched.submit(old)
    sched.start()
    await until(lambda: rec.started == ["old"])
    assert (old.superseded, old.superseded_by) == (False, None)
    new = rec.job("new", key=KEY, revision="sha2", hold=True)
    assert sched.submit(new) == "queued"
    assert old.superseded
    assert old.superseded_by == "sha2"
    # The newer job runs alongside (two workers); a third revision supersedes it in turn.
    await until(lambda: rec.started == ["old", "new"])
    assert sched.submit(rec.job("newest", key=KEY, revision="sha3")) == "queued"
    assert new.superseded_by == "sha3"
    # The first supersession is kept: the old job was already outdated by sha2.
    assert old.superseded_by == "sha2"
    for label in ("old", "new"):
        rec.gate(label).set()
    await asyncio.wait_for(sched.join(), 2)
    assert sorted(rec.finished) == ["new", "newest", "old"]
    # A superseded run is not "reviewed": an automatic request for its head runs again.
    assert sched.submit(rec.job("sha1-again", key=KEY, revision="sha1")) == "queued"
    assert sched.submit(rec.job("sha3-again", key=KEY, revision="sha3")) == "duplicate"


async def test_superseded_by_falls_back_to_the_delivery_id(
    sched: Scheduler, rec: Recorder
) -> None:
    running = rec.job("running", key=KEY, revision="sha1", hold=True)
    sched.submit(running)
    sched.start()
    await until(lambda: rec.started == ["running"])
    sched.submit(rec.job("command", key=KEY))
    assert running.superseded_by == "delivery-command"
    rec.gate("running").set()
    await asyncio.wait_for(sched.join(), 2)


# --- failures -----------------------------------------------------------------------------


async def test_failing_job_reports_and_the_worker_survives(
    metrics: Metrics, rec: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    failures: list[tuple[str, BaseException]] = []
    scheduler = Scheduler(
        workers=1,
        max_queue=10,
        metrics=metrics,
        on_failure=lambda job, exc: failures.append((job.label, exc)),
    )
    boom = RuntimeError("boom")
    scheduler.submit(rec.job("bad", key=KEY, revision="sha1", fail=boom))
    scheduler.submit(rec.job("good"))
    scheduler.start()
    with caplog.at_level(logging.ERROR, logger="ladder.jobs"):
        await asyncio.wait_for(scheduler.join(), 2)
    await scheduler.stop(grace=0.05)
    assert failures == [("bad", boom)]
    assert rec.finished == ["good"]
    [record] = [r for r in caplog.records if r.name == "ladder.jobs"]
    assert record.__dict__["delivery_id"] == "delivery-bad"
    assert record.exc_info is not None
    assert record.exc_info[1] is boom
    # A failed review is not "reviewed": a redelivery of the same head runs again.
    assert scheduler.submit(rec.job("retry", key=KEY, revision="sha1")) == "queued"


async def test_failure_without_callback_is_only_logged(
    sched: Scheduler, rec: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    sched.submit(rec.job("bad", fail=ValueError("nope")))
    sched.submit(rec.job("good"))
    sched.start()
    with caplog.at_level(logging.ERROR, logger="ladder.jobs"):
        await asyncio.wait_for(sched.join(), 2)
    assert rec.finished == ["good"]
    assert any("background job failed" in r.getMessage() for r in caplog.records)
    assert sched.running == 0


async def test_failing_failure_callback_does_not_kill_the_worker(
    metrics: Metrics, rec: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    def on_failure(job: Job, exc: BaseException) -> None:
        raise KeyError("callback bug")

    scheduler = Scheduler(workers=1, max_queue=10, metrics=metrics, on_failure=on_failure)
    scheduler.submit(rec.job("bad", fail=RuntimeError("boom")))
    scheduler.submit(rec.job("good"))
    scheduler.start()
    with caplog.at_level(logging.ERROR, logger="ladder.jobs"):
        await asyncio.wait_for(scheduler.join(), 2)
    await scheduler.stop(grace=0.05)
    assert rec.finished == ["good"]
    messages = [r.getMessage() for r in caplog.records if r.name == "ladder.jobs"]
    assert messages == ["background job failed", "on_failure callback failed"]


# --- join and stop ------------------------------------------------------------------------


async def test_join_returns_at_once_when_idle(sched: Scheduler) -> None:
    await asyncio.wait_for(sched.join(), 0.05)


async def test_join_waits_for_running_and_queued_jobs(sched: Scheduler, rec: Recorder) -> None:
    sched.submit(rec.job("a", hold=True))
    sched.start()
    waiter = asyncio.create_task(sched.join())
    await until(lambda: rec.started == ["a"])
    await asyncio.sleep(0.01)
    assert not waiter.done()
    rec.gate("a").set()
    await asyncio.wait_for(waiter, 2)
    assert rec.finished == ["a"]


async def test_join_is_not_fooled_by_a_dropped_job(sched: Scheduler, rec: Recorder) -> None:
    # The dropped job leaves the queue first; join must still wait for its replacement.
    sched.submit(rec.job("old", key=KEY, revision="sha1"))
    sched.submit(rec.job("new", key=KEY, revision="sha2", hold=True))
    sched.start()
    waiter = asyncio.create_task(sched.join())
    await until(lambda: rec.started == ["new"])
    await asyncio.sleep(0.01)
    assert not waiter.done()
    rec.gate("new").set()
    await asyncio.wait_for(waiter, 2)


async def test_stop_lets_running_jobs_finish_within_the_grace(
    metrics: Metrics, rec: Recorder
) -> None:
    scheduler = Scheduler(workers=2, max_queue=10, metrics=metrics)
    scheduler.submit(rec.job("a", hold=True))
    scheduler.start()
    await until(lambda: rec.started == ["a"])
    asyncio.get_running_loop().call_later(0.02, rec.gate("a").set)
    await asyncio.wait_for(scheduler.stop(grace=2.0), 2)
    assert rec.finished == ["a"]
    assert rec.cancelled == []


async def test_stop_cancels_jobs_that_outlast_the_grace(metrics: Metrics, rec: Recorder) -> None:
    scheduler = Scheduler(workers=1, max_queue=10, metrics=metrics)
    scheduler.submit(rec.job("stuck", hold=True))
    scheduler.start()
    await until(lambda: rec.started == ["stuck"])
    loop = asyncio.get_running_loop()
    began = loop.time()
    await asyncio.wait_for(scheduler.stop(grace=0.03), 2)
    assert loop.time() - began < 1.0
    assert rec.cancelled == ["stuck"]
    assert rec.finished == []
    assert scheduler.running == 0
    assert metrics.reviews_running.value() == 0


async def test_a_job_that_cannot_vouch_for_its_revision_displaces_nothing(
    metrics: Metrics, rec: Recorder
) -> None:
    """check_suite events may name an older commit than the one under review: such a job
    neither replaces a queued job nor supersedes a running one for another revision."""
    scheduler = Scheduler(workers=1, max_queue=10, metrics=metrics)
    scheduler.submit(rec.job("running", key="pr", revision="b", hold=True))
    scheduler.start()
    await until(lambda: rec.started == ["running"])
    scheduler.submit(rec.job("queued", key="pr", revision="c"))
    late = rec.job("late", key="pr", revision="a")
    late.authoritative = False
    assert scheduler.submit(late) == "duplicate"
    rec.gate("running").set()
    await asyncio.wait_for(scheduler.join(), 2)
    assert rec.started == ["running", "queued"]
    await scheduler.stop(grace=0.05)


async def test_stop_reports_queued_jobs_that_never_ran(
    metrics: Metrics, rec: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    failed: list[tuple[str, str]] = []
    scheduler = Scheduler(
        workers=1,
        max_queue=10,
        metrics=metrics,
        on_failure=lambda job, exc: failed.append((job.delivery_id, type(exc).__name__)),
    )
    scheduler.submit(rec.job("stuck", hold=True))
    scheduler.submit(rec.job("waiting"))
    scheduler.start()
    await until(lambda: rec.started == ["stuck"])
    with caplog.at_level(logging.WARNING, logger="ladder.jobs"):
        await asyncio.wait_for(scheduler.stop(grace=0.03), 2)
    assert rec.started == ["stuck"]  # "waiting" never ran
    # Its delivery is handed back (so a redelivery runs it) and the drop is logged.
    assert ("delivery-waiting", "ShuttingDown") in failed
    dropped = [r for r in caplog.records if r.getMessage() == "queued job dropped at shutdown"]
    assert [getattr(r, "delivery_id", None) for r in dropped] == ["delivery-waiting"]
    assert scheduler.depth == 0
    assert metrics.queue_depth.value() == 0


async def test_stop_starts_no_queued_job_during_the_grace(
    metrics: Metrics, rec: Recorder
) -> None:
    failed: list[str] = []
    scheduler = Scheduler(
        workers=1,
        max_queue=10,
        metrics=metrics,
        on_failure=lambda job, _exc: failed.append(job.label),
    )
    scheduler.submit(rec.job("running", hold=True))
    scheduler.submit(rec.job("queued"))
    scheduler.start()
    await until(lambda: rec.started == ["running"])
    stopping = asyncio.create_task(scheduler.stop(grace=5.0))
    await asyncio.sleep(0.02)
    rec.gate("running").set()  # the running job finishes well within the grace
    await asyncio.wait_for(stopping, 2)
    assert rec.finished == ["running"]
    assert rec.started == ["running"]  # the queued one was never started
    assert failed == ["queued"]


async def test_stop_then_start_again(metrics: Metrics, rec: Recorder) -> None:
    scheduler = Scheduler(workers=1, max_queue=10, metrics=metrics)
    scheduler.start()
    await scheduler.stop(grace=0.01)
    scheduler.submit(rec.job("a"))
    scheduler.start()
    await asyncio.wait_for(scheduler.join(), 2)
    await scheduler.stop(grace=0.05)
    assert rec.finished == ["a"]


async def test_metrics_render_the_gauges(
    sched: Scheduler, rec: Recorder, metrics: Metrics
) -> None:
    sched.submit(rec.job("a", hold=True))
    sched.submit(rec.job("b", hold=True))
    sched.submit(rec.job("c", hold=True))
    sched.start()
    await until(lambda: len(rec.started) == 2)
    text = metrics.render()
    assert "ladder_queue_depth 1\n" in text
    assert "ladder_reviews_running 2\n" in text
    for label in "abc":
        rec.gate(label).set()
    await asyncio.wait_for(sched.join(), 2)
