"""Real things for the API and dashboard tests: accounts and bearer tokens in the monitor's
database, the app served over loopback HTTP, a sign-in as a browser does it, runs of the real
checks against the demo target, and (once per session) the evidence two real golden-flows runs
leave behind. Registered by the test_api_* and test_web_* modules as a pytest plugin
(`pytest_plugins`), after they imported it: PYTEST_DONT_REWRITE keeps pytest from warning.
"""

from __future__ import annotations

import functools
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from api.app import create_app
from api.passwords import hash_password
from api.users import create_token
from demo.server import DemoServer
from runner.db import write_session
from runner.models import Artifact, Incident, User
from runner.runtime import Runtime
from runner.serving import ServerThread
from runner.settings import Settings
from runner.store import RunOutcome

PASSWORD = "correct-horse-battery"
# name -> (email, role, tenant)
ACCOUNTS: dict[str, tuple[str, str, str | None]] = {
    "owner": ("owner@platform.test", "owner", None),
    "admin": ("admin@platform.test", "admin", None),
    "staff": ("staff@platform.test", "staff", None),
    "acme": ("admin@acme.test", "admin", "acme"),
    "globex": ("owner@globex.test", "owner", "globex"),
}
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


@functools.cache
def password_hash() -> str:
    """One real Argon2 hash of PASSWORD, reused: hashing costs ~0.3 s per account."""
    return hash_password(PASSWORD)


def add_account(engine: Engine, email: str, role: str, tenant: str | None = None) -> str:
    """A user with PASSWORD; returns a new bearer token for them."""
    with write_session(engine) as session:
        session.add(User(email=email, password_hash=password_hash(), role=role, tenant_id=tenant))
    return create_token(engine, email)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def refused_port() -> Iterator[int]:
    """A loopback port that refuses connections: bound (so nobody else gets it for the test's
    duration) but never listening."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        yield port


def write_checks(path: Path, checks: list[dict[str, Any]]) -> Path:
    """An extra-checks TOML file (runner/checks/extra.py)."""
    blocks = []
    for check in checks:
        lines = ["[[check]]"]
        for key, value in check.items():
            shown = f'"{value}"' if isinstance(value, str) else str(value)
            lines.append(f"{key} = {shown}")
        blocks.append("\n".join(lines))
    path.write_text("\n\n".join(blocks) + "\n")
    return path


def hidden_field(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden field {name!r} in the page"
    return unescape(match.group(1))


def sign_in(
    client: httpx.Client, email: str, password: str = PASSWORD, next_path: str | None = None
) -> httpx.Response:
    """What a browser does: open /login (pre-session cookie + form token), post the form."""
    page = client.get("/login", params={"next": next_path} if next_path else None)
    data = {
        "email": email,
        "password": password,
        "csrf_token": hidden_field(page.text, "csrf_token"),
        "next": hidden_field(page.text, "next"),
    }
    return client.post("/login", data=data)


def fault(target_url: str, name: str) -> None:
    httpx.put(f"{target_url}/__demo/faults/{name}").raise_for_status()


def mend(target_url: str) -> None:
    httpx.delete(f"{target_url}/__demo/faults").raise_for_status()


@dataclass
class Site:
    """The monitor's app served on loopback, with its runtime and an account per role."""

    url: str
    settings: Settings
    runtime: Runtime
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def engine(self) -> Engine:
        return self.runtime.engine

    def client(self, account: str | None = None, **kwargs: Any) -> httpx.Client:
        """An HTTP client, authenticated by the account's bearer token when one is named."""
        headers = bearer(self.tokens[account]) if account else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30, **kwargs)

    @contextmanager
    def browser_client(self, account: str) -> Iterator[httpx.Client]:
        """A client signed in with a session cookie, as a browser is."""
        with httpx.Client(base_url=self.url, timeout=30) as client:
            response = sign_in(client, ACCOUNTS[account][0])
            assert response.status_code == 303, response.text
            yield client

    def run(self, check: str) -> RunOutcome:
        outcome = self.runtime.pipeline.run(self.runtime.checks[check], "manual")
        assert outcome is not None
        return outcome

    def add_artifact(self, run_id: int, folder: Path, flow: str | None = None) -> int:
        """A screenshot file attached to a run, as the golden-flows check records them."""
        path = folder / f"run{run_id}-{flow or 'run'}.png"
        path.write_bytes(PNG)
        with write_session(self.engine) as session:
            artifact = Artifact(
                job_run_id=run_id, flow=flow, kind="screenshot", path=str(path), size=len(PNG)
            )
            session.add(artifact)
            session.flush()
            assert artifact.id is not None
            return artifact.id

    def incident(self, incident_id: int) -> Incident:
        with write_session(self.engine) as session:
            row = session.get(Incident, incident_id)
            assert row is not None
            return row


