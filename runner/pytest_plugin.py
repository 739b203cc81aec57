"""pytest outcomes -> a JSON report the runner reads (per flow: outcome, steps, artifacts).

Inert unless `--goldwatch-report PATH` is given. Pass/fail comes from the reports pytest
builds (a `pytest_runtest_makereport` hookwrapper), never from console output.
"""

from __future__ import annotations

import base64
import contextlib
import json
import time
from collections.abc import Generator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pytest

from runner.steps import STEPS_KEY, first_line

ARTIFACT_PREFIX = "playwright_"
FAILED_KEY = pytest.StashKey[bool]()
SHOTS_KEY = pytest.StashKey[list[Path]]()
# --goldwatch-tracing: "all" leaves pytest-playwright's --tracing to every attempt; "retries"
# applies it to reruns only (Playwright Test's on-first-retry): a failed flow becomes an
# incident only after its rerun fails too, so the rerun's trace is the evidence, and the
# first attempt, which nearly always passes, does not pay for recording one.
TRACING_MODES = ("all", "retries")


@dataclass
class Attempt:
    outcome: str = "passed"  # passed | failed | error | skipped
    error: str | None = None
    failing_step: str | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)
    duration_ms: int = 0
    artifacts: list[dict[str, str]] = field(default_factory=list)


@dataclass
class FlowResult:
    nodeid: str
    flow_id: str
    title: str
    attempts: list[Attempt] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        last = self.attempts[-1] if self.attempts else Attempt(outcome="error", error="not run")
        failed_before = [a for a in self.attempts[:-1] if a.outcome in ("failed", "error")]
        return {
            "nodeid": self.nodeid,
            "flow_id": self.flow_id,
            "title": self.title,
            "outcome": last.outcome,
            "flaky": last.outcome == "passed" and bool(failed_before),
            "reruns": len(self.attempts) - 1,
            "failing_step": last.failing_step,
            "error": last.error,
            "steps": last.steps,
            "duration_ms": sum(a.duration_ms for a in self.attempts),
            # Evidence of every attempt: a flaky pass keeps the failed attempt's screenshot.
            "artifacts": [art for a in self.attempts for art in a.artifacts],
            "attempts": [asdict(a) for a in self.attempts],
        }


def _flow_identity(item: pytest.Item) -> tuple[str, str]:
    marker = item.get_closest_marker("flow")
    if marker is not None:
        flow_id = str(marker.kwargs.get("id") or (marker.args[0] if marker.args else item.name))
        title = str(marker.kwargs.get("title") or (marker.args[1] if len(marker.args) > 1 else ""))
        return flow_id, title or item.name
    return item.name, item.name


class ReportPlugin:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.flows: dict[str, FlowResult] = {}
        self.started = time.time()

    def _flow(self, item: pytest.Item) -> FlowResult:
        if item.nodeid not in self.flows:
            flow_id, title = _flow_identity(item)
            self.flows[item.nodeid] = FlowResult(item.nodeid, flow_id, title)
        return self.flows[item.nodeid]

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, Any, None]:
        outcome = yield
        report: pytest.TestReport = outcome.get_result()
        flow = self._flow(item)
        if report.when == "setup":
            flow.attempts.append(Attempt())
        attempt = flow.attempts[-1]
        attempt.duration_ms += int(report.duration * 1000)
        recorder = item.stash.get(STEPS_KEY, None)
        if recorder is not None:
            attempt.steps = [s.as_dict() for s in recorder.steps]
            attempt.failing_step = attempt.failing_step or recorder.failing_step
        if report.skipped and attempt.outcome == "passed":
            attempt.outcome = "skipped"
        elif report.failed and attempt.outcome in ("passed", "skipped"):
            # A failure in the test body is a product failure; in setup/teardown an error.
            attempt.outcome = "failed" if report.when == "call" else "error"
            error = call.excinfo.value if call.excinfo is not None else None
            attempt.error = first_line(error) if error is not None else str(report.longrepr)
        for name, value in report.user_properties:
            if str(name).startswith(ARTIFACT_PREFIX):
                kind = str(name).removeprefix(ARTIFACT_PREFIX)
                attempt.artifacts.append({"kind": kind, "path": str(Path(str(value)).absolute())})

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        report = {
            "started_at": self.started,
            "finished_at": time.time(),
            "exitstatus": int(exitstatus),
            "flows": [flow.summary() for flow in self.flows.values()],
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(report, indent=2))
        tmp.replace(self.path)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("goldwatch").addoption(
        "--goldwatch-report",
        metavar="PATH",
        default=None,
        help="write each flow's outcome, steps and artifacts as JSON to PATH",
    )
    parser.getgroup("goldwatch").addoption(
        "--goldwatch-tracing",
        choices=TRACING_MODES,
        default="all",
        help="all: --tracing applies to every attempt; retries: to reruns only",
    )
    parser.getgroup("goldwatch").addoption(
        "--goldwatch-screenshots",
        action="store_true",
        default=False,
        help="screenshot each flow: PNG when it failed, JPEG when it passed (use with "
        "pytest-playwright's --screenshot=off)",
    )


