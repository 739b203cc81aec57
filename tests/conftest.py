"""Shared fixtures: the demo target over real HTTP, an isolated monitor configuration, and
the `goldwatch` command run as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
import psycopg
import pytest
from sqlalchemy.engine import make_url

from demo.server import DemoServer
from runner.db import get_engine, upgrade
from runner.settings import PROJECT_ROOT, Settings


@dataclass
class DemoTarget:
    """The demo target SaaS over HTTP, with its fault switches."""

    url: str

    def fault(self, name: str, **params: Any) -> None:
        httpx.put(f"{self.url}/__demo/faults/{name}", params=params).raise_for_status()

    def mend(self, name: str | None = None) -> None:
        path = f"/__demo/faults/{name}" if name else "/__demo/faults"
        httpx.delete(self.url + path).raise_for_status()

    def mutations(self) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.url}/__demo/mutations")
        response.raise_for_status()
        return list(response.json()["mutations"])

    def clear_mutations(self) -> None:
        httpx.delete(f"{self.url}/__demo/mutations").raise_for_status()


@pytest.fixture(scope="session")
def _demo_server() -> Iterator[DemoServer]:
    with DemoServer() as server:
        yield server


@pytest.fixture
def demo_target(_demo_server: DemoServer) -> Iterator[DemoTarget]:
    """A healthy demo target; faults switched on by the test are switched off after it."""
    target = DemoTarget(_demo_server.url)
    target.mend()
    target.clear_mutations()
    yield target
    target.mend()


POSTGRES_ENV = "GOLDWATCH_TEST_POSTGRES_URL"


def _admin(url: str) -> psycopg.Connection[tuple[object, ...]]:
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    return psycopg.connect(dsn, autocommit=True)


@pytest.fixture(scope="session")
def _postgres_template() -> Iterator[str | None]:
    """With GOLDWATCH_TEST_POSTGRES_URL set: a migrated template database for this session."""
    admin_url = os.environ.get(POSTGRES_ENV, "")
    if not admin_url:
        yield None
        return
    name = f"goldwatch_test_{os.getpid()}_tpl"
    with _admin(admin_url) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    get_engine.cache_clear()
    try:
        yield url
    finally:
        with _admin(admin_url) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_url(_postgres_template: str | None) -> Iterator[str]:
    """A throwaway PostgreSQL database with the schema; skipped without a server."""
    if _postgres_template is None:
        pytest.skip(f"{POSTGRES_ENV} is not set")
    admin_url = os.environ[POSTGRES_ENV]
    template = make_url(_postgres_template).database
    name = f"goldwatch_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with _admin(admin_url) as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        get_engine(url).dispose()
        with _admin(admin_url) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each database Goldwatch supports (PostgreSQL only when a test server is configured)."""
    if request.param == "postgres":
        return str(request.getfixturevalue("postgres_url"))
    url = f"sqlite:///{tmp_path / 'goldwatch.db'}"
    upgrade(url)
    return url


@pytest.fixture(params=["sqlite", "postgres"])
def monitor_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every test of the monitor runs on SQLite, and on PostgreSQL when one is configured
    (except `sqlite_only` ones: slow browser runs whose database work other tests cover)."""
    if request.param == "postgres":
        if request.node.get_closest_marker("sqlite_only"):
            pytest.skip("browser-heavy; its database work runs on PostgreSQL elsewhere")
        return str(request.getfixturevalue("postgres_url"))
    return f"sqlite:///{tmp_path / 'goldwatch.db'}"


@pytest.fixture
def monitor_env(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    demo_target: DemoTarget,
    monitor_database: str,
) -> dict[str, str]:
    """GOLDWATCH_* for a monitor watching the demo target, with its own database and files.

    Set in this process's environment (for Settings()) and returned (for subprocesses).
    """
    env = {
        "GOLDWATCH_DATABASE_URL": monitor_database,
        "GOLDWATCH_ARTIFACTS_DIR": str(tmp_path / "screenshots"),
        "GOLDWATCH_API_BASE_URL": demo_target.url,
        "GOLDWATCH_WEB_BASE_URL": demo_target.url,
        # Failures should be found fast in tests; production keeps the longer default.
        "GOLDWATCH_FLOW_TIMEOUT_SECONDS": "3",
        "GOLDWATCH_PUBLIC_URL": "http://127.0.0.1:8000",
    }
    for name in list(os.environ):
        if name.startswith("GOLDWATCH_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)  # no stray .env or goldwatch.db from the checkout
    return env


@pytest.fixture
def settings(monitor_env: dict[str, str]) -> Settings:
    return Settings()


@pytest.fixture
def flow_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, demo_target: DemoTarget
) -> Settings:
    """Settings for tests of the flows and checks alone, which never touch the database."""
    for name in list(os.environ):
        if name.startswith("GOLDWATCH_"):
            monkeypatch.delenv(name)
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'unused.db'}",
        artifacts_dir=tmp_path / "screenshots",
        api_base_url=demo_target.url,
        web_base_url=demo_target.url,
        flow_timeout_seconds=3,
    )


@dataclass
class CommandResult:
    code: int
    stdout: str
    stderr: str


def run_goldwatch(
    *args: str,
    env: dict[str, str] | None = None,
    input_text: str | None = None,
    timeout: float = 300,
) -> CommandResult:
    """`goldwatch ARGS...` in a subprocess, as a user types it."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("GOLDWATCH_")}
    full_env.update(env or {})
    completed = subprocess.run(
        [sys.executable, "-m", "runner", *args],
        env=full_env,
        input=input_text,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=Path(full_env.get("GOLDWATCH_ARTIFACTS_DIR", PROJECT_ROOT)).parent,
    )
    return CommandResult(completed.returncode, completed.stdout, completed.stderr)


def chromium_processes(settle_seconds: float = 5.0) -> list[psutil.Process]:
    """Live Chromium processes, after giving exiting ones a moment to go (zombies don't count:
    they have exited and only wait for their parent to reap them)."""
    deadline = time.monotonic() + settle_seconds
    while True:
        found = []
        for process in psutil.process_iter(["name", "cmdline", "status"]):
            if process.info.get("status") == psutil.STATUS_ZOMBIE:
                continue
            cmdline = " ".join(process.info.get("cmdline") or [])
            if "chrom" in (process.info.get("name") or "") or "/chromium" in cmdline:
                found.append(process)
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)
