"""The layout search's rounds, on made-up candidates: the best valid one of a round wins,
a round the budget cuts short still gives its valid candidates, progress never goes back,
and a worker's error reaches the job (or a clear one when it cannot be sent)."""

from __future__ import annotations

import time
from typing import Any, cast

import pytest

from documents.layout_candidate import Candidate
from documents.layout_checks import Score, Validation
from documents.layout_search import Tried, search


def judged(seed: int, valid: bool, total: float = 1.0) -> Tried:
    score = Score(total, 0.0, 1.0, 0.0)
    return Tried(seed, cast(Candidate, None), Validation(valid, []), score, 0.0)


def run(work: Any, **options: Any) -> tuple[Any, list[float]]:
    seen: list[float] = []
    found = search(
        work,
        seed=options.pop("seed", 0),
        candidates=options.pop("candidates", 2),
        max_workers=options.pop("max_workers", 2),
        budget_s=options.pop("budget_s", 10),
        progress=lambda percent, _message: seen.append(percent),
    )
    return found, seen


@pytest.mark.parametrize("workers", [1, 2])
def test_the_best_valid_candidate_of_the_first_round_with_one_wins(workers: int) -> None:
    # Seeds 0-3 fail, 4 and 5 pass (5 scores better), 6 onwards would pass better still.
    def work(seed: int) -> Tried:
        return judged(seed, seed >= 4, total=10.0 - seed)

    found, _ = run(work, max_workers=workers)
    assert found.best.seed == 5 and found.rounds == 3 and not found.cut_short
    assert [t.seed for t in found.tried] == [0, 1, 2, 3, 4, 5]


def test_a_round_cut_short_keeps_its_valid_candidates() -> None:
    def work(seed: int) -> Tried:
        if seed == 2:
            time.sleep(30)  # killed when the search ends
        return judged(seed, True, total=float(seed))

    started = time.monotonic()
    found, _ = run(work, candidates=3, budget_s=1.5)
    assert time.monotonic() - started < 10
    assert found.cut_short and found.best.seed == 0
    assert [t.seed for t in found.tried] == [0, 1]


def test_progress_never_goes_back_across_rounds() -> None:
    found, seen = run(lambda seed: judged(seed, False), budget_s=1)
    assert found.best is None and len(found.tried) > 4
    assert seen == sorted(seen) and 5 < seen[0] and seen[-1] <= 95


class TwoArgumentError(Exception):
    def __init__(self, seed: int, why: str) -> None:
        super().__init__(f"seed {seed}: {why}")


@pytest.mark.parametrize("workers", [1, 2])
def test_a_workers_error_reaches_the_search(workers: int) -> None:
    def work(seed: int) -> Tried:
        if seed == 1:
            raise ValueError("seed 1 broke")
        return judged(seed, False)

    with pytest.raises(ValueError, match="seed 1 broke"):
        run(work, max_workers=workers)


def test_an_error_that_cannot_be_sent_back_is_said_at_once() -> None:
    """Pickled but not unpickled (its __init__ takes two arguments): the feeder says so."""

    def work(seed: int) -> Tried:
        raise TwoArgumentError(seed, "broke")

    started = time.monotonic()
    with pytest.raises(RuntimeError, match="a layout worker process ended"):
        run(work, budget_s=30)
    assert time.monotonic() - started < 10
