"""What ``--wait`` shows on stderr while it follows a job: on a terminal one line redrawn
in place (a bar), elsewhere (a log, CI) a line per change."""

from __future__ import annotations

import shutil
import sys
import time
from types import TracebackType
from typing import Any, TextIO

from cli.output import printable

BAR_WIDTH = 24
# Off a terminal, a change of message alone (a handler reporting each page) prints at most
# one line a second, so a chatty job cannot flood a log; a change of status always prints.
QUIET_SECONDS = 1.0
FINAL_STATUSES = frozenset({"succeeded", "failed", "cancelled"})


def bar(percent: float) -> str:
    """``[######------------------]`` for 25 %."""
    done = round(BAR_WIDTH * min(max(percent, 0.0), 100.0) / 100)
    return f"[{'#' * done}{'-' * (BAR_WIDTH - done)}]"


class ProgressLine:
    """Shows each status of the jobs followed; a context manager, so a terminal's line is
    ended whatever ends the wait."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stderr
        self._live = self._stream.isatty()
        self._drawn = False
        self._job_id = ""
        self._last: tuple[str, str, str] | None = None
        self._last_at = 0.0

    def __enter__(self) -> ProgressLine:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def show(self, status: dict[str, Any]) -> None:
        job_id, state = str(status["job_id"]), str(status["status"])
        if status.get("paused"):  # a job of a paused function: nothing moves until resumed
            state += " (paused)"
        percent = float(status.get("progress") or 0.0)
        message = printable(str(status.get("message") or ""))
        if self._live:
            if job_id != self._job_id:  # in full once, then short: the bar needs the width
                self._end_line()
                self._stream.write(printable(f"following {job_id}") + "\n")
                self._job_id = job_id
            short = job_id[: job_id.rfind("-") + 9]
            line = printable(f"{short}  {state:<9} {bar(percent)} {percent:5.1f}%  {message}")
            width = shutil.get_terminal_size().columns - 1
            self._stream.write(f"\r\x1b[K{line[:width]}")
            self._stream.flush()
            self._drawn = True
            return
        now = time.monotonic()
        shown = (job_id, state, message)
        if shown == self._last:
            return
        same_state = self._last is not None and self._last[:2] == shown[:2]
        if same_state and state not in FINAL_STATUSES and now - self._last_at < QUIET_SECONDS:
            return
        self._last, self._last_at = shown, now
        self._stream.write(printable(f"{job_id} {state} {percent:.0f}% {message}").rstrip() + "\n")
        self._stream.flush()

    def close(self) -> None:
        self._end_line()

    def _end_line(self) -> None:
        """End the terminal's line, so what follows starts on its own."""
        if self._drawn:
            self._stream.write("\n")
            self._stream.flush()
            self._drawn = False
