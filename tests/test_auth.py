"""API keys: `Authorization: Bearer`, scopes, keys from the environment and from the admin
routes, and a gateway left open when no key is configured."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import msgspec
import pytest
import redis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from structlog.testing import capture_logs

from gateway.auth import Authenticator, authorize
from shared.api_keys import SUBMIT, KeyStore, digest
from shared.embedded import RedisServer
from shared.quotas import Quotas
from shared.redis import connect
from shared.settings import Settings
from tests.inprocess import asgi_client, run_burst

pytestmark = pytest.mark.any_redis

ADMIN = "admin-secret-for-tests"
ACME, GLOBEX = "acme-key-1", "globex-key-2"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def keyed(settings: Settings) -> Settings:
    return settings.replace(api_keys=(("acme", ACME), ("globex", GLOBEX)), admin_key=ADMIN)


def assert_refused(reply: httpx.Response, status: int, error_type: str) -> None:
    assert reply.status_code == status, reply.text
    assert reply.json()["error"]["type"] == error_type, reply.text


async def test_with_no_key_configured_the_gateway_is_open_and_says_so(settings: Settings) -> None:
    with capture_logs() as logs:
        async with asgi_client(settings) as http:
            assert (await http.post("/v1/jobs/echo", json={"n": 1})).status_code == 202
            assert (await http.get("/v1/admin/keys")).status_code == 200
    assert [line["event"] for line in logs].count("auth_open") == 1


async def test_every_route_but_health_wants_a_key(keyed: Settings) -> None:
    async with asgi_client(keyed) as http:
        job_id = (await http.post("/v1/jobs/echo", json={}, headers=bearer(ACME))).json()["job_id"]
        for method, path in [
            ("POST", "/v1/jobs/echo"),
            ("GET", f"/v1/jobs/{job_id}"),
            ("GET", f"/v1/jobs/{job_id}/result"),
            ("GET", f"/v1/jobs/{job_id}/artifacts/page-1.png"),
            ("GET", f"/v1/jobs/{job_id}/events"),
            ("DELETE", f"/v1/jobs/{job_id}"),
            ("GET", "/v1/functions"),
            ("GET", "/v1/admin/keys"),
            ("POST", "/v1/admin/keys"),
            ("DELETE", "/v1/admin/keys/abc"),
        ]:
            for headers in ({}, bearer("not-a-key"), {"Authorization": f"Basic {ACME}"}):
                reply = await http.request(method, path, json={}, headers=headers)
                assert_refused(reply, 401, "unauthorized")
                assert reply.headers["www-authenticate"] == "Bearer"
        assert (await http.get("/healthz")).status_code == 200
        assert (await http.get("/readyz")).status_code == 200


async def test_a_form_post_without_a_key_is_refused_before_its_upload(keyed: Settings) -> None:
    """What a plain HTML form on another site sends: no Authorization header."""
    async with asgi_client(keyed) as http:
        reply = await http.post("/v1/jobs/render", files={"file": ("p.pdf", b"%PDF-1.7\n")})
    assert_refused(reply, 401, "unauthorized")


async def test_environment_keys_submit_and_read_but_do_not_administer(keyed: Settings) -> None:
    async with asgi_client(keyed) as http:
        submitted = await http.post("/v1/jobs/echo", json={"n": 1}, headers=bearer(ACME))
        assert submitted.status_code == 202, submitted.text
        status = await http.get(submitted.headers["location"], headers=bearer(ACME))
        assert status.status_code == 200, status.text
        assert (await http.get("/v1/functions", headers=bearer(GLOBEX))).status_code == 200
        assert_refused(await http.get("/v1/admin/keys", headers=bearer(ACME)), 403, "forbidden")
        listed = await http.get("/v1/admin/keys", headers=bearer(ADMIN))
    assert listed.status_code == 200, listed.text
    keys = listed.json()["keys"]
    assert [(k["tenant"], k["scopes"], k["source"]) for k in keys] == [
        ("acme", ["submit", "read"], "env"),
        ("globex", ["submit", "read"], "env"),
    ]
    # Stored as digests only: neither the secret nor anything but its digest is kept.
    assert ACME not in listed.text and GLOBEX not in listed.text


async def test_a_key_made_by_the_admin_api_has_its_scopes_until_revoked(keyed: Settings) -> None:
    async with asgi_client(keyed) as http:
        made = await http.post(
            "/v1/admin/keys", json={"tenant": "initech", "scopes": ["read"]}, headers=bearer(ADMIN)
        )
        assert made.status_code == 201, made.text
        key = made.json()
        assert key["key"].startswith("sk_") and key["tenant"] == "initech"
        assert key["scopes"] == ["read"] and key["source"] == "cli"
        reader = bearer(key["key"])
        assert (await http.get("/v1/functions", headers=reader)).status_code == 200
        assert_refused(await http.post("/v1/jobs/echo", json={}, headers=reader), 403, "forbidden")
        listed = (await http.get("/v1/admin/keys", headers=bearer(ADMIN))).json()["keys"]
        assert key["id"] in [k["id"] for k in listed] and key["key"] not in str(listed)

        revoked = await http.delete(f"/v1/admin/keys/{key['id']}", headers=bearer(ADMIN))
        assert revoked.json() == {"id": key["id"], "revoked": True}
        assert_refused(await http.get("/v1/functions", headers=reader), 401, "unauthorized")
        again = await http.delete(f"/v1/admin/keys/{key['id']}", headers=bearer(ADMIN))
        assert_refused(again, 404, "key_not_found")


async def test_a_key_made_with_quotas_lists_them(keyed: Settings) -> None:
    quotas = {"jobs": 10, "bytes": 1_000_000, "rate": 5, "burst": 10}
    async with asgi_client(keyed) as http:
        made = await http.post(
            "/v1/admin/keys", json={"tenant": "acme", "quotas": quotas}, headers=bearer(ADMIN)
        )
        assert made.status_code == 201, made.text
        assert made.json()["quotas"] == quotas
        some = await http.post(
            "/v1/admin/keys",
            json={"tenant": "globex", "quotas": {"rate": 0.5, "jobs": None}},
            headers=bearer(ADMIN),
        )
        assert some.json()["quotas"] == {"rate": 0.5}, some.text
        listed = (await http.get("/v1/admin/keys", headers=bearer(ADMIN))).json()["keys"]
    by_id = {key["id"]: key["quotas"] for key in listed}
    assert by_id[made.json()["id"]] == quotas
    assert by_id[some.json()["id"]] == {"rate": 0.5}
    # The environment's keys have the settings' quotas.
    assert [key["quotas"] for key in listed if key["source"] == "env"] == [{}, {}]


def quotas_app(authenticator: Authenticator) -> Starlette:
    """A route answering with the quotas of whoever sent the request."""

    async def whose(request: Request) -> Response:
        principal = await authorize(request, SUBMIT)
        return Response(msgspec.json.encode(principal.quotas), media_type="application/json")

    app = Starlette(routes=[Route("/whose", whose)])
    app.state.auth = authenticator
    return app


@pytest.fixture
async def store(settings: Settings) -> AsyncIterator[KeyStore]:
    async with connect(settings.redis_url) as client:
        yield KeyStore(client, settings.namespace)


async def test_a_request_carries_its_keys_quotas(keyed: Settings, store: KeyStore) -> None:
    limited, _ = await store.create("initech", [SUBMIT], quotas=Quotas(jobs=3, rate=0.5))
    plain, _ = await store.create("initech", [SUBMIT])
    authenticator = Authenticator(keyed, store)
    await authenticator.start(keyed)
    transport = httpx.ASGITransport(app=quotas_app(authenticator))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
        for key, quotas in [
            (limited, {"jobs": 3, "rate": 0.5}),
            (plain, {}),
            (ACME, {}),
            (ADMIN, {}),
        ]:
            reply = await http.get("/whose", headers=bearer(key))
            assert reply.status_code == 200, reply.text
            assert reply.json() == quotas


async def test_an_open_gateway_has_the_default_quotas(settings: Settings, store: KeyStore) -> None:
    authenticator = Authenticator(settings, store)
    await authenticator.start(settings)
    transport = httpx.ASGITransport(app=quotas_app(authenticator))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
        assert (await http.get("/whose")).json() == {}


async def test_keys_in_redis_are_digests(keyed: Settings, sync_redis: redis.Redis) -> None:
    async with asgi_client(keyed) as http:
        made = await http.post("/v1/admin/keys", json={"tenant": "t1"}, headers=bearer(ADMIN))
        secret = made.json()["key"]
        async with asgi_client(keyed) as again:  # another gateway process finds it in Redis
            assert (await again.get("/v1/functions", headers=bearer(secret))).status_code == 200
    stored = [k.decode() for k in sync_redis.scan_iter(f"{keyed.namespace}:{{api_keys}}:*")]
    assert f"{keyed.namespace}:{{api_keys}}:{digest(secret)}" in stored
    dumped = [sync_redis.dump(k) or b"" for k in stored]
    assert all(secret.encode() not in blob for blob in dumped)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"tenant": "a b"}, "$.tenant"),
        ({"tenant": "acme", "scopes": ["write"]}, "$.scopes"),
        ({"tenant": "acme", "scopes": []}, "$.scopes"),
        ({"tenant": "acme", "role": "x"}, "$.role"),
        ({}, "$.tenant"),
        ({"tenant": "acme", "quotas": {"rate": 0}}, "$.quotas.rate"),
        ({"tenant": "acme", "quotas": {"jobs": 1.5}}, "$.quotas.jobs"),
        ({"tenant": "acme", "quotas": {"bytes": -1}}, "$.quotas.bytes"),
        ({"tenant": "acme", "quotas": {"burst": "10"}}, "$.quotas.burst"),
        ({"tenant": "acme", "quotas": {"max_jobs": 10}}, "$.quotas.max_jobs"),
        ({"tenant": "acme", "quotas": 10}, "$.quotas"),
    ],
)
async def test_a_bad_new_key_is_400_naming_the_field(
    keyed: Settings, body: dict[str, object], field: str
) -> None:
    async with asgi_client(keyed) as http:
        reply = await http.post("/v1/admin/keys", json=body, headers=bearer(ADMIN))
    assert_refused(reply, 400, "invalid_input")
    assert reply.json()["error"].get("field") == field, reply.text


async def test_an_environment_key_is_revoked_by_taking_it_out_of_the_environment(
    keyed: Settings,
) -> None:
    async with asgi_client(keyed) as http:
        listed = (await http.get("/v1/admin/keys", headers=bearer(ADMIN))).json()["keys"]
        acme = next(k["id"] for k in listed if k["tenant"] == "acme")
        assert_refused(
            await http.delete(f"/v1/admin/keys/{acme}", headers=bearer(ADMIN)), 400, "invalid_input"
        )
    fewer = keyed.replace(api_keys=(("globex", GLOBEX),))
    async with asgi_client(fewer) as http:
        listed = (await http.get("/v1/admin/keys", headers=bearer(ADMIN))).json()["keys"]
        assert [k["tenant"] for k in listed] == ["globex"]
        assert_refused(await http.get("/v1/functions", headers=bearer(ACME)), 401, "unauthorized")


async def test_sluice_auth_off_opens_a_gateway_on_a_hosting_platform(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DYNO", "web.1")
    with capture_logs() as logs:
        async with asgi_client(settings.replace(auth_off=True, api_keys=(("acme", ACME),))) as http:
            assert (await http.post("/v1/jobs/echo", json={})).status_code == 202
    assert "auth_off" in [line["event"] for line in logs]


async def test_another_tenants_job_is_not_found_on_every_route(keyed: Settings) -> None:
    async with asgi_client(keyed) as http:
        order = {"Idempotency-Key": "order-42"}
        mine = await http.post("/v1/jobs/echo", json={"n": 1}, headers=bearer(ACME) | order)
        job_id = mine.json()["job_id"]
        await run_burst(keyed, "echo")
        for method, path in [
            ("GET", f"/v1/jobs/{job_id}"),
            ("GET", f"/v1/jobs/{job_id}/result"),
            ("GET", f"/v1/jobs/{job_id}/artifacts/page-1.png"),
            ("GET", f"/v1/jobs/{job_id}/events"),
            ("GET", f"/v1/jobs/{job_id}?wait=1"),
            ("DELETE", f"/v1/jobs/{job_id}"),
        ]:
            theirs = await http.request(method, path, headers=bearer(GLOBEX))
            assert_refused(theirs, 404, "job_not_found")
            # Told as of a job that does not exist: nothing says the id is taken.
            nobody = f"echo-{'0' * 32}"
            missing = await http.request(
                method, path.replace(job_id, nobody), headers=bearer(GLOBEX)
            )
            said = theirs.json()["error"]["message"].replace(job_id, "?")
            assert said == missing.json()["error"]["message"].replace(nobody, "?")
        for key in (ACME, ADMIN):
            seen = await http.get(f"/v1/jobs/{job_id}/result", headers=bearer(key))
            assert seen.status_code == 200 and seen.json() == {"n": 1}, seen.text
        # The same Idempotency-Key from another tenant is that tenant's own: a new job.
        other = await http.post("/v1/jobs/echo", json={"n": 2}, headers=bearer(GLOBEX) | order)
        assert other.status_code == 202 and other.json()["job_id"] != job_id, other.text
        again = await http.post("/v1/jobs/echo", json={"n": 1}, headers=bearer(ACME) | order)
        assert again.json()["job_id"] == job_id and again.headers["idempotent-replayed"] == "true"


async def test_revoking_every_key_does_not_open_the_gateway(settings: Settings) -> None:
    async with asgi_client(settings) as http:
        made = await http.post("/v1/admin/keys", json={"tenant": "ops", "scopes": ["admin"]})
        key = made.json()
        revoked = await http.delete(f"/v1/admin/keys/{key['id']}", headers=bearer(key["key"]))
        assert revoked.status_code == 200, revoked.text
        assert_refused(await http.get("/v1/functions"), 401, "unauthorized")
    async with asgi_client(settings) as http:  # another gateway process, started now
        assert_refused(await http.get("/v1/functions"), 401, "unauthorized")


async def test_a_gateway_on_a_hosting_platform_finding_no_key_is_closed(
    own_redis: RedisServer, namespace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Started while Redis was away, it did not refuse to start; Redis back, holding no
    key, it must not serve as open either."""
    monkeypatch.setenv("DYNO", "web.1")
    settings = Settings.from_env({"REDIS_URL": own_redis.url, "SLUICE_NAMESPACE": namespace})
    own_redis.stop()
    async with asgi_client(settings) as http:
        own_redis.start()
        reply = await http.get("/v1/functions")
    assert_refused(reply, 503, "unavailable")
    assert "SLUICE_API_KEYS" in reply.json()["error"]["message"]
