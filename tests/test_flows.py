"""The golden flows in real Chromium against the demo target: all pass when it is healthy,
each fault breaks exactly its flows at the expected step, nothing is changed, nothing leaks."""

from __future__ import annotations

import socket
import time

import pytest

from runner.checks import golden_flows
from runner.checks.base import CheckResult, RunContext
from runner.models import utcnow
from runner.settings import Settings
from tests.conftest import DemoTarget, chromium_processes

pytestmark = [pytest.mark.browser]

# fault -> {flow: failing step}; the other flows must pass.
EXPECTED_FAILURES = {
    "f1": {"f1": "Click Get started"},
    "f2": {"f2": "Open preview"},
    "f3": {"f3": "Open paywall"},
    "f4": {"f4": "Open go-live"},
    "api_down": {"f2": "Log in", "f3": "Log in", "f4": "Log in"},
    "web_down": {"f1": "Open landing page", "f2": "Log in", "f3": "Log in", "f4": "Log in"},
}


def run_flows(settings: Settings, run_id: int = 1) -> CheckResult:
    return golden_flows.execute(settings, RunContext(run_id=run_id, now=utcnow))


def outcomes(result: CheckResult) -> dict[str, tuple[str, str | None]]:
    return {f["flow"]: (f["outcome"], f["failing_step"]) for f in result.details["flows"]}


@pytest.fixture
def fast_settings(flow_settings: Settings) -> Settings:
    return flow_settings.model_copy(update={"flows_reruns": 0})


def test_all_flows_pass_read_only_and_leave_no_browser(
    fast_settings: Settings, demo_target: DemoTarget
) -> None:
    result = run_flows(fast_settings)
    assert outcomes(result) == {f: ("passed", None) for f in ("f1", "f2", "f3", "f4")}
    assert result.ok
    steps = {f["flow"]: [s["name"] for s in f["steps"]] for f in result.details["flows"]}
    assert steps["f3"] == ["Log in", "Open preview", "Open paywall", "Open checkout"]
    assert all(s["duration_ms"] >= 0 for f in result.details["flows"] for s in f["steps"])
    assert demo_target.mutations() == []
    assert chromium_processes() == []


@pytest.mark.parametrize("fault", list(EXPECTED_FAILURES))
def test_each_fault_breaks_exactly_its_flows(
    fault: str, fast_settings: Settings, demo_target: DemoTarget
) -> None:
    demo_target.fault(fault)
    result = run_flows(fast_settings)
    expected = {
        flow: ("failed", EXPECTED_FAILURES[fault].get(flow))
        if flow in EXPECTED_FAILURES[fault]
        else ("passed", None)
        for flow in ("f1", "f2", "f3", "f4")
    }
    assert outcomes(result) == expected
    for flow in result.details["flows"]:
        if flow["outcome"] == "failed":
            assert flow["error"], "a failed flow says what went wrong"
    kinds = {(a.flow, a.kind) for a in result.artifacts}
    for flow in EXPECTED_FAILURES[fault]:
        assert {(flow, "screenshot"), (flow, "trace")} <= kinds
    assert demo_target.mutations() == []
    assert chromium_processes() == []


def test_unreachable_target_fails_fast_with_the_step(fast_settings: Settings) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        started = time.monotonic()
        result = run_flows(fast_settings.model_copy(update={"web_base_url": url}))
    assert time.monotonic() - started < 60
    assert outcomes(result) == {
        "f1": ("failed", "Open landing page"),
        "f2": ("failed", "Log in"),
        "f3": ("failed", "Log in"),
        "f4": ("failed", "Log in"),
    }
    errors = {f["error"] for f in result.details["flows"]}
    assert all("ERR_CONNECTION_REFUSED" in error for error in errors), errors
    assert chromium_processes() == []
