"""What one attempt carries in and out, and the job context handlers see."""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Callable
from typing import NamedTuple

from consumers.execution import utf8_text
from shared import error_types
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


class HandlerJob(abc.ABC):
    """The job context a handler sees (shared.functions.JobContext). Subclasses say only
    how a progress report and a saved artifact leave: ``_report`` and ``_keep``."""

    def __init__(self, job_id: str, attempt: int, document: bytes | None) -> None:
        self._job_id = job_id
        self._attempt_number = attempt
        self._document = document

    @property
    def job_id(self) -> str:
        return self._job_id

    @property
    def attempt(self) -> int:
        return self._attempt_number

    def progress(self, percent: float, message: str = "") -> None:
        self._report(max(0.0, min(100.0, float(percent))), utf8_text(message))

    def document(self) -> bytes:
        if self._document is None:
            raise PermanentError("this function takes no document", type=error_types.NO_DOCUMENT)
        return self._document

    def save_artifact(self, name: str, data: bytes, content_type: str) -> str:
        path = artifact_path(self._job_id, name)
        self._keep(Artifact(name, utf8_text(content_type), bytes(data)))
        return path

    @abc.abstractmethod
    def _report(self, percent: float, message: str) -> None: ...

    @abc.abstractmethod
    def _keep(self, artifact: Artifact) -> None: ...


class InlineJob(HandlerJob):
    """An async handler's context: reports and artifacts go straight to the attempt."""

    def __init__(self, attempt: Attempt) -> None:
        super().__init__(attempt.job_id, attempt.attempt, attempt.document)
        self._run = attempt

    def _report(self, percent: float, message: str) -> None:
        self._run.report(percent, message)

    def _keep(self, artifact: Artifact) -> None:
        self._run.artifacts.append(artifact)
