"""Routes of the HTTP API (see README). Run with ``uvicorn gateway.app:app``."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator
from typing import Any, NoReturn
from urllib.parse import quote

import msgspec
import structlog
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route

from gateway import admin, dashboard, dead_letters, docs, events, operations
from gateway.auth import Authenticator, authorize
from gateway.batch import submit_batch
from gateway.body import drain, read_limited
from gateway.cors import Cors
from gateway.middleware import CloseOnUnreadBody, RequestLogMiddleware
from gateway.query import chain_from_query, options_from_query, refuse_own_params
from gateway.responses import json_response, shown_inline, sluice_of
from gateway.uploads import submit_multipart, submit_raw
from shared import error_types
from shared.api_keys import READ, SUBMIT, KeyStore
from shared.client import Sluice
from shared.embedded import with_local_redis
from shared.errors import (
    HttpError,
    JobStateError,
    MethodNotAllowedError,
    NotFoundError,
    RequestTimeoutError,
    RetryLaterError,
    UnauthorizedError,
    UnsupportedMediaTypeError,
    error_body,
    status_of,
)
from shared.functions import load_functions
from shared.jobs import CANCELLED, SUCCEEDED, now_iso
from shared.logs import configure_logging
from shared.redis import NO_PERSISTENCE, check_access, persistence, redis_errors
from shared.settings import Settings, SettingsError
from shared.uploads import DOCUMENT_TYPES

log = structlog.get_logger("gateway")


async def submit_job(request: Request) -> Response:
    principal = await authorize(request, SUBMIT)
    sluice = sluice_of(request)
    function = request.path_params["function"]
    spec = sluice.function(function)
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    idempotency_key = request.headers.get("idempotency-key")
    accepted = (
        ["multipart/form-data", *DOCUMENT_TYPES] if spec.takes_document else ["application/json"]
    )
    if media_type not in accepted:
        raise UnsupportedMediaTypeError(
            f"{function} takes {' or '.join(accepted)}, not {media_type or 'no content type'}",
            accepted=accepted,
        )
    # ?then=bom (repeated or comma-separated) chains follow-up functions; ?delay=,
    # ?not_before= and ?callback_url= are options of any submission.
    keywords = {
        "idempotency_key": idempotency_key,
        "then": chain_from_query(request.query_params),
        "tenant": principal.tenant,
        "limits": principal.limits(sluice.settings),
        **options_from_query(request.query_params),
    }
    if media_type == "multipart/form-data":
        refuse_own_params(request.query_params, "the params part")
    elif media_type == "application/json":
        refuse_own_params(request.query_params, "the JSON body")
    if media_type in ("multipart/form-data", *DOCUMENT_TYPES):
        submit = submit_multipart if media_type == "multipart/form-data" else submit_raw
        try:
            submission = await submit(request, sluice, function, keywords)
        except HttpError as exc:
            # Refused with the document still arriving (too large, a quota): read the
            # rest, so the client gets the answer rather than a reset connection. A body
            # that stopped arriving (408) has no rest to wait for.
            if not isinstance(exc, RequestTimeoutError):
                await drain(request)
            raise
    else:
        body = await read_limited(request, sluice.settings.max_body_bytes)
        submission = await sluice.submit(function, body, **keywords)
    headers = {"Location": submission.status_url}
    if submission.replayed:  # said in a header: the body is the first reply's
        headers["Idempotent-Replayed"] = "true"
        submission = msgspec.structs.replace(submission, replayed=False)
    return json_response(submission, 202, **headers)


async def job_status(request: Request) -> Response:
    """The status; with ``?wait=N``, once it changes (or after N seconds)."""
    tenant = (await authorize(request, READ)).job_tenant
    job_id = request.path_params["job_id"]
    if (seconds := events.wait_seconds(request)) is not None:
        return json_response(await events.status_after_change(request, job_id, tenant, seconds))
    return json_response(await sluice_of(request).status(job_id, tenant=tenant))


async def job_result(request: Request) -> Response:
    tenant = (await authorize(request, READ)).job_tenant
    status = await sluice_of(request).status(request.path_params["job_id"], tenant=tenant)
    if status.status != SUCCEEDED or status.result is None:
        raise JobStateError(
            f"job {status.job_id} is {status.status}, it has no result", status=status.status
        )
    return Response(bytes(memoryview(status.result)), media_type="application/json")


async def job_artifact(request: Request) -> Response:
    """A file a job saved, with the content type its handler chose; whatever is not a
    raster image is a download, so an HTML artifact cannot run as a page of the gateway."""
    tenant = (await authorize(request, READ)).job_tenant
    name = request.path_params["name"]
    job_id = request.path_params["job_id"]
    content_type, data = await sluice_of(request).artifact(job_id, name, tenant=tenant)
    headers = {"X-Content-Type-Options": "nosniff"}
    if not shown_inline(content_type):
        headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return Response(data, media_type=content_type, headers=headers)


def artifact_url(job_id: str, name: str) -> str:
    """The path an artifact is served at (its name quoted: one stored by another version
    may hold what a path segment cannot)."""
    return f"/v1/jobs/{job_id}/artifacts/{quote(name, safe='')}"


async def job_artifacts(request: Request) -> Response:
    """The files a job saved: name, content type, size and the path each is served at."""
    tenant = (await authorize(request, READ)).job_tenant
    job_id = request.path_params["job_id"]
    listed = await sluice_of(request).artifacts(job_id, tenant=tenant)
    artifacts = [
        {"name": name, "content_type": kind, "bytes": size, "url": artifact_url(job_id, name)}
        for name, kind, size in listed
    ]
    return json_response({"artifacts": artifacts})


async def cancel_job(request: Request) -> Response:
    tenant = (await authorize(request, SUBMIT)).job_tenant
    status = await sluice_of(request).cancel(request.path_params["job_id"], tenant=tenant)
    return json_response(status, 200 if status.status == CANCELLED else 202)


async def list_functions(request: Request) -> Response:
    await authorize(request, READ)
    functions = [
        {
            "name": spec.name,
            "description": spec.description,
            "input_schema": spec.json_schema(),
            "takes_document": spec.takes_document,
            "timeout": spec.timeout,
            "max_attempts": spec.max_attempts,
            "backoff": spec.backoff,
            "max_backoff": spec.max_backoff,
            "max_backlog": spec.backlog_bound(sluice_of(request).settings.max_backlog),
            "memory_mb": None if spec.is_async else spec.memory_mb,  # runs in the consumer
        }
        for spec in sorted(sluice_of(request).functions.values(), key=lambda s: s.name)
    ]
    return json_response({"functions": functions})


async def healthz(request: Request) -> Response:
    return json_response({"status": "ok"})


async def readyz(request: Request) -> Response:
    """Ready while Redis takes writes (a full Redis answers reads, refuses submissions).
    Says how Redis keeps its data, with a warning when a restart would lose every job."""
    sluice = sluice_of(request)
    with redis_errors():
        await sluice.redis.set(f"{sluice.settings.namespace}:readyz", now_iso(), ex=60)
        kept = await persistence(sluice.redis)
    body: dict[str, Any] = {"status": "ready", "persistence": kept}
    if kept == "none":
        body["warning"] = NO_PERSISTENCE["problem"]
    return json_response(body)


async def answer_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HttpError)
    headers = {}
    if isinstance(exc, RetryLaterError):
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, UnauthorizedError):
        headers["WWW-Authenticate"] = "Bearer"  # RFC 6750: how to authenticate
    return json_response({"error": exc.to_dict()}, exc.status_code, **headers)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    error: HttpError
    if exc.status_code == 405:
        error = MethodNotAllowedError(f"{request.method} is not allowed on {request.url.path}")
        response = await answer_http_error(request, error)
        # Every method of every route on this path, not only the first route's (RFC 9110).
        allowed = {
            method
            for route in request.app.routes
            if isinstance(route, Route) and route.matches(request.scope)[0] != Match.NONE
            for method in route.methods or ()
        }
        response.headers["Allow"] = ", ".join(sorted(allowed))
        return response
    if exc.status_code == 404:
        error = NotFoundError(f"no route {request.url.path}")
    else:
        return json_response(error_body(error_types.HTTP_OTHER, exc.detail), exc.status_code)
    return await answer_http_error(request, error)


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled_error")
    internal = error_types.HTTP_INTERNAL
    return json_response(error_body(internal, "internal error"), status_of(internal))


# uvicorn's exit code when an application's startup fails.
STARTUP_FAILED = 3


def configuration_error(exc: Exception) -> NoReturn:
    """A setting the gateway cannot start with: said in one line, then the process exits
    as uvicorn does when a startup fails. Not by raising: Starlette would log the
    exception's traceback after the line."""
    print(f"configuration error: {exc}", file=sys.stderr, flush=True)
    os._exit(STARTUP_FAILED)


