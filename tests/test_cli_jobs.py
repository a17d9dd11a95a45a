"""``sluice submit|status|result|cancel|artifacts|functions`` as a shell runs them, against
a real gateway (keys on) and a real consumer process on real Redis."""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from cli.errors import ExitCode
from gateway.app import create_app
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
    watch_until,
)
from tests.conftest import ROOT, Proc

pytestmark = pytest.mark.any_redis

PLAN = ROOT / "tests" / "data" / "issue-297.pdf"


@pytest.fixture
def url(start_gateway: Callable[..., str], start_consumer: Callable[..., Proc]) -> str:
    """A gateway with keys on, and a consumer of the functions these tests submit to."""
    start_consumer("echo", "work", "digest", "render", "pages")
    return start_gateway(SLUICE_ADMIN_KEY=ADMIN_KEY)


@pytest.fixture
def cli(url: str) -> dict[str, str]:
    """The command's environment: the gateway's URL, the admin key."""
    return cli_env(url)


def test_submit_wait_prints_the_result(cli: dict[str, str]) -> None:
    done = sluice(cli, "submit", "echo", "-p", "hello=sluice", "-p", "n=3", "--wait")
    assert json.loads(ok(done)) == {"hello": "sluice", "n": 3}
    (job_id,) = {line.split()[0] for line in done.stderr.splitlines()}
    assert done.stderr.splitlines()[-1] == f"{job_id} succeeded 100%"

    given = '{"list": [1, 2], "text": "kept"}'
    typed = ["-p", "flag=true", "-p", "when=2026-01-01", "-p", 'digits="42"', "-p", "none=null"]
    merged = json_out(sluice(cli, "submit", "echo", "--input", given, *typed, "--wait"))
    assert merged == {
        "list": [1, 2],
        "text": "kept",
        "flag": True,
        "when": "2026-01-01",
        "digits": "42",
        "none": None,
    }
    from_stdin = sluice(cli, "submit", "echo", "--input", "@-", "--wait", stdin='{"piped": 1}')
    assert json.loads(ok(from_stdin)) == {"piped": 1}

    status = json_out(sluice(cli, "submit", "echo", "-p", "a=1", "--wait", "--json"))
    assert (status["status"], status["result"], status["attempts"]) == ("succeeded", {"a": 1}, 1)


def test_submit_prints_the_id_and_the_job_is_followed_later(
    cli: dict[str, str], tmp_path: Path
) -> None:
    job_id = ok(sluice(cli, "submit", "work", "-p", "seconds=0.2")).strip()
    assert job_id.startswith("work-") and len(job_id) == len("work-") + 32
    shown = fields(ok(sluice(cli, "status", job_id, "--wait")))
    assert (shown["job"], shown["function"], shown["status"]) == (job_id, "work", "succeeded")
    assert (shown["attempts"], shown["error"], shown["progress"]) == (
        "1 of 3",
        "-",
        "100%  writing",
    )
    result = json_out(sluice(cli, "result", job_id))
    assert (result["slept"], result["attempt"]) == (0.2, 1)
    saved = ok(sluice(cli, "result", job_id, "-o", str(tmp_path / "result.json")))
    assert saved == "" and json.loads((tmp_path / "result.json").read_text()) == result
    status = json_out(sluice(cli, "status", job_id, "--json"))
    assert status["job_id"] == job_id and status["result"] == result

    submitted = json_out(sluice(cli, "submit", "echo", "-p", "n=1", "--json"))
    assert submitted["function"] == "echo" and submitted["status"] == "queued"


def test_submit_output_saves_the_result(cli: dict[str, str], tmp_path: Path) -> None:
    target = tmp_path / "echoed.json"
    saved = sluice(cli, "submit", "echo", "-p", "n=2", "-o", str(target))  # -o: waits
    assert ok(saved) == "" and f"saved to {target}" in saved.stderr
    assert json.loads(target.read_text()) == {"n": 2}


