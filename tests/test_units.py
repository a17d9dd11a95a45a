"""Fast unit tests of the pure parts: settings, keys, stream reply parsing, functions, jobs.

No processes, except the last test, which checks the parsers against real replies.
"""

from __future__ import annotations

import dataclasses
import os
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import msgspec
import pytest
from redis.asyncio import Redis

from consumers.streams import parse_xautoclaim, parse_xreadgroup
from shared import functions as functions_module
from shared.embedded import RedisServer
from shared.errors import PermanentError
from shared.functions import FunctionSpec, JobContext, function, get_function, load_functions
from shared.jobs import STATUS_FIELDS, JobError, JobStatus, json_encoder, status_from_hash
from shared.keys import FUNCTION_NAME, function_of, keys_for, new_job_id
from shared.settings import Settings, SettingsError

pytestmark = pytest.mark.any_redis

# Settings


def test_settings_defaults() -> None:
    settings = Settings.from_env({})
    assert settings == Settings()
    assert settings.redis_url == "redis://localhost:6379/0"
    assert settings.namespace == "sluice"
    assert settings.visibility_timeout == 30.0
    assert settings.heartbeat_interval == 10.0  # well inside the visibility timeout
    assert settings.visibility_ms == 30_000
    assert settings.result_ttl == 86_400
    assert settings.max_body_bytes == 1_048_576
    assert settings.max_backlog == 100_000
    assert settings.shutdown_grace == 20.0
    assert settings.function_modules == ()
    assert settings.log_format == "auto" and settings.log_level == "info"
    # Empty and blank values are unset.
    assert Settings.from_env({"VISIBILITY_TIMEOUT": "", "REDIS_URL": "  ", "LOG_FORMAT": ""}) == (
        Settings()
    )


def test_settings_from_environment() -> None:
    settings = Settings.from_env(
        {
            "REDIS_URL": " rediss://user:pw@redis.example:6380/2 ",
            "SLUICE_NAMESPACE": "prod",
            "VISIBILITY_TIMEOUT": "12",
            "RESULT_TTL": "3600",
            "MAX_BODY_BYTES": "1e6",
            "MAX_BACKLOG": "5",
            "SHUTDOWN_GRACE": "2.5",
            "FUNCTION_MODULES": " a.b , ,c ,",
            "LOG_FORMAT": "JSON",
            "LOG_LEVEL": "DEBUG",
        }
    )
    assert settings.redis_url == "rediss://user:pw@redis.example:6380/2"
    assert settings.namespace == "prod"
    assert settings.visibility_timeout == 12.0 and settings.visibility_ms == 12_000
    assert settings.heartbeat_interval == 4.0  # a third of the visibility timeout by default
    assert settings.result_ttl == 3600 and isinstance(settings.result_ttl, int)
    assert settings.max_body_bytes == 1_000_000 and isinstance(settings.max_body_bytes, int)
    assert settings.max_backlog == 5
    assert settings.shutdown_grace == 2.5
    assert settings.function_modules == ("a.b", "c")
    assert settings.log_format == "json" and settings.log_level == "debug"
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.namespace = "other"  # type: ignore[misc]
    assert settings.replace(namespace="other").namespace == "other"


@pytest.mark.parametrize(
    "name",
    [
        "VISIBILITY_TIMEOUT",
        "HEARTBEAT_INTERVAL",
        "RESULT_TTL",
        "MAX_BODY_BYTES",
        "MAX_BACKLOG",
        "SHUTDOWN_GRACE",
    ],
)
@pytest.mark.parametrize("value", ["abc", "0", "-1", "nan", "inf", "-inf", "1e400", "0x10"])
def test_settings_reject_bad_numbers(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


@pytest.mark.parametrize("name", ["RESULT_TTL", "MAX_BODY_BYTES", "MAX_BACKLOG"])
def test_settings_counts_are_at_least_one(name: str) -> None:
    """0.5 is > 0, but as a count it is 0: every body too large, every queue full."""
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: "0.5"})
    assert getattr(Settings.from_env({name: "1"}), name.lower()) == 1


