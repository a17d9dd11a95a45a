"""Candidates generated in rounds, in parallel processes, until one is valid or time is up.

Seeds run in rounds of ``candidates`` (``seed``, ``seed + 1``, ...). When a round is done
and any of its candidates is valid, the best of that round by score wins (the lower seed
on a tie); otherwise the next round is tried, until the time budget. The outcome for a
seed depends on nothing else, so a layout is the same however the work was spread.

With more than one worker, each is a process forked with the site already in it
(``documents.layout_workers``); with one, the search's own process works.
"""

from __future__ import annotations

import functools
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
                f" compactness {s.compactness:.3f}, partitions {s.partition_m:.1f} m),"
                f" {self.seconds:.2f} s"
            )
        failed = "; ".join(f"{c.name} {c.summary}" for c in self.validation.failed())
        return f"seed {self.seed}: invalid ({failed}), {self.seconds:.2f} s"


def tried(site: Site, resolved: Resolved, seed: int) -> Tried:
    """Generate and judge the candidate of ``seed``."""
    start = time.perf_counter()
    candidate = generate(site, resolved, seed)
    validation = validate(site, resolved, candidate)
    judged = score(candidate, validation)
    return Tried(seed, candidate, validation, judged, time.perf_counter() - start)


@dataclass(frozen=True)
class Search:
    """``tried``: every candidate of the rounds that finished, by seed; ``best``: the
    winner, or None when no round had a valid one before the budget ran out."""

    best: Tried | None
    tried: list[Tried]
    rounds: int
    seconds: float


class _Workers(Protocol):
    def put(self, seed: int) -> None: ...
    def get(self, timeout: float) -> Tried: ...  # queue.Empty when none in time
    def close(self) -> None: ...


def search(
    site: Site,
    resolved: Resolved,
    *,
    seed: int,
    candidates: int,
    max_workers: int,
    budget_s: float,
    progress: Progress,
) -> Search:
    start = time.monotonic()
    deadline = start + budget_s
    count = max(1, min(max_workers, candidates))
    workers: _Workers = (
        _InProcess(site, resolved)
        if count == 1
        else ForkedWorkers(functools.partial(tried, site, resolved), count)
    )
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
            _report(progress, done, len(results), candidates, start, budget_s)
            round_seeds = range(first, first + candidates)
            if all(s in results for s in round_seeds):
                rounds += 1
                valid = [results[s] for s in round_seeds if results[s].validation.valid]
                if valid:
                    best = min(valid, key=lambda t: (t.score.total, t.seed))
                    return Search(
                        best, _finished(results, first + candidates), rounds, _since(start)
                    )
                first += candidates
    finally:
        workers.close()
    return Search(None, _finished(results, first), rounds, _since(start))


def _finished(results: dict[int, Tried], end: int) -> list[Tried]:
    return [results[s] for s in sorted(results) if s < end]


def _since(start: float) -> float:
    return time.monotonic() - start


def _report(
    progress: Progress, done: Tried, count: int, candidates: int, start: float, budget: float
) -> None:
    # The first round is most of the work when it succeeds; later rounds run on the clock.
    if count <= candidates:
        percent = 90 * count / candidates
    else:
        percent = 90 * min(1.0, _since(start) / budget)
    progress(percent, f"candidate {count}: {done.line()}")


class _InProcess:
    """One worker: the search's own process, a seed at a time."""

    def __init__(self, site: Site, resolved: Resolved) -> None:
        self._site, self._resolved = site, resolved
        self._seeds: deque[int] = deque()

    def put(self, seed: int) -> None:
        self._seeds.append(seed)

    def get(self, timeout: float) -> Tried:
        del timeout  # a candidate takes what it takes; the budget is checked between them
        return tried(self._site, self._resolved, self._seeds.popleft())

    def close(self) -> None:
        self._seeds.clear()
