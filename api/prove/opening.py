"""The first steps: the SMTP sink, the demo target, the database with its accounts, the monitor
(`goldwatch serve`) and its scheduler, the first green status, the raw status API exchanges."""

from __future__ import annotations

import re
import secrets
import time

import httpx

from api.demo import DEMO_USERS, demo_environment, write_checks
from api.prove.browser import dashboard_showing, screenshot, signed_in
from api.prove.context import ADMIN_EMAIL, ALERT_FROM, ALERT_TO, Story
from api.prove.exchange import exchange
from api.prove.monitor import start_monitor
from api.prove.processes import tag_environment
from api.prove.smtp import LOOPBACK, SmtpSink
from api.prove.steps import Step, StepFailed
from api.users import create_token, ensure_user
from demo.server import DemoServer
from runner.db import make_engine, upgrade

STAFF = next(user for user in DEMO_USERS if user.role == "staff")
CHECKS = ("api_health", "web_health", "golden_flows")
STATUS_PATH = "/api/monitoring/status"
STATUS_KEYS = {"overallStatus", "lastChecks", "activeIncidentsCount"}
# goldwatch.* lines of the monitor's log: "<time> <LEVEL> goldwatch.scheduler: <message>"
SCHEDULER_LINE = re.compile(r"goldwatch\.(scheduler|pipeline): ")


def start_sink(story: Story, step: Step) -> None:
    story.sink = story.resources.enter_context(SmtpSink())
    step.text(f"aiosmtpd listening on `{LOOPBACK}:{story.sink.port}`; alerts go to `{ALERT_TO}`.")


def start_target(story: Story, step: Step) -> None:
    target = story.resources.enter_context(DemoServer())
    story.target_url = target.url
    health = httpx.get(f"{target.url}/api/health", timeout=10)
    step.text(f"Pagecraft (the demo SaaS being watched) at `{target.url}`.")
    step.code(f"GET /api/health -> {health.status_code} {health.text}", caption="Its health:")
    if health.status_code != 200:
        raise StepFailed(f"the demo target's /api/health answered {health.status_code}")


def monitor_environment(story: Story, port: int) -> dict[str, str]:
    """`goldwatch demo`'s settings with the proof's shorter intervals and the SMTP sink."""
    env = demo_environment(story.work, story.target_url, port)
    env.update(
        {
            "GOLDWATCH_HEALTH_INTERVAL_SECONDS": str(story.options.health_interval_seconds),
            "GOLDWATCH_FLOWS_INTERVAL_SECONDS": str(story.options.flows_interval_seconds),
            "GOLDWATCH_FLOW_TIMEOUT_SECONDS": str(story.options.flow_timeout_seconds),
            "GOLDWATCH_FLOWS_RERUNS": "0",
            "GOLDWATCH_SMTP_HOST": LOOPBACK,
            "GOLDWATCH_SMTP_PORT": str(story.need_sink().port),
            "GOLDWATCH_ALERT_TO": ALERT_TO,
            "GOLDWATCH_ALERT_FROM": ALERT_FROM,
            "GOLDWATCH_ALERT_DISPATCH_INTERVAL_SECONDS": "1",
            "GOLDWATCH_CHROMIUM_PATH": str(story.chromium),
        }
    )
    return env


def create_accounts(story: Story, step: Step) -> None:
    """A temporary database, migrated, with a platform admin and a staff account."""
    write_checks(story.work, story.target_url)
    url = demo_environment(story.work, story.target_url, 0)["GOLDWATCH_DATABASE_URL"]
    upgrade(url)
    story.engine = make_engine(url)
    story.resources.callback(story.engine.dispose)
    story.admin_password = secrets.token_urlsafe(12)
    ensure_user(story.engine, ADMIN_EMAIL, story.admin_password, "admin", None)
    ensure_user(story.engine, STAFF.email, STAFF.password, STAFF.role, STAFF.tenant_id)
    story.tokens = {
        "admin": create_token(story.engine, ADMIN_EMAIL),
        "staff": create_token(story.engine, STAFF.email),
    }
    step.text(
        f"Database `{url}` (temporary). Accounts: `{ADMIN_EMAIL}` (admin, platform-wide) and "
        f"`{STAFF.email}` (staff), each with a new bearer token."
    )


