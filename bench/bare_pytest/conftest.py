"""The bare walks as plain pytest-playwright tests: the test framework without Goldwatch's
settings, fixtures, guard, screenshots or report (see bench/flow_overhead.py)."""

from __future__ import annotations

import os
from typing import Any

import pytest

from bench.bare_flows import ARGS

CHROMIUM_VARIABLE = "BENCH_CHROMIUM"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    chromium = os.environ[CHROMIUM_VARIABLE]
    return {**browser_type_launch_args, "executable_path": chromium, "args": ARGS}