def test_settings_heartbeat_must_be_shorter_than_visibility() -> None:
    for heartbeat in ("10", "11", "100"):
        with pytest.raises(SettingsError, match="HEARTBEAT_INTERVAL"):
            Settings.from_env({"VISIBILITY_TIMEOUT": "10", "HEARTBEAT_INTERVAL": heartbeat})
    with pytest.raises(SettingsError):
        Settings.from_env({"VISIBILITY_TIMEOUT": "1", "HEARTBEAT_INTERVAL": "10"})
    ok = Settings.from_env({"VISIBILITY_TIMEOUT": "10", "HEARTBEAT_INTERVAL": "9.5"})
    assert ok.heartbeat_interval == 9.5
    short = Settings.from_env({"VISIBILITY_TIMEOUT": "0.3"})
    assert 0 < short.heartbeat_interval < short.visibility_timeout


def test_settings_reject_unknown_log_format() -> None:
    with pytest.raises(SettingsError, match="LOG_FORMAT"):
        Settings.from_env({"LOG_FORMAT": "xml"})
    assert issubclass(SettingsError, ValueError)


@pytest.mark.parametrize(
    "url", ["http://localhost:6379", "localhost:6379", "redis:/x", "https://u:secret@h:1"]
)
def test_settings_reject_a_redis_url_of_another_scheme_without_showing_it(url: str) -> None:
    with pytest.raises(SettingsError, match="REDIS_URL") as raised:
        Settings.from_env({"REDIS_URL": url})
    assert "secret" not in str(raised.value)
    for good in ("redis://h:1/0", "rediss://:pw@h:1", "unix:///tmp/redis.sock", "REDIS://h:1"):
        assert Settings.from_env({"REDIS_URL": good}).redis_url == good


@pytest.mark.parametrize("namespace", ["a{b}", "{x}", "x}", "with space", "tab\tx", "nul\x00"])
def test_settings_reject_a_namespace_with_braces_or_spaces(namespace: str) -> None:
    """Braces would make every function's keys one Redis Cluster hash tag."""
    with pytest.raises(SettingsError, match="SLUICE_NAMESPACE"):
        Settings.from_env({"SLUICE_NAMESPACE": namespace})
    for good in ("prod.app-1:v2", "team/app@eu", "é" * 70):
        assert Settings.from_env({"SLUICE_NAMESPACE": good}).namespace == good


@pytest.mark.parametrize(
    ("module", "says"),
    [
        ("tests.no_such_module", "ModuleNotFoundError"),
        ("shared.builtins", ""),  # loads (built in anyway): no error
    ],
)
def test_function_modules_that_cannot_load_are_named(module: str, says: str) -> None:
    if not says:
        assert "echo" in load_functions([module])
        return
    with pytest.raises(SettingsError, match=f"FUNCTION_MODULES: '{module}'.*{says}"):
        load_functions([module])


# Keys


def hash_tag(key: str) -> str:
    """The part of a key Redis Cluster hashes: inside the first {...}, if not empty."""
    start = key.find("{")
    if start >= 0:
        end = key.find("}", start + 1)
        if end > start + 1:
            return key[start + 1 : end]
    return key


