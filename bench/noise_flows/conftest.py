"""Scripted golden flows for the noise benchmark: no browser, each attempt passes or fails as
the harness's script says (a seeded coin per flow and attempt, and flows that are down).
They run through the real golden_flows check: a pytest subprocess with reruns and the report
plugin, then record, decide and notify like browser flows."""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable
from pathlib import Path

import pytest

from runner.steps import STEPS_KEY, StepRecorder

SCRIPT_VARIABLE = "BENCH_NOISE_SCRIPT"

Scripted = Callable[[str], None]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "flow(id, title): a golden flow's id (f1..f4) and title")


def fails(script: dict[str, object], flow: str, attempt: int) -> bool:
    if flow in list(script.get("down", [])):  # type: ignore[call-overload]
        return True
    coin = random.Random(f"{script['seed']}:{script['run']}:{flow}:{attempt}").random()
    return coin < float(script["p_fail"])  # type: ignore[arg-type]


@pytest.fixture
def scripted(request: pytest.FixtureRequest) -> Scripted:
    script = json.loads(Path(os.environ[SCRIPT_VARIABLE]).read_text())
    recorder = StepRecorder()
    request.node.stash[STEPS_KEY] = recorder
    attempt = int(getattr(request.node, "execution_count", 1))

    def walk(flow: str) -> None:
        with recorder("Open page"):
            pass
        with recorder("Scripted step"):
            if fails(script, flow, attempt):
                raise AssertionError(f"scripted failure of {flow} (attempt {attempt})")

    return walk
