"""Job ids and Redis keys (shared.keys): random ids that name their function, and every
key of a function in its namespace and hash tag.
"""

from __future__ import annotations

import os
import re

import pytest

from shared.keys import FUNCTION_NAME, function_of, keys_for, new_job_id

pytestmark = pytest.mark.any_redis


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
