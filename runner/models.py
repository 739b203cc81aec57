"""The tables: runs, incidents, their evidence and audit trail, alerts, users and the lease."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Dialect, Index, UniqueConstraint, text
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

OPEN_INCIDENT = text("resolved_at IS NULL")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, on SQLite (which drops the zone) and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; Goldwatch stores aware UTC times")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _when(*, nullable: bool = False, index: bool = False) -> Any:
    column: Column[datetime] = Column(UTCDateTime(), nullable=nullable, index=index)
    if nullable:
        return Field(default=None, sa_column=column)
    return Field(default_factory=utcnow, sa_column=column)


def _json() -> Any:
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class JobRun(SQLModel, table=True):
    __tablename__ = "job_run"
    __table_args__ = (
        Index("ix_job_run_job_started", "job", "started_at"),
        # The status page asks each check for its last finished run.
        Index("ix_job_run_job_finished", "job", "finished_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(index=True)
    status: str = Field(index=True)  # running | success | failed
    trigger: str  # schedule | manual | dependency (run first to explain a dependent failure)
    started_at: datetime = _when()
    finished_at: datetime | None = _when(nullable=True)
    duration_ms: int | None = None
    tenant_id: str | None = Field(default=None, index=True)
    details: dict[str, Any] = _json()


class Incident(SQLModel, table=True):
    __tablename__ = "incident"
    __table_args__ = (
        # Rule 6: at most one open incident per fingerprint, enforced by the database.
        Index(
            "uq_incident_open_fingerprint",
            "fingerprint",
            unique=True,
            sqlite_where=OPEN_INCIDENT,
            postgresql_where=OPEN_INCIDENT,
        ),
        Index("ix_incident_fingerprint_resolved", "fingerprint", "resolved_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    type: str = Field(index=True)  # api_down | web_down | golden_flow_failed | ...
    severity: str = Field(index=True)  # low | medium | high
    message: str
    details: dict[str, Any] = _json()
    fingerprint: str
    subject: str = Field(index=True)  # what passes or fails: api_health, golden_flows:f3 ...
    source_check: str
    tenant_id: str | None = Field(default=None, index=True)
    occurrences: int = 1
    first_seen_at: datetime = _when()
    last_seen_at: datetime = _when()
    resolved_at: datetime | None = _when(nullable=True, index=True)
    created_at: datetime = _when()
    suppressed_by: int | None = Field(default=None, foreign_key="incident.id")
    last_job_run_id: int | None = Field(default=None, foreign_key="job_run.id")
    last_alerted_at: datetime | None = _when(nullable=True)


class SubjectStreak(SQLModel, table=True):
    """Consecutive failures/successes per subject, for the raise and resolve thresholds."""

    __tablename__ = "subject_streak"

    subject: str = Field(primary_key=True)
    failures: int = 0
    successes: int = 0
    updated_at: datetime = _when()


class AuditLog(SQLModel, table=True):
    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    event: str = Field(index=True)
    incident_id: int | None = Field(default=None, foreign_key="incident.id", index=True)
    actor: str = "system"
    at: datetime = _when(index=True)
    data: dict[str, Any] = _json()


class Artifact(SQLModel, table=True):
    __tablename__ = "artifact"

    id: int | None = Field(default=None, primary_key=True)
    job_run_id: int = Field(foreign_key="job_run.id", index=True)
    flow: str | None = None
    kind: str  # screenshot | trace
    path: str
    size: int
    created_at: datetime = _when()


class Notification(SQLModel, table=True):
    """The alert outbox: one row per (incident, event, channel), written with the incident."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    event: str  # raised | reminder | resolved
    channel: str  # email | webhook | console
    status: str = "pending"  # pending | sending | sent | failed
    attempts: int = 0
    next_attempt_at: datetime = _when()
    claimed_until: datetime | None = _when(nullable=True)
    last_error: str | None = None
    sent_at: datetime | None = _when(nullable=True)
    created_at: datetime = _when()
    payload: dict[str, Any] = _json()


class User(SQLModel, table=True):
    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(sa_column_kwargs={"unique": True})
    password_hash: str
    role: str  # owner | admin | staff
    tenant_id: str | None = Field(default=None, index=True)
    created_at: datetime = _when()


class UserSession(SQLModel, table=True):
    __tablename__ = "user_session"

    id: str = Field(primary_key=True)  # sha256 of the cookie value
    user_id: int = Field(foreign_key="user_account.id", index=True)
    csrf_token: str
    created_at: datetime = _when()
    expires_at: datetime = _when()


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(sa_column_kwargs={"unique": True})
    user_id: int = Field(foreign_key="user_account.id", index=True)
    created_at: datetime = _when()
    last_used_at: datetime | None = _when(nullable=True)


class LoginAttempt(SQLModel, table=True):
    __tablename__ = "login_attempt"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(index=True)
    address: str = Field(index=True)
    succeeded: bool
    at: datetime = _when(index=True)


class SchedulerLease(SQLModel, table=True):
    """Rule 1: one scheduler per database holds this row while it lives."""

    __tablename__ = "scheduler_lease"
    __table_args__ = (UniqueConstraint("name"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str
    holder: str
    expires_at: datetime = _when()
    heartbeat_at: datetime = _when()


class Setting(SQLModel, table=True):
    """Values the monitor generates once per database (e.g. the session secret)."""

    __tablename__ = "monitor_setting"

    key: str = Field(primary_key=True)
    value: str
