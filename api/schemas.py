"""JSON shapes of the monitoring API (camelCase on the wire) and its query parameters."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_LIMIT = 500
MAX_OFFSET = 1_000_000
MAX_ID = 2**62  # ids above this cannot exist (and would overflow SQLite's integers)
NAME_PATTERN = r"^[a-z0-9][a-z0-9_.:-]{0,63}$"


class ApiModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, validate_by_name=True, validate_by_alias=True
    )


# --- responses -----------------------------------------------------------------------------


class LastCheckOut(ApiModel):
    status: Literal["success", "failed"] | None = Field(
        description="Result of the last finished run; null when it never ran"
    )
    at: datetime | None = Field(description="When the last finished run finished (UTC)")
    duration_ms: int | None
    stale: bool = Field(description="No finished run within twice the check's interval")


class StatusOut(ApiModel):
    overall_status: Literal["green", "yellow", "red"]
    last_checks: dict[str, LastCheckOut]
    active_incidents_count: int


class IncidentOut(ApiModel):
    id: int
    type: str
    severity: str
    status: Literal["open", "resolved"]
    message: str
    subject: str
    source_check: str
    tenant_id: str | None
    occurrences: int
    first_seen_at: datetime
    last_seen_at: datetime
    resolved_at: datetime | None
    duration_seconds: int = Field(description="Until resolution, or until now while open")
    suppressed_by: int | None = Field(description="The incident that explains this one")
    last_job_run_id: int | None
    last_alerted_at: datetime | None


class IncidentPage(ApiModel):
    items: list[IncidentOut]
    total: int
    limit: int
    offset: int


class ArtifactOut(ApiModel):
    id: int
    job_run_id: int
    flow: str | None
    kind: str
    size: int
    created_at: datetime
    url: str


class AuditOut(ApiModel):
    id: int
    event: str
    actor: str
    at: datetime
    data: dict[str, Any]


class NotificationOut(ApiModel):
    id: int
    event: str
    channel: str
    status: str
    attempts: int
    last_error: str | None
    sent_at: datetime | None
    created_at: datetime


class OccurrenceOut(ApiModel):
    run_id: int
    job: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    duration_ms: int | None
    failing_step: str | None
    error: str | None


class StepOut(ApiModel):
    name: str
    duration_ms: int | None
    outcome: str
    error: str | None


class EvidenceOut(ApiModel):
    """A golden flow's evidence: steps, the failure next to the last pass, the trace."""

    flow: str
    title: str | None
    failing_step: str | None
    error: str | None
    steps: list[StepOut]
    failure_screenshot: ArtifactOut | None
    last_passing_screenshot: ArtifactOut | None
    last_passing_run_id: int | None
    trace: ArtifactOut | None
    reproduce: str | None


class IncidentDetailOut(IncidentOut):
    details: dict[str, Any]
    occurrence_runs: list[OccurrenceOut] = Field(
        description="Runs in which it was seen, newest first (at most 50)"
    )
    audit: list[AuditOut]
    notifications: list[NotificationOut]
    artifacts: list[ArtifactOut]
    evidence: EvidenceOut | None


class RunOut(ApiModel):
    id: int
    job: str
    status: str
    trigger: str
    started_at: datetime
    finished_at: datetime | None
    duration_ms: int | None
    tenant_id: str | None
    details: dict[str, Any]


class RunPage(ApiModel):
    items: list[RunOut]
    total: int
    limit: int
    offset: int


class HealthOut(BaseModel):
    status: Literal["ok", "unavailable"]
    database: str


class ErrorOut(BaseModel):
    detail: str


# --- query parameters ----------------------------------------------------------------------


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class ListParams(BaseModel):
    """Paging and the time range; empty values (an untouched form field) mean "not given"."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(50, ge=1, le=MAX_LIMIT, description=f"Page size, 1 to {MAX_LIMIT}")
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="Items to skip")
    since: datetime | None = Field(
        None, description="ISO-8601 date or date-time (UTC when no zone is given)"
    )
    until: datetime | None = Field(
        None, description="ISO-8601 date (inclusive: the whole day) or date-time"
    )

    @model_validator(mode="before")
    @classmethod
    def _drop_empty(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if value not in ("", None)}
        return data

    @field_validator("until", mode="before")
    @classmethod
    def _whole_day(cls, value: Any) -> Any:
        if isinstance(value, str) and DATE_ONLY.match(value):
            try:
                return datetime.fromisoformat(value) + timedelta(days=1)
            except (ValueError, OverflowError):
                raise ValueError(f"not a valid date: {value!r}") from None
        return value

    @field_validator("since", "until")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return None if value is None else _as_utc(value)

    @model_validator(mode="after")
    def _ordered(self) -> ListParams:
        if self.since and self.until and self.since >= self.until:
            raise ValueError("since must be earlier than until")
        return self


class IncidentFilters(ListParams):
    status: Literal["open", "resolved"] | None = None
    type: str | None = Field(None, pattern=NAME_PATTERN, description="Incident type")
    severity: Literal["low", "medium", "high"] | None = None


class RunFilters(ListParams):
    job: str | None = Field(None, pattern=NAME_PATTERN, description="Job name")
    status: Literal["running", "success", "failed"] | None = None
