"""The dashboard's job page: status, progress, timings, error, result and artifacts (with
previews of images, and GLB models in a 3D viewer), and the artifacts themselves for a
browser logged in by cookie."""

from __future__ import annotations

import dataclasses
import json
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from gateway.dashboard_access import dashboard_route, redirect
from gateway.dashboard_render import render
from gateway.responses import shown_inline, sluice_of
from shared.client import Sluice

# A result longer than this is cut on the page (the API's /result has all of it).
RESULT_CHARS = 100_000
# Artifacts the page shows in its 3D viewer (static/dashboard/viewer.js): binary glTF.
MODEL_TYPE = "model/gltf-binary"
# The image the viewer shows instead without JavaScript or WebGL, when the job has no image
# named as the model (model.glb: model.png).
PREVIEW = "preview.png"


@dataclasses.dataclass(frozen=True, slots=True)
class ArtifactRow:
    name: str
    content_type: str
    size: int

    @property
    def image(self) -> bool:
        return shown_inline(self.content_type)

    @property
    def model(self) -> bool:
        kind = self.content_type.split(";")[0].strip().lower()
        return kind == MODEL_TYPE or self.name.lower().endswith(".glb")

    @property
    def path(self) -> str:
        return quote(self.name, safe="")


@dataclasses.dataclass(frozen=True, slots=True)
class ModelView:
    """A GLB artifact for the viewer, and the image shown when the viewer cannot run."""

    model: ArtifactRow
    preview: ArtifactRow | None


def models_of(artifacts: list[ArtifactRow]) -> list[ModelView]:
    """The job's GLB artifacts, each with its fallback image: the image named as the model,
    else ``preview.png``, else the job's first image; None when it saved no image."""
    images = [row for row in artifacts if row.image]
    by_name = {row.name: row for row in images}
    views = []
    for row in artifacts:
        if row.model:
            stem = row.name.rpartition(".")[0]
            named = by_name.get(f"{stem}.png") or by_name.get(PREVIEW)
            views.append(ModelView(row, named or (images[0] if images else None)))
    return views


async def artifacts_of(sluice: Sluice, job_id: str) -> list[ArtifactRow]:
    """The files the job saved, by name: their types and sizes."""
    return [ArtifactRow(*row) for row in await sluice.artifacts(job_id)]


def pretty_result(raw: bytes | None) -> tuple[str, bool]:
    """The result as indented JSON, and whether it was cut to RESULT_CHARS."""
    if raw is None:
        return "", False
    text = json.dumps(json.loads(raw), indent=2, ensure_ascii=False)
    return text[:RESULT_CHARS], len(text) > RESULT_CHARS


@dashboard_route
async def job_page(request: Request) -> Response:
    sluice = sluice_of(request)
    job_id = request.path_params["job_id"]
    status = await sluice.status(job_id)
    result, cut = pretty_result(bytes(memoryview(status.result)) if status.result else None)
    artifacts = await artifacts_of(sluice, job_id)
    context = {
        "title": f"job {job_id}",
        "job": status,
        "result": result,
        "result_cut": cut,
        "artifacts": artifacts,
        "models": models_of(artifacts),
    }
    return render(request, "job.html", context)


@dashboard_route
async def find_job(request: Request) -> Response:
    """The index page's lookup form (a GET, so it works as a link and with JS off)."""
    # A job's status URL or path pasted whole names the job by its last segment.
    job_id = request.query_params.get("job_id", "").strip().rstrip("/").rpartition("/")[2]
    if not job_id:
        return redirect("/dashboard")
    return redirect(f"/dashboard/jobs/{quote(job_id, safe='')}")


@dashboard_route
async def job_artifact(request: Request) -> Response:
    """An artifact, shown inline only when it is a raster image (as the API's route
    decides); ``?download=1`` always as a download."""
    job_id = request.path_params["job_id"]
    name = request.path_params["name"]
    content_type, data = await sluice_of(request).artifact(job_id, name)
    headers = {
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, no-cache",
    }
    inline = shown_inline(content_type) and not request.query_params.get("download")
    if not inline:
        headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name, safe='')}"
    return Response(data, media_type=content_type, headers=headers)
