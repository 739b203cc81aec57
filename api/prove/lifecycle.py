"""The incident's life, as the scheduler runs it: a fault switched on in the demo target, the
incident raised, the alert email, the red dashboard; the fault off, the incident resolved, the
resolved email, the green dashboard, the incident list and page, the audit trail."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx

from api.prove import browser, evidence
from api.prove.context import ALERT_TO, FAULT, Story
from api.prove.exchange import exchange
from api.prove.smtp import Received
from api.prove.steps import Step, StepFailed
from runner.models import Incident


def _switch(story: Story, step: Step, method: str, on: bool) -> None:
    url = f"{story.target_url}/__demo/faults/{FAULT}"
    with httpx.Client(timeout=10) as client:
        seen = exchange(client, method, url)
    step.code(seen.transcript, "http", caption="The demo target's fault switch:")
    faults = seen.json() if seen.status == 200 else {}
    if not isinstance(faults, dict) or faults.get(FAULT) is not on:
        raise StepFailed(f"fault {FAULT} is not {'on' if on else 'off'}: HTTP {seen.status}")


def fault_on(story: Story, step: Step) -> None:
    step.text(
        f"Fault `{FAULT}` breaks flow F3 (Preview → Billing/Paywall) at its “Open paywall” step: "
        "the paywall lists no plan with a price. The scheduler's next golden-flows run finds it."
    )
    _switch(story, step, "PUT", on=True)


def _show_incident(step: Step, row: Incident, caption: str) -> None:
    step.code(evidence.as_json(row), "json", caption=caption)


def incident_raised(story: Story, step: Step) -> None:
    engine = story.need_engine()
    row = evidence.wait_for(
        lambda: evidence.flow_incident(engine, FAULT, resolved=False), story.options.wait_seconds
    )
    if row is None or row.id is None:
        raise StepFailed(f"no open incident for flow {FAULT} within {story.options.wait_seconds} s")
    story.incident_id = row.id
    if row.severity != "high" or "F3" not in row.message:
        raise StepFailed(f"unexpected incident: {row.severity} {row.message!r}")
    _show_incident(step, row, f"The `incident` row #{row.id}:")


def _email(story: Story, step: Step, event: str, filename: str) -> Received:
    incident_id = str(story.need_incident())
    received = story.need_sink().wait_for(
        lambda m: (
            m.header("X-Goldwatch-Incident") == incident_id
            and m.header("X-Goldwatch-Event") == event
        ),
        story.options.wait_seconds,
    )
    if received is None:
        raise StepFailed(f"no {event} email for incident #{incident_id} reached the SMTP sink")
    if ALERT_TO not in received.rcpt_to:
        raise StepFailed(f"the {event} email went to {received.rcpt_to}, not {ALERT_TO}")
    (story.folder / filename).write_bytes(received.raw)
    story.emails[event] = received
    step.code(
        received.readable(),
        caption=f"As the SMTP sink received it (raw message: [`{filename}`]({filename})):",
    )
    return received


def alert_email(story: Story, step: Step) -> None:
    _email(story, step, "raised", "email-raised.eml")


def dashboard_red(story: Story, step: Step) -> None:
    page = story.need_page()
    reason = browser.dashboard_showing(page, "red", story.options.wait_seconds)
    browser.screenshot(page, story.folder / "2-dashboard-red.png")
    step.text(f"The indicator says: {reason}")
    step.image("2-dashboard-red.png", "Dashboard during the fault: red")


def fault_off(story: Story, step: Step) -> None:
    _switch(story, step, "DELETE", on=False)


def incident_resolved(story: Story, step: Step) -> None:
    engine, incident_id = story.need_engine(), story.need_incident()

    def resolved() -> Incident | None:
        row = evidence.incident(engine, incident_id)
        return row if row is not None and row.resolved_at is not None else None

    row = evidence.wait_for(resolved, story.options.wait_seconds)
    if row is None:
        raise StepFailed(f"incident #{incident_id} was not resolved")
    _show_incident(step, row, f"The `incident` row #{incident_id}, now with `resolved_at`:")


def resolved_email(story: Story, step: Step) -> None:
    _email(story, step, "resolved", "email-resolved.eml")


def dashboard_green_after(story: Story, step: Step) -> None:
    page = story.need_page()
    reason = browser.dashboard_showing(page, "green", story.options.wait_seconds)
    browser.screenshot(page, story.folder / "3-dashboard-green-after.png")
    step.text(f"The indicator says: {reason}")
    step.image("3-dashboard-green-after.png", "Dashboard after recovery: green")


def incident_list(story: Story, step: Step) -> None:
    page, incident_id = story.need_page(), story.need_incident()
    rows = browser.resolved_rows(page)
    browser.screenshot(page, story.folder / "4-incidents-resolved.png")
    step.code("\n".join(rows) or "(no rows)", caption="Rows of `?status=resolved`:")
    step.image("4-incidents-resolved.png", "Incident list filtered to resolved incidents")
    if not any(f"#{incident_id}" in row or str(incident_id) in row.split() for row in rows):
        raise StepFailed(f"incident #{incident_id} is not in the resolved list")


def incident_page(story: Story, step: Step) -> None:
    page, incident_id = story.need_page(), story.need_incident()
    headline = browser.incident_page(page, incident_id)
    browser.screenshot(page, story.folder / "5-incident-page.png")
    step.text(f"`/dashboard/monitoring/incidents/{incident_id}`: {headline}")
    step.image("5-incident-page.png", "The incident page with the failure screenshot")
    row = evidence.incident(story.need_engine(), incident_id)
    artifact = evidence.failure_screenshot(story.need_engine(), row) if row else None
    if artifact is None or not Path(artifact.path).is_file():
        raise StepFailed("the incident has no failure screenshot file")
    name = f"6-failure-screenshot-artifact-{artifact.id}.png"
    shutil.copyfile(artifact.path, story.folder / name)
    step.image(name, f"The failure screenshot itself (artifact #{artifact.id}, taken by the flow)")


def audit(story: Story, step: Step) -> None:
    engine, incident_id = story.need_engine(), story.need_incident()
    rows = evidence.audit_rows(engine, incident_id)
    lines = [json.dumps(r.model_dump(mode="json"), ensure_ascii=False) for r in rows]
    step.code("\n".join(lines) or "(none)", "json", caption="`audit_log` rows of the incident:")
    sent = [
        json.dumps(n.model_dump(mode="json", exclude={"payload"}), ensure_ascii=False)
        for n in evidence.notifications(engine, incident_id)
    ]
    step.code("\n".join(sent) or "(none)", "json", caption="`notification` (outbox) rows:")
    events = [r.event for r in rows]
    for needed in ("INCIDENT_RAISED", "INCIDENT_RESOLVED"):
        if needed not in events:
            raise StepFailed(f"no {needed} audit row (events: {', '.join(events)})")
    if events.count("ALERT_SENT") < 2:
        raise StepFailed(f"expected an ALERT_SENT row per email (events: {', '.join(events)})")
