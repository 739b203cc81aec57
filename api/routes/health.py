"""GET /healthz: no authentication; 503 when the database cannot be reached."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from api.deps import MonitorDep
from api.schemas import HealthOut

router = APIRouter(tags=["health"])
log = logging.getLogger("goldwatch.api")


@router.get("/healthz", response_model=HealthOut, responses={503: {"model": HealthOut}})
def healthz(monitor: MonitorDep) -> HealthOut | JSONResponse:
    """`ok` when the database answers and holds the schema."""
    try:
        with monitor.engine.connect() as connection:
            connection.execute(text("SELECT version_num FROM alembic_version")).first()
    except SQLAlchemyError as error:
        log.error("healthz: database check failed: %s", error)
        body = HealthOut(status="unavailable", database="unreachable")
        return JSONResponse(body.model_dump(), status_code=503)
    return HealthOut(status="ok", database="ok")
