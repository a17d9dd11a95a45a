"""Settings a process cannot start with: one `configuration error:` line and exit 2,
before it takes any work (a Redis that refuses the client is one; one that is down is not:
the processes wait for it)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from shared.embedded import RedisServer
from tests.conftest import GATEWAY_COMMAND, Proc

pytestmark = pytest.mark.any_redis


def _run(args: list[str], env: dict[str, str], log: Path) -> tuple[int, str]:
    proc = Proc([sys.executable, *args], env, log)
    try:
        return proc.wait(30), proc.log()
    finally:
        proc.stop()


CONSUMER = ["-m", "consumers", "echo"]
GATEWAY = [*GATEWAY_COMMAND[1:], "--port", "0", "--log-level", "warning"]


@pytest.mark.parametrize(
    ("setting", "value", "says"),
    [
        ("FUNCTION_MODULES", "tests.no_such_module", "FUNCTION_MODULES: 'tests.no_such_module'"),
        ("REDIS_URL", "http://127.0.0.1:1", "REDIS_URL must start with redis://"),
        ("SLUICE_NAMESPACE", "a{b}", "SLUICE_NAMESPACE may not hold braces"),
        ("REDIS_URL", "redis://127.0.0.1:99999/0", "REDIS_URL has a port outside 1-65535"),
        ("REDIS_URL", "redis://127.0.0.1:6379/abc", "REDIS_URL's path must be a database"),
    ],
)
@pytest.mark.parametrize("process", ["consumer", "gateway"])
def test_a_bad_setting_is_one_line_and_exit_2(
    process: str, setting: str, value: str, says: str, env: dict[str, str], tmp_path: Path
) -> None:
    code, log = _run(
        CONSUMER if process == "consumer" else GATEWAY,
        env | {setting: value},
        tmp_path / "out.log",
    )
    assert f"configuration error: {says}" in log, log
    assert "Traceback" not in log, log  # one line, not the line and a traceback
    # uvicorn exits 3 when the application's startup fails; the consumer says 2 itself.
    assert code == (2 if process == "consumer" else 3), log


@pytest.mark.parametrize("process", ["consumer", "gateway"])
def test_a_redis_that_refuses_the_client_is_a_configuration_error(
    process: str, redis_server: RedisServer, env: dict[str, str], tmp_path: Path
) -> None:
    """A database number the server does not have: retrying would never help."""
    code, log = _run(
        CONSUMER if process == "consumer" else GATEWAY,
        env | {"REDIS_URL": redis_server.url.rsplit("/", 1)[0] + "/99"},
        tmp_path / "out.log",
    )
    assert "configuration error: REDIS_URL: Redis refused the connection" in log, log
    assert "DB index is out of range" in log
    assert code == (2 if process == "consumer" else 3), log
