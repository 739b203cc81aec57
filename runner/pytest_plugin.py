"""pytest outcomes -> a JSON report the runner reads (per flow: outcome, steps, artifacts).

Inert unless `--goldwatch-report PATH` is given. Pass/fail comes from the reports pytest
builds (a `pytest_runtest_makereport` hookwrapper), never from console output.
"""

from __future__ import annotations

import json
import time
from collections.abc import Generator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pytest

from runner.steps import STEPS_KEY, first_line

ARTIFACT_PREFIX = "playwright_"


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


def pytest_configure(config: pytest.Config) -> None:
    path = config.getoption("--goldwatch-report", default=None)
    if path:
        config.pluginmanager.register(ReportPlugin(Path(path)), "goldwatch-report")
