"""Who is asking and what they may see.

Platform owners/admins (no tenant) see everything; tenant owners/admins see only their tenant's
incidents, runs, checks and artifacts; staff see no monitoring data at all.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement
from sqlmodel import col

from runner.models import Incident, JobRun

MONITOR_ROLES = frozenset({"owner", "admin"})


@dataclass(frozen=True)
class Scope:
    """The data a caller may see: everything (`tenant_id` None, platform) or one tenant's."""

    tenant_id: str | None = None

    @classmethod
    def platform(cls) -> Scope:
        return cls(None)

    @property
    def is_platform(self) -> bool:
        return self.tenant_id is None

    def sees(self, tenant_id: str | None) -> bool:
        return self.is_platform or tenant_id == self.tenant_id

    def incidents(self) -> list[ColumnElement[bool]]:
        """WHERE clauses limiting incidents to this scope."""
        return [] if self.is_platform else [col(Incident.tenant_id) == self.tenant_id]

    def runs(self) -> list[ColumnElement[bool]]:
        """WHERE clauses limiting job runs (and through them artifacts) to this scope."""
        return [] if self.is_platform else [col(JobRun.tenant_id) == self.tenant_id]


@dataclass(frozen=True)
class Viewer:
    """An authenticated caller, by session cookie (with its CSRF token) or bearer token."""

    user_id: int
    email: str
    role: str
    tenant_id: str | None
    session_id: str | None = None
    csrf_token: str | None = None

    @property
    def may_monitor(self) -> bool:
        return self.role in MONITOR_ROLES

    @property
    def scope(self) -> Scope:
        return Scope(self.tenant_id)

    @property
    def label(self) -> str:
        where = f"tenant {self.tenant_id}" if self.tenant_id else "platform"
        return f"{self.role}, {where}"
