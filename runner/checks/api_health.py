"""api_health: GET {API_BASE_URL}{API_HEALTH_PATH}; 2xx in time, JSON status ok when present."""

from __future__ import annotations

from runner.checks.base import Check
from runner.checks.http import Expectation, http_check
from runner.incidents import severity_for
from runner.settings import Settings

NAME = "api_health"


def build(settings: Settings) -> Check:
    url = settings.api_base_url.rstrip("/") + settings.api_health_path
    return http_check(
        name=NAME,
        job="check_api_health",
        url=url,
        expect=Expectation(json_status=True),
        interval_seconds=settings.health_interval_seconds,
        timeout=settings.check_timeout_seconds,
        incident_type="api_down",
        message=f"API health check failing: GET {url}",
        severity=severity_for("api_down", None, settings.severity_overrides),
    )
