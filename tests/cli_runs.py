"""The ``sluice`` command run as a shell runs it, for the CLI tests: a subprocess with the
environment it is given (none of the outer SLUICE_ settings), and a job watched over the
gateway's event stream."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import ROOT

ADMIN_KEY = "sk_admin_for_the_cli_job_tests"
PYTHON_M_CLI = [sys.executable, "-m", "cli"]
VENV_BIN = Path(sys.executable).parent
Run = Callable[..., subprocess.CompletedProcess[str]]


def cli_env(url: str, key: str | None = ADMIN_KEY) -> dict[str, str]:
    """What the command runs in: the gateway at ``url``, ``key`` as SLUICE_API_KEY, the
    venv's ``sluice`` first on PATH."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith("SLUICE_")}
    env = {**kept, "PYTHONPATH": str(ROOT), "SLUICE_URL": url}
    env["PATH"] = f"{VENV_BIN}:{env.get('PATH', '')}"
    if key is not None:
        env["SLUICE_API_KEY"] = key
    return env


def sluice(
    env: dict[str, str], *args: str, cwd: Path = ROOT, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m cli ARGS`` (what the ``sluice`` script runs), to its end."""
    return subprocess.run(
        [*PYTHON_M_CLI, *args],
        env=env,
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def bash(env: dict[str, str], line: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """A command line as the README writes it (``sluice ...`` is the console script)."""
    return subprocess.run(
        ["bash", "-o", "pipefail", "-c", line],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    """The stdout of a command that exited 0."""
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def json_out(result: subprocess.CompletedProcess[str]) -> Any:
    return json.loads(ok(result))


def watch_until(url: str, job_id: str, *statuses: str, key: str = ADMIN_KEY) -> dict[str, Any]:
    """The job's status once it is one of ``statuses``, read from its event stream (sent
    at each change; the stream ends after the final status)."""
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.stream(
        "GET", f"{url}/v1/jobs/{job_id}/events", headers=headers, timeout=30
    ) as reply:
        assert reply.status_code == 200, reply.read()
        for line in reply.iter_lines():
            if line.startswith("data: "):
                status: dict[str, Any] = json.loads(line.removeprefix("data: "))
                if status["status"] in statuses:
                    return status
    raise AssertionError(f"job {job_id} ended without being {statuses}")


def fields(text: str) -> dict[str, str]:
    """``sluice status``'s ``name  value`` lines as a dict."""
    pairs = (line.split(None, 1) for line in text.splitlines() if line.strip())
    return {pair[0]: pair[1] if len(pair) > 1 else "" for pair in pairs}


def table(text: str) -> list[list[str]]:
    """A table's rows (the header row first), each split on runs of spaces."""
    return [line.split() for line in text.splitlines() if line.strip()]