def test_job_ids_carry_the_function_and_128_random_bits() -> None:
    ids = [new_job_id("echo") for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for job_id in ids:
        assert re.fullmatch(r"echo-[0-9a-f]{32}", job_id), job_id
    # Every one of the 128 bits varies: no clock, counter or fixed part hides in them.
    values = [int(job_id.removeprefix("echo-"), 16) for job_id in ids]
    always_set = always_clear = (1 << 128) - 1
    for value in values:
        always_set &= value
        always_clear &= ~value
    assert always_set == 0 and always_clear == 0


def test_a_forked_process_never_repeats_its_parents_job_ids() -> None:
    """Random bits are read ahead in blocks; a child forked with a block half used must
    not hand out the same ids as its parent."""
    new_job_id("echo")  # a block is read, most of it unused
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.write(write_end, " ".join(new_job_id("echo") for _ in range(50)).encode())
        os._exit(0)
    os.close(write_end)
    os.waitpid(pid, 0)
    with os.fdopen(read_end, "rb") as pipe:
        child = set(pipe.read().decode().split())
    parent = {new_job_id("echo") for _ in range(50)}
    assert len(child) == 50 and not child & parent


@pytest.mark.parametrize("name", ["echo", "ingest", "a", "a_b", "x9", "tiny_queue", "z" * 63])
def test_function_of_round_trips(name: str) -> None:
    assert FUNCTION_NAME.fullmatch(name)
    assert function_of(new_job_id(name)) == name


@pytest.mark.parametrize(
    "junk",
    [
        "",
        "echo",
        "echo-",
        "-" + "0" * 32,
        "echo-" + "0" * 31,
        "echo-" + "0" * 33,
        "echo-" + "A" * 32,
        "echo-" + "g" * 32,
        "Echo-" + "0" * 32,
        "1echo-" + "0" * 32,
        "ec-ho-" + "0" * 32,
        "echo_" + "0" * 32,
        "echo-" + "0" * 32 + "\n",
        "\necho-" + "0" * 32,
        " echo-" + "0" * 32,
        "echo-" + "0" * 31 + "\u0660",  # an Arabic-Indic digit zero
        "{echo}-" + "0" * 32,
        "z" * 64 + "-" + "0" * 32,
        "echo-" + "0" * 32 + "/result",
    ],
)
def test_function_of_rejects_junk(junk: str) -> None:
    assert function_of(junk) is None


def test_every_key_of_a_function_shares_its_hash_tag_and_namespace() -> None:
    for namespace in ("sluice", "t0123", "prod:eu"):
        for name in ("echo", "ingest", "tiny_queue"):
            keys = keys_for(namespace, name)
            job_id = new_job_id(name)
            all_keys = [
                keys.stream,
                keys.dead,
                keys.job(job_id),
                keys.idempotency("order-1"),
                keys.idempotency("with{braces}and}more{"),
            ]
            assert len(set(all_keys)) == len(all_keys)
            for key in all_keys:
                assert key.startswith(f"{namespace}:{{{name}}}:"), key
                assert hash_tag(key) == name, key
    # Different functions and namespaces never share a key.
    assert keys_for("a", "echo").stream != keys_for("a", "ingest").stream
    assert keys_for("a", "echo").stream != keys_for("b", "echo").stream
    assert keys_for("a", "echo").job("echo-1") != keys_for("a", "echo").idempotency("echo-1")


# Stream replies


def test_xreadgroup_resp2_list_shape() -> None:
    # As redis-py returns it: fields as dicts, a deleted entry's fields as {}.
    reply = [
        [
            b"sluice:{echo}:stream",
            [(b"1-0", {b"job_id": b"echo-a"}), (b"1-1", {}), (b"1-2", {b"job_id": b"echo-b"})],
        ],
        [b"sluice:{work}:stream", [(b"2-0", {b"x": b"1", b"job_id": b"work-a"})]],
    ]
    assert parse_xreadgroup(reply) == {
        b"sluice:{echo}:stream": [(b"1-0", b"echo-a"), (b"1-1", None), (b"1-2", b"echo-b")],
        b"sluice:{work}:stream": [(b"2-0", b"work-a")],
    }
    # As the wire has it: flat field lists, nil for a deleted entry's fields.
    wire = [
        [b"s", [[b"1-0", [b"other", b"v", b"job_id", b"echo-a"]], [b"1-1", None]]],
        [b"t", []],
    ]
    assert parse_xreadgroup(wire) == {b"s": [(b"1-0", b"echo-a"), (b"1-1", None)], b"t": []}
    # Fields without a job id read as a deleted entry.
    assert parse_xreadgroup([[b"s", [[b"1-0", [b"x", b"y"]]]]]) == {b"s": [(b"1-0", None)]}


def test_xreadgroup_resp3_dict_shape() -> None:
    wire = {b"s": [[b"1-0", [b"job_id", b"echo-a"]], [b"1-1", None]], b"t": []}
    assert parse_xreadgroup(wire) == {b"s": [(b"1-0", b"echo-a"), (b"1-1", None)], b"t": []}
    wire_one = {b"s": [[b"1-0", [b"job_id", b"echo-a"]]]}
    assert parse_xreadgroup(wire_one) == {b"s": [(b"1-0", b"echo-a")]}
    # redis-py (RESP3) wraps each stream's entries in one more list.
    parsed = {b"s": [[(b"1-0", {b"job_id": b"echo-a"}), (b"1-1", {})]], b"t": [[]]}
    assert parse_xreadgroup(parsed) == {b"s": [(b"1-0", b"echo-a"), (b"1-1", None)], b"t": []}


@pytest.mark.parametrize("empty", [None, [], {}])
def test_xreadgroup_nothing_read(empty: Any) -> None:
    assert parse_xreadgroup(empty) == {}


def test_xautoclaim_redis7_lists_deleted_ids_apart() -> None:
    """Redis 7: a third element lists deleted ids, already dropped from the pending list."""
    parsed = [
        b"0-0",
        [(b"1-0", {b"job_id": b"echo-a"}), (b"1-2", {b"job_id": b"echo-b"})],
        [b"1-1"],
    ]
    assert parse_xautoclaim(parsed) == (b"0-0", [(b"1-0", b"echo-a"), (b"1-2", b"echo-b")], False)
    wire = [b"7-3", [[b"1-0", [b"job_id", b"echo-a"]]], []]
    assert parse_xautoclaim(wire) == (b"7-3", [(b"1-0", b"echo-a")], False)
    assert parse_xautoclaim([b"0-0", [], [b"1-1", b"1-2"]]) == (b"0-0", [], False)


def test_xautoclaim_redis62_has_nil_for_deleted_entries() -> None:
    """Redis 6.2: nil in the claimed list (redis-py makes it (None, None)), still pending."""
    parsed = [b"0-0", [(b"1-0", {b"job_id": b"echo-a"}), (None, None), (b"1-2", {})]]
    cursor, entries, saw_deleted = parse_xautoclaim(parsed)
    assert cursor == b"0-0" and saw_deleted
    assert entries == [(b"1-0", b"echo-a"), (b"1-2", None)]
    wire = [b"5-0", [None, [b"1-0", [b"job_id", b"echo-a"]], None]]
    assert parse_xautoclaim(wire) == (b"5-0", [(b"1-0", b"echo-a")], True)
    assert parse_xautoclaim([b"0-0", [None]]) == (b"0-0", [], True)
    assert parse_xautoclaim([b"0-0", []]) == (b"0-0", [], False)


# Functions


class Params(msgspec.Struct):
    n: int


@pytest.fixture
def unique_name() -> Iterator[str]:
    """A function name of this test alone, dropped from the registry afterwards."""
    name = f"unit_{uuid.uuid4().hex[:12]}"
    yield name
    functions_module._registry.pop(name, None)


def handler(job: JobContext, params: Params) -> int:
    """Doubles n."""
    return params.n * 2


def other_handler(job: JobContext, params: Params) -> int:
    return params.n


def make_handler() -> Callable[[JobContext, Params], int]:
    def reloaded(job: JobContext, params: Params) -> int:
        return params.n

    return reloaded


def test_function_decorator_registers_a_spec(unique_name: str) -> None:
    returned = function(unique_name, input=Params, timeout=5, max_attempts=2, backoff=0.5)(handler)
    assert returned is handler
    spec = get_function(unique_name)
    assert spec is not None
    assert (spec.name, spec.input, spec.handler) == (unique_name, Params, handler)
    assert (spec.timeout, spec.max_attempts, spec.backoff) == (5, 2, 0.5)
    assert spec.max_backlog is None and spec.memory_mb == 2048
    assert spec.description == "Doubles n."
    assert not spec.is_async
    assert spec.decode_input(b'{"n": 3}') == Params(n=3)
    assert spec.json_schema()["$defs"]["Params"]["required"] == ["n"]


@pytest.mark.parametrize(
    "name", ["", "Echo", "1abc", "_a", "a-b", "a b", "a.b", "é", "a" * 64, "abc\n", "{abc}"]
)
def test_function_decorator_rejects_bad_names(name: str) -> None:
    with pytest.raises(ValueError, match="function name"):
        function(name, input=Params)
    assert get_function(name) is None


@pytest.mark.parametrize(
    "limits",
    [
        {"max_attempts": 0},
        {"timeout": 0},
        {"timeout": -1},
        {"memory_mb": 0},
        {"backoff": -1},
        {"max_backoff": -1},
        {"max_backlog": 0},
    ],
)
def test_function_decorator_rejects_bad_limits(unique_name: str, limits: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=unique_name):
        function(unique_name, input=Params, **limits)
    assert get_function(unique_name) is None


def test_duplicate_registration_is_an_error(unique_name: str) -> None:
    function(unique_name, input=Params)(handler)
    with pytest.raises(ValueError, match="already registered") as caught:
        function(unique_name, input=Params)(other_handler)
    assert "handler" in str(caught.value)
    spec = get_function(unique_name)
    assert spec is not None and spec.handler is handler
    # The same handler again (its module imported twice) is no conflict.
    function(unique_name, input=Params, timeout=7)(handler)
    spec = get_function(unique_name)
    assert spec is not None and spec.timeout == 7


def test_reregistering_a_reloaded_handler_is_allowed(unique_name: str) -> None:
    first, second = make_handler(), make_handler()
    assert first is not second
    function(unique_name, input=Params)(first)
    function(unique_name, input=Params)(second)
    spec = get_function(unique_name)
    assert spec is not None and spec.handler is second


def spec_with(**limits: Any) -> FunctionSpec:
    return FunctionSpec(name="unit", input=Params, handler=handler, **limits)


def test_retry_delay_grows_with_jitter_up_to_max_backoff() -> None:
    spec = spec_with(backoff=0.5, max_backoff=10.0)
    previous_low = 0.0
    for attempt in range(1, 6):  # bases 0.5, 1, 2, 4, 8: all below the cap
        base = 0.5 * 2 ** (attempt - 1)
        delays = [spec.retry_delay(attempt) for _ in range(300)]
        assert all(base <= delay <= base * 1.25 for delay in delays), (attempt, delays)
        assert len(set(delays)) > 1  # jittered
        assert min(delays) >= previous_low  # grows
        previous_low = base
    for attempt in (6, 7, 20, 1000, 10_000):
        delays = [spec.retry_delay(attempt) for _ in range(100)]
        assert all(8.0 <= delay <= 10.0 for delay in delays), (attempt, max(delays))
    assert spec_with(backoff=0.0).retry_delay(3) == 0.0
    # Defaults: 1 s, doubling, capped at 300 s.
    default = spec_with()
    assert 1.0 <= default.retry_delay(1) <= 1.25
    assert 2.0 <= default.retry_delay(2) <= 2.5
    assert default.retry_delay(30) <= 300.0


def test_permanent_error_carries_type_and_message() -> None:
    error = PermanentError("bad page", type="BadDocument")
    assert (error.message, error.type, str(error)) == ("bad page", "BadDocument", "bad page")
    assert PermanentError("x").type == "PermanentError"


# Job status hashes


def hmget(fields: dict[str, bytes | str]) -> list[bytes | str | None]:
    """What HMGET of STATUS_FIELDS returns for a hash holding ``fields``."""
    return [fields.get(name) for name in STATUS_FIELDS]


def test_status_of_a_missing_hash_is_none() -> None:
    assert status_from_hash([None] * len(STATUS_FIELDS)) is None
    assert status_from_hash(hmget({"job_id": b"echo-1", "function": b"echo"})) is None
    assert status_from_hash(hmget({"status": b"queued"})) is None


def test_status_of_a_minimal_old_hash() -> None:
    """Only the fields every version wrote; the rest read as their defaults."""
    hashes: list[dict[str, bytes | str]] = [
        {"job_id": b"echo-1", "function": b"echo", "status": b"queued"},
        {"job_id": "echo-1", "function": "echo", "status": "queued"},  # decoded responses
    ]
    for raw in hashes:
        status = status_from_hash(hmget(raw))
        assert status is not None
        assert status == JobStatus(
            job_id="echo-1",
            function="echo",
            status="queued",
            progress=0.0,
            message="",
            attempts=0,
            max_attempts=0,
            created_at=None,
            started_at=None,
            finished_at=None,
            error=None,
            result=None,
        )
        assert not status.is_final and status.result_value() is None


def test_status_of_a_queued_hash_as_submit_writes_it() -> None:
    fields: dict[str, bytes | str] = {
        "job_id": b"echo-1",
        "function": b"echo",
        "status": b"queued",
        "progress": b"0",
        "message": b"",
        "attempts": b"0",
        "max_attempts": b"3",
        "created_at": b"2024-01-02T03:04:05.678Z",
        "started_at": b"",
        "finished_at": b"",
        "error": b"",
        "result": b"",
    }
    status = status_from_hash(hmget(fields))
    assert status is not None
    assert status.max_attempts == 3 and status.created_at == "2024-01-02T03:04:05.678Z"
    assert status.started_at is None and status.finished_at is None
    assert status.error is None and status.result is None
    shown = msgspec.json.decode(json_encoder.encode(status))
    assert set(shown) == {
        "job_id",
        "function",
        "status",
        "progress",
        "message",
        "attempts",
        "max_attempts",
        "created_at",
        "started_at",
        "finished_at",
        "error",
        "result",
        "next_job_id",
        "previous_job_id",
    }
    assert status.next_job_id is None and status.previous_job_id is None


@pytest.mark.parametrize("as_text", [False, True])
def test_status_of_a_finished_hash(as_text: bool) -> None:
    fields = {
        "job_id": "work-1",
        "function": "work",
        "status": "succeeded",
        "progress": "100",
        "message": "done ✓",
        "attempts": "2",
        "max_attempts": "3",
        "created_at": "2024-01-02T03:04:05.000Z",
        "started_at": "2024-01-02T03:04:06.000Z",
        "finished_at": "2024-01-02T03:04:07.000Z",
        "error": '{"type": "ValueError", "message": "first try", "traceback": "..."}',
        "result": '{"slept": 1.5, "items": [1, 2]}',
    }
    raw: dict[str, bytes | str] = {
        name: (value if as_text else value.encode()) for name, value in fields.items()
    }
    status = status_from_hash(hmget(raw))
    assert status is not None and status.is_final
    assert status.progress == 100.0 and status.message == "done ✓" and status.attempts == 2
    # Unknown error fields (a newer or older writer) are ignored.
    assert status.error == JobError(type="ValueError", message="first try")
    assert status.result_value() == {"slept": 1.5, "items": [1, 2]}
    # The result is passed through as the raw JSON it was stored as.
    shown = msgspec.json.decode(json_encoder.encode(status))
    assert shown["result"] == {"slept": 1.5, "items": [1, 2]}
    assert shown["error"] == {"type": "ValueError", "message": "first try"}


def test_status_with_a_plain_text_error() -> None:
    """An error field that is not JSON (set by hand, or by an old version) still reads."""
    raw: dict[str, bytes | str] = {
        "job_id": b"echo-1",
        "function": b"echo",
        "status": b"failed",
        "error": b"it broke",
    }
    status = status_from_hash(hmget(raw))
    assert status is not None
    assert status.error == JobError(type="error", message="it broke")


# Against real replies


@pytest.mark.parametrize("protocol", [2, 3])
async def test_parsers_read_real_replies(
    redis_server: RedisServer, redis_version: str, protocol: int
) -> None:
    stream = f"t{uuid.uuid4().hex[:12]}:{{echo}}:stream"
    client = Redis.from_url(redis_server.url, protocol=protocol)
    try:
        ids = [await client.xadd(stream, {"job_id": f"echo-{i}"}) for i in range(3)]
        await client.xgroup_create(stream, "workers", id="0")
        read = parse_xreadgroup(await client.xreadgroup("workers", "c1", {stream: ">"}))
        assert read == {stream.encode(): [(ids[i], f"echo-{i}".encode()) for i in range(3)]}
        await client.xdel(stream, ids[1])
        pending = parse_xreadgroup(await client.xreadgroup("workers", "c1", {stream: "0"}))
        assert pending == {
            stream.encode(): [(ids[0], b"echo-0"), (ids[1], None), (ids[2], b"echo-2")]
        }
        reply = await client.xautoclaim(stream, "workers", "c2", min_idle_time=0)
        cursor, entries, saw_deleted = parse_xautoclaim(reply)
        assert cursor == b"0-0"
        assert entries == [(ids[0], b"echo-0"), (ids[2], b"echo-2")]
        # 6.2 keeps the deleted entry pending (the caller must ack it); 7 drops it.
        assert saw_deleted == (redis_version == "6.2")
        assert parse_xreadgroup(await client.xreadgroup("workers", "c1", {stream: ">"})) == {}
    finally:
        await client.delete(stream)
        await client.aclose()
