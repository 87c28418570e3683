"""Prometheus metrics without a client library: counters, gauges and histograms with labels,
rendered in the text exposition format (version 0.0.4) that `GET /metrics` serves.

The service needs a handful of series (webhooks by event and outcome, review durations, queue
depth, GitHub calls by status); a dependency for that is more surface than it is worth. Every
metric lives in one `Metrics` object owned by the app, never in module globals, so each test
and each app instance counts on its own.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Mapping

LabelKey = tuple[tuple[str, str], ...]

DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


def _key(labels: Mapping[str, str | int]) -> LabelKey:
    return tuple(sorted((k, str(v)) for k, v in labels.items()))


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(key: LabelKey, extra: Iterable[tuple[str, str]] = ()) -> str:
    pairs = [*key, *extra]
    if not pairs:
        return ""
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in pairs) + "}"


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


class _Metric:
    kind = "untyped"

    def __init__(self, name: str, help_text: str) -> None:
        self.name = name
        self.help = help_text
        # Worker threads (the engine runs off the event loop) may record too.
        self._lock = threading.Lock()

    def header(self) -> list[str]:
        return [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} {self.kind}"]

    def render(self) -> list[str]:  # pragma: no cover - overridden
        raise NotImplementedError


class Counter(_Metric):
    kind = "counter"

    def __init__(self, name: str, help_text: str) -> None:
        super().__init__(name, help_text)
        self._values: dict[LabelKey, float] = {}

    def inc(self, amount: float = 1.0, **labels: str | int) -> None:
        key = _key(labels)
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + amount

    def value(self, **labels: str | int) -> float:
        return self._values.get(_key(labels), 0.0)

    def total(self) -> float:
        return sum(self._values.values())

    def render(self) -> list[str]:
        with self._lock:
            items = sorted(self._values.items())
        return [f"{self.name}{_labels(k)} {_number(v)}" for k, v in items]


class Gauge(_Metric):
    kind = "gauge"

    def __init__(self, name: str, help_text: str) -> None:
        super().__init__(name, help_text)
        self._values: dict[LabelKey, float] = {}

    def set(self, value: float, **labels: str | int) -> None:
        with self._lock:
            self._values[_key(labels)] = value

    def value(self, **labels: str | int) -> float:
        return self._values.get(_key(labels), 0.0)

    def render(self) -> list[str]:
        with self._lock:
            items = sorted(self._values.items())
        return [f"{self.name}{_labels(k)} {_number(v)}" for k, v in items]


class Histogram(_Metric):
    kind = "histogram"

    def __init__(
        self, name: str, help_text: str, buckets: Iterable[float] = DURATION_BUCKETS
    ) -> None:
        super().__init__(name, help_text)
        self.buckets = tuple(sorted(buckets))
        self._counts: dict[LabelKey, list[int]] = {}
        self._sums: dict[LabelKey, float] = {}

    def observe(self, value: float, **labels: str | int) -> None:
        key = _key(labels)
        with self._lock:
            counts = self._counts.setdefault(key, [0] * (len(self.buckets) + 1))
            for i, bound in enumerate(self.buckets):
                if value <= bound:
                    counts[i] += 1
            counts[-1] += 1
            self._sums[key] = self._sums.get(key, 0.0) + value

    def count(self, **labels: str | int) -> int:
        counts = self._counts.get(_key(labels))
        return counts[-1] if counts else 0

    def render(self) -> list[str]:
        out: list[str] = []
        with self._lock:
            items = sorted((k, list(v), self._sums[k]) for k, v in self._counts.items())
        for key, counts, total in items:
            for bound, count in zip(self.buckets, counts, strict=False):
                out.append(f"{self.name}_bucket{_labels(key, [('le', _number(bound))])} {count}")
            out.append(f"{self.name}_bucket{_labels(key, [('le', '+Inf')])} {counts[-1]}")
            out.append(f"{self.name}_sum{_labels(key)} {_number(total)}")
            out.append(f"{self.name}_count{_labels(key)} {counts[-1]}")
        return out


class Metrics:
    """Every series the service exports. Names follow Prometheus conventions (`_total`,
    `_seconds`)."""

    def __init__(self) -> None:
        self.webhooks = Counter(
            "ladder_webhooks_total", "Webhook deliveries by event and outcome."
        )
        self.webhook_seconds = Histogram(
            "ladder_webhook_duration_seconds",
            "Time to answer a webhook delivery.",
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0),
        )
        self.reviews = Counter("ladder_reviews_total", "Reviews finished, by conclusion.")
        self.review_seconds = Histogram(
            "ladder_review_duration_seconds", "Time from dequeue to a completed check run."
        )
        self.queue_depth = Gauge("ladder_queue_depth", "Reviews waiting for a worker.")
        self.reviews_running = Gauge("ladder_reviews_running", "Reviews being worked on.")
        self.github_calls = Counter(
            "ladder_github_calls_total", "GitHub REST calls by method and HTTP status."
        )
        self.github_retries = Counter(
            "ladder_github_retries_total", "GitHub calls retried, by reason."
        )
        self.rate_limit_remaining = Gauge(
            "ladder_github_rate_limit_remaining", "Last x-ratelimit-remaining seen."
        )
        self.token_refreshes = Counter(
            "ladder_installation_tokens_total", "Installation tokens requested from GitHub."
        )
        self.review_events = Counter(
            "ladder_review_events_total", "Review lifecycle events (start, stop, exception)."
        )

    def all(self) -> list[_Metric]:
        return [m for m in vars(self).values() if isinstance(m, _Metric)]

    def render(self) -> str:
        lines: list[str] = []
        for metric in self.all():
            lines.extend(metric.header())
            lines.extend(metric.render())
        return "\n".join(lines) + "\n"
