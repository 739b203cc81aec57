"""The reference: the four golden walks as a bare Playwright script, one browser, no pytest,
no monitor. It makes the same visits, clicks and assertions as flows/ F1-F4 (a fresh context
per walk, each page load required to answer 2xx) and shares nothing with flows/ but the demo
target's URLs, so the difference to a monitored run is what the monitor adds.

    python bench/bare_flows.py BASE_URL CHROMIUM [--marks JSON] [--route] [--screenshot]
                                                 [--intercept-only]

--marks writes wall-clock marks (time.time()) of its phases, and the seconds spent taking
screenshots, to JSON. --route and --screenshot add, for the harness's breakdown only, what a
monitored run adds in the browser: every request routed through a Python handler (as a
read-only guard does) and a JPEG of each walk's last page.
--intercept-only registers a route that matches no request: Playwright's interception alone.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Request,
    Response,
    Route,
    expect,
    sync_playwright,
)

ARGS = ["--disable-background-networking", "--disable-gpu", "--no-first-run"]
ONBOARDED = ("monitor-onboarded@demo.test", "synthetic-onboarded")
PAID = ("monitor-paid@demo.test", "synthetic-paid")


def ok(response: Response | None) -> None:
    if response is not None and not response.ok:
        raise AssertionError(f"{response.url} answered {response.status}")


def log_in(page: Page, account: tuple[str, str]) -> None:
    ok(page.goto("/login"))
    page.get_by_label("Email").fill(account[0])
    page.get_by_label("Password").fill(account[1])
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Log in").click()
    ok(navigation.value)
    expect(page).not_to_have_url(re.compile(r".*/login(\?.*)?$"))


def landing_to_onboarding(page: Page) -> None:
    ok(page.goto("/"))
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    cta = page.get_by_role("link", name="Get started")
    expect(cta).to_be_visible()
    cta.click()
    expect(page.get_by_role("heading", name=re.compile(r"^Step 1 of \d"))).to_be_visible()


def onboarding_to_preview(page: Page) -> None:
    log_in(page, ONBOARDED)
    ok(page.goto("/app/onboarding"))
    expect(page.get_by_test_id("onboarding-status")).to_have_text(re.compile("Onboarding complete"))
    page.get_by_role("link", name="Preview your site").click()
    preview = page.get_by_test_id("site-preview")
    expect(preview).to_be_visible()
    expect(preview.get_by_role("heading", level=2)).not_to_be_empty()


def preview_to_checkout(page: Page) -> None:
    log_in(page, ONBOARDED)
    ok(page.goto("/app/preview"))
    expect(page.get_by_role("heading", name="Preview", exact=True)).to_be_visible()
    page.get_by_role("link", name="Publish").click()
    expect(page.get_by_role("heading", name="Choose a plan to publish")).to_be_visible()
    expect(page.get_by_test_id("plan").first).to_contain_text(re.compile(r"\$\d+/month"))
    page.get_by_role("link", name=re.compile(r"^Choose ")).first.click()
    expect(page.get_by_role("heading", name="Checkout")).to_be_visible()
    expect(page.get_by_test_id("test-mode")).to_be_visible()
    expect(page.get_by_test_id("checkout-summary")).to_contain_text("/month")


def paid_to_go_live(page: Page) -> None:
    log_in(page, PAID)
    ok(page.goto("/app/billing"))
    expect(page.get_by_test_id("active-plan")).to_contain_text("Active plan")
    ok(page.goto("/app/go-live"))
    expect(page.get_by_test_id("golive-status")).to_contain_text("Go-live unlocked")
    link = page.get_by_role("link", name=re.compile(r"\bsites\b")).first
    address = link.get_attribute("href")
    assert address, "no public address"
    ok(page.goto(address))
    expect(page.get_by_role("heading", level=1)).not_to_be_empty()


WALKS: tuple[Callable[[Page], None], ...] = (
    landing_to_onboarding,
    onboarding_to_preview,
    preview_to_checkout,
    paid_to_go_live,
)


def read_only(route: Route, request: Request) -> None:
    if request.method in ("GET", "HEAD", "OPTIONS") or request.url.endswith("/login"):
        route.continue_()
    else:
        route.abort("blockedbyclient")


def snapshot(context: BrowserContext, page: Page) -> None:
    session = context.new_cdp_session(page)
    try:
        session.send(
            "Page.captureScreenshot", {"format": "jpeg", "quality": 80, "optimizeForSpeed": True}
        )
    finally:
        session.detach()


def walk_all(browser: Browser, options: argparse.Namespace, marks: dict[str, float]) -> None:
    for walk in WALKS:
        context = browser.new_context(base_url=options.base_url.rstrip("/"))
        try:
            if options.route:
                context.route("**/*", read_only)
            if options.intercept_only:
                context.route("**/goldwatch-bench-matches-nothing", read_only)
            page = context.new_page()
            walk(page)
            if options.screenshot:
                started = time.perf_counter()
                snapshot(context, page)
                marks["screenshot_seconds"] += time.perf_counter() - started
        finally:
            context.close()
        marks[walk.__name__] = time.time()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python bench/bare_flows.py", usage=__doc__)
    parser.add_argument("base_url")
    parser.add_argument("chromium")
    parser.add_argument("--marks", type=Path)
    parser.add_argument("--route", action="store_true")
    parser.add_argument("--intercept-only", action="store_true")
    parser.add_argument("--screenshot", action="store_true")
    options = parser.parse_args(argv)
    # Moments (time.time()), but for screenshot_seconds: the time spent capturing, in all.
    marks = {"imported": time.time(), "screenshot_seconds": 0.0}
    with sync_playwright() as playwright:
        marks["playwright_started"] = time.time()
        browser = playwright.chromium.launch(executable_path=options.chromium, args=ARGS)
        marks["browser_launched"] = time.time()
        try:
            walk_all(browser, options, marks)
        finally:
            browser.close()
            marks["browser_closed"] = time.time()
    marks["playwright_stopped"] = time.time()
    if options.marks:
        options.marks.write_text(json.dumps(marks))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
