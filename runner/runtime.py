"""Everything a monitor process needs, built once at start from the settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine

from runner.alerting import Alerting, build_channels
from runner.checks import api_health
from runner.checks.base import Check
from runner.checks.registry import build_checks, select_checks
from runner.db import get_engine, upgrade
from runner.pipeline import DEPENDENCY, Pipeline
from runner.settings import Settings
from runner.store import RunOutcome


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    checks: dict[str, Check]
    pipeline: Pipeline
    flush_timeout_seconds: float = field(default=30.0)
    alerting: Alerting | None = None

    @classmethod
    def start(cls, settings: Settings) -> Runtime:
        """Validate checks and alert channels, migrate the database; ConfigError names what
        is wrong."""
        checks = build_checks(settings)
        channels = build_channels(settings)
        upgrade(settings.database_url)
        engine = get_engine(settings.database_url)
        alerting = Alerting.start(settings, engine, channels=channels)
        pipeline = Pipeline(
            settings=settings,
            engine=engine,
            on_change=alerting.planner,
            notify=alerting.deliver,
            root_check=checks.get(api_health.NAME),
        )
        return cls(settings, engine, checks, pipeline, alerting=alerting)

    def select(self, name: str) -> list[Check]:
        return select_checks(self.settings, name)

    def periodic_jobs(self) -> dict[str, tuple[float, Callable[[], object]]]:
        """Housekeeping the scheduler runs besides the checks: id -> (seconds, function)."""
        if self.alerting is None:
            return {}
        return {
            "deliver_alerts": (
                self.settings.alert_dispatch_interval_seconds,
                self.alerting.deliver,
            )
        }

    def flush_alerts(self) -> None:
        """Deliver what the runs queued, within a bounded wait; what is left stays queued with
        its last error (logged) for the scheduler or the next run."""
        if self.alerting is not None:
            self.alerting.dispatcher.flush(self.flush_timeout_seconds)

    @staticmethod
    def describe(outcome: RunOutcome) -> str:
        """A few lines per run; a root check's run made first (see Pipeline) comes first."""
        first = outcome.root_first
        runs = [first, outcome] if first is not None else [outcome]
        return "\n".join(Runtime._describe_run(o) for o in runs)

    @staticmethod
    def _describe_run(outcome: RunOutcome) -> str:
        run = outcome.run
        error = run.details.get("error")
        line = f"{run.job:<20} run #{run.id:<5} {run.status:<8} {run.duration_ms or 0:>6} ms"
        if error:
            line += f"  {error}"
        if run.trigger == DEPENDENCY:
            line += "  (run first: does the API explain the failure below?)"
        lines = [line]
        for flow in run.details.get("flows", []):
            mark = "flaky" if flow.get("flaky") else flow.get("outcome")
            where = f' at "{flow["failing_step"]}": {flow["error"]}' if flow.get("error") else ""
            lines.append(f"  {flow['flow']:<4} {mark}{where}")
        for change in outcome.changes:
            incident = change.incident
            lines.append(
                f"  incident #{incident.id} {change.event}: {incident.message} "
                f"({incident.severity}, occurrences {incident.occurrences}"
                + (f", linked to #{incident.suppressed_by})" if incident.suppressed_by else ")")
            )
        return "\n".join(lines)
