"""api_health: GET {API_BASE_URL}{API_HEALTH_PATH}; 2xx in time, JSON status ok when present."""

from __future__ import annotations

from runner.checks.base import Check, CheckResult, RunContext
from runner.checks.http import Expectation, http_check_result, probe
from runner.incidents import severity_for
from runner.settings import Settings

NAME = "api_health"


def build(settings: Settings) -> Check:
    url = settings.api_base_url.rstrip("/") + settings.api_health_path

    def execute(context: RunContext) -> CheckResult:
        result = probe(url, Expectation(json_status=True), settings.check_timeout_seconds)
        return http_check_result(
            result,
            subject=NAME,
            incident_type="api_down",
            message=f"API health check failing: GET {url}",
            severity=severity_for("api_down", None, settings.severity_overrides),
            at=context.now(),
        )

    return Check(NAME, "check_api_health", settings.health_interval_seconds, execute)
