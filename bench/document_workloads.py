"""The rows of ``bench.documents``, and the document functions called directly in this
process, as their registered handlers call them."""

from __future__ import annotations

import dataclasses
from typing import Any

from bench.processes import ROOT
from documents.functions import LIMITS
from documents.ingest import IngestOptions, ingest_document
from documents.render import render_pages

DATA = ROOT / "tests" / "data"
# The functions the benchmark's consumer runs: ``python -m consumers ingest render``.
FUNCTIONS = ("ingest", "render")


@dataclasses.dataclass(frozen=True)
class Workload:
    """One row: ``jobs`` jobs of ``function`` on one file, each ``pages`` pages long, run
    in blocks of ``block`` jobs that alternate between the two sides."""

    name: str
    function: str
    file: str
    kind: str  # "vector" or "raster" pages
    dpi: int | None  # None: ingest of vector pages, where dpi does not apply
    jobs: int
    block: int
    pages: int

    @property
    def params(self) -> dict[str, Any]:
        return {} if self.dpi is None else {"dpi": self.dpi}

    @property
    def warm_params(self) -> dict[str, Any]:
        """The untimed warm-up job: the first page only."""
        return {**self.params, "first_page": 1, "last_page": 1}

    def scaled(self, factor: float) -> Workload:
        blocks = max(1, round(self.jobs * factor / self.block))
        return dataclasses.replace(self, jobs=blocks * min(self.block, self.jobs))


RANCH = "cfast_UL_NIJ_Ranch_layout.pdf"  # 1 vector page
BOPTEST = "boptest_Detached_house_plan_and_section.pdf"  # 2 vector pages, A3
VICKSBURG = "Seige_of_Vicksburg_Sample_OCR.pdf"  # 6 scanned pages
# Blocks of about half a second or one job: alternating small blocks keeps the machine's
# drift in speed out of the comparison (bench/README.md, "Blocks").
WORKLOADS = (
    Workload("ingest-vector-ranch", "ingest", RANCH, "vector", None, 40, 8, 1),
    Workload("ingest-vector-boptest", "ingest", BOPTEST, "vector", None, 12, 2, 2),
    Workload("ingest-raster-150", "ingest", VICKSBURG, "raster", 150, 2, 1, 6),
    Workload("ingest-raster-300", "ingest", VICKSBURG, "raster", 300, 2, 1, 6),
    Workload("render-vector-150", "render", RANCH, "vector", 150, 48, 12, 1),
    Workload("render-vector-300", "render", RANCH, "vector", 300, 12, 3, 1),
    Workload("render-raster-150", "render", VICKSBURG, "raster", 150, 6, 1, 6),
    Workload("render-raster-300", "render", VICKSBURG, "raster", 300, 3, 1, 6),
)
NAMES = tuple(w.name for w in WORKLOADS)


class DirectJob:
    """The JobContext a handler gets, for a direct call: artifacts are kept in memory."""

    def __init__(self, document: bytes) -> None:
        self.job_id = "render-direct"
        self.attempt = 1
        self._document = document
        self.artifacts: dict[str, bytes] = {}

    def progress(self, percent: float, message: str = "") -> None:
        pass

    def document(self) -> bytes:
        return self._document

    def save_artifact(self, name: str, data: bytes, content_type: str) -> str:
        self.artifacts[name] = data
        return name


def _no_progress(percent: float, message: str) -> None:
    pass


def call_directly(function: str, data: bytes, params: dict[str, Any]) -> dict[str, Any]:
    """What the registered handler does, without the platform around it."""
    if function == "ingest":
        return ingest_document(data, IngestOptions(**params), _no_progress, LIMITS)
    return render_pages(
        DirectJob(data),
        params.get("first_page", 1),
        params.get("last_page"),
        params.get("dpi", 150),
        LIMITS,
    )


def pages_of(result: Any) -> int:
    return len(result.get("pages", [])) if isinstance(result, dict) else 0
