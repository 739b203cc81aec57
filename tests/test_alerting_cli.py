"""`goldwatch run` as an operator types it, against the demo target and a real SMTP server:
the alert is in the inbox when the command returns; a mail server that is down leaves it
queued with its error; a bad channel setting stops the command with one line."""

from __future__ import annotations

from sqlmodel import col, select

from runner.db import make_engine, read_session
from runner.models import AuditLog, Notification
from tests.alerting_support import SmtpSink, body, smtp_values
from tests.conftest import DemoTarget, run_goldwatch

pytest_plugins = ("tests.alerting_support",)


def _env(monitor_env: dict[str, str], smtp: SmtpSink, **values: str) -> dict[str, str]:
    email = {f"GOLDWATCH_{k.upper()}": str(v) for k, v in smtp_values(smtp).items()}
    return {**monitor_env, **email, **{f"GOLDWATCH_{k.upper()}": v for k, v in values.items()}}


def _rows(env: dict[str, str]) -> tuple[list[Notification], list[AuditLog]]:
    engine = make_engine(env["GOLDWATCH_DATABASE_URL"])
    try:
        with read_session(engine) as session:
            notes = list(session.exec(select(Notification).order_by(col(Notification.id))))
            audit = list(session.exec(select(AuditLog).order_by(col(AuditLog.id))))
    finally:
        engine.dispose()
    return notes, audit


def test_run_delivers_the_alert_before_it_exits(
    monitor_env: dict[str, str], demo_target: DemoTarget, smtp: SmtpSink
) -> None:
    env = _env(monitor_env, smtp)
    demo_target.fault("api_down")
    for _ in range(3):
        result = run_goldwatch("run", "api_health", env=env)
        assert result.code == 1, result.stderr
    api = f"API health check failing: GET {demo_target.url}/api/health"
    assert smtp.subjects() == [f"[Goldwatch][HIGH] {api}"]
    text = body(smtp.messages[0])
    assert "http://127.0.0.1:8000/dashboard/monitoring/incidents/1" in text
    assert "503" in text

    demo_target.mend("api_down")
    result = run_goldwatch("run", "api_health", env=env)
    assert result.code == 0, result.stderr
    assert [s.split(" (lasted")[0] for s in smtp.subjects()] == [
        f"[Goldwatch][HIGH] {api}",
        f"[Goldwatch][RESOLVED] {api}",
    ]
    notes, audit = _rows(env)
    assert [(n.event, n.channel, n.status) for n in notes] == [
        ("raised", "email", "sent"),
        ("resolved", "email", "sent"),
    ]
    assert [a.event for a in audit] == [
        "INCIDENT_RAISED",
        "ALERT_SENT",
        "INCIDENT_RESOLVED",
        "ALERT_SENT",
    ]


def test_a_web_failure_seen_first_in_an_api_outage_sends_one_email_about_the_api(
    monitor_env: dict[str, str], demo_target: DemoTarget, smtp: SmtpSink
) -> None:
    env = _env(monitor_env, smtp)
    demo_target.fault("api_down")
    demo_target.fault("web_down")
    result = run_goldwatch("run", "web_health", env=env)
    assert result.code == 1, result.stderr
    first, api_line, web, web_line = result.stdout.splitlines()[:4]
    assert first.startswith("check_api_health") and "run first" in first
    assert api_line.startswith("  incident #1 raised: API health check failing")
    assert web.startswith("check_web_health")
    assert web_line.startswith("  incident #2 raised: Web health check failing")
    assert web_line.endswith("linked to #1)")
    api = f"API health check failing: GET {demo_target.url}/api/health"
    assert smtp.subjects() == [f"[Goldwatch][HIGH] {api} (+1 affected)"]

    result = run_goldwatch("run", "all", env=env)  # the outage goes on: nothing new to say
    assert result.code == 1, result.stderr
    assert len(smtp.messages) == 1


def test_a_web_failure_with_the_api_up_is_alerted_on_its_own(
    monitor_env: dict[str, str], demo_target: DemoTarget, smtp: SmtpSink
) -> None:
    env = _env(monitor_env, smtp)
    demo_target.fault("web_down")
    result = run_goldwatch("run", "web_health", env=env)
    assert result.code == 1, result.stderr
    assert result.stdout.startswith("check_api_health")
    assert "success" in result.stdout.splitlines()[0]
    web = f"Web health check failing: GET {demo_target.url}/"
    assert smtp.subjects() == [f"[Goldwatch][HIGH] {web}"]
    notes, _audit = _rows(env)
    assert [(n.event, n.status) for n in notes] == [("raised", "sent")]


def test_with_the_mail_server_down_the_alert_stays_queued_with_its_error(
    monitor_env: dict[str, str], demo_target: DemoTarget, smtp: SmtpSink
) -> None:
    smtp.down()
    # The first retry falls after the bounded flush: the command does not wait for it.
    env = _env(monitor_env, smtp, alert_retry_base_seconds="60")
    demo_target.fault("api_down")
    result = run_goldwatch("run", "api_health", env=env, timeout=60)
    assert result.code == 1
    assert "raised alert for incident #1 via email still queued after 1 attempt(s)" in (
        result.stderr
    )
    assert f"cannot connect to SMTP server 127.0.0.1:{smtp.port}: connection refused" in (
        result.stderr
    )
    notes, audit = _rows(env)
    assert [(n.status, n.attempts) for n in notes] == [("pending", 1)]
    assert [a.event for a in audit] == ["INCIDENT_RAISED", "ALERT_FAILED"]


def test_a_bad_channel_setting_stops_the_command_with_one_line(
    monitor_env: dict[str, str],
) -> None:
    env = {**monitor_env, "GOLDWATCH_WEBHOOK_URL": "hooks.example.test/alerts"}
    result = run_goldwatch("run", "api_health", env=env)
    assert result.code == 2
    assert result.stderr.strip().splitlines() == [
        "goldwatch: invalid setting GOLDWATCH_WEBHOOK_URL (got 'hooks.example.test/alerts'): "
        "expected an http:// or https:// URL"
    ]
