"""Settings a process cannot start with: one `configuration error:` line and exit 2,
before it takes any work (a Redis that refuses the client is one; one that is down is not:
the processes wait for it).

Each message is checked in this process, through the code each entry point runs at
startup (the consumer's ``main``, the gateway's lifespan); one process per entry point
shows what an operator sees."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

import gateway.app
from consumers import __main__ as consumer_cli
from shared.embedded import RedisServer
from shared.settings import Settings
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


class _Exited(Exception):
    """os._exit, caught: the gateway leaves its startup that way."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def _start_in_process(
    process: str,
    env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> tuple[int, str]:
    """Start ``process`` as its entry point does, in this process, with ``env`` as the
    environment: its exit code and what it wrote. Logging stays the test's (each
    entry point would configure it for its process)."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(consumer_cli, "configure_logging", lambda settings: None)
    monkeypatch.setattr(gateway.app, "configure_logging", lambda settings: None)
    if process == "consumer":
        code = consumer_cli.main(["echo"])
    else:

        def exit_now(code: int) -> None:
            raise _Exited(code)

        monkeypatch.setattr(os, "_exit", exit_now)
        app = gateway.app.create_app()

        async def start_up() -> None:
            async with app.router.lifespan_context(app):
                raise AssertionError("the gateway started")

        with pytest.raises(_Exited) as exited:
            asyncio.run(start_up())
        code = exited.value.code
    written = capsys.readouterr()
    return code, written.out + written.err


# uvicorn exits 3 when the application's startup fails; the consumer says 2 itself.
EXIT_CODES = {"consumer": 2, "gateway": gateway.app.STARTUP_FAILED}
assert EXIT_CODES["gateway"] == 3


@pytest.mark.parametrize(
    ("setting", "value", "says"),
    [
        ("FUNCTION_MODULES", "tests.no_such_module", "FUNCTION_MODULES: 'tests.no_such_module'"),
        ("REDIS_URL", "http://127.0.0.1:1", "REDIS_URL must start with redis://"),
        ("SLUICE_NAMESPACE", "a{b}", "SLUICE_NAMESPACE may not hold braces"),
        ("REDIS_URL", "redis://127.0.0.1:99999/0", "REDIS_URL has a port outside 1-65535"),
        ("REDIS_URL", "redis://127.0.0.1:6379/abc", "REDIS_URL's path must be a database"),
        ("SLUICE_API_KEYS", "acme:KEY1", "SLUICE_API_KEYS: entry 1 is not tenant=KEY"),
        ("SLUICE_API_KEYS", "a b=KEY1", "SLUICE_API_KEYS: the tenant of entry 1 must be"),
        ("SLUICE_AUTH", "maybe", "SLUICE_AUTH must be on or off"),
    ],
)
@pytest.mark.parametrize("process", ["consumer", "gateway"])
def test_a_bad_setting_is_one_line_and_exit_2(
    process: str,
    setting: str,
    value: str,
    says: str,
    env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, written = _start_in_process(process, env | {setting: value}, monkeypatch, capsys)
    # One line, not the line and a traceback (nor a log line).
    assert written.startswith(f"configuration error: {says}"), written
    assert written.count("\n") == 1 and written.endswith("\n"), written
    assert code == EXIT_CODES[process], written


# A database number the server does not have: retrying would never help.
REFUSED = "configuration error: REDIS_URL: Redis refused the connection"


@pytest.mark.parametrize("process", ["consumer", "gateway"])
def test_a_redis_that_refuses_the_client_is_a_configuration_error(
    process: str,
    redis_server: RedisServer,
    env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    refused = env | {"REDIS_URL": redis_server.url.rsplit("/", 1)[0] + "/99"}
    assert Settings.from_env(refused).redis_url.endswith("/99")  # a valid setting
    code, written = _start_in_process(process, refused, monkeypatch, capsys)
    assert written.startswith(REFUSED), written
    assert "DB index is out of range" in written
    assert written.count("\n") == 1 and written.endswith("\n"), written
    assert code == EXIT_CODES[process], written


@pytest.mark.parametrize("process", ["consumer", "gateway"])
def test_an_operator_sees_one_line_and_the_exit_code(
    process: str, redis_server: RedisServer, env: dict[str, str], tmp_path: Path
) -> None:
    """The processes as started from a shell: logging configured, then the line, then
    the exit (uvicorn's own for the gateway)."""
    code, log = _run(
        CONSUMER if process == "consumer" else GATEWAY,
        env | {"REDIS_URL": redis_server.url.rsplit("/", 1)[0] + "/99"},
        tmp_path / "out.log",
    )
    assert log.startswith(REFUSED) and "DB index is out of range" in log, log
    assert "Traceback" not in log, log  # one line, not the line and a traceback
    assert log.count("\n") == 1 and log.endswith("\n"), log  # nor a log line
    assert code == EXIT_CODES[process], log


def test_a_gateway_on_a_hosting_platform_without_keys_refuses_to_start(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Open to anyone is for a laptop: where DYNO (or another platform's marker) says
    this is a hosting platform, no key is an error unless SLUICE_AUTH=off says so."""
    code, written = _start_in_process("gateway", env | {"DYNO": "web.1"}, monkeypatch, capsys)
    assert written.startswith("configuration error: no API key is configured and DYNO"), written
    assert "SLUICE_AUTH=off" in written and written.count("\n") == 1, written
    assert code == EXIT_CODES["gateway"]
