"""A correlated outage: the API is down, so the web check and the flows fail too. The on-call
person gets one email about the API that lists the rest, not one per symptom."""

from __future__ import annotations

from tests.alerting_support import (
    F3,
    PUBLIC_URL,
    SHOP,
    Monitor,
    SmtpSink,
    api_down,
    body,
    flow_failed,
    line_value,
    passing,
    web_down,
)

pytest_plugins = ("tests.alerting_support",)
API = f"API health check failing: GET {SHOP}/api/health"
WEB = f"Web health check failing: GET {SHOP}/"


def _outage(monitor: Monitor) -> None:
    clock = monitor.clock
    monitor.run(api_down(clock()))
    clock.advance(seconds=2)
    monitor.run(web_down(clock()))
    clock.advance(seconds=40)
    monitor.run(flow_failed(clock(), "f1"), flow_failed(clock(), "f3"))


def test_a_correlated_outage_sends_one_email(mail_monitor: Monitor, smtp: SmtpSink) -> None:
    clock = mail_monitor.clock
    _outage(mail_monitor)
    for _ in range(4):  # it stays down for a while
        clock.advance(minutes=5)
        mail_monitor.run(api_down(clock()))
        mail_monitor.run(web_down(clock()))
        mail_monitor.deliver()

    assert smtp.subjects() == [f"[Goldwatch][HIGH] {API}"]
    text = body(smtp.messages[0])
    assert line_value(text, "Status code") == "503"
    assert line_value(text, "Endpoint") == f"GET {SHOP}/api/health"
    assert line_value(text, "Error") == "HTTP 503 Service Unavailable"
    assert f"curl -sS -i --max-time 30 {SHOP}/api/health" in text


def test_the_api_alert_lists_what_it_explains(mail_monitor: Monitor, smtp: SmtpSink) -> None:
    clock = mail_monitor.clock
    smtp.down()  # the first attempt fails; the retry renders the incident as it is then
    _outage(mail_monitor)
    smtp.up()
    clock.advance(minutes=1)
    mail_monitor.deliver()

    assert smtp.subjects() == [f"[Goldwatch][HIGH] {API} (+3 affected)"]
    text = body(smtp.messages[0])
    section = text.split("Also affected (explained by this outage, not alerted separately)\n")[1]
    listed = section.split("\n\n")[0].splitlines()
    assert listed == [
        f"  #2: {WEB} [HIGH]",
        '  #3: F1 Landing → Onboarding failing at "Start onboarding" [MEDIUM]',
        f"  #4: {F3} [HIGH]",
    ]
    assert f'href="{PUBLIC_URL}/dashboard/monitoring/incidents/1"' in body(smtp.messages[0], "html")


def test_the_hourly_reminder_lists_them_too(mail_monitor: Monitor, smtp: SmtpSink) -> None:
    clock = mail_monitor.clock
    _outage(mail_monitor)
    clock.advance(minutes=61)
    mail_monitor.run(api_down(clock()))

    assert smtp.subjects() == [
        f"[Goldwatch][HIGH] {API}",
        f"[Goldwatch][HIGH] Still failing: {API} (+3 affected)",
    ]


def test_what_outlives_the_api_outage_alerts_then_and_the_rest_says_nothing(
    mail_monitor: Monitor, smtp: SmtpSink
) -> None:
    clock = mail_monitor.clock
    _outage(mail_monitor)
    clock.advance(minutes=10)
    mail_monitor.run(passing("api_health", clock()))  # the API is back, F3 still broken
    clock.advance(seconds=5)
    mail_monitor.run(passing("web_health", clock()))
    mail_monitor.run(passing("golden_flows:f1", clock()), flow_failed(clock(), "f3"))
    clock.advance(minutes=30)
    mail_monitor.run(passing("golden_flows:f1", clock()), passing("golden_flows:f3", clock()))

    assert [s.split(" (lasted")[0] for s in smtp.subjects()] == [
        f"[Goldwatch][HIGH] {API}",
        f"[Goldwatch][RESOLVED] {API}",
        f"[Goldwatch][HIGH] {F3}",  # on its own now that the API explains nothing
        f"[Goldwatch][RESOLVED] {F3}",
    ]
    # The web and F1 incidents were explained by the API the whole time: no resolve for them.
    resolved = {a.incident_id for a in mail_monitor.audit("INCIDENT_RESOLVED")}
    assert resolved == {1, 2, 3, 4}
    alerted = {n.incident_id for n in mail_monitor.notifications()}
    assert alerted == {1, 4}
