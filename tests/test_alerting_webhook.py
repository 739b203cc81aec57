"""The webhook channel against a real local HTTP receiver: a Slack-style `text` plus the
structured incident; a 500 is retried, a 404 is given up with its error."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.alerting import build_channels
from runner.settings import ConfigError
from tests.alerting_support import (
    F3,
    PUBLIC_URL,
    Clock,
    Configure,
    Monitor,
    SmtpSink,
    StartMonitor,
    WebhookReceiver,
    flow_failed,
    make_settings,
    passing,
    smtp_values,
)

pytest_plugins = ("tests.alerting_support",)


@pytest.fixture
def hook_monitor(
    configure: Configure, start_monitor: StartMonitor, receiver: WebhookReceiver
) -> Monitor:
    return start_monitor(configure(webhook_url=receiver.url))


def test_the_webhook_gets_readable_text_and_the_structured_incident(
    hook_monitor: Monitor, receiver: WebhookReceiver
) -> None:
    clock = hook_monitor.clock
    hook_monitor.run(flow_failed(clock()), screenshot=True)
    clock.advance(minutes=3)
    hook_monitor.run(passing("golden_flows:f3", clock()))

    raised, resolved = receiver.received
    assert raised["text"].startswith(f"[Goldwatch][HIGH] {F3}\n\n")
    assert "Reproduce locally" in raised["text"]
    assert raised["event"] == "raised"
    incident = raised["incident"]
    assert incident["id"] == 1 and incident["severity"] == "high" and incident["status"] == "open"
    assert incident["details"]["failing_step"] == "Open paywall"
    assert raised["url"] == f"{PUBLIC_URL}/dashboard/monitoring/incidents/1"
    assert raised["screenshot_url"] == f"{PUBLIC_URL}/api/monitoring/artifacts/1"
    assert resolved["event"] == "resolved"
    assert resolved["incident"]["resolved_at"] == "2025-03-03T09:03:00+00:00"
    assert resolved["text"].startswith(f"[Goldwatch][RESOLVED] {F3} (lasted 3m 0s)")


def test_a_500_is_retried_with_backoff(hook_monitor: Monitor, receiver: WebhookReceiver) -> None:
    clock = hook_monitor.clock
    receiver.status = 500
    hook_monitor.run(flow_failed(clock()))
    (row,) = hook_monitor.notifications()
    assert (row.status, row.last_error) == (
        "pending",
        "webhook answered HTTP 500 Internal Server Error: no such hook",
    )
    receiver.status = 200
    clock.advance(seconds=15)
    [delivery] = hook_monitor.deliver()
    assert delivery.ok and delivery.attempt == 2
    assert len(receiver.received) == 1


def test_a_404_is_permanent(hook_monitor: Monitor, receiver: WebhookReceiver) -> None:
    clock = hook_monitor.clock
    receiver.status = 404
    hook_monitor.run(flow_failed(clock()))
    (row,) = hook_monitor.notifications()
    assert row.status == "failed" and "HTTP 404" in (row.last_error or "")
    clock.advance(hours=1)
    assert hook_monitor.deliver() == []
    (failed,) = hook_monitor.audit("ALERT_FAILED")
    assert failed.data["channel"] == "webhook" and failed.data["permanent"] is True


def test_an_unreachable_receiver_is_retried(
    configure: Configure, start_monitor: StartMonitor, clock: Clock
) -> None:
    down = WebhookReceiver().up()
    url = down.url
    down.down()
    monitor = start_monitor(configure(webhook_url=url))
    monitor.run(flow_failed(clock()))
    (row,) = monitor.notifications()
    assert row.status == "pending" and "ConnectError" in (row.last_error or "")


@pytest.mark.parametrize("url", ["ftp://hooks.test/x", "hooks.slack.test/services/x", "http://"])
def test_a_bad_webhook_url_stops_start_up(clean_env: Path, url: str) -> None:
    with pytest.raises(ConfigError, match="GOLDWATCH_WEBHOOK_URL"):
        build_channels(make_settings(clean_env, webhook_url=url))


def test_each_channel_delivers_on_its_own(
    configure: Configure,
    start_monitor: StartMonitor,
    receiver: WebhookReceiver,
    smtp: SmtpSink,
) -> None:
    monitor = start_monitor(configure(**smtp_values(smtp), webhook_url=receiver.url))
    clock = monitor.clock
    receiver.status = 503
    monitor.run(flow_failed(clock()))
    assert {(n.channel, n.status) for n in monitor.notifications()} == {
        ("email", "sent"),
        ("webhook", "pending"),
    }
    assert smtp.subjects() == [f"[Goldwatch][HIGH] {F3}"]
    receiver.status = 200
    clock.advance(seconds=15)
    monitor.deliver()
    assert [r["event"] for r in receiver.received] == ["raised"]
    assert len(smtp.messages) == 1
