"""Candidates generated in rounds, in parallel processes, until one is valid or time is up.

Seeds run in rounds of ``candidates`` (``seed``, ``seed + 1``, ...). When a round is done
and any of its candidates is valid, the best of that round by score wins (the lower seed
on a tie); otherwise the next round is tried, until the time budget. The outcome for a
seed depends on nothing else, so a layout is the same however the work was spread.

With more than one worker, each is a process forked with the site already in it
(``documents.layout_workers``); with one, the search's own process works.
"""

from __future__ import annotations

import queue
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from documents.layout_candidate import Candidate
from documents.layout_checks import Score, Validation, score, validate
from documents.layout_generate import generate
from documents.layout_program import Resolved
from documents.layout_site import Site
from documents.layout_workers import ForkedWorkers

Progress = Callable[[float, str], None]
Work = Callable[[int], "Tried"]


@dataclass(frozen=True)
class Tried:
    """One candidate and its judgement."""

    seed: int
    candidate: Candidate
    validation: Validation
    score: Score
    seconds: float

    def line(self) -> str:
        """The candidate in one line, as the result's ``candidates`` lists it."""
        if self.validation.valid:
            s = self.score
            return (
                f"seed {self.seed}: valid, score {s.total:.3f} (area error {s.area_error:.3f},"
                f" compactness {s.compactness:.3f}, partitions {s.partition_m:.1f} m"
                + (f", walls cut {s.walls_cut_m2:g} m2 off rooms" if s.walls_cut_m2 else "")
                + "),"
                f" {self.seconds:.2f} s"
            )
        failed = "; ".join(f"{c.name} {c.summary}" for c in self.validation.failed())
        return f"seed {self.seed}: invalid ({failed}), {self.seconds:.2f} s"


def tried(site: Site, resolved: Resolved, seed: int) -> Tried:
    """Generate and judge the candidate of ``seed``."""
    start = time.perf_counter()
    candidate = generate(site, resolved, seed)
    validation = validate(site, resolved, candidate)
    judged = score(candidate, validation, site)
    return Tried(seed, candidate, validation, judged, time.perf_counter() - start)


@dataclass(frozen=True)
class Search:
    """``tried``: every candidate that finished, by seed (of a round that found a valid
    one: that round and those before); ``best``: the winner, or None when none was valid
    before the budget ran out; ``cut_short``: the budget ended a round, and ``best`` is
    the best valid candidate of what finished."""

    best: Tried | None
    tried: list[Tried]
    rounds: int
    seconds: float
    cut_short: bool = False


class _Workers(Protocol):
    def put(self, seed: int) -> None: ...
    def get(self, timeout: float) -> Tried: ...  # queue.Empty when none in time
    def close(self) -> None: ...


def search(
    work: Work,
    *,
    seed: int,
    candidates: int,
    max_workers: int,
    budget_s: float,
    progress: Progress,
) -> Search:
    """The search, with ``work(seed)`` making and judging each candidate (``tried`` with
    the site and the program bound)."""
    start = time.monotonic()
    deadline = start + budget_s
    count = max(1, min(max_workers, candidates))
    workers: _Workers = _InProcess(work) if count == 1 else ForkedWorkers(work, count)
    report = _Reporter(progress, candidates, start, budget_s)
    results: dict[int, Tried] = {}
    first, next_seed, in_flight, rounds = seed, seed, 0, 0
    try:
        while True:
            while in_flight < count and next_seed < first + candidates:
                workers.put(next_seed)
                next_seed, in_flight = next_seed + 1, in_flight + 1
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                done = workers.get(remaining)
            except queue.Empty:
                break
            in_flight -= 1
            results[done.seed] = done
            report(done, len(results))
            round_seeds = range(first, first + candidates)
            if all(s in results for s in round_seeds):
                rounds += 1
                valid = [results[s] for s in round_seeds if results[s].validation.valid]
                if valid:
                    kept = _finished(results, first + candidates)
                    return Search(_best(valid), kept, rounds, _since(start))
                first += candidates
    finally:
        workers.close()
    # Out of time: a valid candidate of the round cut short still beats failing.
    kept = _finished(results, next_seed)
    valid = [t for t in kept if t.validation.valid]
    best = _best(valid) if valid else None
    return Search(best, kept, rounds, _since(start), cut_short=best is not None)


def _best(valid: list[Tried]) -> Tried:
    return min(valid, key=lambda t: (t.score.total, t.seed))


def _finished(results: dict[int, Tried], end: int) -> list[Tried]:
    return [results[s] for s in sorted(results) if s < end]


def _since(start: float) -> float:
    return time.monotonic() - start


class _Reporter:
    """Progress per candidate, never going back: the first round fills 5..50 %, later
    rounds run on the clock towards 95 %."""

    def __init__(self, progress: Progress, candidates: int, start: float, budget: float):
        self._progress, self._candidates = progress, candidates
        self._start, self._budget = start, budget
        self._percent = 5.0

    def __call__(self, done: Tried, count: int) -> None:
        if count <= self._candidates:
            percent = 5 + 45 * count / self._candidates
        else:
            percent = 50 + 45 * min(1.0, _since(self._start) / self._budget)
        self._percent = max(self._percent, percent)
        self._progress(self._percent, f"candidate {count}: {done.line()}")


class _InProcess:
    """One worker: the search's own process, a seed at a time."""

    def __init__(self, work: Work) -> None:
        self._work = work
        self._seeds: deque[int] = deque()

    def put(self, seed: int) -> None:
        self._seeds.append(seed)

    def get(self, timeout: float) -> Tried:
        del timeout  # a candidate takes what it takes; the budget is checked between them
        return self._work(self._seeds.popleft())

    def close(self) -> None:
        self._seeds.clear()
