"""The report plugin and the read-only guard, exercised through pytester."""

from __future__ import annotations

import json
from typing import Any

import pytest

from runner.settings import PROJECT_ROOT
from tests.conftest import DemoTarget

pytest_plugins = ["pytester"]

STEP_CONFTEST = """
import pytest
from runner.steps import STEPS_KEY, StepRecorder

@pytest.fixture
def step(request):
    recorder = StepRecorder()
    request.node.stash[STEPS_KEY] = recorder
    return recorder
"""


def report_of(pytester: pytest.Pytester, *args: str) -> dict[str, Any]:
    path = pytester.path / "report.json"
    # In-process runs leave pytest-playwright out: the outer session already holds its scope.
    pytester.runpytest(
        "-p", "no:playwright", "-p", "runner.pytest_plugin", f"--goldwatch-report={path}", *args
    )
    return dict(json.loads(path.read_text()))


def flows_by_id(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {flow["flow_id"]: flow for flow in report["flows"]}


def test_outcomes_steps_and_errors(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(STEP_CONFTEST)
    pytester.makepyfile(
        test_sample_flows="""
        import pytest

        @pytest.mark.flow(id="ok", title="Passes")
        def test_ok(step):
            with step("Open"):
                pass
            with step("Look"):
                pass

        @pytest.mark.flow(id="bad", title="Fails at a step")
        def test_bad(step):
            with step("Open"):
                pass
            with step("Open paywall"):
                raise AssertionError("no plans\\nlong call log")

        @pytest.fixture
        def broken():
            raise RuntimeError("browser would not start")

        @pytest.mark.flow(id="err", title="Errors in setup")
        def test_err(broken):
            pass
        """
    )
    flows = flows_by_id(report_of(pytester))
    assert flows["ok"]["outcome"] == "passed"
    assert [s["name"] for s in flows["ok"]["steps"]] == ["Open", "Look"]

    bad = flows["bad"]
    assert (bad["outcome"], bad["failing_step"], bad["error"]) == (
        "failed",
        "Open paywall",
        "no plans",
    )
    assert [s["outcome"] for s in bad["steps"]] == ["passed", "failed"]
    assert bad["title"] == "Fails at a step"

    err = flows["err"]
    assert (err["outcome"], err["failing_step"]) == ("error", None)
    assert "browser would not start" in err["error"]


def test_rerun_then_pass_is_flaky(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(STEP_CONFTEST)
    counter = pytester.path / "attempts"
    pytester.makepyfile(
        test_flaky=f"""
        from pathlib import Path

        def test_flaky(step):
            attempts = Path({str(counter)!r})
            seen = int(attempts.read_text()) if attempts.exists() else 0
            attempts.write_text(str(seen + 1))
            with step("Wobble"):
                assert seen > 0, "first attempt fails"
        """
    )
    (flow,) = report_of(pytester, "--reruns=1")["flows"]
    assert (flow["outcome"], flow["flaky"], flow["reruns"]) == ("passed", True, 1)
    assert [a["outcome"] for a in flow["attempts"]] == ["failed", "passed"]


def test_without_the_option_the_plugin_writes_nothing(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_ok():\n    pass\n")
    result = pytester.runpytest("-p", "no:playwright", "-p", "runner.pytest_plugin")
    result.assert_outcomes(passed=1)
    assert not list(pytester.path.glob("*.json"))


@pytest.mark.browser
def test_read_only_guard_blocks_a_post_and_names_it(
    pytester: pytest.Pytester, demo_target: DemoTarget
) -> None:
    pytester.makeconftest((PROJECT_ROOT / "flows" / "conftest.py").read_text())
    pytester.makepyfile(
        test_throwaway_flow="""
        def test_submits_a_form(page, step, visit):
            with step("Submit onboarding"):
                visit("/onboarding")
                page.get_by_label("Site name").fill("Should never be saved")
                page.get_by_role("button", name="Continue").click()
                page.wait_for_timeout(300)
        """
    )
    report = pytester.path / "report.json"
    result = pytester.runpytest_subprocess(
        "-p",
        "runner.pytest_plugin",
        f"--goldwatch-report={report}",
        f"--base-url={demo_target.url}",
        "-p",
        "no:cacheprovider",
    )
    result.assert_outcomes(failed=1)
    (flow,) = json.loads(report.read_text())["flows"]
    assert flow["failing_step"] == "Submit onboarding"
    assert flow["error"] == (
        f"read-only guard blocked a data-changing request: POST {demo_target.url}/onboarding"
    )
    assert demo_target.mutations() == []
