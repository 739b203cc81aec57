"""Rule 1: exactly one scheduler per database, by a lease row renewed while its holder lives."""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import select

from runner.db import read_session, write_session
from runner.models import SchedulerLease

LEASE_NAME = "scheduler"


def default_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass
class Lease:
    engine: Engine
    ttl: timedelta
    name: str = LEASE_NAME
    holder: str = field(default_factory=default_holder)

    def acquire(self, now: datetime) -> bool:
        """Take or renew the lease; False while another live holder has it."""
        with write_session(self.engine) as session:
            row = session.exec(
                select(SchedulerLease).where(SchedulerLease.name == self.name)
            ).first()
            if row is None:
                row = SchedulerLease(name=self.name, holder=self.holder, expires_at=now)
            elif row.holder != self.holder and row.expires_at > now:
                return False
            row.holder = self.holder
            row.expires_at = now + self.ttl
            row.heartbeat_at = now
            session.add(row)
            return True

    def release(self) -> None:
        with write_session(self.engine) as session:
            row = session.exec(
                select(SchedulerLease).where(
                    SchedulerLease.name == self.name, SchedulerLease.holder == self.holder
                )
            ).first()
            if row is not None:
                session.delete(row)

    def current(self) -> SchedulerLease | None:
        with read_session(self.engine) as session:
            return session.exec(
                select(SchedulerLease).where(SchedulerLease.name == self.name)
            ).first()
