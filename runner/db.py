"""The engine (SQLite in WAL by default, PostgreSQL by URL), sessions and migrations.

SQLite rule: writes start with BEGIN IMMEDIATE, so a read-then-write transaction waits for the
write lock (busy_timeout) instead of failing at once with "database is locked".
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlmodel import Session

BUSY_TIMEOUT_MS = 15_000
MIGRATIONS = Path(__file__).with_name("migrations")
WRITE_OPTION = "goldwatch_write"


class CommitCounter:
    """How many transactions this process has committed through one engine: lets a cache
    notice this process's own writes at no query cost."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.value = 0

    def bump(self, _connection: Any) -> None:
        with self._lock:
            self.value += 1


_COMMITS: weakref.WeakKeyDictionary[Engine, CommitCounter] = weakref.WeakKeyDictionary()


def commit_counter(engine: Engine) -> CommitCounter:
    """The engine's commit counter (engines made by make_engine have one from the start)."""
    counter = _COMMITS.get(engine)
    if counter is None:
        counter = _COMMITS[engine] = CommitCounter()
        event.listen(engine, "commit", counter.bump)
    return counter


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def _prepare_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # We issue BEGIN ourselves (below); the driver's implicit transactions would
        # start deferred ones.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        write = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
        )
        _prepare_sqlite(engine)
    else:
        engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    commit_counter(engine)
    return engine


@functools.cache
def get_engine(url: str) -> Engine:
    return make_engine(url)


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """One short write transaction, committed on success, rolled back on error."""
    writer = engine.execution_options(**{WRITE_OPTION: True})
    with Session(writer, expire_on_commit=False) as session, session.begin():
        yield session


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    """Bring the database to the newest schema (idempotent)."""
    from alembic import command

    command.upgrade(alembic_config(url), "head")
