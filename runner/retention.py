"""Prune JobRuns and artifacts older than GOLDWATCH_RETENTION_DAYS, except open evidence."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, update
from sqlmodel import Session, col, delete, select

from runner.db import write_session
from runner.models import Artifact, Incident, JobRun

log = logging.getLogger("goldwatch.retention")


def prune(engine: Engine, now: datetime, days: int) -> int:
    """Delete old runs (and their files) that no unresolved incident points to."""
    cutoff = now - timedelta(days=days)
    with write_session(engine) as session:
        open_incidents = session.exec(
            select(Incident).where(col(Incident.resolved_at).is_(None))
        ).all()
        protected = {i.last_job_run_id for i in open_incidents if i.last_job_run_id}
        for incident in open_incidents:
            protected.update(_run_ids_of_artifacts(session, incident.details))
        old_ids = [
            run_id
            for run_id in session.exec(
                select(JobRun.id).where(
                    col(JobRun.started_at) < cutoff, col(JobRun.status) != "running"
                )
            ).all()
            if run_id is not None and run_id not in protected
        ]
        if not old_ids:
            return 0
        artifacts = session.exec(
            select(Artifact).where(col(Artifact.job_run_id).in_(old_ids))
        ).all()
        for artifact in artifacts:
            Path(artifact.path).unlink(missing_ok=True)
        session.exec(delete(Artifact).where(col(Artifact.job_run_id).in_(old_ids)))
        session.exec(
            update(Incident)
            .where(col(Incident.last_job_run_id).in_(old_ids))
            .values(last_job_run_id=None)
        )
        session.exec(delete(JobRun).where(col(JobRun.id).in_(old_ids)))
    log.info("retention: pruned %d runs older than %d days", len(old_ids), days)
    return len(old_ids)


def _run_ids_of_artifacts(session: Session, details: dict[str, object]) -> set[int]:
    ids = details.get("artifact_ids")
    if not isinstance(ids, list) or not ids:
        return set()
    rows = session.exec(select(Artifact.job_run_id).where(col(Artifact.id).in_(ids))).all()
    return set(rows)
