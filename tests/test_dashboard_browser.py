"""The dashboard in a real headless Chromium (tests/browser.py), against a real gateway
(uvicorn), real consumer processes and Redis: each page loads, its live parts change
while it is open (no reload), the buttons work, the pages read with JavaScript off, and
with keys on only an admin key logs in. Each page is saved as a screenshot."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Dialog, Page, expect

from tests.conftest import Proc

# Its fixtures: the browser, pages, screenshots and the gateway serving the dashboard.
pytest_plugins = ["tests.browser"]
pytestmark = pytest.mark.any_redis  # what Redis decides is tested elsewhere

Screenshot = Callable[[Page, str], Path]
NewPage = Callable[..., Page]


def submit(url: str, function: str, body: dict[str, Any], **headers: str) -> str:
    reply = httpx.post(f"{url}/v1/jobs/{function}", json=body, headers=headers, timeout=10)
    assert reply.status_code == 202, reply.text
    return str(reply.json()["job_id"])


def status_of(url: str, job_id: str, **headers: str) -> dict[str, Any]:
    reply = httpx.get(f"{url}/v1/jobs/{job_id}", headers=headers, timeout=10)
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


def wait_status(url: str, job_id: str, *statuses: str, timeout: float = 20) -> dict[str, Any]:
    """The job's status once it is one of ``statuses`` (polled over HTTP)."""
    deadline = time.monotonic() + timeout
    while (status := status_of(url, job_id))["status"] not in statuses:
        assert time.monotonic() < deadline, f"{job_id} is {status['status']}, not {statuses}"
        time.sleep(0.05)
    return status


def mark_loaded(page: Page) -> None:
    """A mark in the page's window: still there later means the page was not reloaded."""
    page.evaluate("window.sluiceMark = 'not reloaded'")


def assert_not_reloaded(page: Page) -> None:
    assert page.evaluate("window.sluiceMark") == "not reloaded"


def stat(page: Page, function: str, name: str) -> Any:
    """A number of the index's row of ``function``."""
    return page.locator(f'tr[data-function="{function}"] [data-stat="{name}"]')


def test_index_updates_live_and_pauses_and_resumes(
    start_dashboard: Callable[..., str],
    start_consumer: Callable[..., Proc],
    new_page: NewPage,
    screenshot: Screenshot,
) -> None:
    url = start_dashboard()
    start_consumer("work")
    page = new_page()
    page.goto(f"{url}/dashboard")
    expect(stat(page, "work", "backlog")).to_have_text("0")
    expect(stat(page, "work", "consumers")).to_have_text("1")

    page.locator('tr[data-function="work"] button[data-action="pause"]').click()
    expect(page.locator(".notice")).to_contain_text("Paused work")
    expect(stat(page, "work", "paused")).to_have_text("paused")
    mark_loaded(page)
    # Jobs submitted while the page is open: they queue (paused) and the page shows them.
    job_ids = [submit(url, "work", {"seconds": 0.2}) for _ in range(2)]
    expect(stat(page, "work", "backlog")).to_have_text("2")
    assert_not_reloaded(page)
    assert status_of(url, job_ids[0])["status"] == "queued"
    screenshot(page, "index-paused")

    page.locator('tr[data-function="work"] button[data-action="resume"]').click()
    expect(page.locator(".notice")).to_contain_text("Resumed work")
    mark_loaded(page)
    for job_id in job_ids:
        wait_status(url, job_id, "succeeded")
    expect(stat(page, "work", "backlog")).to_have_text("0")
    expect(stat(page, "work", "succeeded_hour")).to_have_text("2")
    expect(page.locator('#charts [data-chart="throughput"]')).to_have_attribute("data-value", "2")
    assert_not_reloaded(page)
    assert page.locator('#charts [data-chart="throughput"] rect.bar').count() >= 1
    screenshot(page, "index")

    # The lookup form opens a job's page.
    page.fill("#job-lookup", job_ids[0])
    page.locator("form.lookup button").click()
    expect(page).to_have_url(f"{url}/dashboard/jobs/{job_ids[0]}")
    expect(page.locator("#job-status")).to_have_text("succeeded")