def start_monitor_step(story: Story, step: Step) -> None:
    def environment(port: int) -> dict[str, str]:
        story.monitor_settings = monitor_environment(story, port)
        return {**story.monitor_settings, **tag_environment(story.tag)}

    story.monitor = start_monitor(
        environment, story.work, story.work / "monitor.log", story.options.startup_seconds
    )
    story.resources.callback(story.monitor.stop)
    settings = "\n".join(f"{k}={v}" for k, v in sorted(story.monitor_settings.items()))
    step.text(
        f"`{story.monitor.command}` (pid {story.monitor.process.pid}) answers "
        f"`GET {story.monitor.url}/healthz` with 200."
    )
    step.code(settings, caption="Its settings (environment):")


def scheduler_lines(story: Story) -> list[str]:
    log = story.need_monitor().log
    text = log.read_text(errors="replace") if log.is_file() else ""
    return [line for line in text.splitlines() if SCHEDULER_LINE.search(line)]


def scheduled(story: Story, step: Step) -> None:
    deadline = time.monotonic() + story.options.wait_seconds
    while True:
        lines = scheduler_lines(story)
        missing = [
            job
            for job in CHECKS
            if not any(f"scheduled check_{job} every" in line for line in lines)
        ]
        leader = [line for line in lines if "leader: " in line]
        if leader and not missing:
            break
        if time.monotonic() > deadline:
            raise StepFailed(f"the scheduler did not schedule {', '.join(missing) or 'as leader'}")
        time.sleep(0.2)
    shown = [line for line in lines if "leader: " in line or "scheduled " in line]
    step.code("\n".join(shown), caption="From the monitor's log:")


def _status(story: Story) -> dict[str, object]:
    response = httpx.get(
        f"{story.need_monitor().url}{STATUS_PATH}",
        headers={"Authorization": f"Bearer {story.tokens['admin']}"},
        timeout=10,
    )
    response.raise_for_status()
    body: dict[str, object] = response.json()
    return body


def first_green(story: Story, step: Step) -> None:
    started = time.monotonic()
    deadline = started + story.options.wait_seconds
    while True:
        status = _status(story)
        checks = status.get("lastChecks")
        ran = isinstance(checks, dict) and all(
            (checks.get(name) or {}).get("status") == "success" for name in CHECKS
        )
        if ran and status.get("overallStatus") == "green":
            break
        if time.monotonic() > deadline:
            raise StepFailed(f"the status did not turn green: {status}")
        time.sleep(0.5)
    step.text(
        f"After {time.monotonic() - started:.0f} s every check's first scheduled run passed "
        "and the overall status is green:"
    )
    executed = [line for line in scheduler_lines(story) if "executed " in line]
    step.code("\n".join(executed))


def status_exchanges(story: Story, step: Step) -> None:
    url = f"{story.need_monitor().url}{STATUS_PATH}"
    expected = (
        ("admin", "as the platform admin", 200),
        ("staff", "as a staff account", 403),
        (None, "without a token", 401),
    )
    problems: list[str] = []
    with httpx.Client(timeout=10) as client:
        for account, who, status in expected:
            headers = {"Authorization": f"Bearer {story.tokens[account]}"} if account else {}
            seen = exchange(client, "GET", url, headers)
            step.code(seen.transcript, "http", caption=f"`GET {STATUS_PATH}` {who}:")
            if seen.status != status:
                problems.append(f"{who}: HTTP {seen.status}, expected {status}")
            elif status == 200:
                body = seen.json()
                if not isinstance(body, dict) or not body.keys() >= STATUS_KEYS:
                    problems.append(f"{who}: the body lacks {sorted(STATUS_KEYS)}")
    if problems:
        raise StepFailed("; ".join(problems))


def dashboard_green_before(story: Story, step: Step) -> None:
    monitor = story.need_monitor()
    story.page = story.resources.enter_context(
        signed_in(
            story.chromium,
            monitor.url,
            ADMIN_EMAIL,
            story.admin_password,
            tag_environment(story.tag),
        )
    )
    reason = dashboard_showing(story.page, "green", story.options.wait_seconds)
    screenshot(story.page, story.folder / "1-dashboard-green-before.png")
    step.text(f"Signed in through `/login` as `{ADMIN_EMAIL}`. The indicator says: {reason}")
    step.image("1-dashboard-green-before.png", "Dashboard before the fault: green")
