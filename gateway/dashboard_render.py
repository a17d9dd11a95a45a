"""How dashboard pages are rendered: the Jinja2 templates (autoescaped), the headers
every page carries, and the small formatting filters the templates use."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from gateway.dashboard_charts import BOTTOM, HEIGHT, LEFT, RIGHT, TOP, WIDTH

TEMPLATES = Path(__file__).parent / "templates" / "dashboard"
# How often a page's live parts are fetched again (dashboard.js), in milliseconds.
REFRESH_MS = 2000
# Pages run only the gateway's own script and style: inline SVG charts need neither an
# inline script nor a style attribute. Forms post only here; nothing may frame a page.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self';"
    " connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self';"
    " frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # Live numbers: a page from the cache would show stale ones after Back.
    "Cache-Control": "no-store",
    # The Referer a same-origin form sends is what the CSRF check falls back on.
    "Referrer-Policy": "same-origin",
}


def age(seconds: float | None) -> str:
    """``12 s``, ``3 min 5 s``, ``2 h 10 min``; ``-`` for none."""
    if seconds is None or math.isnan(seconds):
        return "-"
    whole = max(0, int(seconds))
    if whole < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60} s"
    return f"{whole // 3600} h {whole % 3600 // 60} min"


def parse_time(value: str | None) -> datetime | None:
    """An RFC 3339 time of a job status (``...Z``)."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def since(value: str | None) -> str:
    """How long ago an RFC 3339 time was, as ``age`` says it."""
    at = parse_time(value)
    return "-" if at is None else age((datetime.now(UTC) - at).total_seconds())


def between(start: str | None, end: str | None) -> str:
    """The time from one RFC 3339 time to another (to now when ``end`` is None)."""
    began = parse_time(start)
    if began is None:
        return "-"
    ended = parse_time(end) or datetime.now(UTC)
    return age((ended - began).total_seconds())


def size(count: int) -> str:
    """Bytes as ``812 B``, ``14.2 kB``, ``3.1 MB``."""
    if count < 1000:
        return f"{count} B"
    if count < 1_000_000:
        return f"{count / 1000:.1f} kB"
    return f"{count / 1_000_000:.1f} MB"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,  # every template: a job's error or result is untrusted text
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(age=age, since=since, size=size)
    frame = {"width": WIDTH, "height": HEIGHT, "left": LEFT, "right": RIGHT}
    frame |= {"top": TOP, "bottom": BOTTOM, "middle": (TOP + BOTTOM) / 2}
    env.globals.update(between=between, refresh_ms=REFRESH_MS, frame=frame)
    return env


templates = Jinja2Templates(env=_environment())


def render(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> Response:
    """The template ``name`` with ``context``, and the page headers. ``keyed`` (whether
    the gateway has keys, so a logout button makes sense) comes from the access check."""
    context = {"keyed": getattr(request.state, "dashboard_keyed", False), **context}
    return templates.TemplateResponse(
        request, name, context, status_code=status_code, headers=PAGE_HEADERS
    )
