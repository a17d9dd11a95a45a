"""What route handlers share: the app's Sluice, and JSON responses encoded as the rest
of the platform encodes (shared.jobs)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, Response

from shared.client import Sluice
from shared.errors import NotFoundError
from shared.jobs import json_encoder

# Artifact types a browser may show inline: raster images, which run no script (SVG can).
# Anything else is served as a download, so an HTML artifact cannot run as a page.
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


def shown_inline(content_type: str) -> bool:
    return content_type.split(";")[0].strip().lower() in INLINE_TYPES


def sluice_of(request: Request) -> Sluice:
    sluice: Sluice = request.app.state.sluice
    return sluice


def json_response(content: Any, status_code: int = 200, **headers: str) -> Response:
    return Response(
        json_encoder.encode(content),
        status_code=status_code,
        media_type="application/json",
        headers=headers or None,
    )


def static_file(
    request: Request, folder: Path, types: Mapping[str, str], name: str, cache: str
) -> Response:
    """One of a page's files: only those ``types`` names (file -> content type), so
    nothing else of ``folder`` is served; ``cache``: its Cache-Control."""
    media_type = types.get(name)
    if media_type is None:
        raise NotFoundError(f"no route {request.url.path}")
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": cache}
    return FileResponse(folder / name, media_type=media_type, headers=headers)
