"""The dashboard's function pages: every function's numbers with the last hour's charts
(``/dashboard``), and one function's charts, consumers, recent failures and dead letters
(``/dashboard/functions/{function}``). The numbers are shared.function_stats', as
``/metrics`` and the admin API give them."""

from __future__ import annotations

import asyncio
import dataclasses

from starlette.requests import Request
from starlette.responses import Response

from gateway.dashboard_access import dashboard_route
from gateway.dashboard_actions import notice
from gateway.dashboard_charts import Chart, charts, summed, throughput
from gateway.dashboard_render import render
from gateway.responses import sluice_of
from shared import dead_letters
from shared.client import Sluice
from shared.errors import JobNotFoundError
from shared.function_activity import last_hours
from shared.function_stats import FunctionStats, function_detail, function_stats
from shared.jobs import JobStatus
from shared.keys import keys_for

# Dead letters listed on a function's page, newest first (the count says how many exist).
DEAD_SHOWN = 100


@dataclasses.dataclass(frozen=True, slots=True)
class FunctionRow:
    """One function on the index: its numbers and its last hour's throughput."""

    stats: FunctionStats
    throughput: Chart


@dataclasses.dataclass(frozen=True, slots=True)
class Failure:
    """A recent failure: the job's status, None once it has expired."""

    job_id: str
    status: JobStatus | None


async def _rows(sluice: Sluice) -> tuple[list[FunctionRow], list[Chart]]:
    """Every function's numbers and last hour (a round trip each), and the charts of all
    of them added up."""
    namespace, alive_ms = sluice.settings.namespace, sluice.settings.alive_ms
    stats = await function_stats(sluice.redis, namespace, sluice.functions, alive_ms=alive_ms)
    hours = await last_hours(sluice.redis, [keys_for(namespace, s.function) for s in stats])
    rows = [
        FunctionRow(numbers, throughput(hour)) for numbers, hour in zip(stats, hours, strict=True)
    ]
    return rows, charts(summed(hours))


@dashboard_route
async def index(request: Request) -> Response:
    rows, totals = await _rows(sluice_of(request))
    context = {
        "title": "functions",
        "rows": rows,
        "charts": totals,
        "notice": notice(request.query_params),
    }
    return render(request, "index.html", context)


async def _failures(sluice: Sluice, job_ids: list[str]) -> list[Failure]:
    async def one(job_id: str) -> Failure:
        try:
            return Failure(job_id, await sluice.status(job_id))
        except JobNotFoundError:
            return Failure(job_id, None)

    return list(await asyncio.gather(*(one(job_id) for job_id in job_ids)))


@dashboard_route
async def function_page(request: Request) -> Response:
    sluice = sluice_of(request)
    spec = sluice.function(request.path_params["function"])
    namespace = sluice.settings.namespace
    detail = await function_detail(
        sluice.redis, namespace, spec.name, alive_ms=sluice.settings.alive_ms
    )
    letters = await dead_letters.list_dead(sluice.redis, namespace, spec.name, count=DEAD_SHOWN)
    context = {
        "title": spec.name,
        "spec": spec,
        "stats": detail.stats,
        "charts": charts(detail.last_hour),
        "consumers": detail.consumers,
        "failures": await _failures(sluice, detail.recent_failures),
        "letters": letters,
        "notice": notice(request.query_params),
    }
    return render(request, "function.html", context)
