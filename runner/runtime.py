"""Everything a monitor process needs, built once at start from the settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine

from runner.checks.base import Check
from runner.checks.registry import build_checks, select_checks
from runner.db import get_engine, upgrade
from runner.pipeline import Pipeline
from runner.settings import Settings
from runner.store import RunOutcome


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    checks: dict[str, Check]
    pipeline: Pipeline
    flush_timeout_seconds: float = field(default=30.0)

    @classmethod
    def start(cls, settings: Settings) -> Runtime:
        """Migrate the database and validate checks; ConfigError names what is wrong."""
        checks = build_checks(settings)
        upgrade(settings.database_url)
        engine = get_engine(settings.database_url)
        pipeline = Pipeline(settings=settings, engine=engine)
        return cls(settings, engine, checks, pipeline)

    def select(self, name: str) -> list[Check]:
        return select_checks(self.settings, name)

    def periodic_jobs(self) -> dict[str, tuple[float, Callable[[], object]]]:
        """Housekeeping the scheduler runs besides the checks: id -> (seconds, function)."""
        return {}

    def flush_alerts(self) -> None:
        """Deliver what the runs queued, within a bounded wait."""

    @staticmethod
    def describe(outcome: RunOutcome) -> str:
        run = outcome.run
        error = run.details.get("error")
        line = f"{run.job:<20} run #{run.id:<5} {run.status:<8} {run.duration_ms or 0:>6} ms"
        if error:
            line += f"  {error}"
        lines = [line]
        for flow in run.details.get("flows", []):
            mark = "flaky" if flow.get("flaky") else flow.get("outcome")
            where = f' at "{flow["failing_step"]}": {flow["error"]}' if flow.get("error") else ""
            lines.append(f"  {flow['flow']:<4} {mark}{where}")
        for change in outcome.changes:
            incident = change.incident
            lines.append(
                f"  incident #{incident.id} {change.event}: {incident.message} "
                f"({incident.severity}, occurrences {incident.occurrences})"
            )
        return "\n".join(lines)
