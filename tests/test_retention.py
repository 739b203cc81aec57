"""Retention: old runs and their files go, the evidence of an unresolved incident stays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import select

from runner.checks.base import ArtifactFile, CheckResult
from runner.db import make_engine, read_session
from runner.incidents import Observation, Policy
from runner.models import Artifact, Incident, JobRun
from runner.retention import prune
from runner.store import record_result, start_run

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def flow_run(engine: Engine, folder: Path, flow: str, ok: bool, at: datetime) -> int:
    shot = folder / f"{flow}-{at:%Y%m%d}.png"
    shot.write_bytes(b"png")
    run_id = start_run(engine, "check_golden_flows", "schedule", at)
    observation = Observation(
        subject=f"golden_flows:{flow}",
        source_check="golden_flows",
        ok=ok,
        at=at,
        type="golden_flow_failed",
        fingerprint=f"golden_flow_failed:{flow}",
        message=f"{flow} failing",
        details={"flow": flow},
    )
    result = CheckResult(
        ok,
        10,
        {"flows": [{"flow": flow}]},
        [observation],
        [ArtifactFile(flow, "screenshot", shot)],
        finished_at=at,
    )
    record_result(engine, run_id, result, Policy())
    return run_id


def test_prune_keeps_open_incident_evidence(db_url: str, tmp_path: Path) -> None:
    engine = make_engine(db_url)
    old = NOW - timedelta(days=40)
    passed_long_ago = flow_run(engine, tmp_path, "f1", True, old)
    still_failing = flow_run(engine, tmp_path, "f3", False, old)
    recent = flow_run(engine, tmp_path, "f1", True, NOW - timedelta(days=1))

    assert prune(engine, NOW, days=30) == 1
    with read_session(engine) as session:
        runs = {run.id for run in session.exec(select(JobRun)).all()}
        files = {Path(a.path).name for a in session.exec(select(Artifact)).all()}
        (incident,) = session.exec(select(Incident)).all()
    assert runs == {still_failing, recent}
    assert passed_long_ago not in runs
    assert not (tmp_path / f"f1-{old:%Y%m%d}.png").exists()
    assert files == {f"f3-{old:%Y%m%d}.png", f"f1-{(NOW - timedelta(days=1)):%Y%m%d}.png"}
    assert incident.resolved_at is None and incident.last_job_run_id == still_failing
    engine.dispose()
