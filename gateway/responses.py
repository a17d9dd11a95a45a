"""JSON responses, encoded as the rest of the platform encodes (shared.jobs)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from shared.jobs import json_encoder


def json_response(content: Any, status_code: int = 200, **headers: str) -> Response:
    return Response(
        json_encoder.encode(content),
        status_code=status_code,
        media_type="application/json",
        headers=headers or None,
    )
