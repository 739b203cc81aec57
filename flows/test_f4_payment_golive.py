"""F4 Payment → Go-Live unlocked: a paid account has an active plan and a live public site."""

import re

import pytest
from playwright.sync_api import Page, expect

from runner.flowkit import Account, SignIn, StepRecorder, Visit

pytestmark = pytest.mark.flow(id="f4", title="Payment → Go-Live unlocked")


def test_paid_account_has_go_live_unlocked(
    page: Page,
    step: StepRecorder,
    visit: Visit,
    sign_in: SignIn,
    paid_account: Account,
) -> None:
    sign_in(paid_account)

    with step("Open billing"):
        visit("/app/billing")
        expect(page.get_by_test_id("active-plan"), "billing shows no active plan").to_contain_text(
            "Active plan"
        )

    with step("Open go-live"):
        visit("/app/go-live")
        expect(page.get_by_test_id("golive-status"), "go-live is not unlocked").to_contain_text(
            "Go-live unlocked"
        )

    with step("Open public site"):
        address = page.get_by_role("link", name=re.compile(r"\bsites\b")).first.get_attribute(
            "href"
        )
        assert address, "go-live page shows no public address"
        visit(address)
        expect(page.get_by_role("heading", level=1)).not_to_be_empty()
