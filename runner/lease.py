"""Rule 1: exactly one scheduler per database.

SQLite: a lease row renewed while its holder lives, taken over once it expires.
PostgreSQL: a session-level advisory lock held on a dedicated connection; the server frees it
when that connection ends (process death, dropped network within the keepalive bound). The
lease row then only tells who leads and when it last beat.
"""

from __future__ import annotations

import contextlib
import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool
from sqlmodel import select

from runner.db import read_session, write_session
from runner.models import SchedulerLease

LEASE_NAME = "scheduler"
ADVISORY_KEY = 0x601D_3A7C  # "goldwatch scheduler", one lock per database
# Server-side keepalives on the lock's connection: a vanished leader host is noticed, and its
# lock freed, after about idle + interval * count seconds.
KEEPALIVE = {"tcp_keepalives_idle": 5, "tcp_keepalives_interval": 2, "tcp_keepalives_count": 3}


class SchedulerLock(Protocol):
    holder: str

    def acquire(self, now: datetime) -> bool: ...

    def release(self) -> None: ...

    def current(self) -> SchedulerLease | None: ...


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


@dataclass
class AdvisoryLease:
    """PostgreSQL: `pg_try_advisory_lock` on a connection of its own, outside the pool."""

    engine: Engine
    ttl: timedelta
    holder: str = field(default_factory=default_holder)
    _connection: Connection | None = None
    _row: Lease | None = None

    def __post_init__(self) -> None:
        self._row = Lease(self.engine, self.ttl, holder=self.holder)
        self._lock_engine = create_engine(
            self.engine.url, poolclass=NullPool, isolation_level="AUTOCOMMIT"
        )

    def acquire(self, now: datetime) -> bool:
        try:
            if self._connection is None:
                if not self._try_lock():
                    return False
            else:
                self._connection.execute(text("SELECT 1"))  # still ours?
        except DBAPIError:
            self._drop()
            return False
        self._beat(now)
        return True

    def _try_lock(self) -> bool:
        connection = self._lock_engine.connect()
        for name, value in KEEPALIVE.items():
            connection.execute(text(f"SET {name} = {int(value)}"))
        locked = connection.execute(
            text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY}
        ).scalar()
        if not locked:
            connection.close()
            return False
        self._connection = connection
        return True

    def _beat(self, now: datetime) -> None:
        # The lock decides; the row (forced to us) tells the dashboard and metrics who leads.
        assert self._row is not None
        with write_session(self.engine) as session:
            row = session.exec(
                select(SchedulerLease).where(SchedulerLease.name == LEASE_NAME)
            ).first() or SchedulerLease(name=LEASE_NAME, holder=self.holder, expires_at=now)
            row.holder, row.heartbeat_at, row.expires_at = self.holder, now, now + self.ttl
            session.add(row)

    def _drop(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(DBAPIError):
                self._connection.close()
        self._connection = None

    def release(self) -> None:
        if self._connection is not None:
            try:
                self._connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY}
                )
            finally:
                self._drop()
        assert self._row is not None
        self._row.release()
        self._lock_engine.dispose()

    def current(self) -> SchedulerLease | None:
        assert self._row is not None
        return self._row.current()


def make_lock(engine: Engine, ttl: timedelta) -> SchedulerLock:
    if engine.dialect.name == "postgresql":
        return AdvisoryLease(engine, ttl)
    return Lease(engine, ttl)
