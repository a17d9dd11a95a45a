"""What the benchmark measures, the rows it prints, and the goals it checks them against."""

from __future__ import annotations

import argparse
import dataclasses
import math
import shlex
from collections.abc import Awaitable, Callable
from pathlib import Path

from bench import report
from bench.baseline import celery_python, e2e_celery
from bench.measure import Result
from bench.report import Row
from bench.scenarios import (
    Options,
    consumer_drain,
    e2e_http,
    e2e_python,
    http_submit,
    pickup_latency,
)
from shared.embedded import RedisServer

# The goals, and the baseline they are set against.
GOAL_E2E_ONE_CONSUMER = 10_000.0  # jobs/s, Python submit path, one consumer process
GOAL_HTTP_SUBMIT = 4_000.0  # jobs/s accepted by one gateway process
CELERY_BASELINE = 500.0  # jobs/s: Celery 5 + Redis, acks_late, prefetch 1, on this machine
# Other processes busier than this (in cores) during the runs make the numbers pessimistic.
NOISY_CORES = 0.25

Run = Callable[[RedisServer, Path], Awaitable[Result]]
NAMES = ("py1", "py2", "http1", "http2", "submit", "drain", "latency", "celery")


@dataclasses.dataclass(frozen=True)
class Measurement:
    """A scenario with its arguments bound, and the table rows its metrics fill."""

    name: str
    run: Run
    rows: tuple[Row, ...]


def options_of(args: argparse.Namespace) -> Options:
    return Options(
        consumer_concurrency=args.concurrency,
        submitters=args.submitters,
        connections=args.connections,
        python=args.server_python,
        uvicorn_args=tuple(shlex.split(args.gateway_args)),
        env=(("LOG_LEVEL", args.log_level),) if args.log_level else (),
    )


def plan(args: argparse.Namespace) -> list[Measurement]:
    """The measurements ``args`` ask for, in the order they run and print."""
    o, jobs, c = options_of(args), args.jobs, args.concurrency
    e2e_goal, submit_goal = f">= {GOAL_E2E_ONE_CONSUMER:,.0f}", f"> {GOAL_HTTP_SUBMIT:,.0f}"
    at = f"at {args.latency_rate:g} jobs/s"

    def rows(name: str, label: str, goal: str = "") -> tuple[Row, ...]:
        return (Row(name, "jobs/s", label, "jobs/s", goal),)

    def py(n: int) -> Run:
        return lambda s, w: e2e_python(s, w, o, n, jobs)

    def http(n: int) -> Run:
        return lambda s, w: e2e_http(s, w, o, n, jobs)

    def latency(s: RedisServer, w: Path) -> Awaitable[Result]:
        return pickup_latency(s, w, o, args.latency_jobs, args.latency_rate)

    measurements = [
        Measurement("py1", py(1), rows("py1", f"e2e Python submit, 1 consumer (c={c})", e2e_goal)),
        Measurement("py2", py(2), rows("py2", f"e2e Python submit, 2 consumers (c={c})")),
        Measurement("http1", http(1), rows("http1", f"e2e HTTP, 1 gateway, 1 consumer (c={c})")),
        Measurement("http2", http(2), rows("http2", f"e2e HTTP, 1 gateway, 2 consumers (c={c})")),
        Measurement(
            "submit",
            lambda s, w: http_submit(s, w, o, args.submit_jobs),
            rows("submit", "HTTP submit only, 1 gateway, no consumer", submit_goal),
        ),
        Measurement(
            "drain",
            lambda s, w: consumer_drain(s, w, o, jobs),
            rows("drain", f"1 consumer (c={c}) draining a backlog, no submitter"),
        ),
        Measurement(
            "latency",
            latency,
            (
                Row("latency", "pickup p50", f"queued->running p50 {at}, 1 consumer", "ms"),
                Row("latency", "pickup p99", f"queued->running p99 {at}, 1 consumer", "ms"),
                Row("latency", "queued->succeeded p99", f"queued->succeeded p99 {at}", "ms"),
            ),
        ),
    ]
    if args.celery:
        python, pool, count = celery_python(args.celery_python), args.celery_pool, args.celery_jobs
        workers = args.celery_concurrency or min(c, 64)
        label = f"e2e Celery 5, 1 worker ({pool}, c={workers})"
        measurements.append(
            Measurement(
                "celery",
                lambda s, w: e2e_celery(s, w, python, pool, workers, count),
                rows("celery", label, f"~{CELERY_BASELINE:,.0f}"),
            )
        )
    if args.only:
        wanted = {name.strip() for name in args.only.split(",")}
        measurements = [m for m in measurements if m.name in wanted]
    return measurements


def summary(results: dict[str, list[Result]]) -> list[str]:
    """The goals and the baseline, next to what was measured."""
    py1 = report.median_of(results.get("py1", []), "jobs/s")
    http1 = report.median_of(results.get("http1", []), "jobs/s")
    submit = report.median_of(results.get("submit", []), "jobs/s")
    lines = [
        report.verdict("goal 10,000 jobs/s e2e, 1 consumer", py1, GOAL_E2E_ONE_CONSUMER),
        report.verdict("goal > 4,000 jobs/s HTTP submit per gateway", submit, GOAL_HTTP_SUBMIT),
        f"baseline Celery 5 + Redis (acks_late, prefetch 1): ~{CELERY_BASELINE:,.0f} jobs/s "
        f"on this machine; sluice e2e, 1 consumer: {_ratios(py1, http1, CELERY_BASELINE)}",
    ]
    if results.get("celery"):
        celery = report.median_of(results["celery"], "jobs/s")
        lines.append(
            f"Celery measured here: {celery:,.0f} jobs/s; sluice e2e, 1 consumer: "
            f"{_ratios(py1, http1, celery)}"
        )
    noisy = {name: report.other_load(runs) for name, runs in results.items()}
    noisy = {name: load for name, load in noisy.items() if load > NOISY_CORES}
    if noisy:
        shown = ", ".join(f"{name} {load:.2f}" for name, load in noisy.items())
        lines.append(
            f"WARNING: other processes kept cores busy during the runs ({shown} cores of "
            f"{report.CORES}): throughput is understated; CPU us/job is the steadier figure"
        )
    return lines


def _ratios(python_path: float, http_path: float, baseline: float) -> str:
    """``9.8x (Python path), 4.6x (HTTP path)``, leaving out what was not measured."""
    parts = [
        f"{value / baseline:.1f}x ({path})"
        for value, path in ((python_path, "Python path"), (http_path, "HTTP path"))
        if not math.isnan(value) and baseline > 0
    ]
    return ", ".join(parts) or "not measured"
