"""Extra HTTP checks from the optional TOML file named by GOLDWATCH_CONFIG.

[[check]]
name = "acme-site"            # also the JobRun job name
url = "https://acme.example/"
interval_seconds = 300
expect_status = 200           # default: any 2xx
expect_text = "Welcome"       # optional
incident_type = "web_down"    # default http_check_failed
severity = "high"             # default medium
tenant_id = "acme"            # optional: the tenant who sees its incidents
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from runner.checks.base import Check
from runner.checks.http import Expectation, http_check
from runner.settings import ConfigError, Settings

RESERVED = {"api_health", "web_health", "golden_flows", "all"}


class ExtraCheck(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,62}$")
    url: str = Field(pattern=r"^https?://")
    interval_seconds: int = Field(300, ge=1)
    expect_status: int | None = Field(None, ge=100, le=599)
    expect_text: str | None = None
    incident_type: str = Field("http_check_failed", pattern=r"^[a-z_]+$")
    severity: Literal["low", "medium", "high"] = "medium"
    tenant_id: str | None = None

    @field_validator("name")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value in RESERVED:
            raise ValueError(f"{value!r} is the name of a built-in check")
        return value


class ExtraChecksFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    check: list[ExtraCheck] = Field(default_factory=list)


def load(path: Path) -> list[ExtraCheck]:
    """The checks of a TOML file, or ConfigError naming the file and what is wrong."""
    try:
        data = tomllib.loads(path.read_text())
        checks = ExtraChecksFile.model_validate(data).check
    except OSError as error:
        raise ConfigError(f"GOLDWATCH_CONFIG={path}: cannot read: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"GOLDWATCH_CONFIG={path}: invalid TOML: {error}") from None
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"GOLDWATCH_CONFIG={path}: {where}: {first['msg']}") from None
    names = [c.name for c in checks]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"GOLDWATCH_CONFIG={path}: duplicate check name {duplicates[0]!r}")
    return checks


def build(spec: ExtraCheck, settings: Settings) -> Check:
    return http_check(
        name=spec.name,
        job=spec.name,
        url=spec.url,
        expect=Expectation(status=spec.expect_status, text=spec.expect_text),
        interval_seconds=spec.interval_seconds,
        timeout=settings.check_timeout_seconds,
        incident_type=spec.incident_type,
        message=f"{spec.name} failing: GET {spec.url}",
        severity=spec.severity,
        tenant_id=spec.tenant_id,
    )
