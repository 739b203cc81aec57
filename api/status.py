"""Overall status (green / yellow / red) with its reason, for the status API, the dashboard
and the metrics endpoint.

red: an open, unsuppressed high-severity incident. yellow: only medium/low (or suppressed)
incidents open, or a check stale (no finished run within 2x its interval, or never run).
green otherwise. Only what the scope may see counts.

    report = compute_status(session, specs, Scope.platform(), utcnow())
    report.overall, report.reason, report.checks, report.active_incidents_count
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlmodel import Session, col, select

from api.access import Scope
from api.timefmt import describe_age, describe_seconds
from runner.checks.base import Check
from runner.models import Incident, JobRun

Overall = Literal["green", "yellow", "red"]
RunResult = Literal["success", "failed"]
STALE_FACTOR = 2
SEVERITY_RANK = {"low": 0, "medium": 1, "high": 2}


@dataclass(frozen=True)
class CheckSpec:
    """A configured check as the status sees it."""

    name: str
    job: str
    interval_seconds: int
    tenant_id: str | None = None

    @classmethod
    def of(cls, check: Check) -> CheckSpec:
        return cls(check.name, check.job, check.interval_seconds, check.tenant_id)


@dataclass(frozen=True)
class CheckState:
    """A check's last finished run and whether it is stale."""

    spec: CheckSpec
    stale: bool
    run_id: int | None = None
    status: RunResult | None = None
    at: datetime | None = None  # when the last finished run finished
    duration_ms: int | None = None

    @property
    def name(self) -> str:
        return self.spec.name


@dataclass(frozen=True)
class StatusReport:
    overall: Overall
    reason: str
    checks: list[CheckState]
    open_incidents: list[Incident]  # visible to the scope, newest first
    cause_incident_id: int | None = None  # the incident the reason names, if any

    @property
    def active_incidents_count(self) -> int:
        return len(self.open_incidents)


def visible_specs(specs: Iterable[CheckSpec], scope: Scope) -> list[CheckSpec]:
    return [spec for spec in specs if scope.sees(spec.tenant_id)]


def is_stale(finished_at: datetime | None, interval_seconds: int, now: datetime) -> bool:
    if finished_at is None:
        return True
    return now - finished_at > timedelta(seconds=STALE_FACTOR * interval_seconds)


def check_state(session: Session, spec: CheckSpec, scope: Scope, now: datetime) -> CheckState:
    run = session.exec(
        select(JobRun)
        .where(
            col(JobRun.job) == spec.job,
            col(JobRun.finished_at).is_not(None),
            *scope.runs(),
        )
        .order_by(col(JobRun.finished_at).desc(), col(JobRun.id).desc())
        .limit(1)
    ).first()
    if run is None:
        return CheckState(spec, stale=True)
    return CheckState(
        spec,
        stale=is_stale(run.finished_at, spec.interval_seconds, now),
        run_id=run.id,
        status="success" if run.status == "success" else "failed",
        at=run.finished_at,
        duration_ms=run.duration_ms,
    )


def open_incidents(session: Session, scope: Scope) -> list[Incident]:
    return list(
        session.exec(
            select(Incident)
            .where(col(Incident.resolved_at).is_(None), *scope.incidents())
            .order_by(col(Incident.last_seen_at).desc(), col(Incident.id).desc())
        ).all()
    )


def _incident_reason(incident: Incident, others: int) -> str:
    linked = f", linked to #{incident.suppressed_by}" if incident.suppressed_by else ""
    text = f"Incident #{incident.id} ({incident.severity}{linked}): {incident.message}"
    return text + (f" (and {others} more open)" if others else "")


def _stale_reason(state: CheckState, now: datetime) -> str:
    every = describe_seconds(state.spec.interval_seconds)
    if state.at is None:
        return f"{state.name} has not run yet (it runs every {every})"
    age = describe_age(state.at, now)
    return f"{state.name} is stale: last run finished {age}, expected every {every}"


def judge(
    incidents: Sequence[Incident], checks: Sequence[CheckState], now: datetime
) -> tuple[Overall, str, int | None]:
    """The overall status, its reason and the incident it names (pure)."""
    red = [i for i in incidents if i.severity == "high" and i.suppressed_by is None]
    if red:
        first = min(red, key=lambda i: (i.first_seen_at, i.id or 0))
        return "red", _incident_reason(first, len(incidents) - 1), first.id
    if incidents:
        first = max(incidents, key=lambda i: SEVERITY_RANK.get(i.severity, 1))
        return "yellow", _incident_reason(first, len(incidents) - 1), first.id
    stale = [c for c in checks if c.stale]
    if stale:
        more = f" (and {len(stale) - 1} more stale)" if len(stale) > 1 else ""
        return "yellow", _stale_reason(stale[0], now) + more, None
    if not checks:
        return "green", "No open incidents and no checks to watch.", None
    watched = f"{len(checks)} check{'s' if len(checks) != 1 else ''}"
    return "green", f"All is well: {watched} ran on time and no incident is open.", None


def compute_status(
    session: Session, specs: Iterable[CheckSpec], scope: Scope, now: datetime
) -> StatusReport:
    checks = [check_state(session, spec, scope, now) for spec in visible_specs(specs, scope)]
    incidents = open_incidents(session, scope)
    overall, reason, cause = judge(incidents, checks, now)
    return StatusReport(overall, reason, checks, incidents, cause)
