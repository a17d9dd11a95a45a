"""The operators' dashboard at ``/dashboard`` (admin only; see gateway/dashboard_access.py):
server-rendered pages that read whole with JavaScript off, kept live by a small script
(gateway/static/dashboard/dashboard.js) that fetches the page again every 2 s and swaps
its live parts. Its files are served from this repository, nothing from another site.

- ``/dashboard``: every function's numbers, the last hour's charts, pause and resume;
- ``/dashboard/functions/{function}``: one function's charts, consumers and the jobs each
  runs, recent failures, dead letters with replay and delete;
- ``/dashboard/jobs/{job_id}``: a job's status, progress, timings, error, result and
  artifacts, a GLB artifact in a 3D viewer (static/dashboard/viewer.js, three.js vendored).
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from gateway import dashboard_access, dashboard_actions, dashboard_functions, dashboard_jobs
from gateway.responses import static_file

STATIC = Path(__file__).parent / "static" / "dashboard"
# The files pages load, and their types: nothing else of the folder is served. Public
# (the login page needs them too): they hold no data.
ASSETS = {
    "dashboard.css": "text/css",
    "dashboard.js": "text/javascript",
    "favicon.svg": "image/svg+xml",
    "viewer.js": "text/javascript",
}
# three.js, vendored (its README there says which release and how to update it): only the
# modules the job page's 3D viewer imports, loaded when a job has a GLB artifact.
VENDOR_THREE = (
    "three.core.min.js",
    "three.module.min.js",
    "GLTFLoader.js",
    "BufferGeometryUtils.js",
    "OrbitControls.js",
)
ASSETS |= {f"vendor/three/{name}": "text/javascript" for name in VENDOR_THREE}


async def asset(request: Request) -> Response:
    # Revalidated each time (ETag): a new release's script is taken at once.
    return static_file(request, STATIC, ASSETS, request.path_params["name"], "no-cache")


_FUNCTION = "/dashboard/functions/{function}"

ROUTES: list[BaseRoute] = [
    Route("/dashboard", dashboard_functions.index, methods=["GET"]),
    Route("/dashboard/login", dashboard_access.login_page, methods=["GET"]),
    Route("/dashboard/login", dashboard_access.login, methods=["POST"]),
    Route("/dashboard/logout", dashboard_access.logout, methods=["POST"]),
    Route("/dashboard/static/{name:path}", asset, methods=["GET"]),
    Route(_FUNCTION, dashboard_functions.function_page, methods=["GET"]),
    Route(f"{_FUNCTION}/pause", dashboard_actions.pause, methods=["POST"]),
    Route(f"{_FUNCTION}/resume", dashboard_actions.resume, methods=["POST"]),
    Route(f"{_FUNCTION}/dead/replay", dashboard_actions.replay, methods=["POST"]),
    Route(f"{_FUNCTION}/dead/delete", dashboard_actions.delete, methods=["POST"]),
    Route("/dashboard/jobs", dashboard_jobs.find_job, methods=["GET"]),
    Route("/dashboard/jobs/{job_id}", dashboard_jobs.job_page, methods=["GET"]),
    Route(
        "/dashboard/jobs/{job_id}/artifacts/{name}", dashboard_jobs.job_artifact, methods=["GET"]
    ),
]
