"""The functions' numbers as Prometheus metric families (names prefixed ``sluice_``, one
``function`` label; README "Metrics" lists them)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from shared.function_stats import OUTCOMES, FunctionStats, Histogram

# Gauge name -> (help, its value in one function's stats).
GAUGES: dict[str, tuple[str, Callable[[FunctionStats], float]]] = {
    "backlog": ("Entries on the function's stream (XLEN).", lambda s: s.backlog),
    "lag": (
        "Entries never delivered to a consumer (XINFO GROUPS lag; absent before Redis 7.0).",
        lambda s: s.lag or 0,
    ),
    "pending": ("Entries delivered and not yet acknowledged (XPENDING).", lambda s: s.pending),
    "running": ("Jobs running now.", lambda s: s.running),
    "retrying": ("Jobs waiting out a retry's backoff.", lambda s: s.retrying),
    "scheduled": ("Delayed jobs not yet due.", lambda s: s.scheduled),
    "dead_letters": ("Entries in the dead-letter stream.", lambda s: s.dead_letters),
    "oldest_queued_seconds": (
        "Age of the oldest job not yet started (0 when none waits): the autoscaling signal.",
        lambda s: s.oldest_queued_seconds,
    ),
    "consumers": ("Consumers that said they were alive lately.", lambda s: s.consumers),
    "paused": ("1 while the function is paused.", lambda s: int(s.paused)),
}
HISTOGRAMS: dict[str, tuple[str, Callable[[FunctionStats], Histogram]]] = {
    "job_duration_seconds": (
        "How long attempts ran, from their handler's start to their outcome.",
        lambda s: s.job_duration_seconds,
    ),
    "queue_wait_seconds": (
        "How long jobs waited from queued to their first attempt.",
        lambda s: s.queue_wait_seconds,
    ),
}


def families(stats: list[FunctionStats]) -> list[Metric]:
    found: list[Metric] = []
    for name, (doc, value) in GAUGES.items():
        gauge = GaugeMetricFamily(f"sluice_{name}", doc, labels=["function"])
        for s in stats:
            if name != "lag" or s.lag is not None:
                gauge.add_metric([s.function], value(s))
        found.append(gauge)
    jobs = CounterMetricFamily(
        "sluice_jobs", "Jobs ended by outcome (failed includes dead_lettered); retried"
        " counts attempts retried.", labels=["function", "outcome"],
    )  # fmt: skip
    for s in stats:
        for outcome in OUTCOMES:
            jobs.add_metric([s.function, outcome], s.jobs_total[outcome])
    found.append(jobs)
    for name, (doc, histogram_of) in HISTOGRAMS.items():
        family = HistogramMetricFamily(f"sluice_{name}", doc, labels=["function"])
        for s in stats:
            histogram = histogram_of(s)
            family.add_metric(
                [s.function],
                histogram.buckets,
                histogram.sum,
            )
        found.append(family)
    return found
