"""Registering functions (shared.functions): the decorator's spec and checks, duplicate
names, retry delays, and PermanentError.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import msgspec
import pytest

from shared import functions as functions_module
from shared.errors import PermanentError
from shared.functions import FunctionSpec, JobContext, function, get_function

pytestmark = pytest.mark.any_redis


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
