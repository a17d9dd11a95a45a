"""Parsing XREADGROUP and XAUTOCLAIM replies (consumers.streams) in every shape RESP2,
RESP3, redis-py and Redis 6.2 or 7 give them.

No processes, except the last test, which checks the parsers against real replies.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from redis.asyncio import Redis

from consumers.streams import parse_xautoclaim, parse_xreadgroup
from shared.embedded import RedisServer

pytestmark = pytest.mark.any_redis


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
