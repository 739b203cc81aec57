"""F2 Onboarding → Preview: an onboarded account sees onboarding complete and its site preview."""

import re

import pytest
from playwright.sync_api import Page, expect

from runner.flowkit import Account, SignIn, StepRecorder, Visit

pytestmark = pytest.mark.flow(id="f2", title="Onboarding → Preview")


def test_onboarding_leads_to_preview(
    page: Page,
    step: StepRecorder,
    visit: Visit,
    sign_in: SignIn,
    onboarded_account: Account,
) -> None:
    sign_in(onboarded_account)

    with step("Open onboarding"):
        visit("/app/onboarding")
        expect(
            page.get_by_test_id("onboarding-status"), "onboarding is not shown as complete"
        ).to_have_text(re.compile("Onboarding complete"))

    with step("Open preview"):
        page.get_by_role("link", name="Preview your site").click()
        preview = page.get_by_test_id("site-preview")
        expect(preview, "site preview did not render").to_be_visible()
        expect(preview.get_by_role("heading", level=2)).not_to_be_empty()
