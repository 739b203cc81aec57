"""Access control of the API and pages: every monitoring route is closed to anonymous callers
(401 / redirect to /login) and staff (403) and open to platform admins; bearer tokens are
stored hashed; /healthz needs no login and says 503 when the database is away."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi.routing import iter_route_contexts
from sqlmodel import col, delete, select

from api.app import create_app
from api.tokens import digest
from runner.db import make_engine, read_session, write_session
from runner.models import ApiToken
from runner.serving import ServerThread
from runner.settings import Settings
from tests.monitor_support import Site, bearer, fault, mend

pytest_plugins = ("tests.monitor_support",)
PROTECTED_PREFIXES = ("/api/monitoring", "/dashboard")


@dataclass(frozen=True)
class Populated:
    site: Site
    incident_id: int
    artifact_id: int


def protected_routes(populated: Populated) -> list[str]:
    """Every GET route under the protected prefixes, path parameters filled with real ids."""
    samples = {"{incident_id}": populated.incident_id, "{artifact_id}": populated.artifact_id}
    app = create_app(populated.site.settings)
    paths = []
    for route in iter_route_contexts(app.routes):
        path = route.path or ""
        if not path.startswith(PROTECTED_PREFIXES):
            continue
        assert route.methods == {"GET"}, f"{path}: add its methods to this test"
        for name, value in samples.items():
            path = path.replace(name, str(value))
        assert "{" not in path, f"{path}: give this path parameter a sample value"
        paths.append(path)
    return paths


@pytest.fixture
def populated(site: Site, tmp_path: Path) -> Populated:
    """An incident, a run and an artifact to ask for."""
    fault(site.settings.api_base_url, "api_down")
    outcome = site.run("api_health")
    mend(site.settings.api_base_url)
    assert outcome.run.id is not None and outcome.changes
    incident_id = outcome.changes[0].incident.id
    assert incident_id is not None
    return Populated(site, incident_id, site.add_artifact(outcome.run.id, tmp_path))


def test_every_monitoring_route_is_closed_to_anonymous_and_staff(populated: Populated) -> None:
    paths = protected_routes(populated)
    assert len(paths) >= 8, paths  # 5 API routes and 3 pages at least
    site = populated.site
    with (
        site.client() as anonymous,
        site.client("staff") as staff_token,
        site.browser_client("staff") as staff_cookie,
        site.client("admin") as admin,
    ):
        for path in paths:
            is_api = path.startswith("/api/")
            response = anonymous.get(path)
            if is_api:
                assert response.status_code == 401, path
                assert response.json() == {"detail": "authentication required"}, path
                assert response.headers["www-authenticate"] == "Bearer"
            else:
                assert response.status_code == 303, path
                assert response.headers["location"].startswith("/login?next=%2Fdashboard"), path
            for staff in (staff_token, staff_cookie):
                response = staff.get(path)
                assert response.status_code == 403, path
                if not is_api:
                    assert "No access to monitoring" in response.text, path
            assert admin.get(path).status_code == 200, path


def test_openapi_lists_every_api_route_with_its_response_model(site: Site) -> None:
    schema = httpx.get(f"{site.url}/openapi.json").json()
    paths = schema["paths"]
    expected = {
        "/api/monitoring/status",
        "/api/monitoring/incidents",
        "/api/monitoring/incidents/{incident_id}",
        "/api/monitoring/runs",
        "/api/monitoring/artifacts/{artifact_id}",
        "/healthz",
    }
    assert expected <= set(paths)
    for path in expected:
        ok = paths[path]["get"]["responses"]["200"]["content"]
        assert ok, path
        if path != "/api/monitoring/artifacts/{artifact_id}":
            assert "$ref" in ok["application/json"]["schema"], path
        if path.startswith("/api/"):
            assert {"401", "403"} <= set(paths[path]["get"]["responses"]), path
    status = schema["components"]["schemas"]["StatusOut"]["properties"]
    assert set(status) == {"overallStatus", "lastChecks", "activeIncidentsCount"}


def test_bearer_tokens_are_stored_hashed_and_judged_alone(site: Site) -> None:
    token = site.tokens["admin"]
    with read_session(site.engine) as session:
        hashes = set(session.exec(select(ApiToken.token_hash)).all())
    assert digest(token) in hashes and token not in hashes
    status = "/api/monitoring/status"
    assert site.client("admin").get(status).status_code == 200
    for header in (f"Bearer {token}x", f"Basic {token}", "Bearer", token):
        response = httpx.get(site.url + status, headers={"Authorization": header})
        assert response.status_code == 401, header
    # A bad token is not rescued by a valid session cookie.
    with site.browser_client("admin") as browser:
        assert browser.get(status).status_code == 200
        assert browser.get(status, headers=bearer("gw_nope")).status_code == 401


def test_a_token_deleted_by_another_process_stops_working_within_the_cache_time(
    site: Site,
) -> None:
    status = "/api/monitoring/status"
    with site.client("admin") as admin:
        assert admin.get(status).status_code == 200
        elsewhere = make_engine(site.settings.database_url)
        try:
            with write_session(elsewhere) as session:
                session.exec(
                    delete(ApiToken).where(col(ApiToken.token_hash) == digest(site.tokens["admin"]))
                )
        finally:
            elsewhere.dispose()
        deadline = time.monotonic() + 5
        while admin.get(status).status_code == 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert admin.get(status).status_code == 401


def test_healthz_needs_no_login(site: Site) -> None:
    response = httpx.get(f"{site.url}/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_an_unreachable_database_gives_503_not_a_traceback(
    tmp_path: Path, refused_port: int
) -> None:
    url = f"postgresql+psycopg://goldwatch:secret@127.0.0.1:{refused_port}/goldwatch"
    settings = Settings(_env_file=None, database_url=url, artifacts_dir=tmp_path)
    with ServerThread(create_app(settings)) as server, httpx.Client(base_url=server.url) as c:
        health = c.get("/healthz")
        assert health.status_code == 503
        assert health.json() == {"status": "unavailable", "database": "unreachable"}
        api = c.get("/api/monitoring/status", headers=bearer("gw_any"))
        assert api.status_code == 503
        assert api.json()["detail"].startswith("the monitor's database cannot be reached")
        c.cookies.set("goldwatch_session", "some-session")
        for page in ("/dashboard/monitoring", "/login"):
            response = c.get(page)
            assert response.status_code == 503, page
            assert "Monitor unavailable" in response.text
            assert "Traceback" not in response.text and "psycopg" not in response.text
