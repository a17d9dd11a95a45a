"""What operators watch and do per function: ``GET /metrics`` (Prometheus text: admin
scope, or the METRICS_TOKEN), the admin API's numbers (``GET /v1/admin/functions``, one
function with its last hour and consumers), and pause and resume."""

from __future__ import annotations

import hmac

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.auth import Authenticator, authorize
from gateway.prometheus import families
from gateway.responses import json_response, sluice_of
from shared.api_keys import ADMIN
from shared.errors import UnauthorizedError
from shared.function_stats import FunctionStats, function_detail, function_stats
from shared.pausing import set_paused

# The text format Prometheus scrapes by default (not OpenMetrics), version 0.0.4.
TEXT_FORMAT = "text/plain; version=0.0.4; charset=utf-8"


async def _stats(request: Request) -> list[FunctionStats]:
    sluice = sluice_of(request)
    return await function_stats(
        sluice.redis,
        sluice.settings.namespace,
        sluice.functions,
        alive_ms=sluice.settings.alive_ms,
    )


def _holds_metrics_token(request: Request) -> bool:
    token = sluice_of(request).settings.metrics_token
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    return bool(
        token
        and scheme.lower() == "bearer"
        and hmac.compare_digest(secret.strip().encode(), token.encode())
    )


class _Snapshot(Collector):
    """The numbers read for this scrape, as the registry collects them."""

    def __init__(self, stats: list[FunctionStats]) -> None:
        self._stats = stats

    def collect(self):  # type: ignore[no-untyped-def]
        return families(self._stats)


async def metrics(request: Request) -> Response:
    """Every function's gauges, counters and histograms: one round trip to Redis. With a
    METRICS_TOKEN set, it is asked for even of an open gateway (an admin key reads too)."""
    if not _holds_metrics_token(request):
        auth: Authenticator = request.app.state.auth
        if sluice_of(request).settings.metrics_token and not await auth.enabled():
            raise UnauthorizedError("send the METRICS_TOKEN as `Authorization: Bearer <token>`")
        await authorize(request, ADMIN)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Snapshot(await _stats(request)))
    return Response(generate_latest(registry), media_type=TEXT_FORMAT)


async def list_function_stats(request: Request) -> Response:
    await authorize(request, ADMIN)
    return json_response({"functions": await _stats(request)})


async def one_function(request: Request) -> Response:
    """One function's numbers, its last hour minute by minute, its consumers (and the jobs
    each runs) and its latest failed jobs."""
    await authorize(request, ADMIN)
    sluice = sluice_of(request)
    spec = sluice.function(request.path_params["function"])
    detail = await function_detail(
        sluice.redis, sluice.settings.namespace, spec.name, alive_ms=sluice.settings.alive_ms
    )
    return json_response(detail)


async def _pause_or_resume(request: Request, paused: bool) -> Response:
    await authorize(request, ADMIN)
    sluice = sluice_of(request)
    spec = sluice.function(request.path_params["function"])
    await set_paused(sluice.redis, sluice.settings.namespace, spec.name, paused)
    return json_response({"function": spec.name, "paused": paused})


async def pause(request: Request) -> Response:
    """Jobs of the function are still accepted and queued; consumers start none of them
    until it is resumed. Running jobs finish."""
    return await _pause_or_resume(request, True)


async def resume(request: Request) -> Response:
    return await _pause_or_resume(request, False)


ROUTES = [
    Route("/metrics", metrics, methods=["GET"]),
    Route("/v1/admin/functions", list_function_stats, methods=["GET"]),
    Route("/v1/admin/functions/{function}", one_function, methods=["GET"]),
    Route("/v1/admin/functions/{function}/pause", pause, methods=["POST"]),
    Route("/v1/admin/functions/{function}/resume", resume, methods=["POST"]),
]
