"""The dashboard over plain HTTP (a real uvicorn gateway): who may see it and post its
forms (admin only; forms from its own pages only), the headers its pages and artifacts
carry; and the charts' geometry. tests/test_dashboard_browser.py drives it in Chromium."""

from __future__ import annotations

import fnmatch
import tomllib
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from gateway.dashboard_access import safe_next
from gateway.dashboard_charts import BOTTOM, TOP, Totals, charts, nice_top, summed
from tests.conftest import ROOT

# Its fixtures: the gateway serving the dashboard (start_dashboard).
pytest_plugins = ["tests.browser"]
pytestmark = pytest.mark.any_redis

# An admin key with characters a Cookie header cannot hold as they are.
ADMIN = "dash admin; key=1,2"
ACME = "dash-acme-key"


@pytest.fixture
def open_url(start_dashboard: Callable[..., str]) -> str:
    return start_dashboard()


@pytest.fixture
def keyed_url(start_dashboard: Callable[..., str]) -> str:
    return start_dashboard(SLUICE_ADMIN_KEY=ADMIN, SLUICE_API_KEYS=f"acme={ACME}")


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10, follow_redirects=False) as http:
        yield http


def _paused(client: httpx.Client, url: str, function: str, **headers: str) -> bool:
    reply = client.get(f"{url}/v1/admin/functions/{function}", headers=headers)
    assert reply.status_code == 200, reply.text
    return bool(reply.json()["stats"]["paused"])


def _origin(url: str) -> dict[str, str]:
    return {"Origin": url}


def test_forms_are_taken_from_the_dashboards_own_pages_only(
    open_url: str, client: httpx.Client
) -> None:
    pause = f"{open_url}/dashboard/functions/work/pause"
    form = {"back": "/dashboard"}
    for headers in [
        {},  # neither Origin nor Referer
        {"Origin": "http://evil.example"},
        {"Origin": "null", "Referer": "http://evil.example/page"},
        {"Referer": f"http://evil.example/?{open_url}"},
    ]:
        refused = client.post(pause, data=form, headers=headers)
        assert refused.status_code == 403, (headers, refused.text)
        assert "own pages" in refused.text
    assert not _paused(client, open_url, "work")

    done = client.post(pause, data=form, headers=_origin(open_url))
    assert done.status_code == 303
    assert done.headers["location"] == "/dashboard?done=paused&function=work"
    assert _paused(client, open_url, "work")
    # A Referer of the page, as a browser that sends no Origin gives it.
    resume = f"{open_url}/dashboard/functions/work/resume"
    back = {"back": "https://evil.example/"}  # not a dashboard page: the function's instead
    done = client.post(resume, data=back, headers={"Referer": f"{open_url}/dashboard"})
    assert done.headers["location"] == "/dashboard/functions/work?done=resumed&function=work"
    assert not _paused(client, open_url, "work")


def test_pages_and_errors_carry_their_headers(open_url: str, client: httpx.Client) -> None:
    page = client.get(f"{open_url}/dashboard")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
    assert 'data-function="work"' in page.text

    missing = client.get(f"{open_url}/dashboard/jobs/work-{'0' * 32}")
    assert missing.status_code == 404 and "text/html" in missing.headers["content-type"]
    assert client.get(f"{open_url}/dashboard/functions/nope").status_code == 404
    bad = client.post(
        f"{open_url}/dashboard/functions/work/dead/replay",
        data={"entry_id": "x-y"},
        headers=_origin(open_url),
    )
    assert bad.status_code == 400 and "not a dead-letter id" in bad.text
    assert client.get(f"{open_url}/dashboard/static/nothing.js").status_code == 404
    script = client.get(f"{open_url}/dashboard/static/dashboard.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith(
        "text/javascript"
    )
    found = client.get(f"{open_url}/dashboard/jobs", params={"job_id": "work-abc"})
    assert found.status_code == 303 and found.headers["location"] == "/dashboard/jobs/work-abc"
    # A status URL pasted whole (a submission's status_url, or with the host) names its job.
    for pasted in ("/v1/jobs/work-abc", "http://gateway/v1/jobs/work-abc/"):
        found = client.get(f"{open_url}/dashboard/jobs", params={"job_id": pasted})
        assert found.headers["location"] == "/dashboard/jobs/work-abc"


def test_non_image_artifacts_are_downloads(
    open_url: str, client: httpx.Client, start_consumer: Callable[..., Any]
) -> None:
    start_consumer("pages")
    job = client.post(
        f"{open_url}/v1/jobs/pages", json={"count": 1, "content_type": "text/html"}
    ).json()["job_id"]
    for _ in range(10):  # each answers once the status changes, or after 5 s
        waited = client.get(f"{open_url}/v1/jobs/{job}", params={"wait": 5})
        if waited.json()["status"] in ("succeeded", "failed"):
            break
    assert waited.json()["status"] == "succeeded", waited.text
    page = client.get(f"{open_url}/dashboard/jobs/{job}")
    assert "page-1.bin" in page.text and "<img" not in page.text
    artifact = client.get(f"{open_url}/dashboard/jobs/{job}/artifacts/page-1.bin")
    assert artifact.status_code == 200 and artifact.content == b"a" * 1024
    assert artifact.headers["content-disposition"].startswith("attachment")
    assert artifact.headers["x-content-type-options"] == "nosniff"


