"""A monitor built like `Runtime.start` (checks, channels, migrated database, planner,
dispatcher, pipeline), but on a clock the harness moves, so an hour of runs replays in seconds
while every run still goes execute -> record -> decide -> notify for real."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from api.prove.smtp import LOOPBACK, SmtpSink
from runner.alerting import Alerting, build_channels
from runner.checks import api_health
from runner.checks.base import Check, CheckResult, RunContext
from runner.checks.registry import build_checks
from runner.db import make_engine, upgrade
from runner.models import Incident
from runner.pipeline import Pipeline
from runner.settings import Settings
from runner.store import RunOutcome


class Clock:
    """The time the monitor sees; the harness moves it instead of sleeping."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def make_settings(workdir: Path, chromium: str, **values: Any) -> Settings:
    """Settings for a benchmark: its own database and artifacts under `workdir`, no .env."""
    workdir.mkdir(parents=True, exist_ok=True)
    defaults: dict[str, Any] = {
        "database_url": f"sqlite:///{workdir / 'goldwatch.db'}",
        "artifacts_dir": workdir / "artifacts",
        "chromium_path": chromium,
        "public_url": "http://127.0.0.1:8000",
    }
    return Settings(_env_file=None, **{**defaults, **values})


def smtp_settings(sink: SmtpSink) -> dict[str, Any]:
    """Goldwatch settings that send alert email to a local SMTP sink."""
    return {
        "smtp_host": LOOPBACK,
        "smtp_port": sink.port,
        "smtp_timeout_seconds": 5.0,
        "alert_to": ["oncall@bench.test"],
    }


@dataclass
class Timed:
    """perf_counter stamps of the last check execution's end and of each notify pass."""

    executed_at: float = 0.0
    notify_started: list[float] = field(default_factory=list)
    notify_ended: list[float] = field(default_factory=list)


@dataclass
class BenchMonitor:
    settings: Settings
    engine: Engine
    checks: dict[str, Check]
    alerting: Alerting
    pipeline: Pipeline
    timed: Timed

    @classmethod
    def start(cls, settings: Settings, clock: Clock) -> BenchMonitor:
        checks = build_checks(settings)
        channels = build_channels(settings)
        upgrade(settings.database_url)
        engine = make_engine(settings.database_url)
        alerting = Alerting.start(settings, engine, clock, channels=channels)
        timed = Timed()

        def notify() -> None:
            timed.notify_started.append(time.perf_counter())
            alerting.deliver()
            timed.notify_ended.append(time.perf_counter())

        pipeline = Pipeline(
            settings, engine, clock, alerting.planner, notify, checks.get(api_health.NAME)
        )
        return cls(settings, engine, checks, alerting, pipeline, timed)

    def stamped(self, check: Check) -> Check:
        """The same check, noting when its execution ended (the run's end)."""

        def execute(context: RunContext) -> CheckResult:
            result = check.execute(context)
            self.timed.executed_at = time.perf_counter()
            return result

        return Check(check.name, check.job, check.interval_seconds, execute, check.tenant_id)

    def run(self, check: Check, trigger: str = "schedule") -> RunOutcome:
        outcome = self.pipeline.run(self.stamped(check), trigger)
        if outcome is None:
            raise RuntimeError(f"run of {check.name} was aborted")
        return outcome

    def incidents(self) -> list[Incident]:
        with Session(self.engine) as session:
            return list(session.exec(select(Incident).order_by(col(Incident.id))).all())

    def close(self) -> None:
        self.engine.dispose()
