"""The job page's 3D viewer (gateway/static/dashboard/viewer.js, three.js vendored) in a
real headless Chromium (tests/browser.py) against a real gateway, a real ``model3d``
consumer and Redis: a model3d job's GLB is drawn on a canvas that the mouse orbits, fetched
with the login cookie, under the pages' CSP; without JavaScript or without WebGL the page
shows the job's preview image and the model's download instead. Screenshots are saved.

Headless Chromium runs with --disable-gpu: WebGL is SwiftShader's (software), which the
first test needs; the second removes WebGL from the page to see the fallback."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import httpx
import numpy as np
import pygltflib  # type: ignore[import-untyped]
import pytest
from playwright.sync_api import ConsoleMessage, Locator, Page, expect

from gateway.dashboard import ASSETS, STATIC
from tests.conftest import Proc
from tests.model3d_plans import grid_plan
from tests.test_dashboard_browser import assert_not_reloaded, mark_loaded, submit, wait_status

pytest_plugins = ["tests.browser"]
pytestmark = pytest.mark.any_redis  # what Redis decides is tested elsewhere

Screenshot = Callable[[Page, str], Path]
NewPage = Callable[..., Page]

ADMIN_KEY = "viewer-admin-key"
# The consumer's first model3d job imports trimesh and builds the model: more than the
# browser fixture's default wait for a live change.
MODEL_TIMEOUT_MS = 60_000
# Instead of WebGL, nothing: as a browser without it (or with it turned off) answers.
NO_WEBGL = """
const getContext = HTMLCanvasElement.prototype.getContext;
HTMLCanvasElement.prototype.getContext = function (kind, ...rest) {
  return /webgl/i.test(kind) ? null : getContext.call(this, kind, ...rest);
};
"""


def wall_list() -> dict[str, Any]:
    """Three rooms by two, with doors and windows: a model of a few dozen meshes."""
    return grid_plan(3, 2).wall_list()


def mesh_count(glb: bytes) -> int:
    """The meshes three.js makes of the file: one per primitive of each node with a mesh."""
    gltf = pygltflib.GLTF2.load_from_bytes(glb)
    meshes = [gltf.meshes[node.mesh] for node in gltf.nodes if node.mesh is not None]
    return sum(len(mesh.primitives) for mesh in meshes)


def pixels(element: Locator) -> np.ndarray:
    """The element as the screen shows it, BGR."""
    data = np.frombuffer(element.screenshot(), dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    assert image is not None
    return image


def colours(image: np.ndarray) -> int:
    return len(np.unique(image.reshape(-1, 3), axis=0))


def watch_for_errors(page: Page) -> list[str]:
    """Script errors and CSP refusals the page reports, collected as they come."""
    errors: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if message.type == "error" or "Content Security Policy" in message.text:
            errors.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def log_in(page: Page, url: str) -> None:
    page.goto(f"{url}/dashboard/login")
    page.fill("#key", ADMIN_KEY)
    page.locator("form.login button").click()
    expect(page).to_have_url(f"{url}/dashboard")


def test_a_glb_artifact_is_drawn_and_orbits_with_the_mouse(
    start_dashboard: Callable[..., str],
    start_consumer: Callable[..., Proc],
    new_page: NewPage,
    screenshot: Screenshot,
) -> None:
    # Keys on: the viewer's fetch of the GLB passes only with the page's login cookie.
    url = start_dashboard(SLUICE_ADMIN_KEY=ADMIN_KEY)
    bearer = {"Authorization": f"Bearer {ADMIN_KEY}"}
    job_id = submit(url, "model3d", wall_list(), **bearer)  # queued: no consumer yet
    page = new_page()
    errors = watch_for_errors(page)
    log_in(page, url)
    page.goto(f"{url}/dashboard/jobs/{job_id}")
    expect(page.locator("#job-status")).to_have_text("queued")
    assert page.locator("figure.viewer").count() == 0
    mark_loaded(page)

    # The job runs while the page is open: the viewer starts when the page's live part,
    # swapped in by dashboard.js, brings the model.
    start_consumer("model3d")
    figure = page.locator("figure.viewer")
    expect(figure).to_have_attribute("data-loaded", "1", timeout=MODEL_TIMEOUT_MS)
    assert_not_reloaded(page)
    expect(figure).to_have_attribute("data-viewer", "ready")
    glb_path = f"/dashboard/jobs/{job_id}/artifacts/model.glb"
    expect(figure).to_have_attribute("data-glb", glb_path)
    glb = httpx.get(f"{url}/v1/jobs/{job_id}/artifacts/model.glb", headers=bearer).content
    expect(figure).to_have_attribute("data-meshes", str(mesh_count(glb)))
    expect(figure.locator(".viewer-fallback")).to_be_hidden()
    expect(figure.locator(".viewer-help")).to_be_visible()

    canvas = figure.locator("canvas")
    expect(canvas).to_be_visible()
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()  # in the viewport, where the mouse moves
    assert box is not None and box["width"] > 600 and box["height"] > 300
    before = pixels(canvas)
    assert colours(before) > 50, "the canvas is blank"  # shaded walls, tinted floors, edges
    background = np.array([0xF8, 0xF6, 0xF4])  # BGR of the scene's background
    drawn = np.any(np.abs(before.astype(int) - background) > 8, axis=2).mean()
    assert 0.05 < drawn < 0.95, f"the model covers {drawn:.0%} of the canvas"
    screenshot(page, "job-model")

    # Dragging orbits the camera: the picture changes; a double-click puts it back.
    middle = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.move(*middle)
    page.mouse.down()
    page.mouse.move(middle[0] + 180, middle[1] + 40, steps=8)
    page.mouse.up()
    page.wait_for_function(
        "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"
    )
    turned = pixels(canvas)
    assert np.abs(turned.astype(int) - before).mean() > 2, "dragging did not turn the model"
    screenshot(page, "job-model-orbited")
    canvas.dblclick(position={"x": 5, "y": 5})
    page.wait_for_function(
        "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"
    )
    assert np.abs(pixels(canvas).astype(int) - before).mean() < 1

    # The artifact route serves the GLB as a download (a fetch reads it all the same).
    fetched = page.request.get(f"{url}{glb_path}")
    assert fetched.status == 200 and fetched.body() == glb
    assert fetched.headers["content-type"] == "model/gltf-binary"
    assert fetched.headers["content-disposition"].startswith("attachment")
    vendor = page.request.get(f"{url}/dashboard/static/vendor/three/GLTFLoader.js")
    assert vendor.status == 200 and vendor.headers["content-type"].startswith("text/javascript")
    hidden = page.request.get(f"{url}/dashboard/static/vendor/three/README.md")
    assert hidden.status == 404
    assert errors == []


def test_without_javascript_or_webgl_the_preview_and_download_show(
    start_dashboard: Callable[..., str],
    start_consumer: Callable[..., Proc],
    new_page: NewPage,
    screenshot: Screenshot,
) -> None:
    url = start_dashboard()
    start_consumer("model3d")
    job_id = submit(url, "model3d", wall_list())
    wait_status(url, job_id, "succeeded", timeout=60)
    base = f"/dashboard/jobs/{job_id}/artifacts"

    for name, page in [
        ("no-js", new_page(java_script_enabled=False)),
        ("no-webgl", new_page()),
    ]:
        errors = watch_for_errors(page)
        if name == "no-webgl":
            page.add_init_script(NO_WEBGL)
        page.goto(f"{url}/dashboard/jobs/{job_id}")
        expect(page.locator("#job-status")).to_have_text("succeeded")
        figure = page.locator("figure.viewer")
        if name == "no-webgl":
            expect(figure).to_have_attribute("data-viewer", "no-webgl")
        else:
            assert figure.get_attribute("data-viewer") is None
        preview = figure.locator(".viewer-fallback img")
        expect(preview).to_be_visible()
        expect(preview).to_have_attribute("src", f"{base}/preview.png")
        expect(preview).to_have_js_property("complete", True)
        assert preview.evaluate("image => image.naturalWidth") > 100
        download = figure.locator(".viewer-fallback a[download]")
        expect(download).to_have_attribute("href", f"{base}/model.glb?download=1")
        expect(download).to_have_text("Download model.glb")
        assert figure.locator("canvas").count() == 0
        expect(figure.locator(".viewer-help")).to_be_hidden()
        screenshot(page, f"job-model-{name}")
        assert errors == []


def test_the_package_ships_the_vendored_viewer() -> None:
    """Each file the dashboard serves is in package-data as setuptools reads its patterns
    (globs that stop at a folder), so a non-editable install (the Docker image) has it."""
    root = Path(__file__).parent.parent
    with open(root / "pyproject.toml", "rb") as config:
        patterns = tomllib.load(config)["tool"]["setuptools"]["package-data"]["gateway"]
    shipped = {path for pattern in patterns for path in (root / "gateway").glob(pattern)}
    for name in ASSETS:
        assert (STATIC / name).is_file(), name
        assert STATIC / name in shipped, f"{name}: no package-data pattern ships it"
    assert (STATIC / "vendor/three/LICENSE") in shipped
