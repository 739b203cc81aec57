"""GET /api/monitoring/*: status, incidents, runs, artifacts. Owners and admins only (the
router's dependency), each seeing their scope."""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from fastapi.responses import FileResponse, Response

from api.deps import ApiViewer, DbSession, MonitorDep, api_viewer
from api.incident_queries import get_incident, list_incidents, load_dossier
from api.present import incident_detail_out, incident_out, run_out, status_out
from api.run_queries import get_artifact, list_runs
from api.schemas import (
    MAX_ID,
    ErrorOut,
    IncidentDetailOut,
    IncidentFilters,
    IncidentPage,
    RunFilters,
    RunPage,
    StatusOut,
)
from api.status import compute_status
from runner.db import read_session
from runner.models import utcnow

router = APIRouter(
    prefix="/api/monitoring",
    tags=["monitoring"],
    dependencies=[Depends(api_viewer)],
    responses={
        401: {"model": ErrorOut, "description": "Not authenticated"},
        403: {"model": ErrorOut, "description": "Role may not see monitoring (staff)"},
    },
)
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "No such item in the caller's scope"}
}
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
MEDIA_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".zip": "application/zip",
}


@router.get("/status", response_model=StatusOut)
async def status(viewer: ApiViewer, monitor: MonitorDep) -> Response:
    """Overall status (green/yellow/red), each visible check's last run, open incidents."""
    scope = viewer.scope

    def answer() -> bytes:
        with read_session(monitor.engine) as session:
            report = compute_status(session, monitor.specs, scope, utcnow())
        return status_out(report).model_dump_json(by_alias=True).encode()

    body = await monitor.status_answers.get(scope.tenant_id, answer)
    return Response(body, media_type="application/json")


@router.get("/incidents", response_model=IncidentPage)
def incidents(
    viewer: ApiViewer, session: DbSession, filters: Annotated[IncidentFilters, Query()]
) -> IncidentPage:
    """Incidents, newest first; `since`/`until` select those open at some moment in between."""
    rows, total = list_incidents(session, viewer.scope, filters)
    now = utcnow()
    return IncidentPage(
        items=[incident_out(row, viewer.scope, now) for row in rows],
        total=total,
        limit=filters.limit,
        offset=filters.offset,
    )


@router.get("/incidents/{incident_id}", response_model=IncidentDetailOut, responses=NOT_FOUND)
def incident(
    incident_id: Id, viewer: ApiViewer, session: DbSession, monitor: MonitorDep
) -> IncidentDetailOut:
    """One incident with its occurrences, audit trail, notifications and artifacts."""
    row = get_incident(session, viewer.scope, incident_id)
    if row is None:
        raise HTTPException(404, f"no incident {incident_id}")
    dossier = load_dossier(session, viewer.scope, row, monitor.specs)
    return incident_detail_out(dossier, viewer.scope, utcnow())


@router.get("/runs", response_model=RunPage)
def runs(viewer: ApiViewer, session: DbSession, filters: Annotated[RunFilters, Query()]) -> RunPage:
    """Job runs, newest first, filtered by job, status and start time."""
    rows, total = list_runs(session, viewer.scope, filters)
    return RunPage(
        items=[run_out(row) for row in rows],
        total=total,
        limit=filters.limit,
        offset=filters.offset,
    )


@router.get(
    "/artifacts/{artifact_id}",
    response_class=FileResponse,
    responses={
        200: {
            "content": {"image/png": {}, "application/zip": {}},
            "description": "The screenshot (inline) or Playwright trace (download)",
        },
        **NOT_FOUND,
    },
)
def artifact(artifact_id: Id, viewer: ApiViewer, session: DbSession) -> FileResponse:
    """A screenshot or trace by its database id, if the caller may see its run."""
    row = get_artifact(session, viewer.scope, artifact_id)
    if row is None:
        raise HTTPException(404, f"no artifact {artifact_id}")
    path = FilePath(row.path)
    if not path.is_file():
        raise HTTPException(404, f"artifact {artifact_id}'s file is gone (pruned?)")
    suffix = path.suffix.lower()
    inline = row.kind == "screenshot"
    name = f"goldwatch-run{row.job_run_id}-{row.flow or 'run'}-{row.kind}{suffix}"
    return FileResponse(
        path,
        media_type=MEDIA_TYPES.get(suffix, "application/octet-stream"),
        filename=name,
        content_disposition_type="inline" if inline else "attachment",
        headers={"Cache-Control": "private, max-age=3600"},
    )
