"""The Prometheus text rendering and the JSON log lines."""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from typing import Any

import pytest

from bot.logs import JsonFormatter, configure
from bot.metrics import Counter, Gauge, Histogram, Metrics

# --- metrics ------------------------------------------------------------------------------


def test_counter_renders_help_type_and_sorted_series() -> None:
    counter = Counter("ladder_things_total", "Things, by kind.")
    counter.inc(kind="b")
    counter.inc(2, kind="a")
    counter.inc(kind="a")
    assert counter.header() + counter.render() == [
        "# HELP ladder_things_total Things, by kind.",
        "# TYPE ladder_things_total counter",
        'ladder_things_total{kind="a"} 3',
        'ladder_things_total{kind="b"} 1',
    ]
    assert counter.value(kind="a") == 3
    assert counter.value(kind="missing") == 0
    assert counter.total() == 4


def test_labels_are_sorted_by_name_and_values_stringified() -> None:
    counter = Counter("c_total", "c")
    counter.inc(status=404, method="GET")
    # Keyword order does not make a second series.
    counter.inc(method="GET", status="404")
    assert counter.render() == ['c_total{method="GET",status="404"} 2']


def test_unlabelled_series_has_no_braces() -> None:
    gauge = Gauge("g", "A gauge.")
    gauge.set(3)
    gauge.set(1.5)
    assert gauge.render() == ["g 1.5"]
    assert gauge.value() == 1.5


def test_label_values_are_escaped() -> None:
    counter = Counter("c_total", "c")
    counter.inc(path='C:\\dir\n"x"')
    [line] = counter.render()
    assert line == 'c_total{path="C:\\\\dir\\n\\"x\\""} 1'


def test_metric_without_observations_renders_only_its_header() -> None:
    assert Counter("c_total", "c").render() == []
    assert Histogram("h_seconds", "h").render() == []


def test_histogram_buckets_are_cumulative_with_inf_sum_and_count() -> None:
    hist = Histogram("h_seconds", "Durations.", buckets=(1.0, 0.1, 0.5))
    assert hist.buckets == (0.1, 0.5, 1.0)
    for value in (0.05, 0.1, 0.3, 0.7, 2.0):
        hist.observe(value, route="x")
    assert hist.render() == [
        'h_seconds_bucket{route="x",le="0.1"} 2',
        'h_seconds_bucket{route="x",le="0.5"} 3',
        'h_seconds_bucket{route="x",le="1"} 4',
        'h_seconds_bucket{route="x",le="+Inf"} 5',
        'h_seconds_sum{route="x"} 3.15',
        'h_seconds_count{route="x"} 5',
    ]
    assert hist.count(route="x") == 5
    assert hist.count(route="y") == 0


def test_histogram_without_labels() -> None:
    hist = Histogram("h", "h", buckets=(1.0,))
    hist.observe(3)
    assert hist.render() == [
        'h_bucket{le="1"} 0',
        'h_bucket{le="+Inf"} 1',
        "h_sum 3",
        "h_count 1",
    ]


def test_histogram_bucket_counts_never_decrease() -> None:
    hist = Histogram("h_seconds", "h")
    for value in (0.001, 0.02, 0.02, 0.3, 4.0, 12.0, 100.0):
        hist.observe(value)
    counts = [int(line.rsplit(" ", 1)[1]) for line in hist.render() if "_bucket" in line]
    assert counts == sorted(counts)
    assert counts[-1] == 7
    assert len(counts) == len(hist.buckets) + 1


def test_metrics_render_is_valid_exposition_text() -> None:
    metrics = Metrics()
    metrics.webhooks.inc(event="pull_request", outcome="queued")
    metrics.review_seconds.observe(1.2, conclusion="success")
    metrics.queue_depth.set(4)
    text = metrics.render()
    assert text.endswith("\n")
    lines = text.splitlines()
    names = {m.name for m in metrics.all()}
    assert len(names) == len(metrics.all()) == 11
    for name in names:
        # Every metric has exactly one HELP and one TYPE line, HELP first.
        help_at = lines.index(next(x for x in lines if x.startswith(f"# HELP {name} ")))
        assert lines[help_at + 1].startswith(f"# TYPE {name} ")
    sample = re.compile(r'^[a-z_]+(\{([a-z_]+="[^"]*",?)+\})? (\d+(\.\d+)?|\+Inf)$')
    for line in lines:
        assert line.startswith("# ") or sample.match(line), line
    assert 'ladder_webhooks_total{event="pull_request",outcome="queued"} 1' in lines
    assert "ladder_queue_depth 4" in lines
    assert "# TYPE ladder_review_duration_seconds histogram" in lines
    assert 'ladder_review_duration_seconds_bucket{conclusion="success",le="2.5"} 1' in lines
    assert 'ladder_review_duration_seconds_bucket{conclusion="success",le="1"} 0' in lines
    assert 'ladder_review_duration_seconds_count{conclusion="success"} 1' in lines


