"""The outbox under contention and crashes: two dispatchers send each alert once, a claim left
by a dead sender is taken over, a resolve never overtakes its raise, `goldwatch run` flushes
with a bounded wait, and the runtime wires it all (or stops on a bad channel setting)."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from pathlib import Path

import pytest

from runner.alerting import Alerting, requeue
from runner.alerting.outbox import Backoff
from runner.db import make_engine
from runner.runtime import Runtime
from runner.settings import ConfigError
from tests.alerting_support import (
    F3,
    T0,
    Clock,
    Configure,
    Monitor,
    SmtpSink,
    StartMonitor,
    body,
    flow_failed,
    http_failed,
    make_settings,
    passing,
    smtp_values,
)

pytest_plugins = ("tests.alerting_support",)


def test_two_dispatchers_at_once_send_each_alert_once(
    configure: Configure, start_monitor: StartMonitor, clock: Clock, smtp: SmtpSink
) -> None:
    settings = configure(**smtp_values(smtp))
    monitor = start_monitor(settings, deliver_after_runs=False)
    for number in range(24):
        monitor.run(http_failed(f"check{number}", clock()))
    engines = [make_engine(settings.database_url) for _ in range(2)]
    dispatchers = [Alerting.start(settings, engine, clock).dispatcher for engine in engines]
    start = threading.Barrier(2)
    sent: list[list[int]] = [[], []]

    def work(index: int) -> None:
        start.wait()
        while batch := dispatchers[index].run_once(max_rounds=1):
            sent[index] += [d.notification_id for d in batch if d.ok]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        for engine in engines:
            engine.dispose()

    assert len(smtp.messages) == 24
    incidents = Counter(m["X-Goldwatch-Incident"] for m in smtp.messages)
    assert set(incidents.values()) == {1}
    assert sorted(sent[0] + sent[1]) == list(range(1, 25))
    assert all(n.status == "sent" and n.attempts == 1 for n in monitor.notifications())
    assert len(monitor.audit("ALERT_SENT")) == 24


def test_a_claim_left_by_a_dead_sender_is_taken_over_later(
    configure: Configure, start_monitor: StartMonitor, clock: Clock, smtp: SmtpSink
) -> None:
    monitor = start_monitor(configure(**smtp_values(smtp)), deliver_after_runs=False)
    monitor.run(flow_failed(clock()))
    dispatcher = monitor.alerting.dispatcher
    assert dispatcher.claim(1) is not None  # ... and the process dies before sending
    assert dispatcher.claim(1) is None
    assert monitor.deliver() == []
    clock.advance(seconds=dispatcher.claim_ttl.total_seconds() + 1)
    [delivery] = monitor.deliver()
    assert delivery.ok and delivery.attempt == 2
    assert smtp.subjects() == [f"[Goldwatch][HIGH] {F3}"]


def test_a_resolve_waits_for_its_raise(mail_monitor: Monitor, smtp: SmtpSink) -> None:
    clock = mail_monitor.clock
    smtp.down()
    mail_monitor.run(flow_failed(clock()))  # raise fails: retry at +15 s
    clock.advance(seconds=5)
    mail_monitor.run(passing("golden_flows:f3", clock()))  # resolve due now, but not its turn
    raised, resolved = mail_monitor.notifications()
    assert (raised.attempts, resolved.attempts) == (1, 0)
    smtp.up()
    clock.advance(seconds=10)
    assert [d.event for d in mail_monitor.deliver()] == ["raised", "resolved"]
    assert [s.split("]")[1] for s in smtp.subjects()] == ["[HIGH", "[RESOLVED"]


def test_backoff_doubles_up_to_its_cap() -> None:
    backoff = Backoff(base=15, cap=600)
    delays = [backoff.delay(n).total_seconds() for n in range(1, 9)]
    assert delays == [15, 30, 60, 120, 240, 480, 600, 600]


def test_flush_waits_a_bounded_time_then_leaves_the_alert_queued_with_its_error(
    mail_monitor: Monitor, smtp: SmtpSink, caplog: pytest.LogCaptureFixture
) -> None:
    clock = mail_monitor.clock
    smtp.down()
    mail_monitor.run(flow_failed(clock()))
    dispatcher = mail_monitor.alerting.dispatcher

    def sleep(seconds: float) -> None:
        clock.advance(seconds=seconds)

    def monotonic() -> float:
        return (clock() - T0).total_seconds()

    with caplog.at_level(logging.WARNING, "goldwatch.alerts"):
        left = dispatcher.flush(40, sleep=sleep, monotonic=monotonic)
    assert [(n.event, n.attempts) for n in left] == [("raised", 2)]  # at 0 s (run) and 15 s
    assert "raised alert for incident #1 via email still queued after 2 attempt(s)" in caplog.text
    assert "connection refused" in caplog.text

    smtp.up()
    assert dispatcher.flush(60, sleep=sleep, monotonic=monotonic) == []
    assert len(smtp.messages) == 1


def test_a_failed_alert_can_be_requeued_after_fixing_the_cause(
    configure: Configure, start_monitor: StartMonitor, clock: Clock, smtp: SmtpSink
) -> None:
    smtp.refuse = {"oncall@shop.test": "550 5.1.1 No such user"}
    monitor = start_monitor(configure(**smtp_values(smtp, alert_to="oncall@shop.test")))
    monitor.run(flow_failed(clock()))
    assert monitor.notifications()[0].status == "failed"
    smtp.refuse = {}
    assert requeue(monitor.engine, 1, clock())
    assert not requeue(monitor.engine, 1, clock())  # only failed rows
    [delivery] = monitor.deliver()
    assert delivery.ok and len(smtp.messages) == 1


def test_without_email_or_webhook_the_console_shows_the_whole_alert(
    configure: Configure,
    start_monitor: StartMonitor,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monitor = start_monitor(configure())
    with caplog.at_level(logging.WARNING, "goldwatch.alerts"):
        monitor.run(flow_failed(clock()))
    assert list(monitor.alerting.channels) == ["console"]
    assert f"[Goldwatch][HIGH] {F3}" in caplog.text
    assert "Reproduce locally" in caplog.text
    assert "https://monitor.shop.test/dashboard/monitoring/incidents/1" in caplog.text
    assert monitor.notifications()[0].status == "sent"


def test_runtime_wires_planner_dispatcher_and_periodic_delivery(
    clean_env: Path, smtp: SmtpSink
) -> None:
    runtime = Runtime.start(make_settings(clean_env, **smtp_values(smtp)))
    assert runtime.alerting is not None
    assert runtime.pipeline.on_change is runtime.alerting.planner
    seconds, job = runtime.periodic_jobs()["deliver_alerts"]
    assert seconds == 5.0 and job == runtime.alerting.deliver
    runtime.flush_alerts()  # nothing queued: returns at once


@pytest.mark.parametrize(
    ("values", "line"),
    [
        ({"webhook_url": "hooks.test/x"}, "invalid setting GOLDWATCH_WEBHOOK_URL"),
        ({"alert_to": "oncall@shop.test"}, "invalid setting GOLDWATCH_SMTP_HOST"),
    ],
)
def test_a_bad_channel_setting_stops_runtime_start(
    clean_env: Path, values: dict[str, str], line: str
) -> None:
    with pytest.raises(ConfigError) as error:
        Runtime.start(make_settings(clean_env, **values))
    assert str(error.value).startswith(line) and "\n" not in str(error.value)
    assert not (clean_env / "goldwatch.db").exists()  # stopped before touching the database


def test_email_body_is_readable_as_plain_text(mail_monitor: Monitor, smtp: SmtpSink) -> None:
    mail_monitor.run(flow_failed(mail_monitor.clock()))
    text = body(smtp.messages[0])
    assert text.splitlines()[2] == (
        "Incident #1: https://monitor.shop.test/dashboard/monitoring/incidents/1"
    )
