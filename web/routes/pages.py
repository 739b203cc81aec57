"""/dashboard/monitoring pages. Owners and admins only (the router's dependency); each sees
their scope, exactly as the JSON API does."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from api.access import Viewer
from api.deps import DbSession, MonitorDep, PageViewer, page_viewer
from api.incident_queries import get_incident, incident_types, list_incidents, load_dossier
from api.present import incident_detail_out, incident_out
from api.run_queries import recent_finished_runs
from api.schemas import MAX_ID, IncidentFilters
from api.status import CheckState, compute_status
from runner.models import JobRun, utcnow
from web.charts import Chart, history_chart
from web.templating import render

router = APIRouter(
    prefix="/dashboard", dependencies=[Depends(page_viewer)], include_in_schema=False
)
HISTORY_RUNS = 30
FILTER_KEYS = ("status", "type", "severity", "since", "until")


@dataclass(frozen=True)
class CheckRow:
    state: CheckState
    chart: Chart
    flows: list[dict[str, Any]]


def _check_row(session: Session, viewer: Viewer, state: CheckState) -> CheckRow:
    runs = recent_finished_runs(session, state.spec.job, viewer.scope, HISTORY_RUNS)
    last: JobRun | None = runs[-1] if runs else None
    flows = [f for f in (last.details.get("flows") or []) if isinstance(f, dict)] if last else []
    return CheckRow(state, history_chart(runs), flows)


@router.get("/monitoring", response_class=HTMLResponse)
def dashboard(
    request: Request, viewer: PageViewer, session: DbSession, monitor: MonitorDep
) -> Response:
    now = utcnow()
    report = compute_status(session, monitor.specs, viewer.scope, now)
    context = {
        "active": "status",
        "report": report,
        "incidents": [incident_out(i, viewer.scope, now) for i in report.open_incidents],
        "checks": [_check_row(session, viewer, state) for state in report.checks],
        "refresh_seconds": 15,
    }
    return render(request, "dashboard.html", context, viewer)


def _query(filters: IncidentFilters, **changes: Any) -> str:
    values: dict[str, Any] = {key: getattr(filters, key) for key in FILTER_KEYS}
    values.update({"offset": filters.offset, "limit": filters.limit, **changes})
    if values["offset"] == 0:
        values.pop("offset")
    if values["limit"] == IncidentFilters.model_fields["limit"].default:
        values.pop("limit")
    for key in ("since", "until"):
        if values[key] is not None:
            values[key] = values[key].isoformat()
    return urlencode({k: v for k, v in values.items() if v is not None})


@router.get("/monitoring/incidents", response_class=HTMLResponse)
def incidents(
    request: Request,
    viewer: PageViewer,
    session: DbSession,
    filters: Annotated[IncidentFilters, Query()],
) -> Response:
    if any(value == "" for value in request.query_params.values()):
        # An untouched form field: send the cleaner, linkable URL instead.
        return RedirectResponse(f"{request.url.path}?{_query(filters)}".rstrip("?"), 303)
    now = utcnow()
    rows, total = list_incidents(session, viewer.scope, filters)
    end = filters.offset + len(rows)
    context = {
        "active": "incidents",
        "filters": filters,
        "raw": request.query_params,
        "items": [incident_out(row, viewer.scope, now) for row in rows],
        "total": total,
        "first": filters.offset + 1 if rows else 0,
        "last": end,
        "types": incident_types(session, viewer.scope),
        "prev_query": _query(filters, offset=max(0, filters.offset - filters.limit))
        if filters.offset > 0
        else None,
        "next_query": _query(filters, offset=end) if end < total else None,
        "quick": {
            "Open": urlencode({"status": "open"}),
            "Resolved": urlencode({"status": "resolved"}),
            "High severity": urlencode({"severity": "high"}),
            "All": "",
        },
    }
    return render(request, "incidents.html", context, viewer)


@router.get("/monitoring/incidents/{incident_id}", response_class=HTMLResponse)
def incident(
    request: Request,
    incident_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    viewer: PageViewer,
    session: DbSession,
    monitor: MonitorDep,
) -> Response:
    row = get_incident(session, viewer.scope, incident_id)
    if row is None:
        raise HTTPException(404, f"There is no incident #{incident_id} that you can see.")
    detail = incident_detail_out(
        load_dossier(session, viewer.scope, row, monitor.specs), viewer.scope, utcnow()
    )
    context = {"active": "incidents", "incident": detail}
    return render(request, "incident.html", context, viewer)
