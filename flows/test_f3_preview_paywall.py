"""F3 Preview → Billing/Paywall: publishing leads to plans with prices and on to checkout."""

import re

import pytest
from playwright.sync_api import Page, expect

from runner.flowkit import Account, SignIn, StepRecorder, Visit

pytestmark = pytest.mark.flow(id="f3", title="Preview → Billing/Paywall")


def test_preview_leads_to_paywall_and_checkout(
    page: Page,
    step: StepRecorder,
    visit: Visit,
    sign_in: SignIn,
    onboarded_account: Account,
) -> None:
    sign_in(onboarded_account)

    with step("Open preview"):
        visit("/app/preview")
        expect(page.get_by_role("heading", name="Preview", exact=True)).to_be_visible()

    with step("Open paywall"):
        page.get_by_role("link", name="Publish").click()
        paywall = page.get_by_role("heading", name="Choose a plan to publish")
        expect(paywall, "publishing did not lead to the paywall").to_be_visible()
        first_plan = page.get_by_test_id("plan").first
        expect(first_plan, "paywall lists no plan with a price").to_contain_text(
            re.compile(r"\$\d+/month")
        )

    with step("Open checkout"):
        # Stop at the checkout page: the flow never pays.
        page.get_by_role("link", name=re.compile(r"^Choose ")).first.click()
        checkout = page.get_by_role("heading", name="Checkout")
        expect(checkout, "choosing a plan did not open checkout").to_be_visible()
        expect(page.get_by_test_id("test-mode"), "checkout is not in test mode").to_be_visible()
        expect(page.get_by_test_id("checkout-summary")).to_contain_text("/month")
