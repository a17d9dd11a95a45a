"""Declaring functions: the ``@function`` decorator, the registry and the job context."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import random
import re
from collections.abc import Callable, Iterable
from typing import Any, Protocol

import msgspec

from shared.errors import PermanentError
from shared.keys import FUNCTION_NAME
from shared.settings import BUILTIN_MODULES, SettingsError

__all__ = [
    "BUILTIN_MODULES",
    "FunctionSpec",
    "JobContext",
    "PermanentError",
    "function",
    "get_function",
    "load_functions",
    "registered_functions",
]


class JobContext(Protocol):
    """What a handler gets as its first argument."""

    @property
    def job_id(self) -> str: ...

    @property
    def attempt(self) -> int: ...

    def progress(self, percent: float, message: str = "") -> None: ...

    def document(self) -> bytes:
        """The uploaded document of a ``takes_document`` function."""
        ...

    def save_artifact(self, name: str, data: bytes, content_type: str) -> str:
        """Keep a file the job made; it is served at the returned URL path once the
        job has ended (and expires with it)."""
        ...


ARTIFACT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def artifact_path(job_id: str, name: str) -> str:
    """The URL path of an artifact; ValueError for a name that cannot be one."""
    if not ARTIFACT_NAME.fullmatch(name):
        raise ValueError(f"artifact name {name!r} must match {ARTIFACT_NAME.pattern}")
    return f"/v1/jobs/{job_id}/artifacts/{name}"


Handler = Callable[..., Any]
# A synchronous handler's memory limit (MB above its warm process) unless it sets one.
DEFAULT_MEMORY_MB = 2048


@dataclasses.dataclass(frozen=True, slots=True)
class FunctionSpec:
    name: str
    input: Any
    handler: Handler
    # Seconds one attempt may run before it is stopped and counted as failed.
    timeout: float = 300.0
    max_attempts: int = 3
    # Retry n waits about backoff * 2**(n-1) seconds (plus up to 25 % jitter), capped.
    backoff: float = 1.0
    max_backoff: float = 300.0
    # Memory a synchronous handler's process may allocate on top of its warm baseline.
    memory_mb: int = DEFAULT_MEMORY_MB
    # Backlog bound for this function; None means the settings' default.
    max_backlog: int | None = None
    # The job comes with an uploaded document (PDF, PNG, JPEG): job.document() reads it.
    takes_document: bool = False
    # Heavy modules the warm child processes import before their first job.
    preload: tuple[str, ...] = ()
    description: str = ""
    # Whether the handler is a coroutine function (runs inline in the consumer's loop).
    is_async: bool = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "is_async", inspect.iscoroutinefunction(self.handler))

    def retry_delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        # The exponent is capped so a very high attempt number cannot overflow a float;
        # the cap applies after the jitter, so max_backoff is a true maximum.
        base = self.backoff * 2.0 ** min(attempt - 1, 64)
        return min(self.max_backoff, base * (1 + random.uniform(0, 0.25)))

    def backlog_bound(self, default: int) -> int:
        """The most jobs its stream may hold: its own ``max_backlog``, else ``default``
        (MAX_BACKLOG)."""
        return self.max_backlog or default

    def json_schema(self) -> dict[str, Any]:
        """The input's JSON Schema. A document function's ``document`` field is the
        gateway's to fill from the upload: read-only and not required of clients."""
        schema = msgspec.json.schema(self.input)
        definitions = schema.get("$defs", {})
        top = definitions.get(str(schema.get("$ref", "")).rsplit("/", 1)[-1], schema)
        if self.takes_document and "document" in top.get("properties", {}):
            top["properties"]["document"] = {
                **top["properties"]["document"],
                "readOnly": True,
                "description": "set by the gateway from the upload (the multipart `file`"
                " part or the raw body); clients do not send it",
            }
            required = [name for name in top.get("required", []) if name != "document"]
            if required:
                top["required"] = required
            else:
                top.pop("required", None)
        return schema

    def decode_input(self, raw: bytes) -> Any:
        return msgspec.json.decode(raw, type=self.input)


_registry: dict[str, FunctionSpec] = {}


def function(
    name: str,
    *,
    input: Any,
    timeout: float = 300.0,
    max_attempts: int = 3,
    backoff: float = 1.0,
    max_backoff: float = 300.0,
    memory_mb: int | None = None,
    max_backlog: int | None = None,
    takes_document: bool = False,
    preload: tuple[str, ...] = (),
) -> Callable[[Handler], Handler]:
    """Register the decorated handler as the function ``name``. ``memory_mb`` (default
    2048) is for synchronous handlers only: an ``async def`` handler that sets it is
    refused, as nothing could enforce it."""
    if not FUNCTION_NAME.fullmatch(name):
        raise ValueError(f"function name {name!r} must match {FUNCTION_NAME.pattern}")
    if max_attempts < 1 or timeout <= 0 or (memory_mb is not None and memory_mb <= 0):
        raise ValueError(f"function {name!r}: max_attempts, timeout and memory_mb must be > 0")
    if backoff < 0 or max_backoff < 0 or (max_backlog is not None and max_backlog < 1):
        raise ValueError(
            f"function {name!r}: backoff and max_backoff must be >= 0, max_backlog >= 1"
        )

    def register(handler: Handler) -> Handler:
        if memory_mb is not None and inspect.iscoroutinefunction(handler):
            # It would run in the consumer's own process, whose memory a limit cannot
            # split between the jobs sharing it: refused rather than silently ignored.
            raise ValueError(
                f"function {name!r}: memory_mb cannot be enforced on an async def handler"
                " (it runs inside the consumer's event loop, in the consumer's process);"
                " remove memory_mb, or make the handler a plain def to run it in a child"
                " process under that limit"
            )
        existing = _registry.get(name)
        qualname = f"{handler.__module__}.{handler.__qualname__}"
        if existing is not None:
            old = f"{existing.handler.__module__}.{existing.handler.__qualname__}"
            if old != qualname:
                raise ValueError(f"function {name!r} is already registered by {old}")
        _registry[name] = FunctionSpec(
            name=name,
            input=input,
            handler=handler,
            timeout=timeout,
            max_attempts=max_attempts,
            backoff=backoff,
            max_backoff=max_backoff,
            memory_mb=DEFAULT_MEMORY_MB if memory_mb is None else memory_mb,
            max_backlog=max_backlog,
            takes_document=takes_document,
            preload=preload,
            description=inspect.getdoc(handler) or "",
        )
        return handler

    return register


def load_functions(modules: Iterable[str] = ()) -> dict[str, FunctionSpec]:
    """Import the built-in and the configured function modules; return the registry.
    A configured module that cannot be imported (missing, raising, registering a name
    twice) is a SettingsError naming it."""
    for module in BUILTIN_MODULES:
        importlib.import_module(module)
    for module in modules:
        try:
            importlib.import_module(module)
        except Exception as exc:
            raise SettingsError(
                f"FUNCTION_MODULES: {module!r} cannot be loaded: {type(exc).__name__}: {exc}"
            ) from exc
    return dict(_registry)


def registered_functions() -> dict[str, FunctionSpec]:
    return dict(_registry)


def get_function(name: str) -> FunctionSpec | None:
    return _registry.get(name)
