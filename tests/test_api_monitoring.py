"""The monitoring API on real runs against the demo target: the status JSON and its rules,
incident filters (and 422 naming the parameter for bad ones), an incident with its occurrences,
audit trail, notifications and artifacts, runs, artifacts by id, golden-flow evidence."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from api.access import Scope
from api.status import CheckSpec, CheckState, compute_status, judge
from runner.db import make_engine, read_session
from runner.models import AuditLog, Incident, JobRun, Notification
from runner.pipeline import Pipeline
from runner.settings import Settings
from tests.monitor_support import Evidence, Site, fault, mend, open_site

pytest_plugins = ("tests.monitor_support",)
STATUS = "/api/monitoring/status"
INCIDENTS = "/api/monitoring/incidents"


def get(client: httpx.Client, path: str, **params: Any) -> Any:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_status_has_the_documented_shape_and_never_run_checks_are_stale(site: Site) -> None:
    with site.client("admin") as admin:
        body = get(admin, STATUS)
    assert set(body) == {"overallStatus", "lastChecks", "activeIncidentsCount"}
    assert body["overallStatus"] == "yellow"
    assert body["activeIncidentsCount"] == 0
    assert set(body["lastChecks"]) == {"api_health", "web_health", "golden_flows"}
    for check in body["lastChecks"].values():
        assert check == {"status": None, "at": None, "durationMs": None, "stale": True}


def test_status_turns_red_after_a_fault_and_green_after_recovery(api_only_site: Site) -> None:
    site, target = api_only_site, api_only_site.settings.api_base_url
    with site.client("admin") as admin:
        site.run("api_health")
        green = get(admin, STATUS)
        assert green["overallStatus"] == "green"
        last = green["lastChecks"]["api_health"]
        assert last["status"] == "success" and last["stale"] is False
        assert isinstance(last["durationMs"], int)
        assert datetime.fromisoformat(last["at"]).tzinfo is not None

        fault(target, "api_down")
        site.run("api_health")
        red = get(admin, STATUS)
        assert red["overallStatus"] == "red" and red["activeIncidentsCount"] == 1
        assert red["lastChecks"]["api_health"]["status"] == "failed"

        mend(target)
        site.run("api_health")
        assert get(admin, STATUS) == {**green, "lastChecks": get(admin, STATUS)["lastChecks"]}
        assert get(admin, STATUS)["overallStatus"] == "green"


def _run_elsewhere(site: Site, check: str) -> None:
    """A run recorded through another engine, as another monitor process would record it."""
    engine = make_engine(site.settings.database_url)
    try:
        Pipeline(site.settings, engine).run(site.runtime.checks[check])
    finally:
        engine.dispose()


def test_status_is_reused_briefly_but_this_process_s_runs_show_at_once(
    settings: Settings,
) -> None:
    reused = settings.model_copy(update={"web_base_url": "", "api_cache_seconds": 60})
    target = reused.api_base_url
    for site in open_site(reused):
        with site.client("admin") as admin:
            site.run("api_health")
            assert get(admin, STATUS)["overallStatus"] == "green"
            fault(target, "api_down")
            _run_elsewhere(site, "api_health")
            assert get(admin, STATUS)["overallStatus"] == "green"  # another process's write
            site.run("api_health")
            red = get(admin, STATUS)
        mend(target)
        assert red["overallStatus"] == "red" and red["activeIncidentsCount"] == 1


def test_another_process_s_run_shows_within_the_cache_time(api_only_site: Site) -> None:
    site, target = api_only_site, api_only_site.settings.api_base_url
    assert site.settings.api_cache_seconds == 1.0  # the default
    with site.client("admin") as admin:
        site.run("api_health")
        assert get(admin, STATUS)["overallStatus"] == "green"
        fault(target, "api_down")
        _run_elsewhere(site, "api_health")
        deadline = time.monotonic() + 5
        while get(admin, STATUS)["overallStatus"] == "green" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert get(admin, STATUS)["overallStatus"] == "red"


def test_a_check_is_stale_after_twice_its_interval(api_only_site: Site) -> None:
    run = api_only_site.run("api_health").run
    assert run.finished_at is not None
    interval = api_only_site.settings.health_interval_seconds
    specs = [CheckSpec("api_health", "check_api_health", interval)]
    with read_session(api_only_site.engine) as session:
        just_in_time = run.finished_at + timedelta(seconds=2 * interval - 1)
        late = run.finished_at + timedelta(seconds=2 * interval + 1)
        fresh = compute_status(session, specs, Scope.platform(), just_in_time)
        stale = compute_status(session, specs, Scope.platform(), late)
    assert (fresh.overall, fresh.checks[0].stale) == ("green", False)
    assert (stale.overall, stale.checks[0].stale) == ("yellow", True)
    assert stale.reason.startswith("api_health is stale: last run finished 10 min ago")


def _incident(id: int, severity: str, suppressed_by: int | None = None) -> Incident:
    at = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=id)
    return Incident(
        id=id,
        type="t",
        severity=severity,
        message=f"incident {id}",
        fingerprint=f"f{id}",
        subject=f"s{id}",
        source_check="c",
        first_seen_at=at,
        last_seen_at=at,
        suppressed_by=suppressed_by,
    )


def test_overall_status_rules() -> None:
    now = datetime(2026, 1, 2, tzinfo=UTC)
    fresh = CheckState(CheckSpec("api_health", "check_api_health", 60), stale=False)
    stale = CheckState(CheckSpec("golden_flows", "check_golden_flows", 60), stale=True)
    assert judge([], [fresh], now)[0] == "green"
    assert judge([], [fresh, stale], now)[:2] == (
        "yellow",
        "golden_flows has not run yet (it runs every 1 min)",
    )
    medium = judge([_incident(1, "medium")], [fresh], now)
    assert medium == ("yellow", "Incident #1 (medium): incident 1", 1)
    # A high-severity incident explained by another one does not make it red by itself.
    assert judge([_incident(2, "high", suppressed_by=9)], [fresh], now)[0] == "yellow"
    red = judge([_incident(3, "low"), _incident(5, "high"), _incident(4, "high")], [stale], now)
    assert red == ("red", "Incident #4 (high): incident 4 (and 2 more open)", 4)


@pytest.fixture
def history(tenant_site: Site) -> dict[str, int]:
    """api_down raised and resolved (high); acme-site (medium) and globex-site (high) open."""
    site, target = tenant_site, tenant_site.settings.api_base_url
    fault(target, "api_down")
    raised = site.run("api_health")
    mend(target)
    site.run("api_health")
    fault(target, "web_down")
    acme = site.run("acme-site")
    mend(target)
    globex = site.run("globex-site")
    ids = {
        "api": raised.changes[0].incident.id,
        "acme": acme.changes[0].incident.id,
        "globex": globex.changes[0].incident.id,
    }
    return {name: value for name, value in ids.items() if value is not None}


FILTER_CASES: list[tuple[dict[str, str], set[str]]] = [
    ({}, {"api", "acme", "globex"}),
    ({"status": "open"}, {"acme", "globex"}),
    ({"status": "resolved"}, {"api"}),
    ({"severity": "high"}, {"api", "globex"}),
    ({"type": "api_down"}, {"api"}),
    ({"type": "http_check_failed", "severity": "medium"}, {"acme"}),
    ({"since": "2999-01-01"}, {"acme", "globex"}),  # still open then
    ({"until": "2000-01-01"}, set()),
    ({"until": "TODAY"}, {"api", "acme", "globex"}),  # a date means the whole day
    ({"status": "", "type": ""}, {"api", "acme", "globex"}),  # untouched form fields
]


def test_incident_filters(tenant_site: Site, history: dict[str, int]) -> None:
    today = datetime.now(UTC).date().isoformat()
    with tenant_site.client("admin") as admin:
        for params, expected in FILTER_CASES:
            query = {k: today if v == "TODAY" else v for k, v in params.items()}
            body = get(admin, INCIDENTS, **query)
            shown = {i["id"] for i in body["items"]}
            names = {name for name, id in history.items() if id in shown}
            assert names == expected, params
            assert body["total"] == len(expected), params


def test_incident_paging_keeps_the_total(tenant_site: Site, history: dict[str, int]) -> None:
    with tenant_site.client("admin") as admin:
        first = get(admin, INCIDENTS, limit=2)
        second = get(admin, INCIDENTS, limit=2, offset=2)
    assert (len(first["items"]), len(second["items"])) == (2, 1)
    assert first["total"] == second["total"] == 3
    assert (first["limit"], second["offset"]) == (2, 2)
    newest_first = [i["id"] for i in first["items"] + second["items"]]
    assert newest_first == sorted(history.values(), reverse=True)


BAD_INPUT: list[tuple[str, str]] = [
    (f"{INCIDENTS}?status=closed", "status"),
    (f"{INCIDENTS}?severity=urgent", "severity"),
    (f"{INCIDENTS}?type=%3Cscript%3E", "type"),
    (f"{INCIDENTS}?limit=0", "limit"),
    (f"{INCIDENTS}?limit=100000", "limit"),
    (f"{INCIDENTS}?limit=ten", "limit"),
    (f"{INCIDENTS}?offset=-1", "offset"),
    (f"{INCIDENTS}?offset=99999999999999999999999", "offset"),
    (f"{INCIDENTS}?since=yesterday", "since"),
    (f"{INCIDENTS}?until=2026-13-45", "until"),
    (f"{INCIDENTS}?until=9999-12-31", "until"),
    (f"{INCIDENTS}?since=2026-02-01&until=2026-01-01", "since"),
    (f"{INCIDENTS}?staus=open", "staus"),
    (f"{INCIDENTS}/0", "incident_id"),
    (f"{INCIDENTS}/abc", "incident_id"),
    (f"{INCIDENTS}/99999999999999999999999", "incident_id"),
    ("/api/monitoring/runs?status=done", "status"),
    ("/api/monitoring/runs?job=..%2Fetc", "job"),
    ("/api/monitoring/artifacts/-3", "artifact_id"),
]


def test_bad_input_gives_422_naming_the_parameter(site: Site) -> None:
    with site.client("admin") as admin:
        for path, parameter in BAD_INPUT:
            response = admin.get(path)
            assert response.status_code == 422, (path, response.text)
            assert parameter in response.json()["message"], path


def test_unknown_ids_give_404(site: Site) -> None:
    with site.client("admin") as admin:
        for path in (f"{INCIDENTS}/424242", "/api/monitoring/artifacts/424242"):
            response = admin.get(path)
            assert response.status_code == 404, path
            assert response.json()["detail"].startswith("no ")
        # No route takes a file path.
        traversal = admin.get("/api/monitoring/artifacts/..%2F..%2Fetc%2Fpasswd")
        assert traversal.status_code == 404 and "root:" not in traversal.text


def test_an_incident_with_its_occurrences_audit_notifications_and_artifacts(
    site: Site, tmp_path: Path
) -> None:
    target = site.settings.api_base_url
    fault(target, "api_down")
    first = site.run("api_health")
    second = site.run("api_health")
    mend(target)
    site.run("api_health")
    assert second.run.id is not None
    artifact_id = site.add_artifact(second.run.id, tmp_path)
    incident_id = first.changes[0].incident.id
    with site.client("owner") as owner:
        body = get(owner, f"{INCIDENTS}/{incident_id}")
    assert body["status"] == "resolved" and body["type"] == "api_down"
    assert body["occurrences"] == 2
    assert [o["runId"] for o in body["occurrenceRuns"]] == [second.run.id, first.run.id]
    assert all(o["error"] == "HTTP 503 Service Unavailable" for o in body["occurrenceRuns"])
    events = [a["event"] for a in body["audit"]]
    assert events[0] == "INCIDENT_RAISED" and "INCIDENT_RESOLVED" in events
    assert body["details"]["status_code"] == 503
    assert body["durationSeconds"] >= 0 and body["resolvedAt"] is not None
    with read_session(site.engine) as session:
        sent = session.exec(
            select(Notification.id).where(col(Notification.incident_id) == incident_id)
        ).all()
        audited = session.exec(
            select(AuditLog.event).where(col(AuditLog.incident_id) == incident_id)
        ).all()
    assert [n["id"] for n in body["notifications"]] == list(sent)
    assert sorted(events) == sorted(audited)
    assert [a["id"] for a in body["artifacts"]] == [artifact_id]
    assert body["artifacts"][0]["url"] == f"/api/monitoring/artifacts/{artifact_id}"
    assert "path" not in body["artifacts"][0]  # no file system paths leave the server
    assert body["evidence"] is None


def test_runs_filter_by_job_and_status(site: Site) -> None:
    target = site.settings.api_base_url
    site.run("api_health")
    fault(target, "api_down")
    failed = site.run("api_health")
    mend(target)
    site.run("web_health")
    with site.client("admin") as admin:
        everything = get(admin, "/api/monitoring/runs")
        failures = get(admin, "/api/monitoring/runs", job="check_api_health", status="failed")
    assert everything["total"] == 3
    assert [r["job"] for r in everything["items"]] == [
        "check_web_health",
        "check_api_health",
        "check_api_health",
    ]
    assert failures["total"] == 1 and failures["items"][0]["id"] == failed.run.id
    assert failures["items"][0]["details"]["status_code"] == 503


def test_artifacts_stream_by_database_id(site: Site, tmp_path: Path) -> None:
    run = site.run("api_health").run
    assert run.id is not None
    artifact_id = site.add_artifact(run.id, tmp_path, flow="f1")
    url = f"/api/monitoring/artifacts/{artifact_id}"
    with site.client("admin") as admin:
        response = admin.get(url)
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/png"
        assert response.headers["content-disposition"].startswith("inline")
        assert response.content == (tmp_path / f"run{run.id}-f1.png").read_bytes()
        (tmp_path / f"run{run.id}-f1.png").unlink()
        gone = admin.get(url)
    assert gone.status_code == 404 and "file is gone" in gone.json()["detail"]


def test_a_failed_flow_links_its_screenshot_the_last_passing_one_and_the_trace(
    evidence: Evidence,
) -> None:
    with evidence.site.client("admin") as admin:
        body = get(admin, f"{INCIDENTS}/{evidence.flow_incident_id}")
        ev = body["evidence"]
        assert body["severity"] == "high" and ev["flow"] == "f3"
        assert ev["failureScreenshot"]["jobRunId"] == evidence.failing_run_id
        assert ev["lastPassingScreenshot"]["jobRunId"] == evidence.passing_run_id
        assert ev["lastPassingRunId"] == evidence.passing_run_id
        assert ev["trace"]["kind"] == "trace"
        failing = [s for s in ev["steps"] if s["outcome"] != "passed"]
        assert [s["name"] for s in failing] == [ev["failingStep"]]
        assert ev["reproduce"].startswith("pytest ")
        shot = admin.get(ev["failureScreenshot"]["url"])
        assert shot.headers["content-type"] == "image/png"
        assert shot.content.startswith(b"\x89PNG")
        trace = admin.get(ev["trace"]["url"])
        assert trace.headers["content-type"] == "application/zip"
        assert trace.headers["content-disposition"].startswith("attachment")
        assert trace.content.startswith(b"PK")
    with read_session(evidence.site.engine) as session:
        run = session.get(JobRun, evidence.failing_run_id)
    assert run is not None and run.status == "failed"
