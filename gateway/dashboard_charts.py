"""The dashboard's charts of the last hour, drawn on the server as inline SVG (so they
show with JavaScript off, and need no library): throughput, failure rate, backlog and
running, one point per minute. Here is the geometry; templates/dashboard/macros.html
draws it."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Protocol

# The SVG's coordinate box and the plot area inside it (room left for the axis labels).
WIDTH, HEIGHT = 300, 112
LEFT, RIGHT, TOP, BOTTOM = 34.0, 296.0, 8.0, 92.0


class MinuteLike(Protocol):
    """A minute of shared.function_stats' history (or a sum of several)."""

    @property
    def minute(self) -> int: ...
    @property
    def succeeded(self) -> int: ...
    @property
    def failed(self) -> int: ...
    @property
    def backlog(self) -> int | None: ...
    @property
    def running(self) -> int | None: ...


@dataclasses.dataclass(frozen=True, slots=True)
class Totals:
    """Several functions' minute, summed: a sample is None when no function has one."""

    minute: int
    succeeded: int
    failed: int
    backlog: int | None
    running: int | None


@dataclasses.dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str


@dataclasses.dataclass(frozen=True, slots=True)
class Dot:
    x: float
    y: float
    label: str


@dataclasses.dataclass(frozen=True, slots=True)
class Chart:
    # Names the chart in the page (CSS class, data-chart): throughput, failure_rate, ...
    name: str
    title: str
    # One line under the chart; ``value`` is its main number, for people and tests.
    summary: str
    value: str
    top_label: str
    bars: tuple[Bar, ...] = ()
    # Polylines' points ("x,y x,y ..."): a line breaks where a minute has no sample.
    lines: tuple[str, ...] = ()
    # Points with no neighbour to draw a line to.
    dots: tuple[Dot, ...] = ()


def nice_top(highest: float) -> float:
    """The y axis's top: 1, 2 or 5 times a power of ten, at least ``highest`` (and 1)."""
    if highest <= 1:
        return 1.0
    power = 10.0 ** math.floor(math.log10(highest))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= highest)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _clock(minute: int) -> str:
    return datetime.fromtimestamp(minute * 60, UTC).strftime("%H:%M UTC")


def _x(index: int, count: int) -> float:
    """The x of the middle of minute ``index`` of ``count``."""
    return round(LEFT + (index + 0.5) * (RIGHT - LEFT) / count, 2)


def _y(value: float, top: float) -> float:
    return round(BOTTOM - value / top * (BOTTOM - TOP), 2)


def bar_chart(
    minutes: Sequence[MinuteLike], values: Sequence[int], unit: str
) -> tuple[tuple[Bar, ...], str]:
    """Bars of ``values`` (one per minute) and the y axis's top label."""
    top = nice_top(max(values, default=0))
    width = (RIGHT - LEFT) / max(len(values), 1)
    bars = tuple(
        Bar(
            x=round(LEFT + index * width + 0.5, 2),
            y=_y(value, top),
            width=round(max(width - 1, 0.5), 2),
            height=round(BOTTOM - _y(value, top), 2),
            label=f"{_clock(minute.minute)}: {value} {unit}",
        )
        for index, (minute, value) in enumerate(zip(minutes, values, strict=True))
        if value > 0
    )
    return bars, _number(top)


def line_chart(
    minutes: Sequence[MinuteLike], values: Sequence[float | None], unit: str, top: float
) -> tuple[tuple[str, ...], tuple[Dot, ...]]:
    """Lines through ``values``, broken where one is None; lone points as dots."""
    lines: list[str] = []
    dots: list[Dot] = []
    run: list[tuple[float, float, str]] = []

    def close() -> None:
        if len(run) == 1:
            dots.append(Dot(*run[0]))
        elif run:
            lines.append(" ".join(f"{px:.2f},{py:.2f}" for px, py, _ in run))
        run.clear()

    for index, (minute, value) in enumerate(zip(minutes, values, strict=True)):
        if value is None:
            close()
            continue
        label = f"{_clock(minute.minute)}: {_number(value)} {unit}"
        run.append((_x(index, len(values)), _y(value, top), label))
    close()
    return tuple(lines), tuple(dots)


def throughput(minutes: Sequence[MinuteLike]) -> Chart:
    values = [minute.succeeded for minute in minutes]
    bars, top = bar_chart(minutes, values, "succeeded")
    total = sum(values)
    return Chart(
        name="throughput",
        title="Throughput (succeeded per minute)",
        summary=f"{total} succeeded in the last hour",
        value=str(total),
        top_label=top,
        bars=bars,
    )


def failure_rate(minutes: Sequence[MinuteLike]) -> Chart:
    """Failed jobs among those that ended (succeeded or failed) in each minute."""
    rates = [
        100 * minute.failed / (minute.succeeded + minute.failed)
        if minute.succeeded + minute.failed
        else None
        for minute in minutes
    ]
    lines, dots = line_chart(minutes, rates, "% failed", 100)
    failed = sum(minute.failed for minute in minutes)
    ended = failed + sum(minute.succeeded for minute in minutes)
    summary = (
        f"{failed} failed of {ended} ended in the last hour ({100 * failed / ended:.0f} %)"
        if ended
        else "no job ended in the last hour"
    )
    return Chart(
        name="failure_rate",
        title="Failure rate (% of jobs ended)",
        summary=summary,
        value=str(failed),
        top_label="100 %",
        lines=lines,
        dots=dots,
    )


def sampled(
    name: str, title: str, values: Sequence[int | None], minutes: Sequence[MinuteLike]
) -> Chart:
    """A gauge sampled per minute (backlog, running): None where no sample was taken."""
    top = nice_top(max((value for value in values if value is not None), default=0))
    lines, dots = line_chart(minutes, values, title.lower(), top)
    known = [value for value in values if value is not None]
    latest = known[-1] if known else None
    summary = (
        "no sample in the last hour" if latest is None else f"latest {latest}, highest {max(known)}"
    )
    return Chart(
        name=name,
        title=f"{title} (highest sampled each minute)",
        summary=summary,
        value="-" if latest is None else str(latest),
        top_label=_number(top),
        lines=lines,
        dots=dots,
    )


def charts(minutes: Sequence[MinuteLike]) -> list[Chart]:
    """The four charts of a function's (or the sum's) last hour, oldest minute first."""
    return [
        throughput(minutes),
        failure_rate(minutes),
        sampled("backlog", "Backlog", [minute.backlog for minute in minutes], minutes),
        sampled("running", "Running", [minute.running for minute in minutes], minutes),
    ]


def _sum(values: Sequence[int | None]) -> int | None:
    known = [value for value in values if value is not None]
    return sum(known) if known else None


def summed(histories: Sequence[Sequence[MinuteLike]]) -> list[Totals]:
    """Every function's history added up, minute by minute (histories of equal length,
    the same minutes)."""
    if not histories:
        return []
    return [
        Totals(
            minute=same[0].minute,
            succeeded=sum(minute.succeeded for minute in same),
            failed=sum(minute.failed for minute in same),
            backlog=_sum([minute.backlog for minute in same]),
            running=_sum([minute.running for minute in same]),
        )
        for same in zip(*histories, strict=True)
    ]