class Screenshots:
    """Each flow's screenshot, taken before its context closes: a PNG when the attempt failed
    (the incident's evidence, named as pytest-playwright names it), a JPEG when it passed (the
    dashboard's last good picture). A passing flow's picture is captured with Chromium's own
    Page.captureScreenshot, optimized for speed: ~45 ms against ~80 ms for page.screenshot(),
    whose extra waits (fonts, caret, a fresh frame) a flow that just passed does not need."""

    JPEG_QUALITY = 80

    def __init__(self, full_page: bool) -> None:
        self.full_page = full_page

    @pytest.hookimpl(hookwrapper=True, trylast=True)
    def pytest_runtest_makereport(self, item: pytest.Item) -> Generator[None, Any, None]:
        outcome = yield
        report: pytest.TestReport = outcome.get_result()
        if report.when == "setup":
            item.stash[FAILED_KEY] = report.failed
            item.stash[SHOTS_KEY] = []
        elif report.when == "call":
            item.stash[FAILED_KEY] = item.stash.get(FAILED_KEY, False) or report.failed
        else:
            for path in item.stash.get(SHOTS_KEY, []):
                report.user_properties.append((f"{ARTIFACT_PREFIX}screenshot", str(path)))

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> None:
        funcargs: dict[str, Any] = getattr(item, "funcargs", {})
        context, output = funcargs.get("context"), funcargs.get("output_path")
        if context is None or output is None:
            return
        failed = item.stash.get(FAILED_KEY, True)
        for index, page in enumerate(context.pages):
            name = f"test-failed-{index + 1}.png" if failed else f"test-finished-{index + 1}.jpg"
            path = Path(output) / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if self._capture(context, page, path, failed):
                item.stash.setdefault(SHOTS_KEY, []).append(path)

    def _capture(self, context: Any, page: Any, path: Path, failed: bool) -> bool:
        from playwright.sync_api import Error

        try:
            if not failed and not self.full_page:
                with contextlib.suppress(Error):
                    path.write_bytes(_fast_jpeg(context, page, self.JPEG_QUALITY))
                    return True
            kind, quality = ("png", None) if failed else ("jpeg", self.JPEG_QUALITY)
            page.screenshot(
                path=path, type=kind, quality=quality, timeout=5000, full_page=self.full_page
            )
        except Error:
            return False
        return True


def _fast_jpeg(context: Any, page: Any, quality: int) -> bytes:
    """The viewport as JPEG straight from Chromium (raises playwright's Error elsewhere)."""
    session = context.new_cdp_session(page)
    try:
        shot = session.send(
            "Page.captureScreenshot",
            {"format": "jpeg", "quality": quality, "optimizeForSpeed": True},
        )
    finally:
        session.detach()
    return base64.b64decode(shot["data"])


class RetryTracing:
    """Switches pytest-playwright's tracing off for first attempts (it reads `--tracing` when
    each test's artifacts recorder is set up) and back to the configured mode for reruns."""

    def __init__(self, mode: str) -> None:
        self.mode = mode

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        attempt = int(getattr(item, "execution_count", 1))
        item.config.option.tracing = self.mode if attempt > 1 else "off"


def pytest_configure(config: pytest.Config) -> None:
    path = config.getoption("--goldwatch-report", default=None)
    if path:
        config.pluginmanager.register(ReportPlugin(Path(path)), "goldwatch-report")
    tracing = getattr(config.option, "tracing", None)
    retries_only = config.getoption("--goldwatch-tracing", default="all") == "retries"
    if retries_only and tracing not in (None, "off"):
        config.pluginmanager.register(RetryTracing(str(tracing)), "goldwatch-retry-tracing")
    if config.getoption("--goldwatch-screenshots", default=False):
        full_page = bool(config.getoption("--full-page-screenshot", default=False))
        config.pluginmanager.register(Screenshots(full_page), "goldwatch-screenshots")
