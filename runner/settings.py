"""Every GOLDWATCH_* setting, read from the environment and `.env`, validated once at start."""

from __future__ import annotations

import functools
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class SmtpTls(StrEnum):
    none = "none"
    starttls = "starttls"
    tls = "tls"


class ConfigError(Exception):
    """A setting or configuration file is invalid; the message names it."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="GOLDWATCH_", env_file=".env", extra="ignore", validate_default=True
    )

    database_url: str = Field("sqlite:///goldwatch.db", description="SQLAlchemy URL of the store")
    api_base_url: str = Field(
        "", description="Base URL of the product's API, checked by api_health"
    )
    api_health_path: str = Field("/api/health", description="Path of the API health endpoint")
    web_base_url: str = Field(
        "",
        description="Base URL of the web app, for web_health and the golden flows "
        "(`pytest flows/` starts the demo target when empty)",
    )
    web_health_path: str = Field("/", description="Path of the web health check")
    health_interval_seconds: int = Field(
        300, ge=1, description="Interval of the api_health and web_health checks"
    )
    flows_interval_seconds: int = Field(1800, ge=1, description="Interval of the golden flows")
    check_timeout_seconds: float = Field(
        10.0, gt=0, description="Timeout of one HTTP health check request"
    )
    flow_timeout_seconds: float = Field(
        15.0, gt=0, description="Timeout of one browser action or assertion inside a flow"
    )
    flows_run_timeout_seconds: int = Field(
        600, ge=10, description="Hard timeout of a whole golden-flows run (process group killed)"
    )
    flows_dir: Path = Field(PROJECT_ROOT / "flows", description="Folder of the golden flows")
    flows_reruns: int = Field(2, ge=0, description="Confirmation reruns of a failed flow")
    flows_allow_mutations: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["*/login"],
        description="Comma list of URL globs a flow may send non-GET requests to",
    )
    flow_onboarded_email: str = Field(
        "monitor-onboarded@demo.test", description="Synthetic account: onboarded, no plan"
    )
    flow_onboarded_password: str = Field(
        "synthetic-onboarded", description="Password of the onboarded synthetic account"
    )
    flow_paid_email: str = Field(
        "monitor-paid@demo.test", description="Synthetic account: paid plan, go-live unlocked"
    )
    flow_paid_password: str = Field(
        "synthetic-paid", description="Password of the paid synthetic account"
    )
    failure_threshold: int = Field(1, ge=1, description="Consecutive failures before a raise")
    success_threshold: int = Field(1, ge=1, description="Consecutive successes before a resolve")
    dedupe_window_seconds: int = Field(
        1800, ge=0, description="A failure this soon after a resolve reopens the incident"
    )
    severity_overrides: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=dict,
        description="Comma list of key=severity, key being a type or type:flow (f1..f4)",
    )
    scheduler_lease_seconds: int = Field(
        30, ge=3, description="A scheduler that stops renewing its lease loses it after this"
    )
    retention_days: int = Field(30, ge=1, description="Days JobRuns and artifacts are kept")
    smtp_host: str = Field("", description="SMTP server; empty: no email channel")
    smtp_port: int = Field(25, ge=1, le=65535, description="SMTP port")
    smtp_username: str = Field("", description="SMTP login (optional)")
    smtp_password: str = Field("", description="SMTP password (optional)")
    smtp_tls: SmtpTls = Field(SmtpTls.none, description="SMTP TLS mode: none, starttls or tls")
    smtp_timeout_seconds: float = Field(10.0, gt=0, description="SMTP connect/command timeout")
    alert_from: str = Field("goldwatch@localhost", description="From address of alert emails")
    alert_to: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Comma list of alert email recipients"
    )
    webhook_url: str = Field("", description="Webhook URL for alerts (JSON POST); empty: off")
    alert_throttle_seconds: int = Field(
        3600, ge=0, description="At most one raise/reminder per incident in this many seconds"
    )
    webhook_timeout_seconds: float = Field(
        10.0, gt=0, description="Timeout of one webhook POST (connect and response)"
    )
    alert_retry_base_seconds: float = Field(
        15.0, gt=0, description="First retry delay of a failed alert delivery; doubles per try"
    )
    alert_retry_max_seconds: float = Field(
        600.0, gt=0, description="Longest delay between two delivery attempts of one alert"
    )
    alert_dispatch_interval_seconds: float = Field(
        5.0, gt=0, description="How often the scheduler delivers queued alerts"
    )
    artifacts_dir: Path = Field(Path("screenshots"), description="Where run artifacts are kept")
    chromium_path: str = Field(
        "",
        description="Chromium or Chrome binary; empty: auto-detect. With a browser endpoint: "
        "the binary on the browser server (which must run with --unsafe)",
    )
    browser_ws_endpoint: str = Field(
        "",
        description="ws:// URL of a Playwright server (`playwright run-server`) the flows "
        "use instead of a local Chromium",
    )
    public_url: str = Field(
        "http://127.0.0.1:8000", description="Public URL of the dashboard, used in alert links"
    )
    secret_key: str = Field(
        "", description="Secret for sessions and CSRF tokens; empty: generated per database"
    )
    config: Path | None = Field(None, description="Optional TOML file of extra HTTP checks")
    metrics_token: str = Field(
        "", description="Bearer token /metrics requires; empty: /metrics is open"
    )
    api_cache_seconds: float = Field(
        1.0,
        ge=0,
        le=60,
        description="The API reuses a computed status and a token lookup this long (this "
        "process's own writes refresh them at once); 0: off",
    )
    session_lifetime_hours: int = Field(
        12, ge=1, le=24 * 30, description="A dashboard login lasts this long"
    )
    login_max_failures_per_account: int = Field(
        5, ge=1, description="Failed logins per account within the window before it is throttled"
    )
    login_max_failures_per_address: int = Field(
        20, ge=1, description="Failed logins per client address within the window before throttling"
    )
    login_throttle_window_seconds: int = Field(
        900, ge=1, description="Window in which failed logins are counted"
    )

    @field_validator("flows_allow_mutations", "alert_to", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("severity_overrides", mode="before")
    @classmethod
    def _key_values(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        pairs: dict[str, str] = {}
        for part in filter(None, (p.strip() for p in value.split(","))):
            key, sep, severity = part.partition("=")
            if not sep or severity.strip() not in {"low", "medium", "high"}:
                raise ValueError(f"expected key=low|medium|high, got {part!r}")
            pairs[key.strip()] = severity.strip()
        return pairs

    @field_validator("config")
    @classmethod
    def _config_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"no such file: {value}")
        return value


def describe_error(error: ValidationError) -> str:
    """One line naming the first bad variable and what is wrong with it."""
    first = error.errors()[0]
    name = "GOLDWATCH_" + "_".join(str(p) for p in first["loc"][:1]).upper()
    value = first.get("input")
    shown = "" if isinstance(value, dict) else f" (got {value!r})"
    return f"invalid setting {name}{shown}: {first['msg']}"


def load_settings() -> Settings:
    """Settings from the environment; raises ConfigError with one readable line."""
    try:
        return Settings()
    except ValidationError as error:
        raise ConfigError(describe_error(error)) from None


@functools.cache
def get_settings() -> Settings:
    return load_settings()


def as_environment(settings: Settings) -> dict[str, str]:
    """The settings as GOLDWATCH_* variables, for a subprocess that must see exactly these
    (not whatever its own working directory's .env would say)."""
    env: dict[str, str] = {}
    for name in Settings.model_fields:
        value = getattr(settings, name)
        if isinstance(value, Path):
            value = value.absolute()  # the subprocess may run elsewhere
        if value is not None:
            env[f"GOLDWATCH_{name.upper()}"] = _as_text(value)
    return env


def _as_text(value: object) -> str:
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, dict):
        return ",".join(f"{k}={v}" for k, v in value.items())
    return str(value.value if isinstance(value, StrEnum) else value)


def _shown_default(value: object) -> str:
    if isinstance(value, Path) and value.is_absolute():
        try:
            return str(value.relative_to(PROJECT_ROOT))
        except ValueError:
            return str(value)
    return "" if value is None else _as_text(value)


def settings_table() -> str:
    """The README's settings table, generated from this class so the two cannot drift."""
    rows = ["| Variable | Default | Meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.get_default(call_default_factory=True)
        shown = _shown_default(default).replace("|", "\\|")
        rows.append(
            f"| `GOLDWATCH_{name.upper()}` | {f'`{shown}`' if shown else ''} "
            f"| {field.description} |"
        )
    return "\n".join(rows)


README_MARKERS = ("<!-- settings:start -->\n", "\n<!-- settings:end -->")


def write_readme_table(readme: Path) -> None:
    """Replace the table between the README's settings markers."""
    text = readme.read_text()
    start, end = README_MARKERS
    head, _, rest = text.partition(start)
    _, _, tail = rest.partition(end)
    readme.write_text(head + start + settings_table() + end + tail)


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["--write-readme"]:
        write_readme_table(PROJECT_ROOT / "README.md")
    else:
        print(settings_table())
