"""How an attempt ends, the same for an async handler (inline) and a sync one (in a warm
child): run_attempt with a real ProcessPool, then once end to end through a consumer."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest

from consumers.attempt import run_attempt
from consumers.context import Artifact, Attempt
from consumers.errors import AttemptFailed
from consumers.pool import ProcessPool
from shared.client import Sluice
from shared.errors import PermanentError
from shared.functions import FunctionSpec, load_functions
from shared.settings import Settings
from tests.functions import Ending, ending
from tests.inprocess import run_burst

pytestmark = pytest.mark.any_redis

MODULES = ("tests.functions", "tests.async_functions")
# The same body (tests.functions.end_as), run in a child and inline.
BOTH = pytest.mark.parametrize("name", ["ending", "async_ending"])


@pytest.fixture
def env(env: dict[str, str]) -> dict[str, str]:
    return {**env, "FUNCTION_MODULES": ",".join(MODULES)}


@pytest.fixture
async def pool() -> AsyncIterator[ProcessPool]:
    pool = ProcessPool(MODULES, max_idle=1)
    await pool.start(1)
    yield pool
    pool.close()


class Run:
    """One attempt as the worker makes it, with what the handler reported."""

    def __init__(self, payload: bytes, document: bytes | None = None) -> None:
        self.reports: list[tuple[float, str]] = []
        self.attempt = Attempt(
            "job-1", 1, payload, document, lambda percent, m: self.reports.append((percent, m))
        )


def spec_of(name: str) -> FunctionSpec:
    return load_functions(MODULES)[name]


async def run(
    pool: ProcessPool, name: str, params: dict[str, Any] | bytes, document: bytes | None = None
) -> tuple[Run, Any]:
    """The attempt and its decoded result; the handler's failure propagates."""
    payload = params if isinstance(params, bytes) else msgspec.json.encode(params)
    attempt = Run(payload, document)
    result = await run_attempt(spec_of(name), pool, attempt.attempt)
    return attempt, msgspec.json.decode(result)


@BOTH
async def test_a_handler_that_returns_succeeds_with_its_result(
    pool: ProcessPool, name: str
) -> None:
    attempt, result = await run(pool, name, {"how": "succeed"})
    assert result["how"] == "succeed" and result["attempt"] == 1
    # An async handler runs in this process, a sync one in a child.
    assert (result["pid"] == os.getpid()) == name.startswith("async_")
    assert attempt.reports == [] and attempt.attempt.artifacts == []


@BOTH
async def test_progress_is_clamped_and_artifacts_reach_the_attempt(
    pool: ProcessPool, name: str
) -> None:
    attempt, _ = await run(pool, name, {"how": "progress"})
    assert attempt.reports == [(0.0, "below"), (100.0, "above"), (42.5, "between")]
    assert attempt.attempt.artifacts == [Artifact("note.txt", "text/plain", b"hello")]


@BOTH
async def test_an_artifact_name_that_cannot_be_a_path_fails_the_attempt(
    pool: ProcessPool, name: str
) -> None:
    attempt = Run(b'{"how": "bad_artifact"}')
    with pytest.raises(AttemptFailed) as failure:
        await run_attempt(spec_of(name), pool, attempt.attempt)
    assert failure.value.type == "ValueError"
    assert "../escape" in failure.value.message
    assert attempt.attempt.artifacts == []


@BOTH
async def test_a_permanent_error_keeps_its_type_and_is_not_retried(
    pool: ProcessPool, name: str
) -> None:
    with pytest.raises(PermanentError) as failure:
        await run(pool, name, {"how": "permanent"})
    assert (failure.value.type, failure.value.message) == ("Refused", "refused on purpose")


@BOTH
@pytest.mark.parametrize("payload", [b'{"how": "explode"}', b"{not json", b"[]"])
async def test_input_that_does_not_decode_is_invalid_input(
    pool: ProcessPool, name: str, payload: bytes
) -> None:
    with pytest.raises(PermanentError) as failure:
        await run(pool, name, payload)
    assert failure.value.type == "InvalidInput"


@BOTH
async def test_a_result_json_cannot_encode_is_invalid_result_not_retried(
    pool: ProcessPool, name: str
) -> None:
    with pytest.raises(PermanentError) as failure:
        await run(pool, name, {"how": "unencodable"})
    assert failure.value.type == "InvalidResult"
    assert "object" in failure.value.message


@BOTH
async def test_any_other_exception_is_retried_under_its_class_name(
    pool: ProcessPool, name: str
) -> None:
    with pytest.raises(AttemptFailed) as failure:
        await run(pool, name, {"how": "error"})
    assert failure.value.type == "LookupError"
    assert failure.value.message == "attempt 1 fails on purpose"


@BOTH
async def test_text_utf8_cannot_encode_arrives_with_replacements(
    pool: ProcessPool, name: str
) -> None:
    attempt = Run(b'{"how": "not_utf8"}')
    with pytest.raises(AttemptFailed) as failure:
        await run_attempt(spec_of(name), pool, attempt.attempt)
    assert (failure.value.type, failure.value.message) == ("FileNotFoundError", "no plan-?.pdf")
    assert attempt.reports == [(50.0, "reading plan-?.pdf")]


@BOTH
async def test_reading_the_document_of_a_function_without_one_is_no_document(
    pool: ProcessPool, name: str
) -> None:
    with pytest.raises(PermanentError) as failure:
        await run(pool, name, {"how": "document"})
    assert failure.value.type == "NoDocument"
    # With a document the same call succeeds: the failure was its absence.
    _, result = await run(pool, name, {"how": "document"}, document=b"%PDF-")
    assert result["how"] == "document"


async def test_a_child_over_its_memory_limit_is_retried_and_the_child_serves_on(
    pool: ProcessPool,
) -> None:
    _, before = await run(pool, "ending", {"how": "succeed"})
    with pytest.raises(AttemptFailed) as failure:
        await run(pool, "hog", {"megabytes": 1000})
    assert failure.value.type == "MemoryLimitExceeded"
    assert "200 MB" in failure.value.message
    _, after = await run(pool, "ending", {"how": "succeed"})
    assert after["pid"] == before["pid"]  # it answered: kept, and its limit lifted


async def test_a_function_the_child_does_not_have_is_unknown_function(
    pool: ProcessPool,
) -> None:
    elsewhere = FunctionSpec(name="not_in_the_child", input=Ending, handler=ending)
    with pytest.raises(PermanentError) as failure:
        await run_attempt(elsewhere, pool, Run(b"{}").attempt)
    assert failure.value.type == "UnknownFunction"
    assert "not_in_the_child" in failure.value.message


async def test_an_unencodable_result_fails_the_job_once_through_a_consumer(
    sluice: Sluice, settings: Settings
) -> None:
    names = ("ending", "async_ending")
    jobs = [(await sluice.submit(name, {"how": "unencodable"})).job_id for name in names]
    await run_burst(settings, *names)
    for job_id in jobs:
        done = await sluice.status(job_id)
        assert done.status == "failed", done
        assert done.error is not None and done.error.type == "InvalidResult", done
        assert done.attempts == 1
