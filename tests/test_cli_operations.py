"""``sluice dead|pause|resume|top`` as a shell runs them, against a real gateway (keys on)
and a real consumer process on real Redis: dead letters listed, replayed and deleted; a
paused function's job kept queued until it is resumed; the numbers ``top`` shows."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from cli.errors import ExitCode
from tests.cli_runs import (
    ADMIN_KEY,
    PYTHON_M_CLI,
    bash,
    cli_env,
    fields,
    json_out,
    ok,
    sluice,
    table,
)
from tests.conftest import Proc

pytestmark = pytest.mark.any_redis

ACME_KEY = "sk_acme_for_the_cli_operation_tests"
TOP_COLUMNS = [
    "FUNCTION",
    "PAUSED",
    "BACKLOG",
    "RUNNING",
    "RETRYING",
    "SCHEDULED",
    "DEAD",
    "OLDEST",
    "CONSUMERS",
    "SUCCEEDED",
    "FAILED",
]


@pytest.fixture
def url(start_gateway: Callable[..., str], start_consumer: Callable[..., Proc]) -> str:
    """A gateway with an admin key and a tenant's key, and a consumer of echo, work and
    doomed (which fails its only attempt: each of its jobs becomes a dead letter)."""
    start_consumer("echo", "work", "doomed")
    return start_gateway(SLUICE_ADMIN_KEY=ADMIN_KEY, SLUICE_API_KEYS=f"acme={ACME_KEY}")


@pytest.fixture
def cli(url: str) -> dict[str, str]:
    """The command's environment: the gateway's URL, the admin key."""
    return cli_env(url)


def dead_job(cli: dict[str, str]) -> str:
    """A doomed job, waited for: it fails (exit 4) and is dead-lettered."""
    failed = sluice(cli, "submit", "doomed", "--wait")
    assert failed.returncode == ExitCode.JOB_FAILED, failed.stderr
    return failed.stderr.split()[0]


def top_rows(cli: dict[str, str]) -> dict[str, dict[str, str]]:
    """``top --once`` as {function: {column: cell}}."""
    (header, *rows) = table(ok(sluice(cli, "top", "--once")))
    assert header == TOP_COLUMNS
    return {row[0]: dict(zip(header, row, strict=True)) for row in rows}


def test_dead_letters_listed_replayed_and_deleted(cli: dict[str, str], url: str) -> None:
    first, second = dead_job(cli), dead_job(cli)
    (header, *rows) = table(ok(sluice(cli, "dead", "list", "doomed")))
    assert header == ["ENTRY", "JOB", "TENANT", "ATTEMPTS", "DIED", "ERROR"]
    assert [row[1] for row in rows] == [second, first]  # newest first
    assert rows[0][2:4] == ["-", "1"]
    assert (
        " ".join(rows[0][5:])
        == f"ValueError: {second} fails on purpose (attempt 1 of 1, giving up)"
    )
    letters = json_out(sluice(cli, "dead", "list", "doomed", "--json"))["dead_letters"]
    assert [letter["job_id"] for letter in letters] == [second, first]
    older = table(ok(sluice(cli, "dead", "list", "doomed", "--count", "1", "--after", rows[0][0])))
    assert [row[1] for row in older[1:]] == [first]

    # The same job id queued again with fresh attempts: it fails again, a new dead letter.
    replayed = sluice(cli, "dead", "replay", "doomed", letters[0]["entry_id"])
    assert ok(replayed) == f"{second}\n" and "replayed 1" in replayed.stderr
    again = sluice(cli, "status", second, "--wait")
    assert again.returncode == ExitCode.JOB_FAILED
    assert fields(again.stdout)["attempts"] == "1 of 1"
    after = json_out(sluice(cli, "dead", "list", "doomed", "--json"))["dead_letters"]
    assert [letter["job_id"] for letter in after] == [second, first]
    assert after[0]["entry_id"] != letters[0]["entry_id"]
    missing = sluice(cli, "dead", "replay", "doomed", letters[0]["entry_id"], "--json")
    assert json.loads(ok(missing))["missing"] == 1 and "not replayed: 1 not found" in missing.stderr

    assert ok(sluice(cli, "dead", "delete", "doomed", after[1]["entry_id"])) == "deleted 1\n"
    assert json_out(sluice(cli, "dead", "delete", "doomed", "--all", "--json")) == {"deleted": 1}
    assert table(ok(sluice(cli, "dead", "list", "doomed"))) == [
        ["ENTRY", "JOB", "TENANT", "ATTEMPTS", "DIED", "ERROR"]
    ]
    status = httpx.get(f"{url}/v1/jobs/{first}", headers={"Authorization": f"Bearer {ADMIN_KEY}"})
    assert status.json()["status"] == "failed"  # deleting a dead letter keeps its job

    tenant = sluice({**cli, "SLUICE_API_KEY": ACME_KEY}, "dead", "list", "doomed")
    assert tenant.returncode == ExitCode.REFUSED and "forbidden (403)" in tenant.stderr
    unknown = sluice(cli, "dead", "list", "nosuch")
    assert unknown.returncode == ExitCode.REFUSED and "unknown_function (404)" in unknown.stderr


def test_a_paused_function_keeps_its_jobs_until_resumed(cli: dict[str, str]) -> None:
    assert ok(sluice(cli, "pause", "work")) == "paused work\n"
    held = ok(sluice(cli, "submit", "work")).strip()
    # The consumer of work runs echo too: once an echo job submitted after it is done,
    # the consumer has read past the work job, which it did not start.
    assert json_out(sluice(cli, "submit", "echo", "-p", "n=1", "--wait")) == {"n": 1}
    shown = fields(ok(sluice(cli, "status", held)))
    assert shown["status"] == "queued (function paused)"
    rows = top_rows(cli)
    assert (rows["work"]["PAUSED"], rows["work"]["BACKLOG"]) == ("yes", "1")
    assert (rows["echo"]["PAUSED"], rows["echo"]["SUCCEEDED"], rows["echo"]["BACKLOG"]) == (
        "no",
        "1",
        "0",
    )

    assert json_out(sluice(cli, "resume", "work", "--json")) == {
        "function": "work",
        "paused": False,
    }
    finished = sluice(cli, "status", held, "--wait")
    assert ok(finished) and fields(finished.stdout)["status"] == "succeeded"
    assert top_rows(cli)["work"]["PAUSED"] == "no"

    not_admin = sluice({**cli, "SLUICE_API_KEY": ACME_KEY}, "pause", "work")
    assert not_admin.returncode == ExitCode.REFUSED and "forbidden (403)" in not_admin.stderr
    unknown = sluice(cli, "resume", "nosuch")
    assert unknown.returncode == ExitCode.REFUSED and "unknown_function (404)" in unknown.stderr


def test_top_shows_the_numbers(cli: dict[str, str]) -> None:
    for _ in range(2):
        ok(sluice(cli, "submit", "echo", "-p", "n=1", "--wait"))
    dead_job(cli)
    ok(sluice(cli, "submit", "work", "--delay", "600"))
    rows = top_rows(cli)
    assert [rows["echo"][column] for column in TOP_COLUMNS[1:]] == [
        *("no", "0", "0", "0", "0", "0", "-", "1", "2", "0")
    ]
    assert (rows["doomed"]["DEAD"], rows["doomed"]["FAILED"], rows["doomed"]["CONSUMERS"]) == (
        "1",
        "1",
        "1",
    )
    assert (rows["work"]["SCHEDULED"], rows["work"]["SUCCEEDED"]) == ("1", "0")
    functions = json_out(sluice(cli, "top", "--once", "--json"))["functions"]
    echo = next(function for function in functions if function["function"] == "echo")
    assert echo["jobs_total"]["succeeded"] == 2 and echo["backlog"] == 0


def test_top_refreshes_until_interrupted(cli: dict[str, str]) -> None:
    """Off a terminal each refresh is a table of its own; Ctrl-C (SIGINT) ends it, exit 0."""
    headers = 0
    with subprocess.Popen(
        [*PYTHON_M_CLI, "top", "--interval", "0.1"],
        env=cli,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as top:
        assert top.stdout is not None and top.stderr is not None
        for line in top.stdout:
            headers += line.split() == TOP_COLUMNS
            if headers == 2:
                break
        top.send_signal(signal.SIGINT)
        assert top.wait(10) == ExitCode.OK, top.stderr.read()
    assert headers == 2


def test_the_readme_examples(cli: dict[str, str], tmp_path: Path) -> None:
    """The README's sessions on pausing and dead letters (``sluice`` as installed)."""
    assert ok(bash(cli, "sluice pause echo", tmp_path)) == "paused echo\n"
    job_id = ok(bash(cli, "sluice submit echo -p n=1", tmp_path)).strip()
    shown = fields(ok(bash(cli, f"sluice status {job_id}", tmp_path)))
    assert (shown["job"], shown["status"]) == (job_id, "queued (function paused)")
    (header, *rows) = table(ok(bash(cli, "sluice top --once", tmp_path)))
    echo = next(row for row in rows if row[0] == "echo")
    assert header == TOP_COLUMNS and echo[1:3] == ["yes", "1"]
    assert ok(bash(cli, "sluice resume echo", tmp_path)) == "resumed echo\n"
    assert (
        fields(ok(bash(cli, f"sluice status {job_id} --wait", tmp_path)))["status"] == "succeeded"
    )

    failed = ok(bash(cli, 'sluice submit doomed --wait; echo "exit $?"', tmp_path))
    assert failed == "exit 4\n"
    (header, row) = table(ok(bash(cli, "sluice dead list doomed", tmp_path)))
    assert header == ["ENTRY", "JOB", "TENANT", "ATTEMPTS", "DIED", "ERROR"]
    replayed = ok(bash(cli, f"sluice dead replay doomed {row[0]}", tmp_path))
    assert replayed == f"{row[1]}\n"
    assert sluice(cli, "status", row[1], "--wait").returncode == ExitCode.JOB_FAILED
    assert ok(bash(cli, "sluice dead delete doomed --all", tmp_path)) == "deleted 1\n"


def test_an_unreachable_gateway_exits_3_for_each_command() -> None:
    with socket.socket() as bound:  # bound, not listening: a connection is refused
        bound.bind(("127.0.0.1", 0))
        env = cli_env(f"http://127.0.0.1:{bound.getsockname()[1]}")
        results = {
            tuple(args): sluice(env, *args)
            for args in (["top", "--once"], ["dead", "list", "echo"], ["pause", "echo"])
        }
    for args, result in results.items():
        assert result.returncode == ExitCode.UNAVAILABLE, (args, result.stderr)
        assert "cannot reach the gateway" in result.stderr and result.stdout == ""