def test_with_keys_only_an_admin_sees_the_dashboard(keyed_url: str, client: httpx.Client) -> None:
    page = client.get(f"{keyed_url}/dashboard/functions/work")
    assert page.status_code == 303
    assert page.headers["location"] == "/dashboard/login?next=/dashboard/functions/work"
    acme = {"Authorization": f"Bearer {ACME}"}
    assert client.get(f"{keyed_url}/dashboard", headers=acme).status_code == 303
    admin = {"Authorization": f"Bearer {ADMIN}"}
    assert client.get(f"{keyed_url}/dashboard", headers=admin).status_code == 200
    # A post without a login is refused, not redirected.
    pause = f"{keyed_url}/dashboard/functions/work/pause"
    assert client.post(pause, data={}, headers=_origin(keyed_url)).status_code == 401
    assert not _paused(client, keyed_url, "work", **admin)

    login = f"{keyed_url}/dashboard/login"
    refused = client.post(login, data={"key": ACME}, headers=_origin(keyed_url))
    assert refused.status_code == 403 and "set-cookie" not in refused.headers
    forged = client.post(login, data={"key": ADMIN}, headers={"Origin": "http://evil.example"})
    assert forged.status_code == 403 and "set-cookie" not in forged.headers
    taken = client.post(
        login, data={"key": ADMIN, "next": "//evil.example/x"}, headers=_origin(keyed_url)
    )
    assert taken.status_code == 303 and taken.headers["location"] == "/dashboard"
    cookie = taken.headers["set-cookie"]
    for attribute in ("HttpOnly", "SameSite=strict", "Path=/dashboard", "Max-Age="):
        assert attribute.lower() in cookie.lower(), cookie
    assert "secure" not in cookie.lower()  # plain http here; https sets Secure
    behind_tls = httpx.post(  # another client: this one must keep its plain cookie
        login,
        data={"key": ADMIN},
        headers={**_origin(keyed_url), "X-Forwarded-Proto": "https"},
    )
    assert "secure" in behind_tls.headers["set-cookie"].lower()
    assert client.get(f"{keyed_url}/dashboard").status_code == 200  # the cookie, kept
    assert client.post(pause, data={}, headers=_origin(keyed_url)).status_code == 303
    assert _paused(client, keyed_url, "work", **admin)
    # The cookie is no Bearer key for the API.
    assert client.get(f"{keyed_url}/v1/admin/functions").status_code == 401


def test_safe_next_stays_on_the_dashboard() -> None:
    assert safe_next("/dashboard/functions/work?x=1") == "/dashboard/functions/work?x=1"
    for elsewhere in [
        None,
        "",
        "https://evil.example/dashboard",
        "//evil.example/dashboard",
        "/\\evil.example",
        "/v1/admin/keys",
        "/dashboardx",
        "/dashboard\n/x",
    ]:
        assert safe_next(elsewhere) == "/dashboard", elsewhere


def _minutes(succeeded: list[int], failed: list[int], backlog: list[int | None]) -> list[Totals]:
    return [
        Totals(minute=1000 + index, succeeded=s, failed=f, backlog=b, running=None)
        for index, (s, f, b) in enumerate(zip(succeeded, failed, backlog, strict=True))
    ]


def test_charts_draw_each_minute_and_break_lines_at_gaps() -> None:
    assert [nice_top(value) for value in (0, 1, 3, 7, 10, 11, 240)] == [1, 1, 5, 10, 10, 20, 500]
    minutes = _minutes([0, 4, 1, 0], [0, 0, 1, 0], [3, None, 5, 2])
    throughput, failure_rate, backlog, running = charts(minutes)
    assert throughput.value == "5" and len(throughput.bars) == 2
    tallest = max(throughput.bars, key=lambda bar: bar.height)
    assert tallest.y == pytest.approx(BOTTOM - 0.8 * (BOTTOM - TOP))  # 4 of a top of 5
    assert tallest.y + tallest.height == pytest.approx(BOTTOM)
    assert failure_rate.value == "1" and "1 failed of 6 ended" in failure_rate.summary
    # Minutes in which nothing ended have no rate: the two rates are one line.
    assert len(failure_rate.lines) == 1 and not failure_rate.dots
    # The backlog is broken by the unsampled minute: a lone dot, then a line.
    assert len(backlog.dots) == 1 and len(backlog.lines) == 1
    assert backlog.value == "2" and backlog.summary == "latest 2, highest 5"
    assert running.value == "-" and not running.lines and not running.dots

    both = summed([minutes, _minutes([1, 1, 1, 1], [0, 0, 0, 0], [None, None, 1, 1])])
    assert [minute.succeeded for minute in both] == [1, 5, 2, 1]
    assert [minute.backlog for minute in both] == [3, None, 6, 3]
    assert summed([]) == []


def test_the_package_ships_the_dashboards_files() -> None:
    """A non-editable install (the Docker image) has only the files package-data names."""
    with open(ROOT / "pyproject.toml", "rb") as config:
        patterns = tomllib.load(config)["tool"]["setuptools"]["package-data"]["gateway"]
    gateway = ROOT / "gateway"
    files = [
        path.relative_to(gateway).as_posix()
        for folder in ("templates/dashboard", "static/dashboard")
        for path in (gateway / folder).iterdir()
    ]
    assert files
    for name in files:
        assert any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns), name
