"""The store against a real SQLite file: one transaction per run, one open incident per
fingerprint even with concurrent writers, and abandoned runs closed on restart."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from runner.checks.base import CheckResult
from runner.db import make_engine, read_session, write_session
from runner.incidents import Observation, Policy
from runner.models import AuditLog, Incident, JobRun
from runner.store import ABANDONED, reap_abandoned_runs, record_result, start_run

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def api_result(ok: bool, at: datetime) -> CheckResult:
    observation = Observation(
        subject="api_health",
        source_check="api_health",
        ok=ok,
        at=at,
        type="api_down",
        fingerprint="api_down:api_health",
        message="API health check failing: GET /api/health",
        severity="high",
        details={"status_code": 200 if ok else 503},
    )
    return CheckResult(
        ok, 12, {"status_code": observation.details["status_code"]}, [observation], finished_at=at
    )


def record(engine: Engine, ok: bool, at: datetime) -> None:
    run_id = start_run(engine, "check_api_health", "manual", at)
    record_result(engine, run_id, api_result(ok, at), Policy())


def incidents(engine: Engine) -> list[Incident]:
    with read_session(engine) as session:
        return list(session.exec(select(Incident).order_by(col(Incident.id))).all())


def test_run_incident_and_audit_are_recorded_together(db_url: str) -> None:
    engine = make_engine(db_url)
    for minute in range(3):
        record(engine, False, T0 + timedelta(minutes=minute))
    (incident,) = incidents(engine)
    assert (incident.occurrences, incident.resolved_at) == (3, None)
    assert incident.details == {"status_code": 503}
    assert incident.last_seen_at == T0 + timedelta(minutes=2)

    record(engine, True, T0 + timedelta(minutes=3))
    (incident,) = incidents(engine)
    assert incident.resolved_at == T0 + timedelta(minutes=3)
    with read_session(engine) as session:
        events = [a.event for a in session.exec(select(AuditLog).order_by(col(AuditLog.id))).all()]
        runs = session.exec(select(JobRun)).all()
    assert events == ["INCIDENT_RAISED", "INCIDENT_RESOLVED"]
    assert [r.status for r in runs] == ["failed"] * 3 + ["success"]


def _fail_from_process(url: str, count: int) -> int:
    engine = make_engine(url)
    for _ in range(count):
        record(engine, False, datetime.now(UTC))
    engine.dispose()
    return count


def test_concurrent_processes_share_one_open_incident(db_url: str) -> None:
    with ProcessPoolExecutor(max_workers=4) as pool:
        done = sum(pool.map(_fail_from_process, [db_url] * 4, [5] * 4))
    engine = make_engine(db_url)
    (incident,) = incidents(engine)
    assert incident.occurrences == done == 20


def test_concurrent_threads_share_one_open_incident(db_url: str) -> None:
    engine = make_engine(db_url)
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(lambda _: record(engine, False, datetime.now(UTC)), range(18)))
    (incident,) = incidents(engine)
    assert incident.occurrences == 18


def test_database_refuses_a_second_open_incident_for_a_fingerprint(db_url: str) -> None:
    engine = make_engine(db_url)
    record(engine, False, T0)
    with pytest.raises(IntegrityError), write_session(engine) as session:
        session.add(
            Incident(
                type="api_down",
                severity="high",
                message="dup",
                fingerprint="api_down:api_health",
                subject="api_health",
                source_check="api_health",
                first_seen_at=T0,
                last_seen_at=T0,
                created_at=T0,
            )
        )


def test_abandoned_runs_are_closed_as_failed(db_url: str) -> None:
    engine = make_engine(db_url)
    left_running = start_run(engine, "check_golden_flows", "schedule", T0)
    assert reap_abandoned_runs(engine, T0 + timedelta(seconds=90)) == 1
    with read_session(engine) as session:
        run = session.get(JobRun, left_running)
    assert run is not None
    assert (run.status, run.details["error"], run.duration_ms) == ("failed", ABANDONED, 90_000)
