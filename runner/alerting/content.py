"""Renders an alert from the incident as it is when the alert is delivered: what failed, where,
since when, the incident link and how to reproduce it, as a subject, plain text, HTML and JSON.

Pure: the dispatcher loads the incident and its evidence, this module only formats. Every value
that came from the product (page text, error messages) is escaped in HTML and stripped of line
breaks in the subject.
"""

from __future__ import annotations

import html
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from runner.alerting.base import AlertMessage, InlineImage
from runner.models import Incident

SUBJECT_LIMIT = 160
SEVERITY_COLORS = {"high": "#b42318", "medium": "#b54708", "low": "#475467"}
RESOLVED_COLOR = "#067647"
_LINE_BREAKS = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")


@dataclass(frozen=True)
class AlertContext:
    """Everything one alert says, loaded at delivery time."""

    incident: Incident
    event: str  # raised | reminder | resolved
    public_url: str
    now: datetime
    also_affected: Sequence[Incident] = ()
    screenshot: InlineImage | None = None
    screenshot_artifact_id: int | None = None
    resolved_at: datetime | None = None  # when the resolve was planned (the incident may reopen)


def one_line(value: object) -> str:
    """A header-safe line: control characters and line breaks become single spaces."""
    return " ".join(_LINE_BREAKS.sub(" ", str(value)).split())


def incident_url(public_url: str, incident_id: int | None) -> str:
    return f"{public_url.rstrip('/')}/dashboard/monitoring/incidents/{incident_id}"


def artifact_url(public_url: str, artifact_id: int) -> str:
    return f"{public_url.rstrip('/')}/api/monitoring/artifacts/{artifact_id}"


def when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment is not None else "-"


