"""What the monitor wrote to its database, read back as rows for the report."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Engine
from sqlmodel import SQLModel, col, select

from runner.db import read_session
from runner.models import Artifact, AuditLog, Incident, Notification

T = TypeVar("T")
FLOW_FAILED = "golden_flow_failed"


def as_json(row: SQLModel) -> str:
    return json.dumps(row.model_dump(mode="json"), indent=2, ensure_ascii=False)


def wait_for(probe: Callable[[], T | None], timeout: float, every: float = 0.5) -> T | None:
    """`probe()` until it returns something, for up to `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found is not None or time.monotonic() > deadline:
            return found
        time.sleep(every)


def flow_incident(engine: Engine, flow: str, *, resolved: bool) -> Incident | None:
    """The newest golden-flow incident of `flow` (e.g. "f3"), open or resolved."""
    with read_session(engine) as session:
        query = (
            select(Incident)
            .where(col(Incident.type) == FLOW_FAILED)
            .where(col(Incident.subject).endswith(f":{flow}"))
            .where(
                col(Incident.resolved_at).is_not(None)
                if resolved
                else col(Incident.resolved_at).is_(None)
            )
            .order_by(col(Incident.id).desc())
        )
        return session.exec(query).first()


def incident(engine: Engine, incident_id: int) -> Incident | None:
    with read_session(engine) as session:
        return session.get(Incident, incident_id)


def audit_rows(engine: Engine, incident_id: int) -> list[AuditLog]:
    with read_session(engine) as session:
        query = (
            select(AuditLog)
            .where(col(AuditLog.incident_id) == incident_id)
            .order_by(col(AuditLog.id))
        )
        return list(session.exec(query).all())


def notifications(engine: Engine, incident_id: int) -> list[Notification]:
    with read_session(engine) as session:
        query = (
            select(Notification)
            .where(col(Notification.incident_id) == incident_id)
            .order_by(col(Notification.id))
        )
        return list(session.exec(query).all())


def failure_screenshot(engine: Engine, incident_row: Incident) -> Artifact | None:
    """The screenshot the failing run took of the incident's flow."""
    ids = [int(i) for i in incident_row.details.get("artifact_ids", [])]
    with read_session(engine) as session:
        query = (
            select(Artifact)
            .where(col(Artifact.id).in_(ids))
            .where(col(Artifact.kind) == "screenshot")
        )
        return session.exec(query).first()
