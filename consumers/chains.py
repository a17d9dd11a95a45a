"""Moving follow-up jobs from a function's outbox onto their own streams (or ending them,
when the job before them did not succeed).

A completion that decides a follow-up writes it to the finished job's outbox in the same
script (one function's keys, so Redis Cluster can run it); queueing it on the next
function's stream is a second, repeatable step: the follow-up's job id was fixed when the
chain was submitted, so queueing it twice finds it already there.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import structlog

from shared.client import Sluice
from shared.errors import UnknownFunctionError
from shared.follow_ups import follow_up_not_run, queue_follow_up
from shared.jobs import SUCCEEDED, now_ms
from shared.keys import keys_for

log = structlog.get_logger("consumer")


class FollowUps:
    def __init__(self, sluice: Sluice, functions: Iterable[str]) -> None:
        self._sluice = sluice
        self._outboxes = [keys_for(sluice.settings.namespace, f).chain for f in functions]

    async def relay(self, min_age_ms: int = 0) -> int:
        """Queue the follow-ups waiting at least ``min_age_ms``; returns how many."""
        redis = self._sluice.redis
        moved = 0
        for outbox in self._outboxes:
            entries: Any = await redis.xrange(outbox, "-", "+", count=100)
            for raw_id, fields in entries or ():
                entry_id = _text(raw_id)
                if now_ms() - int(entry_id.split("-")[0]) < min_age_ms:
                    break
                job_id = _text(fields.get(b"job_id", b""))
                next_job_id = _text(fields.get(b"next_job_id", b""))
                outcome = _text(fields.get(b"outcome", SUCCEEDED.encode()))
                # The follow-up is the tenant's whose job this was (absent: written before
                # tenants, "").
                tenant = _text(fields.get(b"tenant", b""))
                try:
                    if outcome != SUCCEEDED:
                        await follow_up_not_run(
                            self._sluice, job_id, next_job_id, outcome, tenant=tenant
                        )
                        await redis.xdel(outbox, entry_id)
                        log.info("follow_up_not_run", job_id=job_id, next_job_id=next_job_id)
                        continue
                    queued = await queue_follow_up(self._sluice, job_id, next_job_id, tenant=tenant)
                except UnknownFunctionError:
                    # FUNCTION_MODULES differs here: leave it for a consumer that knows it.
                    log.warning("follow_up_unknown", job_id=job_id, next_job_id=next_job_id)
                    continue
                await redis.xdel(outbox, entry_id)
                if queued:
                    moved += 1
                    log.info("follow_up_queued", job_id=job_id, next_job_id=next_job_id)
                else:
                    log.warning("follow_up_not_run", job_id=job_id, reason="job expired")
        return moved


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
