"""Every check this configuration runs, by name."""

from __future__ import annotations

from runner.checks import api_health, extra, golden_flows, web_health
from runner.checks.base import Check
from runner.settings import ConfigError, Settings

BUILT_IN = ("api_health", "web_health", "golden_flows")


def build_checks(settings: Settings) -> dict[str, Check]:
    """Built-in checks plus the extra ones; ConfigError names a missing base URL."""
    checks: dict[str, Check] = {}
    if settings.api_base_url:
        checks["api_health"] = api_health.build(settings)
    if settings.web_base_url:
        checks["web_health"] = web_health.build(settings)
        checks["golden_flows"] = golden_flows.build(settings)
    if settings.config is not None:
        for spec in extra.load(settings.config):
            checks[spec.name] = extra.build(spec, settings)
    return checks


def select_checks(settings: Settings, name: str) -> list[Check]:
    """The checks `goldwatch run NAME` means; ConfigError when one cannot run."""
    checks = build_checks(settings)
    if name == "all":
        if not checks:
            raise ConfigError(
                "nothing to check: set GOLDWATCH_API_BASE_URL and GOLDWATCH_WEB_BASE_URL"
            )
        return list(checks.values())
    if name in checks:
        return [checks[name]]
    needs = {
        "api_health": "GOLDWATCH_API_BASE_URL",
        "web_health": "GOLDWATCH_WEB_BASE_URL",
        "golden_flows": "GOLDWATCH_WEB_BASE_URL",
    }
    if name in needs:
        raise ConfigError(f"{name} needs {needs[name]} to be set")
    known = ", ".join([*BUILT_IN, *[c for c in checks if c not in BUILT_IN], "all"])
    raise ConfigError(f"unknown check {name!r}; known: {known}")
