"""`goldwatch run` against the demo target, as an operator types it: runs, incidents,
audit rows and evidence land in the database; the product's data is never touched."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import text
from sqlmodel import SQLModel, select

from runner.db import make_engine, read_session
from runner.models import Artifact, AuditLog, Incident, JobRun
from tests.conftest import DemoTarget, run_goldwatch

Row = TypeVar("Row", bound=SQLModel)


def table(env: dict[str, str], model: type[Row]) -> list[Row]:
    engine = make_engine(env["GOLDWATCH_DATABASE_URL"])
    with read_session(engine) as session:
        rows = list(session.exec(select(model).order_by(text("id"))).all())
    engine.dispose()
    return rows


def test_api_outage_is_one_incident_until_it_recovers(
    monitor_env: dict[str, str], demo_target: DemoTarget
) -> None:
    demo_target.fault("api_down")
    for _ in range(3):
        result = run_goldwatch("run", "api_health", env=monitor_env)
        assert result.code == 1, result.stderr
        assert "HTTP 503 Service Unavailable" in result.stdout
    (incident,) = table(monitor_env, Incident)
    assert (incident.type, incident.severity, incident.occurrences) == ("api_down", "high", 3)
    assert incident.resolved_at is None

    demo_target.mend("api_down")
    result = run_goldwatch("run", "api_health", env=monitor_env)
    assert result.code == 0, result.stderr
    assert "resolved" in result.stdout
    (incident,) = table(monitor_env, Incident)
    assert incident.resolved_at is not None
    events = [a.event for a in table(monitor_env, AuditLog) if a.event.startswith("INCIDENT")]
    assert events == ["INCIDENT_RAISED", "INCIDENT_RESOLVED"]
    runs = table(monitor_env, JobRun)
    assert [(r.job, r.status, r.trigger) for r in runs] == [
        ("check_api_health", "failed", "manual")
    ] * 3 + [("check_api_health", "success", "manual")]
    assert runs[0].details["status_code"] == 503
    assert runs[0].details["endpoint"] == f"GET {demo_target.url}/api/health"


@pytest.mark.browser
@pytest.mark.sqlite_only
def test_broken_paywall_is_one_incident_with_screenshot_and_trace(
    monitor_env: dict[str, str], demo_target: DemoTarget
) -> None:
    demo_target.fault("f3")
    result = run_goldwatch("run", "golden_flows", env=monitor_env)
    assert result.code == 1, result.stderr
    assert 'f3   failed at "Open paywall"' in result.stdout

    (incident,) = table(monitor_env, Incident)
    assert incident.message == 'F3 Preview → Billing/Paywall failing at "Open paywall"'
    assert (incident.type, incident.severity) == ("golden_flow_failed", "high")
    assert incident.details["reproduce"].startswith("pytest flows/test_f3_preview_paywall.py")
    evidence = {(a.flow, a.kind) for a in table(monitor_env, Artifact)}
    assert {("f3", "screenshot"), ("f3", "trace")} <= evidence
    for artifact in table(monitor_env, Artifact):
        assert Path(artifact.path).is_file() and artifact.size > 0
    assert set(incident.details["artifact_ids"]) == {
        a.id for a in table(monitor_env, Artifact) if a.flow == "f3"
    }

    demo_target.mend("f3")
    result = run_goldwatch("run", "golden_flows", env=monitor_env)
    assert result.code == 0, result.stderr
    (incident,) = table(monitor_env, Incident)
    assert incident.resolved_at is not None
    assert demo_target.mutations() == []


@pytest.mark.browser
@pytest.mark.sqlite_only
def test_run_all_with_the_web_down(monitor_env: dict[str, str], demo_target: DemoTarget) -> None:
    demo_target.fault("web_down")
    result = run_goldwatch("run", "all", env={**monitor_env, "GOLDWATCH_FLOWS_RERUNS": "0"})
    assert result.code == 1, result.stderr
    runs = {r.job: r.status for r in table(monitor_env, JobRun)}
    assert runs == {
        "check_api_health": "success",
        "check_web_health": "failed",
        "check_golden_flows": "failed",
    }
    kinds = sorted((i.type, i.subject) for i in table(monitor_env, Incident))
    assert kinds == [
        ("golden_flow_failed", "golden_flows:f1"),
        ("golden_flow_failed", "golden_flows:f2"),
        ("golden_flow_failed", "golden_flows:f3"),
        ("golden_flow_failed", "golden_flows:f4"),
        ("web_down", "web_health"),
    ]
    assert demo_target.mutations() == []


def test_unknown_check_is_bad_usage(monitor_env: dict[str, str]) -> None:
    result = run_goldwatch("run", "everything", env=monitor_env)
    assert result.code == 2
    assert "unknown check 'everything'; known: api_health, web_health, golden_flows" in (
        result.stderr
    )
