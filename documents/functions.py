"""The built-in document functions: ingest, render, bom, layout, model3d.

This module is light (the gateway imports it for the schemas); the handlers import
PyMuPDF and OpenCV, which the consumers' warm child processes preload.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from documents.bom import BomInput, bill_of_materials
from documents.layout_input import MAX_BUDGET_S, LayoutInput
from documents.model import DocumentLimits, at_field
from documents.model3d_input import Model3dInput
from documents.scale import MAX_METRES_PER_UNIT, scale_parameter
from shared.functions import JobContext, function
from shared.uploads import Document

LIMITS = DocumentLimits()
HEAVY = ("pymupdf", "cv2", "numpy")
Dpi = Annotated[int, msgspec.Meta(ge=36, le=600)]
PageNumber = Annotated[int, msgspec.Meta(ge=1)]
# The schema descriptions say the numbering: every parameter and message counts pages
# from 1; only ingest's result field ``index`` counts from 0.
FirstPage = Annotated[
    PageNumber,
    msgspec.Meta(description="first page to process, numbered from 1 (an image is page 1)"),
]
LastPage = Annotated[
    PageNumber | None,
    msgspec.Meta(
        description="last page to process, numbered from 1 and included; null or past the "
        "end: the document's last page"
    ),
]


class IngestInput(msgspec.Struct, frozen=True):
    document: Document
    dpi: Annotated[
        Dpi,
        msgspec.Meta(
            description="resolution scanned PDF pages are rendered at to find their walls, "
            "and the resolution an image is taken to have for a ratio scale"
        ),
    ] = 150
    # A "1:100" style scale, or metres per page unit; else read from the drawing.
    scale: Annotated[
        str | Annotated[float, msgspec.Meta(gt=0, le=MAX_METRES_PER_UNIT)] | None,
        msgspec.Meta(
            description='a ratio (1:100, or 1/4" = 1\'-0") or a number of metres per page '
            "unit (PDF point or image pixel); null: read from the drawing's text"
        ),
    ] = None
    first_page: FirstPage = 1
    last_page: LastPage = None

    def __post_init__(self) -> None:
        # A scale we cannot read is refused at submission (400 naming the field), not inside
        # the job. A number sent as text (every query string value is) becomes the number.
        if self.scale is not None:
            try:
                scale = scale_parameter(self.scale)
            except ValueError as exc:
                raise ValueError(at_field(str(exc), "$.scale")) from None
            msgspec.structs.force_setattr(self, "scale", scale)


class RenderInput(msgspec.Struct, frozen=True):
    document: Document
    dpi: Annotated[
        Dpi,
        msgspec.Meta(
            description="resolution of the rendered PDF pages; an image is its own pixels "
            "(taken to be at this resolution already, so not resampled)"
        ),
    ] = 150
    first_page: FirstPage = 1
    last_page: LastPage = None


@function(
    "ingest",
    input=IngestInput,
    timeout=120,
    max_attempts=2,
    memory_mb=2048,
    takes_document=True,
    preload=(*HEAVY, "documents.ingest"),
)
def ingest(job: JobContext, params: IngestInput) -> Any:
    """PDF or image in: per page its size, text blocks, walls and scale. Pages are numbered
    from 1 (first_page, last_page, each page's `page`); `index` is that number - 1."""
    from documents.ingest import IngestOptions, ingest_document

    options = IngestOptions(
        dpi=params.dpi,
        scale=params.scale,
        first_page=params.first_page,
        last_page=params.last_page,
    )
    return ingest_document(job.document(), options, job.progress, LIMITS)


@function(
    "render",
    input=RenderInput,
    timeout=120,
    max_attempts=2,
    memory_mb=2048,
    takes_document=True,
    preload=(*HEAVY, "documents.render"),
)
def render(job: JobContext, params: RenderInput) -> dict[str, Any]:
    """PDF pages (an image: one page) to PNG artifacts, served at
    /v1/jobs/{job_id}/artifacts/page-N.png; pages are numbered from 1."""
    from documents.render import render_pages

    return render_pages(job, params.first_page, params.last_page, params.dpi, LIMITS)


@function("bom", input=BomInput, timeout=30, max_attempts=2)
async def bom(job: JobContext, params: BomInput) -> Any:
    """Walls (an ingest result or a list) in, a bill of drywall materials out."""
    return bill_of_materials(params)


@function(
    "layout",
    input=LayoutInput,
    # The search stops at time_budget_s; the rest is the site, the preview and the result.
    timeout=MAX_BUDGET_S + 30,
    max_attempts=2,
    memory_mb=1536,
    preload=("numpy", "cv2", "shapely", "documents.layout"),
)
def layout(job: JobContext, params: LayoutInput) -> dict[str, Any]:
    """Rooms laid out on a plan (an ingest result or a wall list) from a brief and/or a
    program: rooms, new partitions and doors, the checks passed, and preview.png."""
    from documents.layout import layout as lay_out

    return lay_out(job, params)


@function(
    "model3d",
    input=Model3dInput,
    timeout=60,
    max_attempts=2,
    memory_mb=1024,
    preload=("numpy", "cv2", "trimesh", "documents.model3d"),
)
def model3d(job: JobContext, params: Model3dInput) -> dict[str, Any]:
    """A plan (an ingest result, a layout or a wall list) as a 3D model: artifacts
    model.glb (binary glTF 2.0, metres, y up) and preview.png (axonometric)."""
    from documents.model3d import model3d as build

    return build(job, params)
