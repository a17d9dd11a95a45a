"""``GET /openapi.json`` and the interactive docs at ``GET /docs`` (Swagger UI, vendored in
gateway/static/: the page loads nothing from another site). Scope ``read`` once keys exist."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from gateway.auth import authorize
from gateway.openapi import openapi_document
from gateway.responses import json_response, static_file
from shared.api_keys import READ

STATIC = Path(__file__).parent / "static"
# The files the page loads, and their types: nothing else of the folder is served.
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "docs.js": "text/javascript",
}
# The page and its UI run only what the gateway serves: no inline script or style, no
# other origin, no frames.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self';"
    " connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self';"
    " frame-ancestors 'none'"
)
PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>sluice API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/docs.js"></script>
</body>
</html>
"""


def _document(request: Request) -> dict[str, Any]:
    """Built once per app: the functions are fixed when it starts."""
    cached: dict[str, Any] | None = getattr(request.app.state, "openapi", None)
    if cached is None:
        cached = openapi_document(request.app.state.sluice.functions)
        request.app.state.openapi = cached
    return cached


async def openapi_json(request: Request) -> Response:
    await authorize(request, READ)
    return json_response(_document(request))


async def docs_page(request: Request) -> Response:
    await authorize(request, READ)
    return HTMLResponse(
        PAGE,
        headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY, "X-Frame-Options": "DENY"},
    )


async def docs_asset(request: Request) -> Response:
    await authorize(request, READ)
    name = request.path_params["asset"]
    return static_file(request, STATIC, ASSETS, name, "private, max-age=3600")


ROUTES = [
    Route("/openapi.json", openapi_json, methods=["GET"]),
    Route("/docs", docs_page, methods=["GET"]),
    Route("/docs/{asset}", docs_asset, methods=["GET"]),
]
