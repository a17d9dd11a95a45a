"""Without REDIS_URL (local development), the gateway and the consumers started one by one
share an embedded Redis in ./.local, started by whichever came first."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from shared.embedded import local_redis_url
from tests.conftest import GATEWAY_COMMAND, ROOT, Proc, listening_socket


@pytest.fixture
def local_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    env = {name: value for name, value in os.environ.items() if name != "REDIS_URL"}
    env |= {"PYTHONPATH": str(ROOT), "LOG_FORMAT": "json", "SLUICE_NAMESPACE": "local"}
    yield env
    url_file = tmp_path / ".local" / "redis.url"
    if url_file.exists() and (url := url_file.read_text().strip()):
        _shutdown(url)


def test_processes_without_redis_url_share_an_embedded_redis(
    tmp_path: Path, local_env: dict[str, str]
) -> None:
    with listening_socket() as sock:
        port = sock.getsockname()[1]
        gateway = Proc(
            [*GATEWAY_COMMAND, "--fd", str(sock.fileno())],
            local_env,
            tmp_path / "gateway.log",
            cwd=tmp_path,
            pass_fds=(sock.fileno(),),
        )
    consumer = Proc(
        [sys.executable, "-m", "consumers", "echo", "--concurrency", "2"],
        local_env,
        tmp_path / "consumer.log",
        cwd=tmp_path,
    )
    try:
        consumer.wait_for_event("consumer_started")
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, gateway.log()
            time.sleep(0.1)
        job = httpx.post(f"{base}/v1/jobs/echo", json={"hello": "local"}).json()
        deadline = time.monotonic() + 15
        while (status := httpx.get(f"{base}{job['status_url']}").json())["status"] != "succeeded":
            assert time.monotonic() < deadline, status
            time.sleep(0.05)
        assert status["result"] == {"hello": "local"}
        url = (tmp_path / ".local" / "redis.url").read_text().strip()
        assert url.startswith("redis://127.0.0.1:")
        # One Redis for both.
        assert [line["url"] for line in consumer.events("redis_embedded")] == [url]
        assert [line["url"] for line in gateway.events("redis_embedded")] == [url]
    finally:
        gateway.stop()
        consumer.stop()


def test_on_a_paas_a_missing_redis_url_is_an_error(
    tmp_path: Path, local_env: dict[str, str]
) -> None:
    consumer = Proc(
        [sys.executable, "-m", "consumers", "echo"],
        local_env | {"DYNO": "worker.1"},
        tmp_path / "consumer.log",
        cwd=tmp_path,
    )
    assert consumer.wait(20) == 2
    assert "REDIS_URL is not set" in consumer.log()
    assert not (tmp_path / ".local").exists()
    consumer.stop()


def _shutdown(url: str) -> None:
    with redis.Redis.from_url(url) as client:
        try:
            client.shutdown(nosave=True)
        except redis.exceptions.ConnectionError:
            pass  # already gone (shutdown closes the connection)


def test_a_stopped_embedded_redis_comes_back_on_its_port(tmp_path: Path) -> None:
    """Processes still retrying its old URL find it again."""
    folder = tmp_path / ".local"
    first = local_redis_url(folder)
    assert local_redis_url(folder) == first  # answering: reused, not started again
    _shutdown(first)
    again = local_redis_url(folder)
    try:
        assert again == first
        with redis.Redis.from_url(again) as client:
            assert client.ping()
    finally:
        _shutdown(again)
