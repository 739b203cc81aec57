"""Reads of job runs and artifacts, always within the caller's scope."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlmodel import Session, col, func, select

from api.access import Scope
from api.schemas import RunFilters
from runner.models import Artifact, JobRun


def list_runs(session: Session, scope: Scope, filters: RunFilters) -> tuple[list[JobRun], int]:
    """One page of runs (newest first) and how many match in all."""
    where = [*scope.runs()]
    if filters.job:
        where.append(col(JobRun.job) == filters.job)
    if filters.status:
        where.append(col(JobRun.status) == filters.status)
    if filters.since:
        where.append(col(JobRun.started_at) >= filters.since)
    if filters.until:
        where.append(col(JobRun.started_at) < filters.until)
    total = session.exec(select(func.count()).select_from(JobRun).where(*where)).one()
    rows = session.exec(
        select(JobRun)
        .where(*where)
        .order_by(col(JobRun.started_at).desc(), col(JobRun.id).desc())
        .offset(filters.offset)
        .limit(filters.limit)
    ).all()
    return list(rows), total


def recent_finished_runs(session: Session, job: str, scope: Scope, limit: int) -> list[JobRun]:
    """A check's last finished runs, oldest first (for its history chart)."""
    rows = session.exec(
        select(JobRun)
        .where(col(JobRun.job) == job, col(JobRun.finished_at).is_not(None), *scope.runs())
        .order_by(col(JobRun.finished_at).desc(), col(JobRun.id).desc())
        .limit(limit)
    ).all()
    return list(reversed(rows))


def get_artifact(session: Session, scope: Scope, artifact_id: int) -> Artifact | None:
    """The artifact, only when the caller may see the run it belongs to."""
    return session.exec(
        select(Artifact)
        .join(JobRun, col(JobRun.id) == col(Artifact.job_run_id))
        .where(col(Artifact.id) == artifact_id, *scope.runs())
    ).first()


def artifacts_by_id(session: Session, scope: Scope, ids: Iterable[object]) -> list[Artifact]:
    wanted = [i for i in ids if isinstance(i, int)]
    if not wanted:
        return []
    return list(
        session.exec(
            select(Artifact)
            .join(JobRun, col(JobRun.id) == col(Artifact.job_run_id))
            .where(col(Artifact.id).in_(wanted), *scope.runs())
            .order_by(col(Artifact.id))
        ).all()
    )


def artifacts_of_runs(
    session: Session, scope: Scope, run_ids: Sequence[int], flow: str | None
) -> list[Artifact]:
    if not run_ids:
        return []
    where = [col(Artifact.job_run_id).in_(run_ids), *scope.runs()]
    if flow is not None:
        where.append(col(Artifact.flow) == flow)
    return list(
        session.exec(
            select(Artifact)
            .join(JobRun, col(JobRun.id) == col(Artifact.job_run_id))
            .where(*where)
            .order_by(col(Artifact.id).desc())
        ).all()
    )
