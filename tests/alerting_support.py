"""Real things for the alerting tests: an SMTP server (aiosmtpd) and a webhook receiver on
loopback, a clock the test moves, and a monitor that records runs through the real pipeline,
store, planner and dispatcher. Registered by the alerting test modules as a pytest plugin
(`pytest_plugins`), after they imported it: PYTEST_DONT_REWRITE keeps pytest from warning.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import struct
import threading
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from runner.alerting import Alerting, Delivery
from runner.checks.base import ArtifactFile, Check, CheckResult, RunContext
from runner.db import make_engine, upgrade
from runner.incidents import Observation
from runner.models import AuditLog, Incident, Notification
from runner.pipeline import Pipeline
from runner.settings import Settings
from runner.store import RunOutcome

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
PUBLIC_URL = "https://monitor.shop.test"
SHOP = "http://127.0.0.1:8100"
F3 = 'F3 Preview → Billing/Paywall failing at "Open paywall"'


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Clock:
    """The time the monitor sees; tests move it instead of sleeping."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


# SMTP -----------------------------------------------------------------------------------------


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.sink.refuse:
            return self.sink.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.sink.stall_seconds:
            await asyncio.sleep(self.sink.stall_seconds)
        if self.sink.drop:
            server.transport.abort()  # the connection dies mid-message
            return "451 dropped"
        if self.sink.data_reply:
            return self.sink.data_reply
        message = message_from_bytes(envelope.content, policy=default_policy)
        assert isinstance(message, EmailMessage)
        self.sink.messages.append(message)
        self.sink.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


