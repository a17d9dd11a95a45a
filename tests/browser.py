"""A real browser for the dashboard's tests: Debian's Chromium (package ``chromium``)
driven by Playwright's Python API. Never ``playwright install``: it downloads a browser,
and the system one is what CI installs.

Also the gateway the tests browse (conftest's, as the Procfile runs it), and where
screenshots go (the test's tmp_path, and ``$SLUICE_SCREENSHOTS`` when set).
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

# Headless, and nothing that reaches out to the network on its own (updates, sync, QUIC
# probes): the tests' only traffic is to the gateway on 127.0.0.1.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# How long a test waits for a page's live part to show a change (the page polls every 2 s).
LIVE_TIMEOUT_MS = 15_000


def chromium() -> str:
    """The system Chromium; the test is skipped without it (failed on CI, which installs it)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing; .ci/run must install it (apt-get install chromium)")
        pytest.skip("chromium not installed")
    return found


@pytest.fixture
def start_dashboard(start_gateway: Callable[..., str]) -> Callable[..., str]:
    """The gateway as the Procfile runs it (tests/conftest.py's start_gateway), which serves
    the dashboard; ``start_dashboard(**env)`` returns its base URL once it answers."""
    return start_gateway


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One Chromium for the module's tests; each test opens contexts of its own."""
    path = chromium()
    # A live part shows a change at the page's next fetch (every 2 s), after a consumer
    # has acted: more than expect's default 5 s on a busy machine.
    expect.set_options(timeout=LIVE_TIMEOUT_MS)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def new_page(browser: Browser) -> Iterator[Callable[..., Page]]:
    """``new_page(java_script_enabled=True)``: a page in a fresh context (its own cookies),
    closed after the test."""
    contexts: list[BrowserContext] = []

    def open_page(java_script_enabled: bool = True) -> Page:
        context = browser.new_context(
            java_script_enabled=java_script_enabled, viewport={"width": 1280, "height": 900}
        )
        context.set_default_timeout(LIVE_TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot(tmp_path: Path, request: pytest.FixtureRequest) -> Callable[[Page, str], Path]:
    """``screenshot(page, name)``: the whole page as a PNG under the test's tmp_path, and
    copied to ``$SLUICE_SCREENSHOTS`` when that names a folder; returns the first path."""
    folders = [tmp_path / "screenshots"]
    if extra := os.environ.get("SLUICE_SCREENSHOTS"):
        folders.append(Path(extra))
    test = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name).strip("_")

    def save(page: Page, name: str) -> Path:
        paths = [folder / f"{test}-{name}.png" for folder in folders]
        for folder in folders:
            folder.mkdir(parents=True, exist_ok=True)
        data = page.screenshot(full_page=True)
        for path in paths:
            path.write_bytes(data)
        print(f"screenshot {paths[-1]}", file=sys.stderr)
        return paths[0]

    return save