def test_each_metrics_object_counts_on_its_own() -> None:
    first, second = Metrics(), Metrics()
    first.reviews.inc(conclusion="success")
    assert second.reviews.total() == 0


def test_counter_is_safe_across_threads() -> None:
    counter = Counter("c_total", "c")

    def work() -> None:
        for _ in range(2000):
            counter.inc(kind="x")

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counter.value(kind="x") == 8000


# --- logs ---------------------------------------------------------------------------------


def _record(
    msg: str = "review done",
    args: Any = None,
    extra: dict[str, Any] | None = None,
    exc_info: Any = None,
    level: int = logging.INFO,
) -> logging.LogRecord:
    logger = logging.getLogger("ladder.test")
    return logger.makeRecord(
        logger.name, level, __file__, 1, msg, args, exc_info, extra=extra or None
    )


def test_json_line_has_the_standard_fields() -> None:
    line = JsonFormatter().format(_record("reviewed %s files", (3,), level=logging.WARNING))
    assert "\n" not in line
    data = json.loads(line)
    assert data["msg"] == "reviewed 3 files"
    assert data["level"] == "warning"
    assert data["logger"] == "ladder.test"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", data["ts"])
    # Only the four fields: no LogRecord internals leak into the line.
    assert set(data) == {"ts", "level", "logger", "msg"}


def test_extra_fields_are_included_with_their_types() -> None:
    extra = {
        "delivery_id": "abc-123",
        "pr": 7,
        "findings": 2.5,
        "draft": False,
        "repositories": ["a/b"],
        "when": object(),
    }
    data = json.loads(JsonFormatter().format(_record(extra=extra)))
    assert data["delivery_id"] == "abc-123"
    assert data["pr"] == 7
    assert data["findings"] == 2.5
    assert data["draft"] is False
    assert data["repositories"] == ["a/b"]
    # Values JSON cannot encode are written with str(), not dropped and not a crash.
    assert data["when"].startswith("<object object at")


def test_non_ascii_and_newlines_stay_on_one_line() -> None:
    line = JsonFormatter().format(_record("über\nline two", extra={"title": "naïve\tfix"}))
    assert "\n" not in line
    assert "über" in line
    data = json.loads(line)
    assert data["msg"] == "über\nline two"
    assert data["title"] == "naïve\tfix"


def test_exception_text_is_included() -> None:
    try:
        raise ValueError("bad thing")
    except ValueError:
        record = _record("job failed", exc_info=sys.exc_info(), extra={"job": "j1"})
    line = JsonFormatter().format(record)
    assert "\n" not in line
    data = json.loads(line)
    assert data["msg"] == "job failed"
    assert data["job"] == "j1"
    assert data["exception"].startswith("Traceback (most recent call last):")
    assert data["exception"].rstrip().endswith("ValueError: bad thing")
    assert "exc_info" not in data
    assert "exc_text" not in data


def test_configure_installs_one_json_handler(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    access = logging.getLogger("aiohttp.access")
    saved_access = access.level
    try:
        configure("DEBUG")
        configure("WARNING")  # twice: still one handler, the last level wins
        assert len(root.handlers) == 1
        assert isinstance(root.handlers[0].formatter, JsonFormatter)
        assert root.level == logging.WARNING
        assert access.level == logging.WARNING
        logging.getLogger("ladder.test").warning("hello", extra={"pr": 1})
        logging.getLogger("ladder.test").info("hidden")
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1
        data = json.loads(err[0])
        assert (data["msg"], data["pr"], data["level"]) == ("hello", 1, "warning")
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        access.setLevel(saved_access)
