"""What the proof's steps share: the options, where things are, and the running stack."""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Page
from sqlalchemy import Engine

from api.prove.monitor import Monitor
from api.prove.record import Proof
from api.prove.smtp import Received, SmtpSink
from api.prove.steps import StepFailed
from runner.settings import PROJECT_ROOT

FAULT = "f3"  # breaks F3 Preview -> Billing/Paywall at its "Open paywall" step
ALERT_TO = "oncall@pagecraft.test"
ALERT_FROM = "goldwatch@proof.goldwatch.test"
ADMIN_EMAIL = "admin@goldwatch.demo"  # a platform admin, only for the proof


@dataclass(frozen=True)
class ProveOptions:
    output: Path  # proof-<timestamp>/ is created in here
    command: str = "goldwatch prove"
    fast: bool = False  # skip ./verify.sh and ./smoke.sh
    full: bool = False  # the whole ./verify.sh (with the test suite) instead of --lint
    project_root: Path = PROJECT_ROOT
    health_interval_seconds: int = 5
    flows_interval_seconds: int = 10
    flow_timeout_seconds: float = 3.0
    startup_seconds: float = 60.0  # the longest wait for the monitor to answer /healthz
    wait_seconds: float = 120.0  # the longest wait for any one thing of the story to happen


@dataclass
class Story:
    options: ProveOptions
    proof: Proof
    work: Path  # temporary: database, artifacts, logs
    tag: str  # in the environment of every process the proof starts
    chromium: Path
    resources: ExitStack
    sink: SmtpSink | None = None
    target_url: str = ""
    engine: Engine | None = None
    admin_password: str = ""
    tokens: dict[str, str] = field(default_factory=dict)
    monitor: Monitor | None = None
    monitor_settings: dict[str, str] = field(default_factory=dict)
    page: Page | None = None
    incident_id: int | None = None
    emails: dict[str, Received] = field(default_factory=dict)

    @property
    def folder(self) -> Path:
        """The report folder (proof.md and every file it links)."""
        return self.proof.folder

    def need_engine(self) -> Engine:
        if self.engine is None:
            raise StepFailed("no database (an earlier step did not happen)")
        return self.engine

    def need_monitor(self) -> Monitor:
        if self.monitor is None:
            raise StepFailed("the monitor is not running (an earlier step did not happen)")
        return self.monitor

    def need_page(self) -> Page:
        if self.page is None:
            raise StepFailed("no signed-in browser (an earlier step did not happen)")
        return self.page

    def need_sink(self) -> SmtpSink:
        if self.sink is None:
            raise StepFailed("no SMTP sink (an earlier step did not happen)")
        return self.sink

    def need_incident(self) -> int:
        if self.incident_id is None:
            raise StepFailed("no incident (an earlier step did not happen)")
        return self.incident_id
