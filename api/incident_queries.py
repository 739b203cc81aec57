"""Reads of incidents and their evidence (occurrences, audit, alerts, screenshots), always
within the caller's scope: an incident outside it does not exist for them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, func, select

from api.access import Scope
from api.run_queries import artifacts_by_id, artifacts_of_runs
from api.schemas import IncidentFilters
from api.status import CheckSpec
from runner.models import Artifact, AuditLog, Incident, JobRun, Notification

BUILT_IN_JOBS = {
    "api_health": "check_api_health",
    "web_health": "check_web_health",
    "golden_flows": "check_golden_flows",
}
MAX_OCCURRENCES = 50
SCAN_RUNS = 200
FAILED_OUTCOMES = frozenset({"failed", "error"})


def list_incidents(
    session: Session, scope: Scope, filters: IncidentFilters
) -> tuple[list[Incident], int]:
    """One page of incidents (newest first) and how many match in all. The time range selects
    incidents that were open at some moment inside it."""
    where = [*scope.incidents()]
    if filters.status == "open":
        where.append(col(Incident.resolved_at).is_(None))
    elif filters.status == "resolved":
        where.append(col(Incident.resolved_at).is_not(None))
    if filters.type:
        where.append(col(Incident.type) == filters.type)
    if filters.severity:
        where.append(col(Incident.severity) == filters.severity)
    if filters.since:
        where.append(
            or_(col(Incident.resolved_at).is_(None), col(Incident.resolved_at) >= filters.since)
        )
    if filters.until:
        where.append(col(Incident.first_seen_at) < filters.until)
    total = session.exec(select(func.count()).select_from(Incident).where(*where)).one()
    rows = session.exec(
        select(Incident)
        .where(*where)
        .order_by(col(Incident.first_seen_at).desc(), col(Incident.id).desc())
        .offset(filters.offset)
        .limit(filters.limit)
    ).all()
    return list(rows), total


def get_incident(session: Session, scope: Scope, incident_id: int) -> Incident | None:
    return session.exec(
        select(Incident).where(col(Incident.id) == incident_id, *scope.incidents())
    ).first()


def job_of(source_check: str, specs: Iterable[CheckSpec]) -> str:
    """The JobRun name of a check (extra checks use their name)."""
    for spec in specs:
        if spec.name == source_check:
            return spec.job
    return BUILT_IN_JOBS.get(source_check, source_check)


def flow_of(incident: Incident) -> str | None:
    flow = incident.details.get("flow")
    return flow if isinstance(flow, str) and incident.subject.endswith(f":{flow}") else None


def flow_entry(run: JobRun, flow: str) -> Mapping[str, Any] | None:
    for entry in run.details.get("flows") or []:
        if isinstance(entry, dict) and entry.get("flow") == flow:
            return entry
    return None


@dataclass(frozen=True)
class Occurrence:
    run: JobRun
    failing_step: str | None
    error: str | None


def _occurrence(run: JobRun, flow: str | None) -> Occurrence | None:
    if flow is None:
        if run.status != "failed":
            return None
        error = run.details.get("error")
        return Occurrence(run, None, str(error) if error else None)
    entry = flow_entry(run, flow)
    if entry is None or entry.get("outcome") not in FAILED_OUTCOMES:
        return None
    return Occurrence(run, entry.get("failing_step"), entry.get("error"))


def occurrences(session: Session, scope: Scope, incident: Incident, job: str) -> list[Occurrence]:
    """The runs in which the incident's subject failed while it was open, newest first."""
    runs = session.exec(
        select(JobRun)
        .where(
            col(JobRun.job) == job,
            col(JobRun.finished_at) >= incident.first_seen_at,
            col(JobRun.finished_at) <= incident.last_seen_at,
            *scope.runs(),
        )
        .order_by(col(JobRun.finished_at).desc(), col(JobRun.id).desc())
        .limit(SCAN_RUNS)
    ).all()
    flow = flow_of(incident)
    found = [o for o in (_occurrence(run, flow) for run in runs) if o is not None]
    return found[:MAX_OCCURRENCES]


