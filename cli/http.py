"""The gateway seen from the command: one HTTP client, JSON replies, errors as CliError."""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from cli.errors import GatewayRefusedError, GatewayUnavailableError, UsageError

# Seconds to wait for the gateway: admin calls are one Redis round trip or two, so a
# gateway silent for this long is down or overloaded, and a script should learn it.
TIMEOUT = 10.0


def path_segment(value: str) -> str:
    """``value`` quoted as one path segment, so an id holding ``/`` cannot reach another route."""
    return quote(value, safe="")


class Gateway:
    """An HTTP client on the gateway at ``url``, sending ``api_key`` as a Bearer token."""

    def __init__(self, url: str, api_key: str | None) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        try:
            self._client = httpx.Client(base_url=url, headers=headers, timeout=TIMEOUT)
        except httpx.InvalidURL as error:
            raise UsageError(f"--url {url!r} is not a URL: {error}") from error
        if self._client.base_url.scheme not in ("http", "https"):
            self._client.close()
            raise UsageError(f"--url {url!r} is not an http:// or https:// URL")
        self.url = url
        self.has_key = bool(api_key)

    def __enter__(self) -> Gateway:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._client.close()

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        params: Mapping[str, str] | None = None,
        read_timeout: float = TIMEOUT,
        **sent: Any,
    ) -> Any:
        """The JSON reply of ``method path`` (``body`` sent as JSON when given; ``sent``:
        httpx's ``files``, ``data``, ``headers``), or the CliError that says why there is
        none. ``read_timeout``: seconds the reply may take (a long poll's are more)."""
        if body is not None:
            sent["json"] = body
        response = self.send(method, path, params=params, read_timeout=read_timeout, **sent)
        try:
            reply = response.json()
        except ValueError:
            reply = None
        if reply is None:
            raise GatewayUnavailableError(
                f"the gateway at {self.url} failed: not_json ({response.status_code}):"
                f" the reply to {response.request.url.path} is not JSON"
            )
        return reply

    def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        read_timeout: float = TIMEOUT,
        **sent: Any,
    ) -> httpx.Response:
        """The successful reply of ``method path`` whatever its type (an artifact's bytes),
        or the CliError that says why there is none."""
        timeout = httpx.Timeout(TIMEOUT, read=read_timeout)
        try:
            response = self._client.request(method, path, params=params, timeout=timeout, **sent)
        except httpx.TransportError as error:
            raise GatewayUnavailableError(
                f"cannot reach the gateway at {self.url}: {error or type(error).__name__}"
            ) from error
        if response.is_success:
            return response
        try:
            reply = response.json()
        except ValueError:
            reply = None
        error_type, message = _error_of(reply, response)
        if 400 <= response.status_code < 500:
            if response.status_code == 401 and not self.has_key:
                message += " (no API key given: --api-key or SLUICE_API_KEY)"
            raise GatewayRefusedError(response.status_code, error_type, message)
        raise GatewayUnavailableError(
            f"the gateway at {self.url} failed: {error_type} ({response.status_code}): {message}"
        )


def _error_of(reply: Any, response: httpx.Response) -> tuple[str, str]:
    """The type and message of an error reply; a proxy's HTML page gives its status line
    instead."""
    error = reply.get("error") if isinstance(reply, dict) else None
    if isinstance(error, dict) and isinstance(error.get("type"), str):
        return error["type"], str(error.get("message", ""))
    return "http_error", response.reason_phrase or f"HTTP {response.status_code}"