def create_app(settings: Settings | None = None) -> Starlette:
    """The gateway; with ``settings`` (tests, an app embedding it) the caller has set up
    logging, and Redis is the one they name."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            resolved = settings or Settings.from_env()
            if settings is None:  # the process's app: logging and Redis are its to set up
                configure_logging(resolved)
                # may start the embedded Redis: off the event loop
                resolved = await asyncio.to_thread(with_local_redis, resolved)
            load_functions(resolved.function_modules)
        except (SettingsError, RuntimeError, OSError) as exc:
            configuration_error(exc)
        async with Sluice.connect(resolved) as sluice:
            auth = Authenticator(resolved, KeyStore(sluice.redis, resolved.namespace))
            try:
                await check_access(sluice.redis)
                await auth.start(resolved)
            except SettingsError as exc:
                configuration_error(exc)
            app.state.sluice = sluice
            app.state.auth = auth
            app.state.cors_origins = resolved.cors_origins
            app.state.watchers = events.Watchers(sluice.redis)
            log.info("gateway_started", functions=sorted(sluice.functions))
            try:
                yield
            finally:
                await app.state.watchers.close()

    routes = [
        Route("/v1/jobs/{function}/batch", submit_batch, methods=["POST"]),
        Route("/v1/jobs/{function}", submit_job, methods=["POST"]),
        Route("/v1/jobs/{job_id}", job_status, methods=["GET"]),
        Route("/v1/jobs/{job_id}", cancel_job, methods=["DELETE"]),
        Route("/v1/jobs/{job_id}/result", job_result, methods=["GET"]),
        Route("/v1/jobs/{job_id}/artifacts", job_artifacts, methods=["GET"]),
        Route("/v1/jobs/{job_id}/artifacts/{name}", job_artifact, methods=["GET"]),
        Route("/v1/functions", list_functions, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        *admin.ROUTES,
        *dead_letters.ROUTES,
        *operations.ROUTES,
        *events.ROUTES,
        *docs.ROUTES,
        *dashboard.ROUTES,
    ]
    return Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[Middleware(Cors)],
        exception_handlers={
            HttpError: answer_http_error,
            HTTPException: http_error,
            Exception: server_error,
        },
    )


def served(app: Starlette) -> RequestLogMiddleware:
    """The app as uvicorn serves it: with the request log and unread-body handling."""
    return RequestLogMiddleware(CloseOnUnreadBody(app))


app = served(create_app())
