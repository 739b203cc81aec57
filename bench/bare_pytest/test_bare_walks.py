"""bench/bare_flows.py's four walks, one plain pytest-playwright test each."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page

from bench.bare_flows import WALKS


@pytest.mark.parametrize("walk", WALKS, ids=[walk.__name__ for walk in WALKS])
def test_walk(page: Page, walk: Callable[[Page], None]) -> None:
    walk(page)
