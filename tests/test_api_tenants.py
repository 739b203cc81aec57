"""Tenant isolation: a tenant's owner/admin sees only their tenant's incidents, runs, checks
and artifacts. Platform incidents and other tenants' data are invisible: absent from lists,
counts and the status, and 404 by id, in the API and on the pages alike."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.monitor_support import Site, fault, mend

pytest_plugins = ("tests.monitor_support",)
API = "/api/monitoring"
PAGES = "/dashboard/monitoring"


@dataclass(frozen=True)
class World:
    site: Site
    incidents: dict[str, int]  # platform | acme | globex -> incident id
    runs: dict[str, int]
    artifacts: dict[str, int]
    messages: dict[str, str]


@pytest.fixture
def world(tenant_site: Site, tmp_path: Path) -> World:
    site, target = tenant_site, tenant_site.settings.api_base_url
    fault(target, "api_down")
    fault(target, "web_down")
    outcomes = {
        "platform": site.run("api_health"),
        "acme": site.run("acme-site"),
        "globex": site.run("globex-site"),
    }
    mend(target)
    incidents, runs, artifacts, messages = {}, {}, {}, {}
    for owner, outcome in outcomes.items():
        incident, run_id = outcome.changes[0].incident, outcome.run.id
        assert incident.id is not None and run_id is not None
        assert incident.tenant_id == (None if owner == "platform" else owner)
        incidents[owner], runs[owner], messages[owner] = incident.id, run_id, incident.message
        artifacts[owner] = site.add_artifact(run_id, tmp_path)
    return World(site, incidents, runs, artifacts, messages)


def test_lists_and_counts_show_only_the_tenants_own_incidents(world: World) -> None:
    with world.site.client("acme") as acme:
        listed = acme.get(f"{API}/incidents").json()
        assert [i["id"] for i in listed["items"]] == [world.incidents["acme"]]
        assert listed["total"] == 1
        for params in ({"severity": "high"}, {"type": "api_down"}, {"status": "resolved"}):
            body = acme.get(f"{API}/incidents", params=params).json()
            assert (body["items"], body["total"]) == ([], 0), params
        status = acme.get(f"{API}/status").json()
    # acme's own incident is medium: the platform's high api_down must not make it red.
    assert status["overallStatus"] == "yellow"
    assert status["activeIncidentsCount"] == 1
    assert set(status["lastChecks"]) == {"acme-site"}
    with world.site.client("globex") as globex:
        status = globex.get(f"{API}/status").json()
    assert status["overallStatus"] == "red" and status["activeIncidentsCount"] == 1
    assert set(status["lastChecks"]) == {"globex-site"}


def test_the_platform_sees_every_tenant(world: World) -> None:
    with world.site.client("owner") as owner:
        listed = owner.get(f"{API}/incidents").json()
        status = owner.get(f"{API}/status").json()
        for kind, ids in (("incidents", world.incidents), ("artifacts", world.artifacts)):
            for id in ids.values():
                assert owner.get(f"{API}/{kind}/{id}").status_code == 200, (kind, id)
    assert {i["id"] for i in listed["items"]} == set(world.incidents.values())
    assert status["activeIncidentsCount"] == 3 and status["overallStatus"] == "red"
    assert {"acme-site", "globex-site", "api_health"} <= set(status["lastChecks"])


def test_others_incidents_runs_and_artifacts_are_404_by_id(world: World) -> None:
    with world.site.client("acme") as acme:
        assert acme.get(f"{API}/incidents/{world.incidents['acme']}").status_code == 200
        assert acme.get(f"{API}/artifacts/{world.artifacts['acme']}").status_code == 200
        for other in ("platform", "globex"):
            for kind, ids in (("incidents", world.incidents), ("artifacts", world.artifacts)):
                response = acme.get(f"{API}/{kind}/{ids[other]}")
                assert response.status_code == 404, (kind, other)
                assert world.messages[other] not in response.text
        runs = acme.get(f"{API}/runs").json()
        assert {r["id"] for r in runs["items"]} == {world.runs["acme"]}
        assert runs["total"] == 1
        assert acme.get(f"{API}/runs", params={"job": "check_api_health"}).json()["total"] == 0


def test_an_incident_shows_only_the_tenants_own_evidence(world: World) -> None:
    with world.site.client("acme") as acme:
        body = acme.get(f"{API}/incidents/{world.incidents['acme']}").json()
    assert [a["id"] for a in body["artifacts"]] == [world.artifacts["acme"]]
    assert [o["runId"] for o in body["occurrenceRuns"]] == [world.runs["acme"]]
    assert body["suppressedBy"] is None and body["tenantId"] == "acme"


def test_pages_hide_other_tenants_and_the_platform(world: World) -> None:
    with world.site.browser_client("acme") as acme:
        dashboard = acme.get(PAGES).text
        listing = acme.get(f"{PAGES}/incidents").text
        for other in ("platform", "globex"):
            for page in (dashboard, listing):
                assert world.messages[other] not in page, other
            response = acme.get(f"{PAGES}/incidents/{world.incidents[other]}")
            assert response.status_code == 404
            assert world.messages[other] not in response.text
        assert world.messages["acme"] in dashboard and world.messages["acme"] in listing
        assert 'data-status="yellow"' in dashboard
        assert "globex-site" not in dashboard and "api_health" not in dashboard