def open_site(settings: Settings) -> Iterator[Site]:
    """Migrate, seed one account per role, serve the app; stop the server afterwards."""
    runtime = Runtime.start(settings)
    tokens = {
        name: add_account(runtime.engine, email, role, tenant)
        for name, (email, role, tenant) in ACCOUNTS.items()
    }
    with ServerThread(create_app(settings)) as server:
        yield Site(server.url, settings, runtime, tokens)


@pytest.fixture
def site(settings: Settings) -> Iterator[Site]:
    """The monitor watching the demo target (SQLite, and PostgreSQL when configured)."""
    yield from open_site(settings)


@pytest.fixture
def tenant_site(settings: Settings, tmp_path: Path, refused_port: int) -> Iterator[Site]:
    """Adds two tenants' checks: `acme-site` on the demo target (fails with web_down) and
    `globex-site` on a closed port (always fails)."""
    config = write_checks(
        tmp_path / "checks.toml",
        [
            {
                "name": "acme-site",
                "url": f"{settings.web_base_url}/",
                "tenant_id": "acme",
                "severity": "medium",
            },
            {
                "name": "globex-site",
                "url": f"http://127.0.0.1:{refused_port}/",
                "tenant_id": "globex",
                "severity": "high",
            },
        ],
    )
    yield from open_site(settings.model_copy(update={"config": config}))


@pytest.fixture
def api_only_site(settings: Settings) -> Iterator[Site]:
    """A monitor of the API alone (no web checks), so one check decides green or red."""
    yield from open_site(settings.model_copy(update={"web_base_url": ""}))


@dataclass(frozen=True)
class Evidence:
    """Real golden-flows evidence: run 1 all passed, run 2 with F3 broken (screenshot and
    trace), plus an api_down incident raised and resolved."""

    site: Site
    flow_incident_id: int
    resolved_incident_id: int
    passing_run_id: int
    failing_run_id: int


@pytest.fixture(scope="session")
def evidence(
    _demo_server: DemoServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Evidence]:
    folder = tmp_path_factory.mktemp("evidence")
    target = _demo_server.url
    settings = Settings(
        _env_file=None,
        database_url=f"sqlite:///{folder / 'goldwatch.db'}",
        artifacts_dir=folder / "screenshots",
        api_base_url=target,
        web_base_url=target,
        flow_timeout_seconds=3,
        flows_reruns=0,
        config=None,
    )
    for site in open_site(settings):
        try:
            mend(target)
            passing = site.run("golden_flows")
            fault(target, "f3")
            failing = site.run("golden_flows")
            mend(target)
            fault(target, "api_down")
            raised = site.run("api_health")
            mend(target)
            site.run("api_health")
        finally:
            mend(target)
        flow_incident = next(c.incident for c in failing.changes if c.event == "raised")
        api_incident = next(c.incident for c in raised.changes if c.event == "raised")
        assert passing.run.id and failing.run.id and flow_incident.id and api_incident.id
        yield Evidence(site, flow_incident.id, api_incident.id, passing.run.id, failing.run.id)
