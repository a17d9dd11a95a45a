"""What one attempt carries in and out, and the job context async handlers see."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import NamedTuple

from shared.errors import PermanentError
from shared.functions import artifact_path


class Artifact(NamedTuple):
    name: str
    content_type: str
    data: bytes


@dataclasses.dataclass(eq=False)
class Attempt:
    job_id: str
    attempt: int
    payload: bytes
    document: bytes | None
    report: Callable[[float, str], None]
    # Files the handler saved; written before the job's final status.
    artifacts: list[Artifact] = dataclasses.field(default_factory=list)


class InlineJob:
    """The job context an async handler sees."""

    def __init__(self, attempt: Attempt) -> None:
        self._attempt = attempt

    @property
    def job_id(self) -> str:
        return self._attempt.job_id

    @property
    def attempt(self) -> int:
        return self._attempt.attempt

    def progress(self, percent: float, message: str = "") -> None:
        self._attempt.report(max(0.0, min(100.0, float(percent))), str(message))

    def document(self) -> bytes:
        if self._attempt.document is None:
            raise PermanentError("this function takes no document", type="NoDocument")
        return self._attempt.document

    def save_artifact(self, name: str, data: bytes, content_type: str) -> str:
        path = artifact_path(self._attempt.job_id, name)
        self._attempt.artifacts.append(Artifact(name, content_type, bytes(data)))
        return path
