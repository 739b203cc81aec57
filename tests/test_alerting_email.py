"""The email channel against a real SMTP server that goes down, stalls, drops the connection,
refuses logins and recipients: nothing is lost, every attempt is on record, and product text
cannot forge headers or markup."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from runner.alerting.email import EmailChannel, tls_options
from runner.settings import ConfigError, SmtpTls
from tests.alerting_support import (
    F3,
    Clock,
    Configure,
    Monitor,
    SmtpSink,
    StartMonitor,
    body,
    flow_failed,
    make_settings,
    passing,
    smtp_values,
)

pytest_plugins = ("tests.alerting_support",)


def test_smtp_down_during_the_failure_delivers_after_it_returns(
    mail_monitor: Monitor, smtp: SmtpSink
) -> None:
    clock = mail_monitor.clock
    smtp.down()
    mail_monitor.run(flow_failed(clock()))  # the run's own delivery pass fails
    for seconds in (15, 30, 60):  # backoff: 15 s, then doubling
        assert mail_monitor.deliver() == []  # not due yet: no attempt before its time
        clock.advance(seconds=seconds)
        [failed] = mail_monitor.deliver()
        assert not failed.ok and not failed.permanent
    (row,) = mail_monitor.notifications()
    assert (row.status, row.attempts) == ("pending", 4)
    assert (
        row.last_error == f"cannot connect to SMTP server 127.0.0.1:{smtp.port}: connection refused"
    )
    assert row.next_attempt_at == clock() + timedelta(seconds=120)

    smtp.up()
    clock.advance(seconds=120)
    [sent] = mail_monitor.deliver()
    assert sent.ok
    assert smtp.subjects() == [f"[Goldwatch][HIGH] {F3}"]
    (row,) = mail_monitor.notifications()
    assert (row.status, row.attempts, row.sent_at) == ("sent", 5, clock())
    assert row.last_error is not None  # the delay stays explained

    audit = [(a.event, a.data["attempt"]) for a in mail_monitor.audit("ALERT_SENT", "ALERT_FAILED")]
    assert audit == [("ALERT_FAILED", n) for n in range(1, 5)] + [("ALERT_SENT", 5)]
    failure = mail_monitor.audit("ALERT_FAILED")[0]
    assert failure.data["channel"] == "email" and failure.data["permanent"] is False
    assert "refused" in failure.data["error"].lower()
    assert [a.event for a in mail_monitor.audit("INCIDENT_RAISED")] == ["INCIDENT_RAISED"]


def test_an_outage_spanning_the_whole_incident_delivers_raise_then_resolve(
    mail_monitor: Monitor, smtp: SmtpSink
) -> None:
    clock = mail_monitor.clock
    smtp.down()
    mail_monitor.run(flow_failed(clock()))
    clock.advance(minutes=20)
    mail_monitor.run(passing("golden_flows:f3", clock()))
    smtp.up()
    clock.advance(minutes=20)
    mail_monitor.deliver()
    mail_monitor.deliver()

    subjects = smtp.subjects()
    assert subjects == [f"[Goldwatch][HIGH] {F3}", f"[Goldwatch][RESOLVED] {F3} (lasted 20m 0s)"]
    # Rendered at delivery: the late raise already says it recovered.
    assert "It has since recovered at 2025-03-03 09:20:00 UTC" in body(smtp.messages[0])


@pytest.mark.parametrize(
    "fault",
    ["4xx reply", "dropped mid-message", "login rejected", "stalled"],
)
def test_transient_smtp_faults_keep_the_alert_queued_until_it_goes_through(
    configure: Configure, start_monitor: StartMonitor, clock: Clock, fault: str
) -> None:
    sink = SmtpSink(login=("monitor", "s3cret"))
    settings_values: dict[str, object] = {
        "smtp_username": "monitor",
        "smtp_password": "s3cret",
        "smtp_timeout_seconds": 0.5,
    }
    if fault == "4xx reply":
        sink.data_reply = "451 4.3.0 Mailbox temporarily unavailable"
    elif fault == "dropped mid-message":
        sink.drop = True
    elif fault == "login rejected":
        sink.login = ("monitor", "old-password")
    else:
        sink.stall_seconds = 1.5
    sink.up()
    try:
        monitor = start_monitor(configure(**{**smtp_values(sink), **settings_values}))
        monitor.run(flow_failed(clock()))
        (row,) = monitor.notifications()
        assert (row.status, row.attempts) == ("pending", 1)
        assert sink.messages == []
        expected = {
            "4xx reply": "451",
            "dropped mid-message": "disconnect",
            "login rejected": "login rejected",
            "stalled": "timed out",
        }[fault]
        assert expected in (row.last_error or "").lower(), row.last_error

        sink.data_reply, sink.drop, sink.stall_seconds = None, False, 0.0
        sink.login = ("monitor", "s3cret")
        clock.advance(seconds=15)
        [delivery] = monitor.deliver()
        assert delivery.ok, delivery.error
        assert sink.subjects() == [f"[Goldwatch][HIGH] {F3}"]
    finally:
        sink.down()


def test_a_rejected_recipient_is_a_permanent_failure(
    configure: Configure, start_monitor: StartMonitor, clock: Clock, smtp: SmtpSink
) -> None:
    smtp.refuse = {"nobody@shop.test": "550 5.1.1 No such user"}
    monitor = start_monitor(configure(**smtp_values(smtp, alert_to="nobody@shop.test")))
    monitor.run(flow_failed(clock()))
    (row,) = monitor.notifications()
    assert row.status == "failed"
    assert "nobody@shop.test: 550" in (row.last_error or "")
    clock.advance(hours=2)
    assert monitor.deliver() == []  # never retried
    (audit,) = monitor.audit("ALERT_FAILED")
    assert audit.data["permanent"] is True and "550" in audit.data["error"]


def test_starttls_is_required_when_asked_never_skipped(
    configure: Configure, start_monitor: StartMonitor, clock: Clock, smtp: SmtpSink
) -> None:
    # The test server offers no STARTTLS: the alert must not go out in plain text.
    monitor = start_monitor(configure(**smtp_values(smtp, smtp_tls="starttls")))
    monitor.run(flow_failed(clock()))
    (row,) = monitor.notifications()
    assert row.status == "pending" and "STARTTLS" in (row.last_error or "")
    assert smtp.messages == []


def test_tls_modes_map_to_explicit_aiosmtplib_arguments() -> None:
    assert tls_options(SmtpTls.tls) == {"use_tls": True, "start_tls": False}
    assert tls_options(SmtpTls.starttls) == {"use_tls": False, "start_tls": True}
    assert tls_options(SmtpTls.none) == {"use_tls": False, "start_tls": False}


def test_hostile_product_text_cannot_inject_headers_or_markup(
    mail_monitor: Monitor, smtp: SmtpSink
) -> None:
    clock = mail_monitor.clock
    nasty_step = 'Pay\r\nBcc: attacker@evil.test\r\nX-Injected: yes <b>"now"</b>'
    nasty_error = "<script>alert(1)</script><img src=x onerror=alert(2)>\r\n\r\nBody: forged"
    mail_monitor.run(flow_failed(clock(), step=nasty_step, error=nasty_error))

    (email,) = smtp.messages
    assert email["Bcc"] is None and email["X-Injected"] is None
    assert sorted(smtp.envelopes[0][1]) == ["cto@shop.test", "oncall@shop.test"]
    subject = str(email["Subject"])
    assert "\n" not in subject and "\r" not in subject
    assert subject.startswith('[Goldwatch][HIGH] F3 Preview → Billing/Paywall failing at "Pay ')
    html = body(email, "html")
    assert "<script>" not in html and "<img src=x" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)</script>" in body(email)  # plain text shows it as it was


@pytest.mark.parametrize(
    ("values", "names"),
    [
        ({"alert_to": "oncall@shop.test"}, "GOLDWATCH_SMTP_HOST"),
        ({"smtp_host": "127.0.0.1"}, "GOLDWATCH_ALERT_TO"),
        ({"smtp_host": "127.0.0.1", "alert_to": "oncall"}, "GOLDWATCH_ALERT_TO"),
        (
            {"smtp_host": "127.0.0.1", "alert_to": "a@b.test", "alert_from": "x\r\nBcc: y@z"},
            "GOLDWATCH_ALERT_FROM",
        ),
        (
            {"smtp_host": "127.0.0.1", "alert_to": "a@b.test", "smtp_username": "u"},
            "GOLDWATCH_SMTP_PASSWORD",
        ),
    ],
)
def test_a_bad_email_setting_is_named_at_start(
    clean_env: Path, values: dict[str, str], names: str
) -> None:
    channel = EmailChannel.from_settings(make_settings(clean_env, **values))
    assert channel is not None
    with pytest.raises(ConfigError, match=names) as error:
        channel.validate()
    assert "\n" not in str(error.value)
