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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from shared.embedded import RedisServer
from tests.conftest import ROOT, Proc

pytestmark = pytest.mark.any_redis

README = ROOT / "README.md"
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

SKIP_MARK = re.compile(r"<!--\s*not run by tests/test_readme\.py:?\s*(.*?)\s*-->")
PLACEHOLDER = re.compile(r"\b([a-z][a-z0-9_]*)-[0-9a-f]{4}\.\.\.")
ELISION = re.compile(r"(\b[a-z][a-z0-9_]*-[0-9a-f]{4}\.\.\.|\.\.\.)")
# "# myapp/jobs.py   COMMAND": a function module, and the command that runs its consumer.
MODULE_HEADER = re.compile(r"# (\S+\.py) +(.+)")
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\.\.\.|[{}\[\]:,]|[^\s{}\[\]:,"]+')
ERROR_REPLY = re.compile(r"^(\(error\) )?(ERR|WRONGTYPE|NOGROUP|NOSCRIPT|NOPERM|NOAUTH)\b", re.M)
# A command that only reads may be repeated until the job it shows has got that far.
WRITES = ("-X", "-d", "-F", "-T", "--data", "--data-binary", "--form")


@dataclass(frozen=True)
class Block:
    lang: str
    text: str
    line: int
    skip_reason: str | None

    @property
    def first(self) -> str:
        return self.text.splitlines()[0].split("#")[0].strip()


@dataclass
class Command:
    text: str
    expected: list[str] = field(default_factory=list)


def readme_blocks() -> list[Block]:
    lines = README.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    start: int | None = None
    for n, line in enumerate(lines):
        if not line.startswith("```"):
            continue
        if start is None:
            start = n
            continue
        before = [text for text in lines[max(0, start - 2) : start] if text.strip()][-1:]
        mark = SKIP_MARK.fullmatch(before[0].strip()) if before else None
        lang = lines[start].removeprefix("```").strip()
        text = "\n".join(lines[start + 1 : n]) + "\n"
        found.append(Block(lang, text, start + 1, mark.group(1) if mark else None))
        start = None
    assert start is None, f"README.md:{start}: a fence is never closed"
    return found


def runnable(lang: str) -> list[Block]:
    return [b for b in readme_blocks() if b.lang == lang and b.skip_reason is None]


def session(text: str) -> list[Command]:
    """The ``$ `` commands of a block (with their ``\\`` continuation lines) and the
    output written under each."""
    commands: list[Command] = []
    continued = False
    for line in text.splitlines():
        if continued:
            commands[-1].text += "\n" + line
        elif line.startswith("$ "):
            commands.append(Command(line[2:]))
        elif commands:
            commands[-1].expected.append(line)
        continued = line.endswith("\\")
    return commands


def expected_json(text: str) -> Any:
    """The expected output as JSON with its ``...`` elisions dropped (outside strings),
    or None if it is not JSON."""
    tokens = [t for t in JSON_TOKEN.findall(text) if t != "..."]
    kept: list[str] = []
    for n, token in enumerate(tokens):
        after = tokens[n + 1] if n + 1 < len(tokens) else "]"
        if token == "," and (not kept or kept[-1] in {"{", "[", ","} or after in {"}", "]"}):
            continue
        kept.append(token)
    try:
        return json.loads(" ".join(kept))
    except ValueError:
        return None


def match_string(want: str, got: str, path: str, ids: dict[str, str]) -> list[str]:
    """``...`` is any text, ``echo-5d1c...`` a real echo id (the same one each time), a
    timestamp any timestamp of the API's format."""
    names: list[str] = []
    if TIMESTAMP.fullmatch(want):
        regex = TIMESTAMP.pattern
    else:
        parts = []
        for piece in ELISION.split(want):
            if placeholder := PLACEHOLDER.fullmatch(piece):
                names.append(piece)
                parts.append(f"({placeholder.group(1)}-[0-9a-f]{{32}})")
            else:
                parts.append(".*?" if piece == "..." else re.escape(piece))
        regex = "".join(parts)
    found = re.fullmatch(regex, got, re.DOTALL)
    if not found:
        return [f"{path}: {got!r} is not {want!r}"]
    for name, real in zip(names, found.groups(), strict=True):
        if ids.setdefault(name, real) != real:
            return [f"{path}: {name} was {ids[name]}, here {real}"]
    return []


def match(want: Any, got: Any, path: str, ids: dict[str, str]) -> list[str]:
    """What is wrong with ``got`` as an instance of the README's ``want``: every key
    shown must exist, every value shown must be there (list items: in some item)."""
    if want == "...":
        return []
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return [f"{path}: {got!r} is not an object"]
        problems = [f"{path}.{key} is missing" for key in want if key not in got]
        for key in want.keys() & got.keys():
            problems += match(want[key], got[key], f"{path}.{key}", ids)
        return problems
    if isinstance(want, list):
        if not isinstance(got, list):
            return [f"{path}: {got!r} is not a list"]
        problems = []
        for n, item in enumerate(want):
            for candidate in got:
                trial = dict(ids)
                if not match(item, candidate, f"{path}[{n}]", trial):
                    ids.update(trial)
                    break
            else:
                problems.append(f"{path}: no item is {item!r}")
        return problems
    if isinstance(want, str):
        if not isinstance(got, str):
            return [f"{path}: {got!r} is not a string"]
        return match_string(want, got, path, ids)
    if type(want) is not type(got) and not (
        {type(want), type(got)} <= {int, float} and bool not in {type(want), type(got)}
    ):
        return [f"{path}: {got!r} is not {want!r}"]
    return [] if want == got else [f"{path}: {got!r} is not {want!r}"]


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
    start_consumer("ingest", "render", "bom", concurrency=2)


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
