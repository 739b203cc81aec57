"""The dashboard in a real Chromium (Playwright), served over loopback with data from real runs
against the demo target: the indicator turns red after a fault and green after recovery, the
incident list filters to resolved incidents, the incident page shows the failure screenshot,
staff get the 403 page. Screenshots land in each test's tmp folder."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect, sync_playwright

from runner.chromium import resolve_chromium
from tests.monitor_support import ACCOUNTS, PASSWORD, Evidence, Site, fault, mend

pytest_plugins = ("tests.monitor_support",)
pytestmark = [pytest.mark.browser]
LAPTOP: ViewportSize = {"width": 1280, "height": 860}
PHONE: ViewportSize = {"width": 390, "height": 844}
CHROMIUM_ARGS = ["--disable-background-networking", "--disable-gpu", "--no-first-run"]


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(resolve_chromium()), args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def signed_in(
    chromium: Browser, base_url: str, account: str, viewport: ViewportSize = LAPTOP
) -> Iterator[Page]:
    """A fresh context, signed in through the login form like a person."""
    context = chromium.new_context(viewport=viewport, base_url=base_url)
    try:
        context.set_default_timeout(10_000)
        page = context.new_page()
        page.goto("/dashboard/monitoring")
        expect(page).to_have_url(f"{base_url}/login?next=%2Fdashboard%2Fmonitoring")
        page.get_by_label("Email").fill(ACCOUNTS[account][0])
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
        yield page
    finally:
        context.close()


def indicator(page: Page) -> str:
    return page.get_by_test_id("overall-status").get_attribute("data-status") or ""


def test_admin_sees_the_indicator_turn_red_after_a_fault_and_green_after_recovery(
    api_only_site: Site, chromium: Browser, tmp_path: Path
) -> None:
    site, target = api_only_site, api_only_site.settings.api_base_url
    site.run("api_health")
    with signed_in(chromium, site.url, "admin") as page:
        expect(page).to_have_url(f"{site.url}/dashboard/monitoring")
        assert indicator(page) == "green"
        expect(page.get_by_test_id("status-reason")).to_contain_text("All is well")
        page.screenshot(path=tmp_path / "1-green.png", full_page=True)

        fault(target, "api_down")
        site.run("api_health")
        page.reload()
        assert indicator(page) == "red"
        reason = page.get_by_test_id("status-reason")
        expect(reason).to_contain_text("(high): API health check failing")
        expect(page.get_by_test_id("active-incidents").get_by_role("listitem")).to_have_count(1)
        page.screenshot(path=tmp_path / "2-red.png", full_page=True)

        mend(target)
        site.run("api_health")
        page.reload()
        assert indicator(page) == "green"
        expect(page.get_by_text("No open incidents.")).to_be_visible()
        page.screenshot(path=tmp_path / "3-green-again.png", full_page=True)


def test_the_incident_list_filters_to_resolved_incidents(
    evidence: Evidence, chromium: Browser, tmp_path: Path
) -> None:
    with signed_in(chromium, evidence.site.url, "admin") as page:
        page.get_by_role("link", name="Incidents").click()
        rows = page.get_by_test_id("incident-table").locator("tbody tr")
        expect(rows).to_have_count(2)  # F3 still open, api_down resolved
        page.get_by_label("Status").select_option("resolved")
        page.get_by_role("button", name="Filter").click()
        expect(page).to_have_url(
            f"{evidence.site.url}/dashboard/monitoring/incidents?status=resolved"
        )
        expect(rows).to_have_count(1)
        expect(rows.first).to_have_attribute("data-status", "resolved")
        expect(rows.first).to_contain_text(f"{evidence.resolved_incident_id}")
        expect(page.get_by_test_id("incident-count")).to_have_text("Showing 1–1 of 1")
        page.screenshot(path=tmp_path / "resolved-laptop.png", full_page=True)
        page.set_viewport_size(PHONE)
        page.screenshot(path=tmp_path / "resolved-phone.png", full_page=True)


def test_the_incident_page_shows_the_failure_screenshot_next_to_the_last_pass(
    evidence: Evidence, chromium: Browser, tmp_path: Path
) -> None:
    url = f"/dashboard/monitoring/incidents/{evidence.flow_incident_id}"
    for name, viewport in (("laptop", LAPTOP), ("phone", PHONE)):
        with signed_in(chromium, evidence.site.url, "admin", viewport) as page:
            page.goto(url)
            expect(page.get_by_test_id("incident-message")).to_contain_text("F3")
            for test_id in ("failure-screenshot", "passing-screenshot"):
                image = page.get_by_test_id(test_id)
                image.scroll_into_view_if_needed()
                expect(image).to_be_visible()
                loaded = image.evaluate("img => img.complete && img.naturalWidth > 100")
                assert loaded, f"{test_id} did not load"
            failing = page.get_by_test_id("steps").locator("li.failing")
            expect(failing).to_have_count(1)
            expect(page.get_by_text("playwright show-trace goldwatch-run")).to_be_visible()
            page.screenshot(path=tmp_path / f"incident-{name}.png", full_page=True)
            if name == "laptop":
                with page.expect_download() as download:
                    page.get_by_test_id("trace-download").click()
                saved = tmp_path / download.value.suggested_filename
                download.value.save_as(saved)
                assert saved.name.endswith("-f3-trace.zip")
                assert saved.read_bytes().startswith(b"PK")


def test_a_staff_user_sees_the_403_page(
    evidence: Evidence, chromium: Browser, tmp_path: Path
) -> None:
    with signed_in(chromium, evidence.site.url, "staff") as page:
        expect(page.get_by_role("heading", name="No access to monitoring")).to_be_visible()
        expect(page.get_by_text("staff@platform.test is a staff account")).to_be_visible()
        expect(page.get_by_role("link", name="Incidents")).to_have_count(0)
        page.screenshot(path=tmp_path / "staff-403.png", full_page=True)
        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_text("You are signed out.")).to_be_visible()
