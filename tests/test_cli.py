"""The ``sluice`` command (cli/) as a shell runs it, against a real gateway with an admin key:
API keys created, listed and revoked, and the exit code of each way a call can end."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from cli.errors import ExitCode
from shared.embedded import RedisServer
from tests.conftest import ROOT

pytestmark = pytest.mark.any_redis

ADMIN_KEY = "sk_admin_for_the_cli_tests"
PYTHON_M_CLI = [sys.executable, "-m", "cli"]
VENV_BIN = Path(sys.executable).parent


@pytest.fixture
def shell() -> dict[str, str]:
    """The environment the command runs in: none of the outer SLUICE_ settings."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith("SLUICE_")}
    return {**kept, "PYTHONPATH": str(ROOT)}


@pytest.fixture
def gateway(start_gateway: Callable[..., str]) -> str:
    """A gateway whose keys are on: SLUICE_ADMIN_KEY is set."""
    return start_gateway(SLUICE_ADMIN_KEY=ADMIN_KEY)


def run(
    env: dict[str, str], *args: str, command: list[str] = PYTHON_M_CLI
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*command, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=30
    )


def admin(gateway: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """``sluice`` run as the installation's admin, with both given by the environment."""
    return run({**env, "SLUICE_URL": gateway, "SLUICE_API_KEY": ADMIN_KEY}, *args)


def create_key(gateway: str, env: dict[str, str]) -> dict[str, str]:
    """A submit,read key of tenant acme, as ``--json`` gives it (secret included)."""
    created = admin(gateway, env, "keys", "create", "--tenant", "acme", "--json")
    assert created.returncode == ExitCode.OK, created.stderr
    reply: dict[str, str] = json.loads(created.stdout)
    return reply


def submit_status(gateway: str, key: str) -> int:
    headers = {"Authorization": f"Bearer {key}"}
    return httpx.post(f"{gateway}/v1/jobs/echo", json={"a": 1}, headers=headers).status_code


def test_create_prints_the_key_alone_and_it_submits(gateway: str, shell: dict[str, str]) -> None:
    created = admin(gateway, shell, "keys", "create", "--tenant", "acme", "--scopes", "submit,read")
    assert created.returncode == ExitCode.OK, created.stderr
    key = created.stdout.removesuffix("\n")
    assert key.startswith("sk_") and "\n" not in key  # what KEY=$(sluice keys create) holds
    assert "shown this once" in created.stderr and key not in created.stderr
    assert submit_status(gateway, "sk_not_a_key") == 401
    assert submit_status(gateway, key) == 202


def test_list_shows_the_key_without_its_secret(gateway: str, shell: dict[str, str]) -> None:
    created = create_key(gateway, shell)
    assert created["key"].startswith("sk_")
    (header, *rows) = admin(gateway, shell, "keys", "list").stdout.splitlines()
    assert header.split() == ["ID", "TENANT", "SCOPES", "QUOTAS", "SOURCE", "CREATED"]
    assert [row.split() for row in rows] == [
        [created["id"], "acme", "submit,read", "-", "cli", created["created_at"]]
    ]
    listed = admin(gateway, shell, "keys", "list", "--json")
    assert listed.returncode == ExitCode.OK, listed.stderr
    assert created["key"] not in listed.stdout
    (key,) = json.loads(listed.stdout)["keys"]
    assert (key["id"], key["tenant"], key["scopes"]) == (created["id"], "acme", ["submit", "read"])


def test_a_key_made_with_quotas_shows_them(gateway: str, shell: dict[str, str]) -> None:
    quotas = ["--max-jobs", "10", "--max-bytes", "1000000", "--rate", "5", "--burst", "10"]
    created = admin(gateway, shell, "keys", "create", "--tenant", "acme", *quotas, "--json")
    assert created.returncode == ExitCode.OK, created.stderr
    key = json.loads(created.stdout)
    assert key["quotas"] == {"jobs": 10, "bytes": 1_000_000, "rate": 5.0, "burst": 10}
    assert "quotas jobs=10,bytes=1000000,rate=5,burst=10" in created.stderr
    slow = admin(gateway, shell, "keys", "create", "--tenant", "globex", "--rate", "0.5")
    assert slow.returncode == ExitCode.OK, slow.stderr
    (_, *rows) = admin(gateway, shell, "keys", "list").stdout.splitlines()
    assert sorted(row.split()[1:4] for row in rows) == [
        ["acme", "submit,read", "jobs=10,bytes=1000000,rate=5,burst=10"],
        ["globex", "submit,read", "rate=0.5"],
    ]


def test_a_revoked_key_is_refused(gateway: str, shell: dict[str, str]) -> None:
    created = create_key(gateway, shell)
    assert submit_status(gateway, created["key"]) == 202
    revoked = admin(gateway, shell, "keys", "revoke", created["id"])
    assert (revoked.returncode, revoked.stdout) == (ExitCode.OK, f"revoked {created['id']}\n")
    assert submit_status(gateway, created["key"]) == 401
    listed = admin(gateway, shell, "--json", "keys", "list")
    assert json.loads(listed.stdout) == {"keys": []}


def test_a_refused_call_exits_1_with_the_gateways_message(
    gateway: str, shell: dict[str, str]
) -> None:
    anonymous = run(shell, "--url", gateway, "keys", "list")
    assert anonymous.returncode == ExitCode.REFUSED
    assert anonymous.stdout == ""
    assert "unauthorized (401)" in anonymous.stderr and "SLUICE_API_KEY" in anonymous.stderr
    submitter = create_key(gateway, shell)["key"]
    not_admin = run(shell, "--url", gateway, "--api-key", submitter, "keys", "list")
    assert not_admin.returncode == ExitCode.REFUSED
    assert "forbidden (403): this API key lacks the admin scope" in not_admin.stderr
    unknown = admin(gateway, shell, "keys", "revoke", "nosuchkey")
    assert unknown.returncode == ExitCode.REFUSED
    assert "key_not_found (404)" in unknown.stderr and "nosuchkey" in unknown.stderr
    bad_scope = admin(gateway, shell, "keys", "create", "--tenant", "acme", "--scopes", "root")
    assert bad_scope.returncode == ExitCode.REFUSED
    assert "invalid_input (400): scopes must be" in bad_scope.stderr and bad_scope.stdout == ""


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port bound but not listening for the test: connecting there is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def test_an_unreachable_gateway_exits_3(closed_port: int, shell: dict[str, str]) -> None:
    url = f"http://127.0.0.1:{closed_port}"
    for args in (["keys", "list"], ["keys", "create", "--tenant", "acme"]):
        result = run({**shell, "SLUICE_URL": url}, *args)
        assert result.returncode == ExitCode.UNAVAILABLE, result.stderr
        assert f"cannot reach the gateway at {url}" in result.stderr and result.stdout == ""


def test_a_gateway_failing_with_5xx_exits_3(
    own_redis: RedisServer, start_gateway: Callable[..., str], shell: dict[str, str]
) -> None:
    gateway = start_gateway(REDIS_URL=own_redis.url, SLUICE_ADMIN_KEY=ADMIN_KEY)
    assert admin(gateway, shell, "keys", "list").returncode == ExitCode.OK
    own_redis.kill()
    result = admin(gateway, shell, "keys", "list")
    assert result.returncode == ExitCode.UNAVAILABLE, result.stderr
    assert "the gateway at" in result.stderr and "unavailable (503)" in result.stderr, result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["keys"],
        ["tickets", "list"],
        ["keys", "create", "--scopes", "submit"],
        ["keys", "revoke"],
        ["--url", "localhost:8000", "keys", "list"],
        ["keys", "create", "--tenant", "acme", "--max-jobs", "0"],
        ["keys", "create", "--tenant", "acme", "--max-bytes", "1.5"],
        ["keys", "create", "--tenant", "acme", "--rate", "-1"],
        ["keys", "create", "--tenant", "acme", "--burst", "many"],
    ],
    ids=[
        "no command",
        "no keys command",
        "unknown",
        "no tenant",
        "no id",
        "url without scheme",
        "no jobs",
        "bytes not whole",
        "negative rate",
        "burst not a number",
    ],
)
def test_bad_usage_exits_2(args: list[str], shell: dict[str, str]) -> None:
    result = run(shell, *args)
    assert result.returncode == ExitCode.USAGE, result.stderr
    assert result.stderr and result.stdout == ""


def test_options_may_follow_the_command(closed_port: int, shell: dict[str, str]) -> None:
    """--url after the command wins over SLUICE_URL, as it does before it."""
    url = f"http://127.0.0.1:{closed_port}"
    elsewhere = {**shell, "SLUICE_URL": "http://127.0.0.1:9/"}
    result = run(elsewhere, "keys", "list", "--url", url)
    assert result.returncode == ExitCode.UNAVAILABLE
    assert f"cannot reach the gateway at {url}:" in result.stderr


def test_the_console_script_is_the_command(gateway: str, shell: dict[str, str]) -> None:
    """``sluice`` as pyproject.toml installs it ([project.scripts]; the venv is re-synced)."""
    script = VENV_BIN / "sluice"
    assert script.exists(), "no sluice script in the venv: run scripts/setup.sh"
    env = {**shell, "SLUICE_URL": gateway, "SLUICE_API_KEY": ADMIN_KEY}
    result = run(env, "keys", "create", "--tenant", "acme", command=[str(script)])
    assert result.returncode == ExitCode.OK, result.stderr
    assert submit_status(gateway, result.stdout.strip()) == 202
