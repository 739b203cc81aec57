"""GET /metrics in Prometheus text format, from real runs against the demo target."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from prometheus_client.parser import text_string_to_metric_families

from api.app import create_app
from runner.alerting.outbox import queue_counts
from runner.serving import ServerThread
from tests.monitor_support import Site, fault, mend

pytest_plugins = ("tests.monitor_support",)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_metrics_follow_runs_and_incidents(api_only_site: Site) -> None:
    site = api_only_site
    fault(site.settings.api_base_url, "api_down")
    site.run("api_health")
    site.run("api_health")
    with site.client() as client:
        response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    during = samples(response.text)
    assert during[("goldwatch_overall_status", ())] == 2
    assert during[("goldwatch_check_up", (("check", "api_health"),))] == 0
    assert (
        during[("goldwatch_check_runs_total", (("check", "api_health"), ("status", "failed")))] == 2
    )
    assert during[("goldwatch_open_incidents", (("severity", "high"), ("type", "api_down")))] == 1
    assert during[("goldwatch_check_duration_seconds_count", (("check", "api_health"),))] == 2
    raised = sum(queue_counts(site.engine).values())
    assert sum(v for (name, _), v in during.items() if name == "goldwatch_notifications") == raised

    mend(site.settings.api_base_url)
    site.run("api_health")
    with site.client() as client:
        after = samples(client.get("/metrics").text)
    assert after[("goldwatch_overall_status", ())] == 0
    assert after[("goldwatch_check_up", (("check", "api_health"),))] == 1
    assert not any(name == "goldwatch_open_incidents" for name, _ in after)


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed")
def test_promtool_accepts_the_metrics(api_only_site: Site) -> None:
    api_only_site.run("api_health")
    with api_only_site.client() as client:
        text = client.get("/metrics").text
    result = subprocess.run(
        ["promtool", "check", "metrics"], input=text, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_metrics_token(api_only_site: Site) -> None:
    site = api_only_site
    guarded = create_app(site.settings.model_copy(update={"metrics_token": "s3cret"}))
    with ServerThread(guarded) as server, site.client() as client:
        assert client.get(f"{server.url}/metrics").status_code == 401
        assert (
            client.get(f"{server.url}/metrics", headers={"Authorization": "Bearer no"}).status_code
            == 401
        )
        ok = client.get(f"{server.url}/metrics", headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200 and "goldwatch_overall_status" in ok.text
