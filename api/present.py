"""Rows and reports -> the API's response models (which the pages render too)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from api.access import Scope
from api.incident_queries import Dossier, FlowEvidence
from api.schemas import (
    ArtifactOut,
    AuditOut,
    EvidenceOut,
    IncidentDetailOut,
    IncidentOut,
    LastCheckOut,
    NotificationOut,
    OccurrenceOut,
    RunOut,
    StatusOut,
    StepOut,
)
from api.status import StatusReport
from runner.models import Artifact, Incident, JobRun

ARTIFACT_URL = "/api/monitoring/artifacts/{id}"


def status_out(report: StatusReport) -> StatusOut:
    return StatusOut(
        overall_status=report.overall,
        last_checks={
            state.name: LastCheckOut(
                status=state.status,
                at=state.at,
                duration_ms=state.duration_ms,
                stale=state.stale,
            )
            for state in report.checks
        },
        active_incidents_count=report.active_incidents_count,
    )


def incident_out(incident: Incident, scope: Scope, now: datetime) -> IncidentOut:
    assert incident.id is not None
    end = incident.resolved_at or now
    return IncidentOut(
        id=incident.id,
        type=incident.type,
        severity=incident.severity,
        status="open" if incident.resolved_at is None else "resolved",
        message=incident.message,
        subject=incident.subject,
        source_check=incident.source_check,
        tenant_id=incident.tenant_id,
        occurrences=incident.occurrences,
        first_seen_at=incident.first_seen_at,
        last_seen_at=incident.last_seen_at,
        resolved_at=incident.resolved_at,
        duration_seconds=max(0, int((end - incident.first_seen_at).total_seconds())),
        # A tenant never learns the ids of incidents it cannot see.
        suppressed_by=incident.suppressed_by if scope.is_platform else None,
        last_job_run_id=incident.last_job_run_id,
        last_alerted_at=incident.last_alerted_at,
    )


def artifact_out(artifact: Artifact) -> ArtifactOut:
    assert artifact.id is not None
    return ArtifactOut(
        id=artifact.id,
        job_run_id=artifact.job_run_id,
        flow=artifact.flow,
        kind=artifact.kind,
        size=artifact.size,
        created_at=artifact.created_at,
        url=ARTIFACT_URL.format(id=artifact.id),
    )


def _maybe_artifact(artifact: Artifact | None) -> ArtifactOut | None:
    return artifact_out(artifact) if artifact is not None else None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _step(step: Mapping[str, Any]) -> StepOut:
    duration = step.get("duration_ms")
    return StepOut(
        name=str(step.get("name", "")),
        duration_ms=duration if isinstance(duration, int) else None,
        outcome=str(step.get("outcome", "")),
        error=_text(step.get("error")),
    )


def evidence_out(evidence: FlowEvidence) -> EvidenceOut:
    return EvidenceOut(
        flow=evidence.flow,
        title=_text(evidence.title),
        failing_step=_text(evidence.failing_step),
        error=_text(evidence.error),
        steps=[_step(step) for step in evidence.steps],
        failure_screenshot=_maybe_artifact(evidence.failure_screenshot),
        last_passing_screenshot=_maybe_artifact(evidence.last_passing_screenshot),
        last_passing_run_id=evidence.last_passing_run_id,
        trace=_maybe_artifact(evidence.trace),
        reproduce=_text(evidence.reproduce),
    )


def incident_detail_out(dossier: Dossier, scope: Scope, now: datetime) -> IncidentDetailOut:
    summary = incident_out(dossier.incident, scope, now)
    return IncidentDetailOut(
        **summary.model_dump(),
        details=dossier.incident.details,
        occurrence_runs=[
            OccurrenceOut(
                run_id=o.run.id or 0,
                job=o.run.job,
                status=o.run.status,
                started_at=o.run.started_at,
                finished_at=o.run.finished_at,
                duration_ms=o.run.duration_ms,
                failing_step=_text(o.failing_step),
                error=_text(o.error),
            )
            for o in dossier.occurrences
        ],
        audit=[
            AuditOut(id=a.id or 0, event=a.event, actor=a.actor, at=a.at, data=a.data)
            for a in dossier.audit
        ],
        notifications=[
            NotificationOut(
                id=n.id or 0,
                event=n.event,
                channel=n.channel,
                status=n.status,
                attempts=n.attempts,
                last_error=n.last_error,
                sent_at=n.sent_at,
                created_at=n.created_at,
            )
            for n in dossier.notifications
        ],
        artifacts=[artifact_out(a) for a in dossier.artifacts],
        evidence=evidence_out(dossier.evidence) if dossier.evidence else None,
    )


def run_out(run: JobRun) -> RunOut:
    assert run.id is not None
    return RunOut(
        id=run.id,
        job=run.job,
        status=run.status,
        trigger=run.trigger,
        started_at=run.started_at,
        finished_at=run.finished_at,
        duration_ms=run.duration_ms,
        tenant_id=run.tenant_id,
        details=run.details,
    )
