"""Who may use the dashboard, and how a browser proves it.

The dashboard is for admins. An open gateway (no key configured) has an open dashboard.
Once keys exist a browser cannot send a Bearer header, so ``/dashboard/login`` takes an
admin key and keeps it in a cookie: HttpOnly (no script reads it), SameSite=Strict (no
other site's page sends it), Secure over https, path ``/dashboard``; every request checks
it again, so a revoked key stops working as it does on the API. A Bearer header works
too (scripts, curl).

Every form post (the buttons, login, logout) must come from a page of this gateway: its
``Origin`` (or, when a browser sends none, its ``Referer``) must name the host the request
was sent to. With SameSite=Strict that refuses cross-site request forgery, also on an open
gateway, which has no cookie to protect it.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl, quote, urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from gateway.auth import Authenticator, Principal
from gateway.body import read_limited
from gateway.dashboard_render import render
from shared.api_keys import ADMIN
from shared.errors import (
    ForbiddenError,
    HttpError,
    RetryLaterError,
    UnauthorizedError,
    UnsupportedMediaTypeError,
)

COOKIE = "sluice_dashboard"
COOKIE_PATH = "/dashboard"
# A login lasts a working day; the key itself is checked at every request regardless.
COOKIE_SECONDS = 12 * 3600
LOGIN = "/dashboard/login"
HOME = "/dashboard"
# The dashboard's forms hold a few short fields.
FORM_BYTES = 16_384
FORM_TYPE = "application/x-www-form-urlencoded"

Handler = Callable[[Request], Awaitable[Response]]


def safe_next(value: str | None, default: str = HOME) -> str:
    """A dashboard path to go to after a form (never another site); else ``default``."""
    if not value or not value.isprintable():
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or "\\" in value:
        return default
    if parts.path != HOME and not parts.path.startswith(HOME + "/"):
        return default
    return value


def _to_cookie(secret: str) -> str:
    """The key as a cookie value: base64url, so any character a key may hold (a space, a
    semicolon in a hand-made SLUICE_ADMIN_KEY) survives the Cookie header."""
    return base64.urlsafe_b64encode(secret.encode()).decode().rstrip("=")


def _from_cookie(value: str) -> str:
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return ""  # not one this dashboard set: as if there were none


def redirect(to: str) -> Response:
    """303: the browser follows with a GET, so reloading the page does not post again."""
    return RedirectResponse(to, status_code=303)


def _https(request: Request) -> bool:
    """Whether the browser reached us over https: directly, or through a platform's proxy
    that says so (trusted only to mark the cookie Secure, which can do no harm)."""
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.url.scheme == "https" or forwarded == "https"


def check_same_origin(request: Request) -> None:
    """403 unless the post comes from a page of the host it was sent to (see above)."""
    origin = request.headers.get("origin")
    source = origin if origin and origin != "null" else request.headers.get("referer")
    host = request.headers.get("host", "").lower()
    if not source or not host or urlsplit(source).netloc.lower() != host:
        raise ForbiddenError("a dashboard form must be sent from the dashboard's own pages")


async def read_form(request: Request) -> dict[str, str]:
    """A small urlencoded form (an empty body is an empty form), the first value of each
    field."""
    body = await read_limited(request, FORM_BYTES)
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if body and media_type != FORM_TYPE:
        raise UnsupportedMediaTypeError(f"a dashboard form is {FORM_TYPE}", accepted=[FORM_TYPE])
    fields: dict[str, str] = {}
    for name, value in parse_qsl(body.decode(errors="replace"), keep_blank_values=True):
        fields.setdefault(name, value)
    return fields


async def admin_of(request: Request) -> Principal:
    """The admin the request comes from; 401 without a key, 403 with one not admin."""
    auth: Authenticator = request.app.state.auth
    unkeyed = await auth.open_principal()
    request.state.dashboard_keyed = unkeyed is None
    if unkeyed is not None:
        return unkeyed
    if "authorization" in request.headers:
        return await auth.principal(request, ADMIN)
    secret = _from_cookie(request.cookies.get(COOKIE, ""))
    if not secret:
        raise UnauthorizedError("log in with an admin key")
    return await auth.principal_of(secret, ADMIN)


def error_page(request: Request, exc: HttpError) -> Response:
    response = render(
        request,
        "error.html",
        {"title": exc.type.replace("_", " "), "error": exc},
        status_code=exc.status_code,
    )
    if isinstance(exc, RetryLaterError):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def dashboard_route(handler: Handler) -> Handler:
    """A dashboard route: admins only (a page asked for without a login goes to the login
    form), posts from the dashboard's own pages only, errors as pages."""

    @functools.wraps(handler)
    async def route(request: Request) -> Response:
        try:
            if request.method == "POST":
                check_same_origin(request)
            await admin_of(request)
            return await handler(request)
        except (UnauthorizedError, ForbiddenError) as exc:
            if request.method == "GET":
                wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return redirect(f"{LOGIN}?next={quote(wanted, safe='/')}")
            return error_page(request, exc)
        except HttpError as exc:
            return error_page(request, exc)

    return route


def _login_form(
    request: Request, next_path: str, error: HttpError | None = None, status: int = 200
) -> Response:
    context = {"title": "log in", "next": next_path, "login_error": error}
    return render(request, "login.html", context, status_code=status)


async def login_page(request: Request) -> Response:
    next_path = safe_next(request.query_params.get("next"))
    try:
        if await request.app.state.auth.open_principal() is not None:
            return redirect(next_path)  # an open gateway: nothing to log in to
    except HttpError as exc:
        return error_page(request, exc)
    return _login_form(request, next_path)


async def login(request: Request) -> Response:
    """Check the admin key posted, and keep it in the dashboard's cookie."""
    auth: Authenticator = request.app.state.auth
    try:
        check_same_origin(request)
        form = await read_form(request)
        opened = await auth.open_principal() is not None
    except HttpError as exc:
        return error_page(request, exc)
    next_path = safe_next(form.get("next"))
    if opened:
        return redirect(next_path)
    secret = form.get("key", "").strip()
    try:
        if not secret:
            raise UnauthorizedError("enter an admin key")
        await auth.principal_of(secret, ADMIN)
    except (UnauthorizedError, ForbiddenError) as exc:
        return _login_form(request, next_path, exc, exc.status_code)
    except HttpError as exc:
        return error_page(request, exc)
    response = redirect(next_path)
    response.set_cookie(
        COOKIE,
        _to_cookie(secret),
        max_age=COOKIE_SECONDS,
        path=COOKIE_PATH,
        secure=_https(request),
        httponly=True,
        samesite="strict",
    )
    return response


async def logout(request: Request) -> Response:
    try:
        check_same_origin(request)
    except HttpError as exc:
        return error_page(request, exc)
    response = redirect(LOGIN)
    response.delete_cookie(
        COOKIE,
        path=COOKIE_PATH,
        secure=_https(request),
        httponly=True,
        samesite="strict",
    )
    return response
