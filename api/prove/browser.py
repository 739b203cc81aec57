"""The dashboard in a real headless Chromium (Playwright): sign in through the login form like
a person, wait for what a page should show, take full-page screenshots."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Page, ViewportSize, sync_playwright

from api.prove.steps import StepFailed

LAPTOP: ViewportSize = {"width": 1280, "height": 860}
CHROMIUM_ARGS = ["--disable-background-networking", "--disable-gpu", "--no-first-run"]
TIMEOUT_MS = 15_000


@contextmanager
def signed_in(
    chromium: Path, base_url: str, email: str, password: str, env: dict[str, str]
) -> Iterator[Page]:
    """A page signed in to the dashboard; the browser is closed on the way out. `env` is added
    to Chromium's environment (the proof's process tag)."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium), args=CHROMIUM_ARGS, env={**os.environ, **env}
        )
        try:
            context = browser.new_context(viewport=LAPTOP, base_url=base_url)
            context.set_default_timeout(TIMEOUT_MS)
            page = context.new_page()
            page.goto("/login")
            page.get_by_label("Email").fill(email)
            page.get_by_label("Password").fill(password)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{base_url}/dashboard/monitoring")
            yield page
        finally:
            browser.close()


def indicator(page: Page) -> tuple[str, str]:
    """The dashboard's overall status and the reason it gives."""
    status = page.get_by_test_id("overall-status").get_attribute("data-status") or ""
    reason = page.get_by_test_id("status-reason").inner_text().strip()
    return status, " ".join(reason.split())


def dashboard_showing(page: Page, expected: str, timeout: float) -> str:
    """Reload the dashboard until its indicator shows `expected`; the reason it gives."""
    deadline = time.monotonic() + timeout
    while True:
        page.goto("/dashboard/monitoring")
        status, reason = indicator(page)
        if status == expected:
            return reason
        if time.monotonic() > deadline:
            raise StepFailed(f"the dashboard shows {status!r}, not {expected!r}: {reason}")
        time.sleep(1.0)


def screenshot(page: Page, path: Path) -> Path:
    page.screenshot(path=path, full_page=True)
    if not path.is_file() or path.stat().st_size < 1000:
        raise StepFailed(f"screenshot {path.name} was not written")
    return path


def resolved_rows(page: Page) -> list[str]:
    """The incident list filtered to resolved incidents: each row's text."""
    page.goto("/dashboard/monitoring/incidents?status=resolved")
    rows = page.get_by_test_id("incident-table").locator("tbody tr[data-status='resolved']")
    return [" ".join(text.split()) for text in rows.all_inner_texts()]


def incident_page(page: Page, incident_id: int) -> str:
    """Open the incident's page and wait for its failure screenshot to load; its headline."""
    page.goto(f"/dashboard/monitoring/incidents/{incident_id}")
    image = page.get_by_test_id("failure-screenshot")
    image.scroll_into_view_if_needed()
    image.wait_for(state="visible")
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while not image.evaluate("img => img.complete && img.naturalWidth > 100"):
        if time.monotonic() > deadline:
            raise StepFailed("the incident page's failure screenshot did not load")
        time.sleep(0.2)
    page.evaluate("window.scrollTo(0, 0)")
    return page.get_by_test_id("incident-message").inner_text().strip()
