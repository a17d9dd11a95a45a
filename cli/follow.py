"""Following a job to its end with the long poll ``GET /v1/jobs/{id}?wait=N``, which
answers as soon as the status or progress changes (README, Status without polling)."""

from __future__ import annotations

import time
from typing import Any

from cli.errors import (
    GatewayRefusedError,
    JobEndedError,
    WaitInterruptedError,
    WaitTimedOutError,
)
from cli.http import TIMEOUT, Gateway, path_segment
from cli.progress import FINAL_STATUSES, ProgressLine

# Seconds one long poll may wait (the gateway takes up to 30): under the idle timeout of
# the usual proxies (60 s), so a quiet job does not cost a dropped connection.
LONG_POLL_SECONDS = 25.0
# A follow-up's id answers 404 for a moment after the job before it ended, until its
# consumer (or, had that one died, a recovery sweep) has queued it (README, Chains).
FOLLOW_UP_GRACE = 60.0


def status_path(job_id: str) -> str:
    return f"/v1/jobs/{path_segment(job_id)}"


def follow(
    gateway: Gateway,
    job_id: str,
    line: ProgressLine,
    *,
    timeout: float | None = None,
    chain: bool = False,
) -> dict[str, Any]:
    """The final status of ``job_id`` (with ``chain``, of the last job of its chain that
    ran: a follow-up is followed once the job before it succeeded), each status on the way
    shown on ``line``; WaitTimedOutError once ``timeout`` seconds have passed."""
    follower = _Follower(gateway, line, timeout)
    try:
        return follower.follow(job_id, chain)
    except KeyboardInterrupt:
        followed = follower.job_id
        raise WaitInterruptedError(
            f"interrupted; job {followed} goes on (sluice status {followed} --wait)"
        ) from None


def check_ended(status: dict[str, Any]) -> None:
    """JobEndedError (exit 4 or 5) for a final status other than succeeded."""
    if status["status"] != "succeeded":
        raise JobEndedError(str(status["job_id"]), str(status["status"]), status.get("error"))


class _Follower:
    """One wait: its deadline, and the job it follows now (for Ctrl-C's message)."""

    def __init__(self, gateway: Gateway, line: ProgressLine, timeout: float | None) -> None:
        self._gateway = gateway
        self._line = line
        self._timeout = timeout
        self._deadline = None if timeout is None else time.monotonic() + timeout
        self.job_id = ""

    def follow(self, job_id: str, chain: bool) -> dict[str, Any]:
        self.job_id = job_id
        status: dict[str, Any] = self._gateway.call("GET", status_path(job_id))
        while True:
            self._line.show(status)
            next_job_id = status.get("next_job_id")
            if status["status"] in FINAL_STATUSES:
                if not (chain and status["status"] == "succeeded" and next_job_id):
                    return status
                self.job_id = str(next_job_id)
                status = self._follow_up()
                continue
            wait = self._seconds_left(status["status"])
            status = self._gateway.call(
                "GET",
                status_path(self.job_id),
                params={"wait": f"{wait:.3f}"},
                read_timeout=wait + TIMEOUT,
            )

    def _seconds_left(self, state: str) -> float:
        """How long the next long poll may wait; WaitTimedOutError when nothing is left."""
        if self._deadline is None:
            return LONG_POLL_SECONDS
        left = min(self._deadline - time.monotonic(), LONG_POLL_SECONDS)
        if left < 0.001:  # the gateway takes no ?wait=0
            raise WaitTimedOutError(
                f"job {self.job_id} is still {state} after {self._timeout:g} s; it goes on"
                f" (sluice status {self.job_id} --wait)"
            )
        return left

    def _follow_up(self) -> dict[str, Any]:
        """A follow-up's first status, waiting out its moment of 404 (short sleeps: there
        is no job yet to long-poll)."""
        given_up = time.monotonic() + FOLLOW_UP_GRACE
        pause = 0.05
        while True:
            try:
                status: dict[str, Any] = self._gateway.call("GET", status_path(self.job_id))
                return status
            except GatewayRefusedError as error:
                if error.status != 404 or time.monotonic() > given_up:
                    raise
            self._seconds_left("not queued")
            time.sleep(pause)
            pause = min(pause * 2, 1.0)
