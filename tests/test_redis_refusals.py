"""A Redis that is up but will not keep jobs: full (maxmemory, noeviction), without
persistence, or behind a TLS certificate that does not verify. Clients get a 503 they can
retry (never a 500), operators a warning or a configuration error at start."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import redis
from structlog.testing import capture_logs

from shared.embedded import RedisServer, free_port, system_redis_server
from shared.settings import Settings
from tests.conftest import Proc
from tests.inprocess import asgi_client
from tests.test_configuration import CONSUMER, GATEWAY, _run
from tests.test_documents_api import plan_pdf


def assert_out_of_memory(reply: httpx.Response) -> None:
    assert reply.status_code == 503, reply.text
    error = reply.json()["error"]
    assert error["type"] == "unavailable" and "out of memory" in error["message"], error
    assert int(reply.headers["retry-after"]) >= 1


async def test_a_full_redis_is_503_and_not_ready_until_memory_frees(
    own_redis: RedisServer, settings: Settings
) -> None:
    admin = redis.Redis.from_url(own_redis.url)
    async with asgi_client(settings.replace(redis_url=own_redis.url)) as http:
        assert (await http.get("/readyz")).status_code == 200
        chain = (await http.post("/v1/jobs/work?then=echo", json={})).json()
        admin.config_set("maxmemory-policy", "noeviction")
        admin.config_set("maxmemory", 1)  # below what it uses: every write is refused
        try:
            assert_out_of_memory(await http.post("/v1/jobs/echo", json={"n": 1}))
            assert_out_of_memory(
                await http.post("/v1/jobs/echo", json={"n": 1}, headers={"Idempotency-Key": "k"})
            )
            assert_out_of_memory(
                await http.post(
                    "/v1/jobs/render",
                    content=plan_pdf(),
                    headers={"content-type": "application/pdf"},
                )
            )
            assert_out_of_memory(await http.get("/readyz"))
            # Never a 500: the cancel itself may go through (a script's first write
            # decides), its follow-up's end is then left to the consumers' relay.
            cancel = await http.delete(f"/v1/jobs/{chain['job_id']}")
            if cancel.status_code != 200:
                assert_out_of_memory(cancel)
        finally:
            admin.config_set("maxmemory", 0)
        assert (await http.get("/readyz")).status_code == 200
        assert (await http.post("/v1/jobs/echo", json={"n": 1})).status_code == 202


async def test_a_redis_without_persistence_is_warned_of_at_start_and_in_readyz(
    own_redis: RedisServer, settings: Settings, start_consumer: Callable[..., Proc]
) -> None:
    admin = redis.Redis.from_url(own_redis.url)
    on_own = settings.replace(redis_url=own_redis.url)
    async with asgi_client(on_own) as http:
        assert (await http.get("/readyz")).json()["persistence"] == "aof"
        admin.config_set("appendonly", "no")
        admin.config_set("save", "")
        ready = (await http.get("/readyz")).json()
    assert ready["persistence"] == "none" and "restart loses every job" in ready["warning"]
    # The check at start is each entry point's own: `python -m consumers` and the app's.
    consumer = start_consumer("echo", REDIS_URL=own_redis.url)
    consumer.wait_for_event("redis_without_persistence")
    with capture_logs() as logs:
        async with asgi_client(on_own):
            pass
    assert [line["event"] for line in logs].count("redis_without_persistence") == 1


@pytest.fixture
def tls_redis(tmp_path: Path) -> Iterator[str]:
    """A Redis 7 that speaks TLS only, with a self-signed certificate: its rediss:// URL."""
    binary = system_redis_server()
    if binary is None or shutil.which("openssl") is None:
        pytest.skip("needs Debian's redis-server (built with TLS) and openssl")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost"],
        check=True,
        capture_output=True,
    )
    for _ in range(5):  # a free port picked here may be taken before the server binds it
        port = free_port()
        server = subprocess.Popen(
            [binary, "--port", "0", "--tls-port", str(port), "--tls-cert-file", str(cert)]
            + ["--tls-key-file", str(key), "--tls-auth-clients", "no", "--save", ""]
            + ["--dir", str(tmp_path)],
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(f"rediss://127.0.0.1:{port}/0?ssl_cert_reqs=none")
        if _answers(client, server):
            break
        server.wait()
    else:
        pytest.fail("redis-server with TLS did not start")
    try:
        yield f"rediss://127.0.0.1:{port}/0"
    finally:
        server.kill()
        server.wait()


def _answers(client: redis.Redis, server: subprocess.Popen[bytes]) -> bool:
    """The server answers over TLS (and is ours: alive), within 10 s."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and server.poll() is None:
        try:
            return bool(client.ping()) and server.poll() is None
        except redis.ConnectionError:
            time.sleep(0.05)
    return False


@pytest.mark.parametrize("process", ["consumer", "gateway"])
def test_a_tls_certificate_that_does_not_verify_is_a_configuration_error(
    process: str, tls_redis: str, env: dict[str, str], tmp_path: Path
) -> None:
    code, log = _run(
        CONSUMER if process == "consumer" else GATEWAY,
        env | {"REDIS_URL": tls_redis},
        tmp_path / "out.log",
    )
    assert "configuration error: REDIS_URL: the TLS certificate of Redis does not verify" in log
    assert code == (2 if process == "consumer" else 3), log
