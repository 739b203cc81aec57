"""F1 Landing → Onboarding: the landing page's call to action opens the onboarding wizard."""

import re

import pytest
from playwright.sync_api import Page, expect

from runner.flowkit import StepRecorder, Visit

pytestmark = pytest.mark.flow(id="f1", title="Landing → Onboarding")


def test_landing_leads_to_onboarding(page: Page, step: StepRecorder, visit: Visit) -> None:
    with step("Open landing page"):
        visit("/")
        expect(page.get_by_role("heading", level=1), "landing page has no heading").to_be_visible()

    with step("Click Get started"):
        cta = page.get_by_role("link", name="Get started")
        expect(cta, "landing page shows no Get started link").to_be_visible()
        cta.click()

    with step("See onboarding wizard"):
        first_step = page.get_by_role("heading", name=re.compile(r"^Step 1 of \d"))
        expect(first_step, "onboarding wizard did not open at step 1").to_be_visible()