def test_function_page_consumers_failures_and_dead_letters(
    start_dashboard: Callable[..., str],
    start_consumer: Callable[..., Proc],
    new_page: NewPage,
    screenshot: Screenshot,
) -> None:
    url = start_dashboard()
    start_consumer("doomed", "work")
    page = new_page()
    page.goto(f"{url}/dashboard/functions/work")
    consumer = page.locator("#consumers tr[data-consumer]")
    expect(consumer).to_have_count(1)
    expect(consumer.locator(".jobs")).to_have_text("idle")
    mark_loaded(page)
    running = submit(url, "work", {"seconds": 30})
    expect(consumer.locator(f'a[href="/dashboard/jobs/{running}"]')).to_be_visible()
    expect(page.locator('[data-stat="running"]')).to_have_text("1")
    screenshot(page, "work-running")
    assert httpx.delete(f"{url}/v1/jobs/{running}", timeout=10).status_code in (200, 202)
    expect(consumer.locator(".jobs")).to_have_text("idle")
    assert_not_reloaded(page)

    page.goto(f"{url}/dashboard/functions/doomed")
    mark_loaded(page)
    doomed = [submit(url, "doomed", {}) for _ in range(3)]
    letters = page.locator("#dead-letters tr[data-entry]")
    expect(letters).to_have_count(3)
    expect(page.locator('[data-stat="dead_letters"]')).to_have_text("3")
    for job_id in doomed:
        expect(page.locator(f'#failures a[href="/dashboard/jobs/{job_id}"]')).to_be_visible()
    expect(page.locator('[data-chart="failure_rate"]')).to_have_attribute("data-value", "3")
    assert_not_reloaded(page)
    screenshot(page, "doomed")

    # Paused, a replayed job waits in the queue instead of dying again at once.
    page.locator('#stats button[data-action="pause"]').click()
    expect(page.locator('#stats button[data-action="resume"]')).to_be_visible()
    newest = letters.first.get_attribute("data-job")
    assert newest == doomed[-1]  # newest first
    letters.first.locator('button[data-action="replay"]').click()
    expect(page.locator(".notice")).to_contain_text("Replayed 1 dead letter")
    expect(letters).to_have_count(2)
    replayed = status_of(url, newest)
    assert replayed["status"] == "queued" and replayed["attempts"] == 0, replayed
    expect(page.locator('[data-stat="backlog"]')).to_have_text("1")

    letters.first.locator('button[data-action="delete"]').click()
    expect(page.locator(".notice")).to_have_text("Deleted 1 dead letter.")
    expect(letters).to_have_count(1)
    questions: list[str] = []

    def decline(dialog: Dialog) -> None:
        questions.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", decline)
    page.locator('button[data-action="delete-all"]').click()  # asked, and not confirmed
    expect(letters).to_have_count(1)
    assert questions == ["Delete every dead letter of doomed? The jobs stay failed."]
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator('button[data-action="delete-all"]').click()
    expect(page.locator(".notice")).to_have_text("Deleted 1 dead letter.")
    expect(letters).to_have_count(0)
    expect(page.locator('[data-stat="dead_letters"]')).to_have_text("0")
    assert status_of(url, doomed[0])["status"] == "failed"  # deleting keeps the job


def _png() -> bytes:
    """A small drawing as a PNG, for render to turn into an artifact."""
    import cv2
    import numpy as np

    image = np.full((200, 320, 3), 255, np.uint8)
    cv2.rectangle(image, (30, 30), (290, 170), (200, 90, 40), 5)
    cv2.putText(image, "sluice", (95, 112), cv2.FONT_HERSHEY_SIMPLEX, 1.4, (30, 30, 30), 3)
    ok, encoded = cv2.imencode(".png", image)
    assert ok
    return bytes(encoded.tobytes())