def duration(seconds: float) -> str:
    """`45s`, `3m 20s`, `1h 5m`, `2d 4h`."""
    total = max(0, int(seconds))
    days, rest = divmod(total, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m {secs}s"
    return f"{secs}s"


def _runs(count: int) -> str:
    return f"{count} failed run" + ("" if count == 1 else "s")


def _resolved_at(ctx: AlertContext) -> datetime | None:
    return ctx.resolved_at or ctx.incident.resolved_at


def subject(ctx: AlertContext) -> str:
    incident = ctx.incident
    what = one_line(incident.message)
    if ctx.event == "resolved":
        lasted = duration(((_resolved_at(ctx) or ctx.now) - incident.first_seen_at).total_seconds())
        line = f"[Goldwatch][RESOLVED] {what} (lasted {lasted})"
    else:
        prefix = "Still failing: " if ctx.event == "reminder" else ""
        line = f"[Goldwatch][{incident.severity.upper()}] {prefix}{what}"
        if ctx.also_affected:
            line += f" (+{len(ctx.also_affected)} affected)"
    return line if len(line) <= SUBJECT_LIMIT else line[: SUBJECT_LIMIT - 1] + "…"


def headline(ctx: AlertContext) -> str:
    incident = ctx.incident
    since = f"since {when(incident.first_seen_at)}"
    if ctx.event == "resolved":
        resolved = _resolved_at(ctx) or ctx.now
        lasted = duration((resolved - incident.first_seen_at).total_seconds())
        return (
            f"Resolved: {incident.message}. It lasted {lasted} ({since} until "
            f"{when(resolved)}), {_runs(incident.occurrences)}."
        )
    seconds = (ctx.now - incident.first_seen_at).total_seconds()
    age = "just now" if seconds < 60 else f"{duration(seconds)} ago"
    line = f"{incident.message}, {since} ({age}), {_runs(incident.occurrences)}."
    if ctx.event == "reminder":
        line = "Still failing: " + line
    if incident.resolved_at is not None:
        lasted = duration((incident.resolved_at - incident.first_seen_at).total_seconds())
        line += f" It has since recovered at {when(incident.resolved_at)} (lasted {lasted})."
    return line


Section = tuple[str, list[tuple[str, str]]]


def _what(incident: Incident) -> list[tuple[str, str]]:
    d = incident.details
    rows = [
        ("Type", incident.type),
        ("Severity", incident.severity.upper()),
        ("Check", incident.source_check),
    ]
    if d.get("flow"):
        rows.append(("Flow", f"{str(d['flow']).upper()} {d.get('title') or ''}".strip()))
    if d.get("failing_step"):
        rows.append(("Failing step", str(d["failing_step"])))
    if d.get("error"):
        rows.append(("Error", str(d["error"])))
    if d.get("reruns"):
        rows.append(("Confirmed by", f"{d['reruns']} rerun(s) failing the same way"))
    if incident.tenant_id:
        rows.append(("Tenant", incident.tenant_id))
    return rows


def _where(incident: Incident) -> list[tuple[str, str]]:
    d = incident.details
    rows: list[tuple[str, str]] = []
    if d.get("endpoint"):
        rows.append(("Endpoint", str(d["endpoint"])))
    if d.get("status_code") is not None:
        rows.append(("Status code", str(d["status_code"])))
    if d.get("base_url"):
        rows.append(("Base URL", str(d["base_url"])))
    if d.get("duration_ms") is not None and not d.get("flow"):
        rows.append(("Response time", f"{d['duration_ms']} ms"))
    return rows


def _since(ctx: AlertContext) -> list[tuple[str, str]]:
    incident = ctx.incident
    rows = [
        ("First seen", when(incident.first_seen_at)),
        ("Last seen", when(incident.last_seen_at)),
        ("Occurrences", str(incident.occurrences)),
    ]
    resolved = _resolved_at(ctx) if ctx.event == "resolved" else incident.resolved_at
    if resolved is not None:
        lasted = duration((resolved - incident.first_seen_at).total_seconds())
        rows.append(("Resolved", f"{when(resolved)} (lasted {lasted})"))
    return rows


def _steps(incident: Incident) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for number, step in enumerate(incident.details.get("steps") or [], start=1):
        if not isinstance(step, dict):
            continue
        mark = "passed" if step.get("outcome") == "passed" else "FAILED"
        value = f"{mark} in {step.get('duration_ms', '?')} ms"
        if step.get("error"):
            value += f": {step['error']}"
        rows.append((f"{number}. {step.get('name', '?')}", value))
    return rows


def sections(ctx: AlertContext) -> list[Section]:
    """The facts, grouped; the text, HTML and console renderings all show these."""
    incident = ctx.incident
    found: list[Section] = [("What failed", _what(incident))]
    if where := _where(incident):
        found.append(("Where", where))
    found.append(("Since when", _since(ctx)))
    if steps := _steps(incident):
        found.append(("Steps", steps))
    if ctx.also_affected:
        found.append(
            (
                "Also affected (explained by this outage, not alerted separately)",
                [
                    (f"#{other.id}", f"{other.message} [{other.severity.upper()}]")
                    for other in ctx.also_affected
                ],
            )
        )
    if ctx.screenshot_artifact_id is not None:
        shot = artifact_url(ctx.public_url, ctx.screenshot_artifact_id)
        found.append(("Evidence", [("Screenshot", shot)]))
    return found


def reproduce(ctx: AlertContext) -> str | None:
    """The check's own command (a flow's pytest line), or curl for an HTTP endpoint."""
    details = ctx.incident.details
    if details.get("reproduce"):
        return str(details["reproduce"])
    method, _, url = str(details.get("endpoint") or "").partition(" ")
    if method == "GET" and url.startswith(("http://", "https://")):
        return f"curl -sS -i --max-time 30 {shlex.quote(url)}"
    return None


def render_text(ctx: AlertContext) -> str:
    url = incident_url(ctx.public_url, ctx.incident.id)
    lines = [headline(ctx), "", f"Incident #{ctx.incident.id}: {url}", ""]
    for title, rows in sections(ctx):
        lines.append(title)
        width = max(len(label) for label, _ in rows) + 1
        lines += [f"  {label + ':':<{width}} {value}" for label, value in rows]
        lines.append("")
    if command := reproduce(ctx):
        lines += ["Reproduce locally", f"  {command}", ""]
    if ctx.screenshot is not None:
        lines += ["The failure screenshot is attached.", ""]
    lines.append("-- Goldwatch synthetic monitoring")
    return "\n".join(lines)


def _html_value(value: str, public_url: str) -> str:
    """Escaped; a link to our own dashboard or API becomes a link (product text never does)."""
    ours = value.startswith(public_url.rstrip("/") + "/")
    if ours and re.fullmatch(r"https?://[^\s\"'<>]+", value):
        return f'<a href="{html.escape(value)}">{html.escape(value)}</a>'
    return html.escape(value)


def render_html(ctx: AlertContext) -> str:
    e = html.escape
    color = (
        RESOLVED_COLOR
        if ctx.event == "resolved"
        else SEVERITY_COLORS.get(ctx.incident.severity, "#475467")
    )
    url = incident_url(ctx.public_url, ctx.incident.id)
    parts = [
        '<!doctype html><html><body style="font-family:system-ui,sans-serif;color:#101828">',
        f'<p style="border-left:4px solid {color};padding:8px 12px;font-size:15px">'
        f"<strong>{e(headline(ctx))}</strong></p>",
        f'<p><a href="{e(url)}" style="font-weight:bold">Open incident #{ctx.incident.id}</a></p>',
    ]
    for title, rows in sections(ctx):
        parts.append(f'<h3 style="margin:16px 0 4px;font-size:14px">{e(title)}</h3>')
        parts.append('<table cellpadding="3" style="border-collapse:collapse;font-size:13px">')
        parts += [
            f'<tr><td style="color:#475467;vertical-align:top">{e(label)}</td>'
            f"<td>{_html_value(value, ctx.public_url)}</td></tr>"
            for label, value in rows
        ]
        parts.append("</table>")
    if command := reproduce(ctx):
        parts.append('<h3 style="margin:16px 0 4px;font-size:14px">Reproduce locally</h3>')
        parts.append(
            f'<pre style="background:#f2f4f7;padding:8px;white-space:pre-wrap">{e(command)}</pre>'
        )
    if ctx.screenshot is not None:
        parts.append('<h3 style="margin:16px 0 4px;font-size:14px">Screenshot</h3>')
        parts.append(
            f'<img src="cid:{e(ctx.screenshot.cid)}" alt="failure screenshot" '
            'style="max-width:100%;border:1px solid #d0d5dd">'
        )
    parts.append('<p style="color:#667085;font-size:12px">Goldwatch synthetic monitoring</p>')
    parts.append("</body></html>")
    return "\n".join(parts)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _summary(incident: Incident, public_url: str) -> dict[str, Any]:
    return {
        "id": incident.id,
        "type": incident.type,
        "severity": incident.severity,
        "message": incident.message,
        "url": incident_url(public_url, incident.id),
    }


def render_data(ctx: AlertContext) -> dict[str, Any]:
    incident = ctx.incident
    return {
        "event": ctx.event,
        "incident": {
            **_summary(incident, ctx.public_url),
            "subject": incident.subject,
            "source_check": incident.source_check,
            "tenant_id": incident.tenant_id,
            "status": "resolved" if incident.resolved_at is not None else "open",
            "first_seen_at": _iso(incident.first_seen_at),
            "last_seen_at": _iso(incident.last_seen_at),
            "resolved_at": _iso(
                _resolved_at(ctx) if ctx.event == "resolved" else incident.resolved_at
            ),
            "occurrences": incident.occurrences,
            "details": incident.details,
        },
        "also_affected": [_summary(i, ctx.public_url) for i in ctx.also_affected],
        "screenshot_url": (
            artifact_url(ctx.public_url, ctx.screenshot_artifact_id)
            if ctx.screenshot_artifact_id is not None
            else None
        ),
    }


def render(ctx: AlertContext) -> AlertMessage:
    assert ctx.incident.id is not None
    return AlertMessage(
        incident_id=ctx.incident.id,
        event=ctx.event,
        subject=subject(ctx),
        text=render_text(ctx),
        html=render_html(ctx),
        url=incident_url(ctx.public_url, ctx.incident.id),
        data=render_data(ctx),
        images=(ctx.screenshot,) if ctx.screenshot is not None else (),
    )
