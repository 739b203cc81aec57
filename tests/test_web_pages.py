"""The dashboard pages over HTTP: what they show, linkable filters, readable 403/404/422
pages, and incident text from monitored pages shown escaped, never run."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.settings import Settings
from tests.monitor_support import Site, fault, mend, open_site, write_checks

pytest_plugins = ("tests.monitor_support",)
PAGES = "/dashboard/monitoring"
SCRIPT = "<script>alert(1)</script>"


@pytest.fixture
def hostile_site(settings: Settings, tmp_path: Path, refused_port: int) -> Iterator[Site]:
    """An extra check whose URL (and so its incident message) carries markup."""
    url = f"http://127.0.0.1:{refused_port}/{SCRIPT}"
    config = write_checks(tmp_path / "checks.toml", [{"name": "hostile", "url": url}])
    yield from open_site(settings.model_copy(update={"config": config}))


def test_an_incident_message_with_script_renders_as_text(hostile_site: Site) -> None:
    outcome = hostile_site.run("hostile")
    incident = outcome.changes[0].incident
    assert SCRIPT in incident.message  # the raw text is stored as seen
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    with hostile_site.browser_client("admin") as browser:
        for path in (PAGES, f"{PAGES}/incidents", f"{PAGES}/incidents/{incident.id}"):
            html = browser.get(path).text
            assert escaped in html, path
            assert SCRIPT not in html and not re.search(r"<script", html), path
        api = browser.get(f"/api/monitoring/incidents/{incident.id}")
    assert api.headers["content-type"] == "application/json"
    assert api.json()["message"] == incident.message


def test_the_dashboard_shows_the_indicator_reason_incidents_and_check_history(
    site: Site,
) -> None:
    target = site.settings.api_base_url
    site.run("api_health")
    fault(target, "api_down")
    raised = site.run("api_health")
    mend(target)
    incident = raised.changes[0].incident
    with site.browser_client("admin") as browser:
        html = browser.get(PAGES).text
    assert 'data-testid="overall-status" data-status="red"' in html
    assert f'href="/dashboard/monitoring/incidents/{incident.id}">Incident #{incident.id}' in html
    assert 'data-testid="active-incidents"' in html
    history = re.search(
        r'<article class="check" data-check="api_health">(.*?)</article>', html, re.S
    )
    assert history, "no api_health check card"
    assert len(re.findall(r'<rect class="ok"', history.group(1))) == 1
    assert len(re.findall(r'<rect class="bad"', history.group(1))) == 1
    assert "50% of the last 2 runs passed" in history.group(1)
    assert re.search(r'data-check="golden_flows">.*?never ran.*?stale', html, re.S)


def test_incident_filters_are_links(site: Site) -> None:
    target = site.settings.api_base_url
    fault(target, "api_down")
    resolved = site.run("api_health").changes[0].incident
    mend(target)
    site.run("api_health")
    fault(target, "web_down")
    still_open = site.run("web_health").changes[0].incident
    mend(target)
    with site.browser_client("admin") as browser:
        page = browser.get(f"{PAGES}/incidents?status=resolved")
        assert '<option value="resolved" selected>' in page.text
        rows = re.findall(r'<tr data-status="(\w+)">', page.text)
        assert rows == ["resolved"]
        assert f'/incidents/{resolved.id}"' in page.text
        assert f'/incidents/{still_open.id}"' not in page.text
        # An untouched filter form sends empty fields: answered with the clean link.
        form = browser.get(f"{PAGES}/incidents?status=open&severity=&type=&since=&until=")
        assert form.status_code == 303
        assert form.headers["location"] == f"{PAGES}/incidents?status=open"
        paged = browser.get(f"{PAGES}/incidents?limit=1").text
        assert 'href="/dashboard/monitoring/incidents?offset=1&amp;limit=1">Older' in paged


def test_bad_filters_and_unknown_incidents_get_readable_pages(site: Site) -> None:
    with site.browser_client("admin") as browser:
        bad = browser.get(f"{PAGES}/incidents?severity=urgent")
        assert bad.status_code == 422
        assert "invalid query parameter &#39;severity&#39;" in bad.text
        missing = browser.get(f"{PAGES}/incidents/4242")
        assert missing.status_code == 404
        assert "There is no incident #4242 that you can see." in missing.text


def test_staff_get_a_readable_403_page_and_can_still_sign_out(site: Site) -> None:
    with site.browser_client("staff") as browser:
        for path in (PAGES, f"{PAGES}/incidents"):
            page = browser.get(path)
            assert page.status_code == 403
            assert "No access to monitoring" in page.text
            assert "staff@platform.test is a staff account" in page.text
        assert 'action="/logout"' in page.text
