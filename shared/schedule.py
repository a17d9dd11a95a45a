"""When a submitted job may start (``delay``, ``not_before``) and whom its end is told
(``callback_url``): the options every way of submitting takes (query string, Python).

A delayed job waits in its function's scheduled set (status ``scheduled``) until it is
due; consumers/timers.py queues it then.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from typing import Final, NamedTuple

from shared import webhooks
from shared.errors import InvalidInputError
from shared.jobs import now_ms
from shared.settings import Settings

# A delay as a query string gives it: plain decimal seconds.
SECONDS: Final = re.compile(r"[0-9]+(\.[0-9]*)?|\.[0-9]+")
# Query parameters that are options of the submission, never the job's own parameters.
OPTION_NAMES: Final = ("delay", "not_before", "callback_url")


class Schedule(NamedTuple):
    due_ms: int  # ms since the epoch
    not_before: str  # the same, as RFC 3339 UTC


class JobOptions(NamedTuple):
    """A submission's options, checked: ``schedule`` None starts the job at once;
    ``callback_url`` "" tells nobody."""

    schedule: Schedule | None = None
    callback_url: str = ""
    # The options as the request gave them, for its Idempotency-Key's fingerprint: a
    # delay, not its due time (a retry comes later), "" for none.
    request: str = ""


NO_OPTIONS: Final = JobOptions()


def schedule_of(
    delay: float | timedelta | str | None,
    not_before: datetime | str | None,
    *,
    max_delay: int,
    now: int | None = None,
) -> Schedule | None:
    """The job's due time, or None when it is due now (no delay, a delay of 0, a
    ``not_before`` in the past). ``now``: ms since the epoch."""
    if delay is not None and not_before is not None:
        raise InvalidInputError("give delay or not_before, not both", field="delay")
    now = now_ms() if now is None else now
    if delay is not None:
        seconds = _seconds(delay)
        if seconds > max_delay:
            raise InvalidInputError(
                f"delay is {seconds:g} s; at most {max_delay} s (MAX_DELAY)", field="delay"
            )
        due = now + math.ceil(seconds * 1000)
    elif not_before is not None:
        when = _moment(not_before)
        due = math.ceil(when.timestamp() * 1000)
        if due - now > max_delay * 1000:
            raise InvalidInputError(
                f"not_before is more than {max_delay} s (MAX_DELAY) from now", field="not_before"
            )
    else:
        return None
    if due <= now:
        return None
    moment = datetime.fromtimestamp(due / 1000, UTC).isoformat(timespec="milliseconds")
    return Schedule(due, moment.replace("+00:00", "Z"))


def _seconds(delay: float | timedelta | str) -> float:
    if isinstance(delay, timedelta):
        seconds = delay.total_seconds()
    elif isinstance(delay, str) and not SECONDS.fullmatch(delay.strip()):
        # float() would take "5_0" and other scripts' digits.
        raise InvalidInputError(f"delay must be a number of seconds, not {delay!r}", field="delay")
    else:
        seconds = float(delay)
    if not math.isfinite(seconds) or seconds < 0:
        raise InvalidInputError(f"delay must be >= 0 seconds, not {delay!r}", field="delay")
    return seconds


def _moment(value: datetime | str) -> datetime:
    if isinstance(value, str):
        try:
            # "Z" is what clients send most; fromisoformat takes it from Python 3.11.
            text = value.strip()
            # RFC 3339 allows a lower-case "z" (and "t"), which fromisoformat does not.
            value = datetime.fromisoformat(text[:-1] + "Z" if text.endswith("z") else text)
        except ValueError:
            raise InvalidInputError(
                f"not_before must be an ISO 8601 date and time, such as"
                f" 2026-12-06T18:00:00Z, not {value!r}",
                field="not_before",
            ) from None
    if value.tzinfo is None:
        raise InvalidInputError(
            "not_before needs a UTC offset or Z (2026-12-06T18:00:00Z): a time without one"
            " names no moment",
            field="not_before",
        )
    return value


def kept_upload_for(settings: Settings, options: JobOptions) -> int:
    """How long a job's upload is kept while it waits: a delayed job's, as much longer."""
    wait_ms = options.schedule.due_ms - now_ms() if options.schedule else 0
    return settings.upload_ttl + max(0, wait_ms) // 1000


async def job_options(
    settings: Settings,
    delay: float | timedelta | str | None,
    not_before: datetime | str | None,
    callback_url: str | None,
) -> JobOptions:
    """A submission's options, checked (InvalidInputError naming the one at fault)."""
    if delay is None and not_before is None and callback_url is None:
        return NO_OPTIONS  # most submissions: a busy gateway's hot path
    schedule = schedule_of(delay, not_before, max_delay=settings.max_delay)
    given = []
    if delay is not None:
        given.append(f"delay={_seconds(delay)!r}")
    if not_before is not None:
        given.append(f"not_before={_moment(not_before).timestamp()!r}")
    if callback_url:
        given.append(f"callback_url={callback_url}")
    request = " ".join(given)
    if not callback_url:
        return JobOptions(schedule, "", request)
    url = webhooks.check_callback_url(callback_url)
    if not settings.webhook_secret:
        raise InvalidInputError(
            "callback_url is not available here: the server has no WEBHOOK_SECRET to sign"
            " deliveries with",
            field="callback_url",
        )
    await webhooks.check_target(url, allow_private=settings.callback_allow_private)
    return JobOptions(schedule, url, request)
