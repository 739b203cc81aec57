"""web_health: GET {WEB_BASE_URL}{WEB_HEALTH_PATH}; a 2xx HTML page within the timeout."""

from __future__ import annotations

from runner.checks.base import Check
from runner.checks.http import Expectation, http_check
from runner.incidents import severity_for
from runner.settings import Settings

NAME = "web_health"


def build(settings: Settings) -> Check:
    url = settings.web_base_url.rstrip("/") + settings.web_health_path
    return http_check(
        name=NAME,
        job="check_web_health",
        url=url,
        expect=Expectation(html=True),
        interval_seconds=settings.health_interval_seconds,
        timeout=settings.check_timeout_seconds,
        incident_type="web_down",
        message=f"Web health check failing: GET {url}",
        severity=severity_for("web_down", None, settings.severity_overrides),
    )