def audit_trail(session: Session, incident_id: int) -> list[AuditLog]:
    return list(
        session.exec(
            select(AuditLog)
            .where(col(AuditLog.incident_id) == incident_id)
            .order_by(col(AuditLog.at), col(AuditLog.id))
        ).all()
    )


def notifications_of(session: Session, incident_id: int) -> list[Notification]:
    return list(
        session.exec(
            select(Notification)
            .where(col(Notification.incident_id) == incident_id)
            .order_by(col(Notification.created_at), col(Notification.id))
        ).all()
    )


@dataclass(frozen=True)
class FlowEvidence:
    """What a failing golden flow left behind, next to what its last pass looked like."""

    flow: str
    title: str | None
    failing_step: str | None
    error: str | None
    steps: Sequence[Mapping[str, Any]] = field(default_factory=list)
    failure_screenshot: Artifact | None = None
    trace: Artifact | None = None
    last_passing_screenshot: Artifact | None = None
    last_passing_run_id: int | None = None
    reproduce: str | None = None


def _last_of_kind(artifacts: Iterable[Artifact], kind: str) -> Artifact | None:
    return max((a for a in artifacts if a.kind == kind), key=lambda a: a.id or 0, default=None)


def last_passing_screenshot(
    session: Session, scope: Scope, incident: Incident, job: str, flow: str
) -> tuple[int, Artifact] | None:
    """The newest passing run of the flow before its last failure, with its screenshot."""
    runs = session.exec(
        select(JobRun)
        .where(
            col(JobRun.job) == job,
            col(JobRun.finished_at) < incident.last_seen_at,
            *scope.runs(),
        )
        .order_by(col(JobRun.finished_at).desc(), col(JobRun.id).desc())
        .limit(SCAN_RUNS)
    ).all()
    for run in runs:
        entry = flow_entry(run, flow)
        if entry is None or entry.get("outcome") != "passed" or run.id is None:
            continue
        shots = artifacts_by_id(session, scope, entry.get("artifact_ids") or [])
        shot = _last_of_kind(shots, "screenshot")
        if shot is not None:
            return run.id, shot
    return None


def flow_evidence(
    session: Session, scope: Scope, incident: Incident, job: str
) -> FlowEvidence | None:
    flow = flow_of(incident)
    if flow is None:
        return None
    details = incident.details
    artifacts = artifacts_by_id(session, scope, details.get("artifact_ids") or [])
    passing = last_passing_screenshot(session, scope, incident, job, flow)
    steps = [s for s in details.get("steps") or [] if isinstance(s, dict)]
    return FlowEvidence(
        flow=flow,
        title=details.get("title"),
        failing_step=details.get("failing_step"),
        error=details.get("error"),
        steps=steps,
        failure_screenshot=_last_of_kind(artifacts, "screenshot"),
        trace=_last_of_kind(artifacts, "trace"),
        last_passing_screenshot=passing[1] if passing else None,
        last_passing_run_id=passing[0] if passing else None,
        reproduce=details.get("reproduce"),
    )


@dataclass(frozen=True)
class Dossier:
    """Everything the incident page and `GET /incidents/{id}` show."""

    incident: Incident
    occurrences: list[Occurrence]
    audit: list[AuditLog]
    notifications: list[Notification]
    artifacts: list[Artifact]
    evidence: FlowEvidence | None


def load_dossier(
    session: Session, scope: Scope, incident: Incident, specs: Iterable[CheckSpec]
) -> Dossier:
    assert incident.id is not None
    job = job_of(incident.source_check, specs)
    seen = occurrences(session, scope, incident, job)
    run_ids = [o.run.id for o in seen if o.run.id is not None]
    return Dossier(
        incident=incident,
        occurrences=seen,
        audit=audit_trail(session, incident.id),
        notifications=notifications_of(session, incident.id),
        artifacts=artifacts_of_runs(session, scope, run_ids, flow_of(incident)),
        evidence=flow_evidence(session, scope, incident, job),
    )


def incident_types(session: Session, scope: Scope) -> list[str]:
    """The incident types the caller has seen (for the type filter)."""
    rows = session.exec(
        select(Incident.type).where(*scope.incidents()).distinct().order_by(col(Incident.type))
    ).all()
    return list(rows)
