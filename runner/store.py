"""Applies one run and its incident decisions in ONE transaction: run, artifacts, incidents,
streaks, audit rows and (through `on_change`) outbox rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from runner.checks.base import CheckResult
from runner.db import read_session, write_session
from runner.incidents import (
    CORRELATION_ROOT,
    Action,
    IncidentState,
    Observation,
    Policy,
    Raise,
    Reopen,
    Resolve,
    SetStreak,
    Streak,
    Unsuppress,
    Update,
    decide,
)
from runner.models import Artifact, AuditLog, Incident, JobRun, SubjectStreak, utcnow

ABANDONED = "abandoned: monitor restarted"
RECORD_ATTEMPTS = 3


@dataclass(frozen=True)
class Change:
    """What happened to one incident in a run (the outbox plans alerts from these)."""

    event: str  # raised | updated | reopened | resolved | unsuppressed
    incident: Incident


@dataclass
class RunOutcome:
    run: JobRun
    changes: list[Change] = field(default_factory=list)
    root_first: RunOutcome | None = None  # the root check's run made before this one was recorded


OnChange = Callable[[Session, Sequence[Change], datetime], None]


def start_run(
    engine: Engine, job: str, trigger: str, now: datetime, tenant_id: str | None = None
) -> int:
    with write_session(engine) as session:
        run = JobRun(
            job=job, status="running", trigger=trigger, started_at=now, tenant_id=tenant_id
        )
        session.add(run)
        session.flush()
        assert run.id is not None
        return run.id


def _state(incident: Incident) -> IncidentState:
    assert incident.id is not None
    return IncidentState(
        id=incident.id,
        fingerprint=incident.fingerprint,
        subject=incident.subject,
        type=incident.type,
        tenant_id=incident.tenant_id,
        first_seen_at=incident.first_seen_at,
        last_seen_at=incident.last_seen_at,
        resolved_at=incident.resolved_at,
        suppressed_by=incident.suppressed_by,
        occurrences=incident.occurrences,
    )


def _load_incidents(
    session: Session, observations: Sequence[Observation], policy: Policy, now: datetime
) -> dict[int, Incident]:
    subjects = {o.subject for o in observations}
    fingerprints = {o.fingerprint for o in observations if not o.ok}
    # FOR UPDATE: on PostgreSQL two writers updating one incident wait for each other
    # (SQLite's BEGIN IMMEDIATE already serializes writers; it has no row locks).
    open_rows = session.exec(
        select(Incident)
        .where(
            col(Incident.resolved_at).is_(None),
            or_(
                col(Incident.subject).in_(subjects),
                col(Incident.type) == CORRELATION_ROOT,
                col(Incident.suppressed_by).is_not(None),
            ),
        )
        .with_for_update()
    ).all()
    recent = session.exec(
        select(Incident)
        .where(
            col(Incident.fingerprint).in_(fingerprints),
            col(Incident.resolved_at) >= now - policy.dedupe_window,
        )
        .with_for_update()
    ).all()
    return {row.id: row for row in [*open_rows, *recent] if row.id is not None}


def _audit(session: Session, event: str, incident: Incident, at: datetime, **data: Any) -> None:
    session.add(AuditLog(event=event, incident_id=incident.id, at=at, data=data))


def _raise(session: Session, action: Raise, run_id: int) -> Incident:
    o = action.observation
    incident = Incident(
        type=o.type,
        severity=o.severity,
        message=o.message,
        details=dict(o.details),
        fingerprint=o.fingerprint,
        subject=o.subject,
        source_check=o.source_check,
        tenant_id=o.tenant_id,
        occurrences=1,
        first_seen_at=o.at,
        last_seen_at=o.at,
        created_at=o.at,
        suppressed_by=action.suppressed_by,
        last_job_run_id=run_id,
    )
    session.add(incident)
    session.flush()  # the partial unique index speaks here if another writer raced us
    _audit(
        session,
        "INCIDENT_RAISED",
        incident,
        o.at,
        message=o.message,
        severity=o.severity,
        job_run_id=run_id,
        suppressed_by=action.suppressed_by,
    )
    return incident


def _seen_again(incident: Incident, o: Observation, run_id: int) -> None:
    incident.last_seen_at = max(incident.last_seen_at, o.at)
    incident.occurrences += 1
    incident.details = dict(o.details)
    incident.last_job_run_id = run_id


def _apply(
    session: Session, actions: Sequence[Action], incidents: dict[int, Incident], run_id: int
) -> list[Change]:
    changes: list[Change] = []
    for action in actions:
        if isinstance(action, SetStreak):
            row = session.get(SubjectStreak, action.subject) or SubjectStreak(
                subject=action.subject
            )
            row.failures, row.successes = action.streak.failures, action.streak.successes
            row.updated_at = utcnow()
            session.add(row)
        elif isinstance(action, Raise):
            changes.append(Change("raised", _raise(session, action, run_id)))
        elif isinstance(action, Update):
            incident = incidents[action.incident_id]
            _seen_again(incident, action.observation, run_id)
            changes.append(Change("updated", incident))
        elif isinstance(action, Reopen):
            incident = incidents[action.incident_id]
            _seen_again(incident, action.observation, run_id)
            incident.resolved_at = None
            incident.suppressed_by = action.suppressed_by
            session.flush()
            _audit(
                session,
                "INCIDENT_REOPENED",
                incident,
                action.observation.at,
                job_run_id=run_id,
                suppressed_by=action.suppressed_by,
            )
            changes.append(Change("reopened", incident))
        elif isinstance(action, Resolve):
            incident = incidents[action.incident_id]
            incident.resolved_at = action.at
            lasted = int((action.at - incident.first_seen_at).total_seconds())
            _audit(
                session,
                "INCIDENT_RESOLVED",
                incident,
                action.at,
                job_run_id=run_id,
                duration_seconds=lasted,
            )
            changes.append(Change("resolved", incident))
        elif isinstance(action, Unsuppress):
            incident = incidents[action.incident_id]
            incident.suppressed_by = None
            _audit(session, "INCIDENT_UNSUPPRESSED", incident, utcnow(), job_run_id=run_id)
            changes.append(Change("unsuppressed", incident))
    return changes


def _record_once(
    engine: Engine, run_id: int, result: CheckResult, policy: Policy, on_change: OnChange | None
) -> RunOutcome:
    finished = result.finished_at or utcnow()
    with write_session(engine) as session:
        run = session.get(JobRun, run_id)
        if run is None:
            raise LookupError(f"no JobRun {run_id}")
        details = dict(result.details)
        artifact_ids: dict[str, list[int]] = {}
        for file in result.artifacts:
            artifact = Artifact(
                job_run_id=run_id,
                flow=file.flow,
                kind=file.kind,
                path=str(file.path),
                size=file.path.stat().st_size,
                created_at=finished,
            )
            session.add(artifact)
            session.flush()
            assert artifact.id is not None
            artifact_ids.setdefault(file.flow or "", []).append(artifact.id)
        for flow in details.get("flows", []):
            flow["artifact_ids"] = artifact_ids.get(flow.get("flow", ""), [])
        run.status = "success" if result.ok else "failed"
        run.finished_at = finished
        run.duration_ms = result.duration_ms
        run.details = details

        observations = [_with_artifacts(o, artifact_ids) for o in result.observations]
        incidents = _load_incidents(session, observations, policy, finished)
        streak_rows = session.exec(
            select(SubjectStreak)
            .where(col(SubjectStreak.subject).in_({o.subject for o in observations}))
            .with_for_update()
        ).all()
        streaks = {s.subject: Streak(s.failures, s.successes) for s in streak_rows}
        states = [_state(i) for i in incidents.values()]
        actions = decide(observations, states, streaks, policy)
        changes = _apply(session, actions, incidents, run_id)
        if on_change is not None and changes:
            on_change(session, changes, finished)
        return RunOutcome(run, changes)


def _with_artifacts(o: Observation, artifact_ids: dict[str, list[int]]) -> Observation:
    flow = o.details.get("flow")
    if not isinstance(flow, str) or flow not in artifact_ids:
        return o
    return replace(o, details={**o.details, "artifact_ids": artifact_ids[flow]})


def record_result(
    engine: Engine,
    run_id: int,
    result: CheckResult,
    policy: Policy,
    on_change: OnChange | None = None,
) -> RunOutcome:
    """Record a finished run and apply its decisions. When another writer raced us to the
    same new incident or streak row (a unique index refused our insert), the transaction is
    rolled back and decided again on what that writer committed."""
    for _ in range(RECORD_ATTEMPTS - 1):
        try:
            return _record_once(engine, run_id, result, policy, on_change)
        except IntegrityError:
            continue
    return _record_once(engine, run_id, result, policy, on_change)


def correlation_root_open(engine: Engine) -> bool:
    """Whether a platform api_down incident is open (what dependent failures are linked to)."""
    with read_session(engine) as session:
        found = session.exec(
            select(Incident.id).where(
                col(Incident.type) == CORRELATION_ROOT,
                col(Incident.tenant_id).is_(None),
                col(Incident.resolved_at).is_(None),
            )
        ).first()
    return found is not None


def reap_abandoned_runs(engine: Engine, now: datetime) -> int:
    """Close runs a dead process left `running` (called when a scheduler takes the lease)."""
    with write_session(engine) as session:
        rows = session.exec(select(JobRun).where(col(JobRun.status) == "running")).all()
        for run in rows:
            run.status = "failed"
            run.finished_at = now
            run.duration_ms = int((now - run.started_at).total_seconds() * 1000)
            run.details = {**run.details, "error": ABANDONED}
        return len(rows)