def test_a_document_is_uploaded_with_its_params(cli: dict[str, str], tmp_path: Path) -> None:
    data = PLAN.read_bytes()
    digest = json_out(sluice(cli, "submit", "digest", str(PLAN), "-p", "seconds=0", "--wait"))
    assert digest == {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}

    no_file = sluice(cli, "submit", "digest")
    assert no_file.returncode == ExitCode.REFUSED and no_file.stdout == ""
    assert "unsupported_media_type (415)" in no_file.stderr
    assert "digest takes a document: give FILE" in no_file.stderr
    a_file = sluice(cli, "submit", "echo", str(PLAN))
    assert a_file.returncode == ExitCode.REFUSED
    assert "echo takes JSON, not a document: leave FILE out" in a_file.stderr
    fake = tmp_path / "fake.pdf"
    fake.write_bytes(b"not a pdf")
    not_a_document = sluice(cli, "submit", "digest", str(fake))
    assert not_a_document.returncode == ExitCode.REFUSED
    assert "not a PDF, PNG or JPEG" in not_a_document.stderr
    assert "leave FILE out" not in not_a_document.stderr  # digest does take documents
    missing = sluice(cli, "submit", "digest", "no-such.pdf")
    assert missing.returncode == ExitCode.USAGE and "cannot read no-such.pdf" in missing.stderr


def test_a_chain_is_followed_to_its_last_job(cli: dict[str, str]) -> None:
    chained = sluice(
        cli, "submit", "echo", "-p", "n=1", "--then", "echo", "-p", "echo.m=2", "--wait"
    )
    assert json.loads(ok(chained)) == {"n": 1, "m": 2}
    followed = {line.split()[0] for line in chained.stderr.splitlines()}
    assert len(followed) == 2  # the first job and its follow-up

    status = json_out(sluice(cli, "submit", "echo", "-p", "n=1", "--then", "echo,echo", "--json"))
    assert status["next_job_id"].startswith("echo-")


def test_a_failed_job_exits_4_with_its_error(cli: dict[str, str]) -> None:
    failed = sluice(cli, "submit", "work", "-p", "permanent=true", "--wait")
    assert failed.returncode == ExitCode.JOB_FAILED and failed.stdout == ""
    job_id = failed.stderr.split()[0]
    assert (
        f"sluice: job {job_id} ended failed: BadInput: this input can never work" in failed.stderr
    )
    as_json = sluice(cli, "status", job_id, "--wait", "--json")
    assert as_json.returncode == ExitCode.JOB_FAILED
    assert json.loads(as_json.stdout)["error"]["type"] == "BadInput"
    shown = fields(ok(sluice(cli, "status", job_id)))  # without --wait: a status shown, 0
    assert shown["error"] == "BadInput: this input can never work"
    no_result = sluice(cli, "result", job_id)
    assert no_result.returncode == ExitCode.REFUSED and "conflict (409)" in no_result.stderr


def test_cancel_and_a_cancelled_job_exits_5(cli: dict[str, str], url: str) -> None:
    scheduled = ok(sluice(cli, "submit", "work", "--delay", "60")).strip()
    assert ok(sluice(cli, "cancel", scheduled)) == f"cancelled {scheduled}\n"
    ended = sluice(cli, "status", scheduled, "--wait")
    assert ended.returncode == ExitCode.JOB_CANCELLED
    assert fields(ended.stdout)["status"] == "cancelled"

    running = ok(sluice(cli, "submit", "work", "-p", "seconds=30")).strip()
    watch_until(url, running, "running")
    stopping = ok(sluice(cli, "cancel", running))
    assert stopping == f"stopping {running}: it is running, its consumer is told to stop\n"
    stopped = sluice(cli, "status", running, "--wait")
    assert stopped.returncode == ExitCode.JOB_CANCELLED, stopped.stderr
    again = sluice(cli, "cancel", running)
    assert again.returncode == ExitCode.REFUSED and "conflict (409)" in again.stderr