def test_job_page_follows_progress_and_shows_artifacts(
    start_dashboard: Callable[..., str],
    start_consumer: Callable[..., Proc],
    new_page: NewPage,
    screenshot: Screenshot,
) -> None:
    url = start_dashboard()
    # Progress 25 % at once, then 50, 75 and 100 % 1.5 s apart: the page's fetches every
    # 2 s see at least one of them before the end.
    job_id = submit(url, "chatty", {"count": 4, "seconds": 6})
    page = new_page()
    page.goto(f"{url}/dashboard/jobs/{job_id}")
    expect(page.locator("#job-status")).to_have_text("queued")
    mark_loaded(page)
    start_consumer("chatty", "render")
    expect(page.locator("#job-status")).to_have_text("running")
    expect(page.locator("#job-progress")).to_have_text(re.compile(r"^(25|50|75) %$"))
    screenshot(page, "job-running")
    expect(page.locator("#job-status")).to_have_text("succeeded")
    expect(page.locator("#job-progress")).to_have_text("100 %")
    expect(page.locator("#job-result")).to_contain_text('"reports": 4')
    expect(page.locator("#live-status")).to_have_text("final")
    assert_not_reloaded(page)

    reply = httpx.post(
        f"{url}/v1/jobs/render",
        content=_png(),
        headers={"Content-Type": "image/png"},
        timeout=10,
    )
    rendered = reply.json()["job_id"]
    wait_status(url, rendered, "succeeded", timeout=60)
    page.goto(f"{url}/dashboard/jobs/{rendered}")
    preview = page.locator(".artifact img")
    expect(preview).to_have_attribute("src", f"/dashboard/jobs/{rendered}/artifacts/page-1.png")
    expect(preview).to_have_js_property("complete", True)
    assert page.evaluate("document.querySelector('.artifact img').naturalWidth") == 320
    download = page.locator(".artifact a[download]")
    expect(download).to_have_attribute(
        "href", f"/dashboard/jobs/{rendered}/artifacts/page-1.png?download=1"
    )
    fetched = page.request.get(f"{url}/dashboard/jobs/{rendered}/artifacts/page-1.png?download=1")
    assert fetched.headers["content-type"] == "image/png"
    assert fetched.headers["content-disposition"].startswith("attachment")
    screenshot(page, "job-artifacts")


def test_pages_read_and_buttons_work_with_javascript_off(
    start_dashboard: Callable[..., str], new_page: NewPage, screenshot: Screenshot
) -> None:
    url = start_dashboard()
    job_ids = [submit(url, "work", {"seconds": 1}) for _ in range(2)]  # no consumer: queued
    page = new_page(java_script_enabled=False)
    page.goto(f"{url}/dashboard")
    expect(stat(page, "work", "backlog")).to_have_text("2")
    expect(page.locator("#live-status")).to_have_text("reload for new numbers")
    page.locator('tr[data-function="work"] button[data-action="pause"]').click()
    expect(page.locator(".notice")).to_contain_text("Paused work")
    expect(stat(page, "work", "paused")).to_have_text("paused")
    screenshot(page, "index-no-js")

    page.goto(f"{url}/dashboard/functions/work")
    expect(page.locator('[data-stat="backlog"]')).to_have_text("2")
    expect(page.locator('[data-chart="throughput"] svg')).to_be_visible()
    page.locator('#stats button[data-action="resume"]').click()
    expect(page.locator(".notice")).to_contain_text("Resumed work")

    page.goto(f"{url}/dashboard/jobs/{job_ids[0]}")
    expect(page.locator("#job-status")).to_have_text("queued")
    screenshot(page, "job-no-js")


ADMIN_KEY = "dash-admin-key"
ACME_KEY = "dash-acme-key"


def test_login_takes_an_admin_key_only(
    start_dashboard: Callable[..., str], new_page: NewPage, screenshot: Screenshot
) -> None:
    url = start_dashboard(SLUICE_ADMIN_KEY=ADMIN_KEY, SLUICE_API_KEYS=f"acme={ACME_KEY}")
    page = new_page()
    page.goto(f"{url}/dashboard/functions/work")
    expect(page).to_have_url(f"{url}/dashboard/login?next=/dashboard/functions/work")
    screenshot(page, "login")

    for key, refusal in [
        ("not-a-key", "unknown or revoked"),
        (ACME_KEY, "lacks the admin scope"),
    ]:
        page.fill("#key", key)
        page.locator("form.login button").click()
        expect(page.locator(".error-message")).to_contain_text(refusal)
    assert page.context.cookies() == []

    page.fill("#key", ADMIN_KEY)
    page.locator("form.login button").click()
    expect(page).to_have_url(f"{url}/dashboard/functions/work")
    [cookie] = page.context.cookies()
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/dashboard"
    page.locator('#stats button[data-action="pause"]').click()
    expect(page.locator(".notice")).to_contain_text("Paused work")

    page.locator("form.logout button").click()
    expect(page).to_have_url(f"{url}/dashboard/login")
    assert page.context.cookies() == []
    page.goto(f"{url}/dashboard")
    expect(page).to_have_url(f"{url}/dashboard/login?next=/dashboard")
