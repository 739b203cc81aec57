"""F1-F4 as scripted walks (see conftest.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

Scripted = Callable[[str], None]


@pytest.mark.flow(id="f1", title="Landing → Onboarding")
def test_f1(scripted: Scripted) -> None:
    scripted("f1")


@pytest.mark.flow(id="f2", title="Onboarding → Preview")
def test_f2(scripted: Scripted) -> None:
    scripted("f2")


@pytest.mark.flow(id="f3", title="Preview → Billing/Paywall")
def test_f3(scripted: Scripted) -> None:
    scripted("f3")


@pytest.mark.flow(id="f4", title="Payment → Go-Live unlocked")
def test_f4(scripted: Scripted) -> None:
    scripted("f4")
