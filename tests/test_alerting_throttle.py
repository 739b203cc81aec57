"""What the on-call person's inbox shows over an incident's life: one email when it breaks, a
reminder at most hourly while it stays broken, one when it recovers; a real SMTP server."""

from __future__ import annotations

import re

from tests.alerting_support import (
    F3,
    PUBLIC_URL,
    SHOP,
    T0,
    Monitor,
    SmtpSink,
    body,
    flow_failed,
    line_value,
    passing,
    readable,
)

pytest_plugins = ("tests.alerting_support",)


def test_five_failures_inside_an_hour_send_one_actionable_email(
    mail_monitor: Monitor, smtp: SmtpSink
) -> None:
    clock = mail_monitor.clock
    for _ in range(5):
        mail_monitor.run(flow_failed(clock()), screenshot=True)
        mail_monitor.deliver()
        clock.advance(minutes=11)

    assert smtp.subjects() == [f"[Goldwatch][HIGH] {F3}"]
    email = smtp.messages[0]
    print(f"\n----- email as received -----\n{readable(email)}")
    text = body(email)
    incident_id = int(email["X-Goldwatch-Incident"])
    assert f"{PUBLIC_URL}/dashboard/monitoring/incidents/{incident_id}" in text
    assert line_value(text, "Failing step") == "Open paywall"
    assert line_value(text, "Error").startswith("Locator.click: Timeout 3000ms exceeded")
    assert f"pytest flows/test_f3.py::test_f3 --base-url={SHOP} --headed" in text
    assert line_value(text, "First seen") == "2025-03-03 09:00:00 UTC"
    assert line_value(text, "Occurrences") == "1"
    assert sorted(smtp.envelopes[0][1]) == ["cto@shop.test", "oncall@shop.test"]

    # The failure screenshot is inline in the HTML, referenced by its Content-ID.
    html = body(email, "html")
    images = [part for part in email.walk() if part.get_content_type() == "image/png"]
    assert len(images) == 1
    cid = str(images[0]["Content-ID"]).strip("<>")
    assert f'src="cid:{cid}"' in html
    assert images[0].get_content_disposition() == "inline"
    assert images[0].get_content()[:8] == b"\x89PNG\r\n\x1a\n"

    incident = mail_monitor.incident(incident_id)
    assert incident.occurrences == 5
    assert incident.last_alerted_at == T0  # alerted when the first send succeeded


def test_recovery_sends_exactly_one_resolved_email_saying_how_long(
    mail_monitor: Monitor, smtp: SmtpSink
) -> None:
    clock = mail_monitor.clock
    mail_monitor.run(flow_failed(clock()))
    clock.advance(minutes=30)
    mail_monitor.run(flow_failed(clock()))
    clock.advance(minutes=12, seconds=5)
    mail_monitor.run(passing("golden_flows:f3", clock()))
    clock.advance(minutes=30)
    mail_monitor.run(passing("golden_flows:f3", clock()))
    mail_monitor.deliver()

    assert smtp.subjects() == [
        f"[Goldwatch][HIGH] {F3}",
        f"[Goldwatch][RESOLVED] {F3} (lasted 42m 5s)",
    ]
    text = body(smtp.messages[1])
    assert text.startswith(f"Resolved: {F3}. It lasted 42m 5s")
    assert line_value(text, "Resolved") == "2025-03-03 09:42:05 UTC (lasted 42m 5s)"
    assert not [p for p in smtp.messages[1].walk() if p.get_content_maintype() == "image"]
    # Mail clients thread the resolve under the raise.
    assert smtp.messages[0]["References"] == smtp.messages[1]["References"]


def test_still_failing_an_hour_later_sends_one_reminder(
    mail_monitor: Monitor, smtp: SmtpSink
) -> None:
    clock = mail_monitor.clock
    mail_monitor.run(flow_failed(clock()))
    for minutes in (30, 30, 1, 10, 10):  # 60 minutes after the raise, then twice more
        clock.advance(minutes=minutes)
        mail_monitor.run(flow_failed(clock()))

    assert smtp.subjects() == [
        f"[Goldwatch][HIGH] {F3}",
        f"[Goldwatch][HIGH] Still failing: {F3}",
    ]
    text = body(smtp.messages[1])
    assert text.startswith(f"Still failing: {F3}, since 2025-03-03 09:00:00 UTC (1h 0m ago)")
    assert line_value(text, "Occurrences") == "3"


def test_flapping_inside_the_window_sends_nothing_new(
    mail_monitor: Monitor, smtp: SmtpSink
) -> None:
    clock = mail_monitor.clock
    subject = "golden_flows:f3"
    mail_monitor.run(flow_failed(clock()))
    for _ in range(3):  # recovers, breaks again five minutes later (reopens), ...
        clock.advance(minutes=5)
        mail_monitor.run(passing(subject, clock()))
        clock.advance(minutes=5)
        mail_monitor.run(flow_failed(clock()))
    clock.advance(minutes=5)
    mail_monitor.run(passing(subject, clock()))

    # One raise and the first resolve; the reopens inside the hour say nothing, and so do
    # their resolves (nothing was announced for them).
    assert [re.sub(r" \(lasted .*\)", "", s) for s in smtp.subjects()] == [
        f"[Goldwatch][HIGH] {F3}",
        f"[Goldwatch][RESOLVED] {F3}",
    ]
    assert len({n.incident_id for n in mail_monitor.notifications()}) == 1


def test_breaking_again_after_the_window_is_announced_again(
    mail_monitor: Monitor, smtp: SmtpSink
) -> None:
    clock = mail_monitor.clock
    subject = "golden_flows:f3"
    mail_monitor.run(flow_failed(clock()))
    clock.advance(minutes=50)
    mail_monitor.run(passing(subject, clock()))
    clock.advance(minutes=20)  # reopened (inside the de-dup window), but past the throttle
    mail_monitor.run(flow_failed(clock()))
    clock.advance(minutes=5)
    mail_monitor.run(passing(subject, clock()))

    assert [s.split("] ")[0] + "]" for s in smtp.subjects()] == [
        "[Goldwatch][HIGH]",
        "[Goldwatch][RESOLVED]",
        "[Goldwatch][HIGH]",
        "[Goldwatch][RESOLVED]",
    ]
