"""Every fenced example of README.md runs here, against a real redis-server, gateway and
consumers, so an example that stops working fails the suite.

A block the tests cannot run carries ``<!-- not run by tests/test_readme.py: REASON -->``
on the line before its fence and is listed in SKIPPED. In a ``sh`` block each ``$ `` line
is a command and the lines after it its output (``...`` elides; ids such as
``echo-5d1c...`` stand for the real ids the output gave); a ``sh`` block without prompts
is a list of commands; a ``python`` block is a function module (its first line names its
path and the command that runs it) or a script; a ``procfile`` block is the Procfile.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from shared.embedded import RedisServer
from tests.conftest import ROOT, Proc
from tests.readme_parsing import (
    PLACEHOLDER,
    README,
    Command,
    expected_json,
    match,
    match_string,
    readme_blocks,
    runnable,
    session,
)

pytestmark = pytest.mark.any_redis

# The first command of each block the README marks as not run: a new unrun block fails
# test_unrun_blocks_are_known until someone decides it cannot be run.
SKIPPED = {
    "bash scripts/run-local.sh",
    "bash scripts/upgrade.sh",
    "$ curl -s -X POST localhost:8000/v1/admin/keys"
    ' -H "Authorization: Bearer $SLUICE_ADMIN_KEY" \\',
    "$ KEY=$(sluice keys create --tenant acme --scopes submit,read --max-jobs 5 --rate 2)",
    "$ curl -s -X POST 'localhost:8000/v1/jobs/echo?callback_url=https://hooks.example.com/sluice'"
    " \\",
    '$ sluice submit doomed --wait; echo "exit $?"',
}
# Keys the redis-cli block names that these examples do not create (no echo job fails,
# the gateway runs without API keys, the delayed job is cancelled, no callback_url).
ABSENT_KEYS = {
    "sluice:{echo}:dead",
    "sluice:{api_keys}:ids",
    "sluice:{echo}:scheduled",
    "sluice:{echo}:callbacks",
    "sluice:{echo}:active",
    "sluice:{echo}:retrying",
    "sluice:{echo}:paused",
}
POLL_TIMEOUT = 30.0
VENV_BIN = str(Path(sys.executable).parent)

# "# myapp/jobs.py   COMMAND": a function module, and the command that runs its consumer.
MODULE_HEADER = re.compile(r"# (\S+\.py) +(.+)")
ERROR_REPLY = re.compile(r"^(\(error\) )?(ERR|WRONGTYPE|NOGROUP|NOSCRIPT|NOPERM|NOAUTH)\b", re.M)
# A command that only reads may be repeated until the job it shows has got that far.
WRITES = ("-X", "-d", "-F", "-T", "--data", "--data-binary", "--form")


def check_output(
    command: Command, result: subprocess.CompletedProcess[str], cwd: Path, ids: dict[str, str]
) -> list[str]:
    if result.returncode != 0:
        return [f"exit status {result.returncode}: {result.stderr}"]
    problems: list[str] = []
    expected = "\n".join(command.expected).strip()
    if expected:
        want = expected_json(expected)
        if want is None:
            problems += match_string(expected, result.stdout.strip(), "output", ids)
        else:
            try:
                problems += match(want, json.loads(result.stdout), "$", ids)
            except ValueError:
                problems.append(f"not JSON: {result.stdout!r}")
    args = shlex.split(command.text, comments=True)
    if "-o" in args:
        written = cwd / args[args.index("-o") + 1]
        if not written.exists():
            problems.append(f"{written.name} was not written")
        elif written.suffix == ".png" and not written.read_bytes().startswith(b"\x89PNG\r\n"):
            problems.append(f"{written.name} is not a PNG: {written.read_bytes()[:200]!r}")
    return problems


def bash(command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-o", "pipefail", "-c", command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def with_ids(text: str, ids: dict[str, str]) -> str:
    def real(found: re.Match[str]) -> str:
        assert found.group(0) in ids, f"no output before {text!r} gave {found.group(0)}"
        return ids[found.group(0)]

    return PLACEHOLDER.sub(real, text)


def run_command(
    command: Command, host: str, cwd: Path, env: dict[str, str], ids: dict[str, str]
) -> None:
    """Run it until its output is the README's (a read is repeated while its job has not
    got that far, at most POLL_TIMEOUT); then remember the ids its output gave."""
    text = with_ids(command.text.replace("localhost:8000", host), ids)
    args = shlex.split(text, comments=True)
    repeat = args[0] == "curl" and not any(a.startswith(WRITES) for a in args)
    deadline = time.monotonic() + (POLL_TIMEOUT if repeat else 0)
    while True:
        result = bash(text, cwd, env)
        trial = dict(ids)
        problems = check_output(command, result, cwd, trial)
        if not problems:
            ids.update(trial)
            return
        if time.monotonic() > deadline:
            expected = "\n".join(command.expected)
            pytest.fail(f"$ {text}\n{result.stdout}\nis not\n{expected}\n" + "\n".join(problems))
        time.sleep(0.1)


def layout_types() -> list[tuple[re.Pattern[str], str]]:
    """The key templates and types of the README's Redis layout table."""
    rows = re.findall(r"^\| `(sluice:[^`]+)` \| (\w+) \|", README.read_text(), re.M)
    return [(re.compile(re.sub(r"<\w+>", ".+", re.escape(key))), kind) for key, kind in rows]