def test_a_wait_past_its_timeout_exits_6(cli: dict[str, str], url: str) -> None:
    waited = sluice(cli, "submit", "work", "-p", "seconds=30", "--wait", "--timeout", "0.5")
    assert waited.returncode == ExitCode.WAIT_TIMED_OUT and waited.stdout == ""
    job_id = waited.stderr.split()[0]
    assert f"job {job_id} is still" in waited.stderr and "after 0.5 s; it goes on" in waited.stderr
    ok(sluice(cli, "cancel", job_id))


def test_ctrl_c_leaves_the_job_going(cli: dict[str, str]) -> None:
    """SIGINT while waiting: exit 130, and the job (still running) is named."""
    args = [*PYTHON_M_CLI, "submit", "work", "-p", "seconds=30", "--wait"]
    with subprocess.Popen(args, env=cli, stderr=subprocess.PIPE, text=True) as waiting:
        assert waiting.stderr is not None
        first = waiting.stderr.readline()  # the first status shown: it is being followed
        waiting.send_signal(signal.SIGINT)
        assert waiting.wait(10) == ExitCode.INTERRUPTED
        said = waiting.stderr.read()
    job_id = first.split()[0]
    assert f"sluice: interrupted; job {job_id} goes on (sluice status {job_id} --wait)" in said
    assert fields(ok(sluice(cli, "status", job_id)))["status"] in ("queued", "running")
    ok(sluice(cli, "cancel", job_id))


def test_artifacts_are_listed_and_downloaded(cli: dict[str, str], tmp_path: Path) -> None:
    job_id = ok(sluice(cli, "submit", "render", str(PLAN), "-p", "dpi=36")).strip()
    ok(sluice(cli, "status", job_id, "--wait"))
    rows = table(ok(sluice(cli, "artifacts", job_id)))
    assert rows[0] == ["NAME", "TYPE", "BYTES"] and [row[0] for row in rows[1:]] == ["page-1.png"]
    listed = json_out(sluice(cli, "artifacts", job_id, "--json"))["artifacts"]
    assert [artifact["name"] for artifact in listed] == ["page-1.png"]

    folder = tmp_path / "pages"
    saved = ok(sluice(cli, "artifacts", job_id, "-o", str(folder)))
    assert saved == f"{folder / 'page-1.png'}\n"
    served = httpx.get(
        f"{cli['SLUICE_URL']}/v1/jobs/{job_id}/artifacts/page-1.png",
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
    )
    png = (folder / "page-1.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n") and png == served.content

    echoed = ok(sluice(cli, "submit", "echo", "-p", "n=1", "--wait", "--json"))
    nothing = sluice(cli, "artifacts", json.loads(echoed)["job_id"], "-o", str(tmp_path / "none"))
    assert ok(nothing) == "" and "has no artifacts" in nothing.stderr


@pytest.mark.skipif(
    "/v1/jobs/{job_id}/artifacts"
    not in {getattr(route, "path", "") for route in create_app().routes},
    reason="the gateway has no GET /v1/jobs/{job_id}/artifacts yet",
)
def test_artifacts_are_listed_with_their_types_and_sizes(cli: dict[str, str]) -> None:
    """Files the result does not link to too (``pages`` names them bare)."""
    job_id = ok(sluice(cli, "submit", "pages", "-p", "count=2", "-p", "size=5")).strip()
    ok(sluice(cli, "status", job_id, "--wait"))
    rows = table(ok(sluice(cli, "artifacts", job_id)))
    assert rows == [
        ["NAME", "TYPE", "BYTES"],
        ["page-1.bin", "application/octet-stream", "5"],
        ["page-2.bin", "application/octet-stream", "5"],
    ]
    listed = json_out(sluice(cli, "artifacts", job_id, "--json"))["artifacts"]
    assert listed[0] == {
        "name": "page-1.bin",
        "content_type": "application/octet-stream",
        "bytes": 5,
        "url": f"/v1/jobs/{job_id}/artifacts/page-1.bin",
    }


