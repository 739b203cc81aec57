"""web_health: GET {WEB_BASE_URL}{WEB_HEALTH_PATH}; a 2xx HTML page within the timeout."""

from __future__ import annotations

from runner.checks.base import Check, CheckResult, RunContext
from runner.checks.http import Expectation, http_check_result, probe
from runner.incidents import severity_for
from runner.settings import Settings

NAME = "web_health"


def build(settings: Settings) -> Check:
    url = settings.web_base_url.rstrip("/") + settings.web_health_path

    def execute(context: RunContext) -> CheckResult:
        result = probe(url, Expectation(html=True), settings.check_timeout_seconds)
        return http_check_result(
            result,
            subject=NAME,
            incident_type="web_down",
            message=f"Web health check failing: GET {url}",
            severity=severity_for("web_down", None, settings.severity_overrides),
            at=context.now(),
        )

    return Check(NAME, "check_web_health", settings.health_interval_seconds, execute)