def start_system(start_consumer: Callable[..., Proc]) -> None:
    """The Procfile's consumers (a `work` job stays queued, as there: the README cancels it)."""
    start_consumer("echo")
    start_consumer("ingest", "render", "bom", "layout", "model3d", concurrency=2)


@pytest.fixture
def shell_env(env: dict[str, str]) -> dict[str, str]:
    """``python`` is the venv's, as after ``source .venv/bin/activate``."""
    return {**env, "PATH": f"{VENV_BIN}:{env['PATH']}"}


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """An empty folder to run examples in, where ``scripts/`` is the repository's."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "scripts").symlink_to(ROOT / "scripts")
    return work


def test_unrun_blocks_are_known() -> None:
    blocks = readme_blocks()
    assert {b.lang for b in blocks} <= {"sh", "python", "procfile"}, "no test runs that"
    skipped = [b for b in blocks if b.skip_reason is not None]
    assert all(b.skip_reason for b in skipped), "a block not run must say why"
    assert {b.first for b in skipped} == SKIPPED, [(b.line, b.first) for b in skipped]
    assert len(skipped) == len(SKIPPED)


def test_procfile_block_is_the_procfile() -> None:
    blocks = runnable("procfile")
    assert len(blocks) == 1
    assert blocks[0].text == (ROOT / "Procfile").read_text()


def test_shell_examples(
    start_gateway: Callable[..., str],
    start_consumer: Callable[..., Proc],
    shell_env: dict[str, str],
    workdir: Path,
    namespace: str,
    redis_server: RedisServer,
) -> None:
    blocks = runnable("sh")
    sessions = [commands for b in blocks if (commands := session(b.text))]
    assert len(sessions) >= 3
    lists = [b for b in blocks if not session(b.text)]
    for block in lists:  # checked first: an unmarked block of other commands must not run
        lines = [line for line in block.text.splitlines() if line.strip()]
        assert all(line.startswith("redis-cli ") for line in lines), f"README.md:{block.line}"
    start_system(start_consumer)
    host = start_gateway().removeprefix("http://")
    shell_env = {**shell_env, "SLUICE_URL": f"http://{host}"}  # where `sluice` goes
    ids: dict[str, str] = {}
    for commands in sessions:  # in order: a block may use the ids an earlier one gave
        for command in commands:
            run_command(command, host, workdir, shell_env, ids)
    # Command lists (redis-cli), once the sessions above have made their keys.
    assert lists
    layout = layout_types()
    with redis.Redis.from_url(redis_server.url, decode_responses=True) as client:
        for block in lists:
            for line in filter(None, (line.strip() for line in block.text.splitlines())):
                text = with_ids(re.sub(r"\bsluice:", f"{namespace}:", line), ids)
                text = re.sub(r"^redis-cli\b", f"redis-cli -u {redis_server.url}", text)
                result = bash(text, workdir, shell_env)
                assert result.returncode == 0, f"{text}\n{result.stderr}"
                assert not ERROR_REPLY.search(result.stdout), f"{text}\n{result.stdout}"
                # A key it names must be there, of the type the layout table says.
                for key in re.findall(r"'(sluice:[^'*]+)'", with_ids(line, ids)):
                    kinds = {kind for template, kind in layout if template.fullmatch(key)}
                    assert kinds, f"{key} is not in the Redis layout table"
                    real = client.type(key.replace("sluice:", f"{namespace}:", 1))
                    allowed = kinds | ({"none"} if key in ABSENT_KEYS else set())
                    assert real in allowed, f"{key} is a {real}, not a {kinds}"


def test_function_module_example(
    start_gateway: Callable[..., str], shell_env: dict[str, str], tmp_path: Path
) -> None:
    (block,) = [b for b in runnable("python") if MODULE_HEADER.match(b.text)]
    header = MODULE_HEADER.match(block.text)
    assert header
    path, command = header.groups()
    (tmp_path / path).parent.mkdir(parents=True)
    (tmp_path / path).write_text(block.text)
    module = path.removesuffix(".py").replace("/", ".")
    # The consumer as the module's first line starts it, in the folder that holds myapp/
    # (so no PYTHONPATH for it); the gateway runs elsewhere and is given one.
    consumer = Proc(["bash", "-c", command], shell_env, tmp_path / "consumer.log", tmp_path)
    try:
        consumer.wait_for_event("consumer_started")
        url = start_gateway(FUNCTION_MODULES=module, PYTHONPATH=f"{tmp_path}:{ROOT}")
        slept = submit_and_wait(url, "sleep", {"seconds": 0})
        assert slept["status"] == "succeeded", slept
        assert slept["result"] == {"slept": 0.0}
        assert (slept["progress"], slept["message"]) == (100.0, "half way")
        refused = submit_and_wait(url, "sleep", {"seconds": -1})
        assert refused["status"] == "failed", refused
        assert refused["error"] == {"type": "PermanentError", "message": "seconds must be >= 0"}
        assert refused["attempts"] == 1  # no retry
    finally:
        consumer.stop()


def submit_and_wait(url: str, function: str, params: dict[str, Any]) -> dict[str, Any]:
    submitted = httpx.post(f"{url}/v1/jobs/{function}", json=params, timeout=10)
    assert submitted.status_code == 202, submitted.text
    deadline = time.monotonic() + POLL_TIMEOUT
    while True:
        status: dict[str, Any] = httpx.get(f"{url}{submitted.json()['status_url']}").json()
        if status["status"] in ("succeeded", "failed", "cancelled"):
            return status
        assert time.monotonic() < deadline, status
        time.sleep(0.05)


def test_python_script_example(
    start_consumer: Callable[..., Proc], shell_env: dict[str, str], workdir: Path
) -> None:
    (block,) = [b for b in runnable("python") if not MODULE_HEADER.match(b.text)]
    start_system(start_consumer)
    made = bash("python scripts/make_demo_plan.py plan.pdf", workdir, shell_env)
    assert made.returncode == 0, made.stderr
    (workdir / "example.py").write_text(block.text)
    result = bash("python example.py", workdir, shell_env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 3, result.stdout
    assert lines[0] == "succeeded {'hello': 'world'}"
    # The bill's lines, as the README's bom section lists them.
    keys = ["sheets", "studs", "track", "screws", "tape", "compound", "paint"]
    assert lines[1] == f"succeeded {keys}"
    assert re.fullmatch(r"image/png \d+ bytes", lines[2]), lines[2]