@dataclass
class SmtpSink:
    """aiosmtpd on 127.0.0.1; switch it down/up and make it misbehave."""

    port: int = field(default_factory=free_port)
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)
    data_reply: str | None = None
    drop: bool = False
    stall_seconds: float = 0.0
    login: tuple[str, str] | None = None
    controller: Controller | None = None

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and self.login is not None
            and (data.login.decode(), data.password.decode()) == self.login
        )
        return AuthResult(success=ok, handled=False)  # False: the server answers 535

    def up(self) -> SmtpSink:
        extra: dict[str, Any] = {}
        if self.login is not None:
            extra = {"authenticator": self._authenticate, "auth_require_tls": False}
        self.controller = Controller(
            _Handler(self), hostname="127.0.0.1", port=self.port, ready_timeout=5, **extra
        )
        self.controller.start()
        return self

    def down(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def subjects(self) -> list[str]:
        # As a mail client shows it: a subject that fits on one folded line arrives as
        # "Subject:" CRLF " [Goldwatch]..." (RFC 5322 folding), the leading blank is not shown.
        return [str(m["Subject"]).strip() for m in self.messages]


def body(message: EmailMessage, kind: str = "plain") -> str:
    part = message.get_body(preferencelist=(kind,))
    assert part is not None, f"no text/{kind} part"
    return str(part.get_content()).replace("\r\n", "\n")


def line_value(text: str, label: str) -> str:
    """The value of `  Label:   value` in a plain-text alert."""
    found = re.search(rf"^  {re.escape(label)}: +(.*)$", text, re.MULTILINE)
    assert found is not None, f"no {label!r} in:\n{text}"
    return found.group(1)


def readable(message: EmailMessage) -> str:
    """Headers, the text body and the parts' outline, decoded (what a reader sees)."""
    headers = "\n".join(f"{name}: {value}" for name, value in message.items())
    parts = "\n".join(
        f"  part: {part.get_content_type()} {part.get('Content-ID', '')}".rstrip()
        for part in message.walk()
    )
    return f"{headers}\n\n{body(message)}\n\n[MIME structure]\n{parts}"


# Webhook ----------------------------------------------------------------------------------------


@dataclass
class WebhookReceiver:
    """A local HTTP server recording JSON POSTs and answering with `status`."""

    status: int = 200
    received: list[dict[str, Any]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None
    thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/alerts"

    def up(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                data = json.loads(self.rfile.read(length))
                answer = receiver.status
                if answer < 300:
                    receiver.received.append(data)
                self.send_response(answer)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if answer < 300 else b"no such hook")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def down(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
        if self.thread is not None:
            self.thread.join(5)


# Observations a check could report --------------------------------------------------------------


def png(width: int = 48, height: int = 24) -> bytes:
    """A small red PNG, as a failure screenshot."""
    raw = b"".join(b"\x00" + b"\xc0\x20\x20" * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def api_down(at: datetime) -> Observation:
    return Observation(
        subject="api_health",
        source_check="api_health",
        ok=False,
        at=at,
        type="api_down",
        fingerprint="api_down:api_health",
        message=f"API health check failing: GET {SHOP}/api/health",
        severity="high",
        details={
            "endpoint": f"GET {SHOP}/api/health",
            "status_code": 503,
            "error": "HTTP 503 Service Unavailable",
            "duration_ms": 12,
        },
    )


def web_down(at: datetime) -> Observation:
    return Observation(
        subject="web_health",
        source_check="web_health",
        ok=False,
        at=at,
        type="web_down",
        fingerprint="web_down:web_health",
        message=f"Web health check failing: GET {SHOP}/",
        severity="high",
        details={
            "endpoint": f"GET {SHOP}/",
            "status_code": 502,
            "error": "HTTP 502 Bad Gateway",
            "duration_ms": 8,
        },
    )


FLOWS = {
    "f1": ("Landing → Onboarding", "Start onboarding", "medium"),
    "f3": ("Preview → Billing/Paywall", "Open paywall", "high"),
}


def flow_failed(
    at: datetime, flow: str = "f3", error: str | None = None, step: str | None = None
) -> Observation:
    title, default_step, severity = FLOWS[flow]
    step = step or default_step
    nodeid = f"flows/test_{flow}.py::test_{flow}"
    return Observation(
        subject=f"golden_flows:{flow}",
        source_check="golden_flows",
        ok=False,
        at=at,
        type="golden_flow_failed",
        fingerprint=f"golden_flow_failed:golden_flows:{flow}:{step}",
        message=f'{flow.upper()} {title} failing at "{step}"',
        severity=severity,
        details={
            "flow": flow,
            "title": title,
            "outcome": "failed",
            "flaky": False,
            "reruns": 1,
            "failing_step": step,
            "error": error or "Locator.click: Timeout 3000ms exceeded waiting for 'Upgrade'",
            "steps": [
                {"name": "Open preview", "duration_ms": 420, "outcome": "passed", "error": None},
                {"name": step, "duration_ms": 3004, "outcome": "failed", "error": error},
            ],
            "duration_ms": 3500,
            "base_url": SHOP,
            "reproduce": f"pytest {nodeid} --base-url={SHOP} --headed --tracing=retain-on-failure",
        },
    )


def http_failed(name: str, at: datetime) -> Observation:
    """An extra HTTP check failing (each name its own subject and incident)."""
    return Observation(
        subject=name,
        source_check=name,
        ok=False,
        at=at,
        type="http_check_failed",
        fingerprint=f"http_check_failed:{name}",
        message=f"{name} failing: GET {SHOP}/{name}",
        severity="medium",
        details={"endpoint": f"GET {SHOP}/{name}", "status_code": 500, "error": "HTTP 500"},
    )


def passing(subject: str, at: datetime) -> Observation:
    check = subject.partition(":")[0]
    return Observation(subject=subject, source_check=check, ok=True, at=at)


# The monitor under test ---------------------------------------------------------------------------


class Monitor:
    """Runs fake check results through the real pipeline, store, planner and dispatcher."""

    def __init__(
        self, settings: Settings, clock: Clock, tmp_path: Path, deliver_after_runs: bool = True
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.tmp_path = tmp_path
        upgrade(settings.database_url)
        self.engine: Engine = make_engine(settings.database_url)
        self.alerting = Alerting.start(settings, self.engine, clock)
        # As in Runtime: the planner writes outbox rows in the run's transaction, and each
        # run with changes is followed by a delivery pass.
        notify = self.alerting.deliver if deliver_after_runs else None
        self.pipeline = Pipeline(settings, self.engine, clock, self.alerting.planner, notify)

    def run(self, *observations: Observation, screenshot: bool = False) -> RunOutcome:
        """One run of the check the observations belong to, recorded and then delivered."""
        name = observations[0].source_check
        artifacts: list[ArtifactFile] = []
        if screenshot:
            path = self.tmp_path / f"shot-{len(os.listdir(self.tmp_path))}.png"
            path.write_bytes(png())
            flow = next(o.details["flow"] for o in observations if "flow" in o.details)
            artifacts.append(ArtifactFile(flow, "screenshot", path))

        def execute(context: RunContext) -> CheckResult:
            return CheckResult(
                ok=all(o.ok for o in observations),
                duration_ms=10,
                details={},
                observations=list(observations),
                artifacts=artifacts,
                finished_at=context.now(),
            )

        outcome = self.pipeline.run(Check(name, f"check_{name}", 300, execute))
        assert outcome is not None
        return outcome

    def deliver(self) -> list[Delivery]:
        """One pass of the dispatcher, as the scheduler's periodic job does."""
        return self.alerting.dispatcher.run_once()

    def notifications(self) -> list[Notification]:
        with Session(self.engine) as session:
            return list(session.exec(select(Notification).order_by(col(Notification.id))).all())

    def audit(self, *events: str) -> list[AuditLog]:
        with Session(self.engine) as session:
            query = select(AuditLog).order_by(col(AuditLog.id))
            if events:
                query = query.where(col(AuditLog.event).in_(events))
            return list(session.exec(query).all())

    def incident(self, incident_id: int) -> Incident:
        with Session(self.engine) as session:
            found = session.get(Incident, incident_id)
            assert found is not None
            return found

    def close(self) -> None:
        self.engine.dispose()


# Fixtures ---------------------------------------------------------------------------------------


@pytest.fixture
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No GOLDWATCH_* from the caller (test-harness GOLDWATCH_TEST_* stay), no .env."""
    for name in list(os.environ):
        if name.startswith("GOLDWATCH_") and not name.startswith("GOLDWATCH_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink().up()
    yield sink
    sink.down()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    hook = WebhookReceiver().up()
    yield hook
    hook.down()


def make_settings(tmp_path: Path, **values: Any) -> Settings:
    defaults: dict[str, Any] = {
        "database_url": f"sqlite:///{tmp_path / 'goldwatch.db'}",
        "public_url": PUBLIC_URL,
        "web_base_url": SHOP,
        "alert_from": "Goldwatch <goldwatch@shop.test>",
        "smtp_timeout_seconds": 2.0,
    }
    return Settings(_env_file=None, **{**defaults, **values})


def smtp_values(smtp: SmtpSink, **values: Any) -> dict[str, Any]:
    """Settings that send email to `smtp` (two recipients unless `alert_to` says otherwise)."""
    return {
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp.port,
        "alert_to": "oncall@shop.test, cto@shop.test",
        **values,
    }


Configure = Callable[..., Settings]
StartMonitor = Callable[..., Monitor]


@pytest.fixture
def configure(clean_env: Path, db_url: str) -> Configure:
    """Settings on each supported database (db_url: SQLite, and PostgreSQL when configured)."""

    def build(**values: Any) -> Settings:
        return make_settings(clean_env, **{"database_url": db_url, **values})

    return build


@pytest.fixture
def start_monitor(clean_env: Path, clock: Clock) -> Iterator[StartMonitor]:
    """Monitor(settings) on the test clock, closed after the test."""
    started: list[Monitor] = []

    def start(settings: Settings, deliver_after_runs: bool = True) -> Monitor:
        started.append(Monitor(settings, clock, clean_env, deliver_after_runs))
        return started[-1]

    yield start
    for monitor in started:
        monitor.close()


@pytest.fixture
def mail_monitor(configure: Configure, start_monitor: StartMonitor, smtp: SmtpSink) -> Monitor:
    """A monitor alerting by email to the test SMTP server."""
    return start_monitor(configure(**smtp_values(smtp)))
