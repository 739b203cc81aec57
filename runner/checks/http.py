"""One HTTP GET with a readable verdict; shared by api_health, web_health and extra checks."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from runner.checks.base import Check, CheckResult, RunContext
from runner.incidents import Observation

USER_AGENT = "Goldwatch/0.1 (synthetic monitor; read-only)"


@dataclass(frozen=True)
class Expectation:
    status: int | None = None  # None: any 2xx
    text: str | None = None
    html: bool = False
    json_status: bool = False  # a JSON body's "status", when present, must be ok/healthy


@dataclass(frozen=True)
class Probe:
    ok: bool
    url: str
    status_code: int | None
    error: str | None
    duration_ms: int

    def details(self) -> dict[str, Any]:
        return {
            "endpoint": f"GET {self.url}",
            "status_code": self.status_code,
            "error": self.error,
            "duration_ms": self.duration_ms,
        }


def _describe_transport_error(error: httpx.HTTPError, url: str, timeout: float) -> str:
    if isinstance(error, httpx.TimeoutException):
        return f"timed out after {timeout:g}s"
    if isinstance(error, httpx.TooManyRedirects):
        return "too many redirects (redirect loop?)"
    text = str(error) or type(error).__name__
    lowered = text.lower()
    if "name or service not known" in lowered or "nodename nor servname" in lowered:
        return f"DNS lookup failed for {httpx.URL(url).host}"
    if "connection refused" in lowered or "errno 111" in lowered:
        return f"connection refused by {httpx.URL(url).host}:{httpx.URL(url).port}"
    return f"{type(error).__name__}: {text}"


def _verdict(response: httpx.Response, expect: Expectation) -> str | None:
    reason = f"HTTP {response.status_code} {response.reason_phrase}".strip()
    if expect.status is not None:
        if response.status_code != expect.status:
            return f"{reason}, expected {expect.status}"
    elif not response.is_success:
        return reason
    content_type = response.headers.get("content-type", "")
    if expect.html and "html" not in content_type:
        return f"expected an HTML page, got {content_type or 'no content type'}"
    if expect.json_status and "json" in content_type:
        try:
            body = response.json()
        except ValueError:
            return "invalid JSON body"
        status = body.get("status") if isinstance(body, dict) else None
        if status is not None and str(status).lower() not in {"ok", "healthy", "pass", "up"}:
            return f"health status is {status!r}"
    if expect.text and expect.text not in response.text:
        return f"expected text {expect.text!r} not found"
    return None


def probe(url: str, expect: Expectation, timeout: float) -> Probe:
    started = time.perf_counter()
    status_code: int | None = None
    try:
        with httpx.Client(
            timeout=timeout,
            follow_redirects=True,
            max_redirects=10,
            headers={"User-Agent": USER_AGENT},
        ) as client:
            response = client.get(url)
        status_code = response.status_code
        error = _verdict(response, expect)
    except httpx.HTTPError as exc:
        error = _describe_transport_error(exc, url, timeout)
    except ValueError as exc:  # httpx rejects malformed URLs with ValueError subclasses too
        error = f"invalid URL {url!r}: {exc}"
    duration_ms = int((time.perf_counter() - started) * 1000)
    return Probe(error is None, url, status_code, error, duration_ms)


def http_check_result(
    probe_result: Probe,
    *,
    subject: str,
    incident_type: str,
    message: str,
    severity: str,
    at: datetime,
    tenant_id: str | None = None,
) -> CheckResult:
    """A probe as a CheckResult with its one observation (the message stays stable)."""
    details = probe_result.details()
    observation = Observation(
        subject=subject,
        source_check=subject,
        ok=probe_result.ok,
        at=at,
        type=incident_type,
        fingerprint=f"{incident_type}:{subject}",
        message=message,
        severity=severity,
        details=details,
        tenant_id=tenant_id,
    )
    return CheckResult(
        ok=probe_result.ok,
        duration_ms=probe_result.duration_ms,
        details=details,
        observations=[observation],
        finished_at=at,
    )


def http_check(
    *,
    name: str,
    job: str,
    url: str,
    expect: Expectation,
    interval_seconds: int,
    timeout: float,
    incident_type: str,
    message: str,
    severity: str,
    tenant_id: str | None = None,
) -> Check:
    """A check that probes one URL; its failure is an incident of `incident_type`."""

    def execute(context: RunContext) -> CheckResult:
        return http_check_result(
            probe(url, expect, timeout),
            subject=name,
            incident_type=incident_type,
            message=message,
            severity=severity,
            at=context.now(),
            tenant_id=tenant_id,
        )

    return Check(name, job, interval_seconds, execute, tenant_id=tenant_id)
