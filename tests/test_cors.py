"""Browsers: no cross-origin access unless CORS_ORIGINS names the page's origin."""

from __future__ import annotations

import pytest

from shared.settings import Settings, SettingsError
from tests.inprocess import asgi_client

pytestmark = pytest.mark.any_redis

APP = "https://app.example.com"
PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type",
}


async def test_no_cross_origin_access_by_default(settings: Settings) -> None:
    async with asgi_client(settings) as http:
        preflight = await http.options("/v1/jobs/echo", headers={"Origin": APP, **PREFLIGHT})
        reply = await http.post("/v1/jobs/echo", json={}, headers={"Origin": APP})
    assert preflight.status_code == 405
    assert "access-control-allow-origin" not in preflight.headers
    assert "access-control-allow-origin" not in reply.headers


async def test_an_allowed_origin_may_call_the_api_and_read_its_headers(settings: Settings) -> None:
    allowed = settings.replace(cors_origins=(APP,), api_keys=(("acme", "acme-key"),))
    async with asgi_client(allowed) as http:
        preflight = await http.options("/v1/jobs/echo", headers={"Origin": APP, **PREFLIGHT})
        assert preflight.status_code == 200, preflight.text
        assert preflight.headers["access-control-allow-origin"] == APP
        assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
        reply = await http.post(
            "/v1/jobs/echo", json={}, headers={"Origin": APP, "Authorization": "Bearer acme-key"}
        )
        assert reply.status_code == 202, reply.text
        assert reply.headers["access-control-allow-origin"] == APP
        assert "location" in reply.headers["access-control-expose-headers"].lower()
        # An error answer is readable by the page too (it says why).
        refused = await http.get("/v1/functions", headers={"Origin": APP})
        assert refused.status_code == 401
        assert refused.headers["access-control-allow-origin"] == APP
        other = "https://evil.example"
        denied = await http.options("/v1/jobs/echo", headers={"Origin": other, **PREFLIGHT})
        assert denied.status_code == 400
        assert "access-control-allow-origin" not in denied.headers
        plain = await http.get("/healthz", headers={"Origin": other})
        assert "access-control-allow-origin" not in plain.headers


@pytest.mark.parametrize("value", ["app.example.com", "https://app.example.com/path", "ftp://x"])
def test_cors_origins_must_be_origins(value: str) -> None:
    with pytest.raises(SettingsError, match="CORS_ORIGINS"):
        Settings.from_env({"CORS_ORIGINS": value})


def test_cors_origins_are_read_from_the_environment() -> None:
    read = Settings.from_env({"CORS_ORIGINS": f"{APP}/, http://localhost:3000"})
    assert read.cors_origins == (APP, "http://localhost:3000")
