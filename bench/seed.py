"""Bulk seeding for the status API benchmark: a migrated database with N JobRuns (one SQL
statement: a recursive CTE inside SQLite, no Python loop) and M incidents (executemany), as a
monitor that has been running a long time would have them. Not part of any figure."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from runner.db import upgrade

# job, interval (s), weight: health checks every 5 min, the flows every 30 min.
JOBS = (("check_api_health", 300), ("check_web_health", 300), ("check_golden_flows", 1800))
FAILURE_EVERY = 37  # about 2.7 % of runs failed
INCIDENT_TYPES = (
    ("api_down", "api_health", "high"),
    ("web_down", "web_health", "high"),
    ("golden_flow_failed", "golden_flows:f1", "medium"),
    ("golden_flow_failed", "golden_flows:f3", "high"),
)


@dataclass(frozen=True)
class Seeded:
    runs: int
    incidents: int
    open_incidents: int
    seconds: float
    size_mib: float


def stored(moment: datetime) -> str:
    """How SQLAlchemy stores an aware UTC datetime in SQLite."""
    return moment.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


def seed_runs(conn: sqlite3.Connection, runs: int, now: datetime) -> None:
    """`runs` JobRuns round-robin over the jobs, the newest finishing just now (none stale)."""
    details = json.dumps({"endpoint": "GET https://shop.example/api/health", "status_code": 200})
    # Run i of the whole history: job i % 3; seconds before now grows with i (newest first).
    conn.execute(
        """
        WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < :runs)
        INSERT INTO job_run (job, status, "trigger", started_at, finished_at, duration_ms,
                             tenant_id, details)
        SELECT
            CASE i % 3 WHEN 0 THEN 'check_api_health' WHEN 1 THEN 'check_web_health'
                       ELSE 'check_golden_flows' END,
            CASE WHEN i % :every = 0 THEN 'failed' ELSE 'success' END,
            'schedule',
            strftime('%Y-%m-%d %H:%M:%S', :now - (:runs - i) * 100 - 5, 'unixepoch') || '.000000',
            strftime('%Y-%m-%d %H:%M:%S', :now - (:runs - i) * 100, 'unixepoch') || '.000000',
            CASE i % 3 WHEN 2 THEN 4800 ELSE 40 END,
            NULL,
            :details
        FROM n
        """,
        {
            "runs": runs,
            "every": FAILURE_EVERY,
            "now": int(now.timestamp()),
            "details": details,
        },
    )


def incident_row(index: int, now: datetime, open_: bool) -> tuple[object, ...]:
    kind, subject, severity = INCIDENT_TYPES[index % len(INCIDENT_TYPES)]
    first = now - timedelta(minutes=30 * (index + 1))
    resolved = None if open_ else stored(first + timedelta(minutes=12))
    fingerprint = f"{kind}:{subject}" + (f":open-{index}" if open_ else "")
    details = {"error": "HTTP 503 Service Unavailable", "status_code": 503, "flow": subject}
    return (
        kind,
        severity,
        f"{subject} failing (seeded #{index})",
        json.dumps(details),
        fingerprint,
        subject,
        subject.partition(":")[0],
        None,
        1 + index % 5,
        stored(first),
        stored(first + timedelta(minutes=10)),
        resolved,
        stored(first),
        None,
        None,
        None,
    )


def seed_incidents(conn: sqlite3.Connection, count: int, open_count: int, now: datetime) -> None:
    rows = [incident_row(i, now, open_=i < open_count) for i in range(count)]
    conn.executemany(
        """
        INSERT INTO incident (type, severity, message, details, fingerprint, subject,
            source_check, tenant_id, occurrences, first_seen_at, last_seen_at, resolved_at,
            created_at, suppressed_by, last_job_run_id, last_alerted_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
        rows,
    )


def seed(db: Path, runs: int, incidents: int, open_incidents: int) -> Seeded:
    started = time.perf_counter()
    upgrade(f"sqlite:///{db}")
    now = datetime.now(UTC)
    with contextlib.closing(sqlite3.connect(db, isolation_level=None)) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("BEGIN")
        seed_runs(conn, runs, now)
        seed_incidents(conn, incidents, open_incidents, now)
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return Seeded(
        runs,
        incidents,
        open_incidents,
        time.perf_counter() - started,
        db.stat().st_size / 2**20,
    )