def test_functions_lists_what_the_gateway_serves(cli: dict[str, str]) -> None:
    rows = table(ok(sluice(cli, "functions")))
    assert rows[0] == ["NAME", "DOCUMENT", "TIMEOUT", "ATTEMPTS", "BACKLOG", "DESCRIPTION"]
    by_name = {row[0]: row for row in rows[1:]}
    assert by_name["digest"][1:4] == ["yes", "30s", "3"]
    assert by_name["work"][1:4] == ["no", "60s", "3"]
    listed = json_out(sluice(cli, "functions", "--json"))["functions"]
    assert {"echo", "render", "work"} <= {spec["name"] for spec in listed}


def test_an_unknown_job_is_refused(cli: dict[str, str]) -> None:
    unknown = f"echo-{'0' * 32}"
    for args in (
        ["status", unknown],
        ["result", unknown],
        ["cancel", unknown],
        ["artifacts", unknown],
    ):
        result = sluice(cli, *args)
        assert result.returncode == ExitCode.REFUSED, (args, result.stderr)
        assert "job_not_found (404)" in result.stderr and result.stdout == ""


@pytest.mark.parametrize(
    "args",
    [
        ["submit"],
        ["submit", "echo", "-p", "novalue"],
        ["submit", "echo", "-p", "=1"],
        ["submit", "echo", "--input", "{bad"],
        ["submit", "echo", "--input", "@/no/such/file.json"],
        ["submit", "echo", "--input", "[1]", "-p", "a=1"],
        ["submit", "echo", "-p", "a=1", "-p", "a=2"],
        ["submit", "echo", "--delay", "-1"],
        ["submit", "echo", "--delay", "1", "--not-before", "2026-01-01T00:00:00Z"],
        ["submit", "echo", "--wait", "--timeout", "0"],
        ["status"],
        ["artifacts"],
        ["dead", "list"],
        ["dead", "replay", "echo"],
        ["dead", "replay", "echo", "1-1", "--all"],
        ["dead", "delete", "echo"],
        ["dead", "list", "echo", "--count", "0"],
        ["pause"],
        ["top", "--interval", "0"],
    ],
)
def test_bad_usage_exits_2(args: list[str]) -> None:
    result = sluice(cli_env("http://127.0.0.1:9"), *args)
    assert result.returncode == ExitCode.USAGE, result.stderr
    assert result.stderr and result.stdout == ""


def test_the_readme_examples(cli: dict[str, str], tmp_path: Path) -> None:
    """The README's first session (``sluice`` as installed), in a folder of its own."""
    work = tmp_path / "work"
    work.mkdir()
    ok(bash(cli, f"{sys.executable} {ROOT}/scripts/make_demo_plan.py plan.pdf", work))
    echoed = ok(bash(cli, "sluice submit echo -p hello=sluice -p n=3 --wait", work))
    assert json.loads(echoed) == {"hello": "sluice", "n": 3}
    job_id = ok(bash(cli, "sluice submit render plan.pdf -p dpi=50", work)).strip()
    shown = fields(ok(bash(cli, f"sluice status {job_id} --wait", work)))
    assert (shown["job"], shown["status"], shown["progress"]) == (
        job_id,
        "succeeded",
        "100%  page 1 of 1",
    )
    assert ok(bash(cli, f"sluice artifacts {job_id} -o pages", work)) == "pages/page-1.png\n"
    assert (work / "pages" / "page-1.png").read_bytes().startswith(b"\x89PNG")
    chained = ok(bash(cli, "sluice submit echo -p n=1 --then echo -p echo.m=2 --wait", work))
    assert json.loads(chained) == {"n": 1, "m": 2}
    failed = bash(cli, 'sluice submit render plan.pdf -p first_page=5 --wait; echo "exit $?"', work)
    assert (
        ok(failed) == "exit 4\n" and "BadPageRange: first_page 5 is past the end" in failed.stderr
    )
