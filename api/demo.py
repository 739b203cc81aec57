"""`goldwatch demo`: the demo target, the scheduler, the API and the dashboard on loopback.

Short intervals so a newcomer sees runs within a minute; a database in the demo folder that
persists between starts (unless --fresh); seeded users; a tenant-scoped extra check.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from api.server import serve
from api.users import ensure_user
from demo.server import DemoServer
from runner.db import get_engine, upgrade
from runner.settings import load_settings

LOOPBACK = "127.0.0.1"
DB_NAME = "goldwatch-demo.db"
HEALTH_INTERVAL_SECONDS = 15
FLOWS_INTERVAL_SECONDS = 60
TENANT = "acme"
TENANT_CHECK = "acme-site"


@dataclass(frozen=True)
class DemoUser:
    email: str
    password: str
    role: str
    tenant_id: str | None
    sees: str


DEMO_USERS = (
    DemoUser("owner@goldwatch.demo", "demo-owner-pass", "owner", None, "everything (platform)"),
    DemoUser("admin@acme.demo", "demo-acme-pass", "admin", TENANT, f"only tenant {TENANT}'s check"),
    DemoUser("staff@goldwatch.demo", "demo-staff-pass", "staff", None, "nothing: gets 403"),
)


def prepare_folder(folder: Path, fresh: bool) -> Path:
    """The demo folder, emptied of the previous database and screenshots when `fresh`."""
    if fresh:
        for name in (DB_NAME, f"{DB_NAME}-wal", f"{DB_NAME}-shm"):
            (folder / name).unlink(missing_ok=True)
        shutil.rmtree(folder / "screenshots", ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    return folder.resolve()


def write_checks(folder: Path, target_url: str) -> Path:
    """The extra-checks TOML: one HTTP check that only tenant `acme` (and the platform) sees."""
    path = folder / "checks.toml"
    path.write_text(
        "# Written by `goldwatch demo` at every start (the demo target's port may change).\n"
        "[[check]]\n"
        f'name = "{TENANT_CHECK}"\n'
        f'url = "{target_url}/"\n'
        f"interval_seconds = {HEALTH_INTERVAL_SECONDS}\n"
        'expect_text = "Pagecraft"\n'
        'incident_type = "web_down"\n'
        'severity = "high"\n'
        f'tenant_id = "{TENANT}"\n'
    )
    return path


def demo_environment(folder: Path, target_url: str, port: int) -> dict[str, str]:
    return {
        "GOLDWATCH_DATABASE_URL": f"sqlite:///{folder / DB_NAME}",
        "GOLDWATCH_ARTIFACTS_DIR": str(folder / "screenshots"),
        "GOLDWATCH_API_BASE_URL": target_url,
        "GOLDWATCH_WEB_BASE_URL": target_url,
        "GOLDWATCH_HEALTH_INTERVAL_SECONDS": str(HEALTH_INTERVAL_SECONDS),
        "GOLDWATCH_FLOWS_INTERVAL_SECONDS": str(FLOWS_INTERVAL_SECONDS),
        "GOLDWATCH_FLOW_TIMEOUT_SECONDS": "5",
        "GOLDWATCH_CONFIG": str(folder / "checks.toml"),
        "GOLDWATCH_PUBLIC_URL": f"http://{LOOPBACK}:{port}",
    }


def seed_users(engine: Engine) -> None:
    for user in DEMO_USERS:
        ensure_user(engine, user.email, user.password, user.role, user.tenant_id)


def banner(dashboard: str, target: str, folder: Path) -> str:
    width = max(len(u.email) for u in DEMO_USERS)
    users = "\n".join(
        f"    {u.email:<{width}}  {u.password:<16} {u.role:<6} sees {u.sees}" for u in DEMO_USERS
    )
    return f"""
Goldwatch demo is running. Ctrl-C stops everything.

  Dashboard     {dashboard}/dashboard/monitoring
  Status API    {dashboard}/api/monitoring/status   (API docs: {dashboard}/docs)
  Demo target   {target}   (the product being watched: Pagecraft)
  Data          {folder}   (kept between starts; --fresh starts over)

  Sign in with
{users}

  Health checks run every {HEALTH_INTERVAL_SECONDS} s, the golden flows (a real headless Chromium)
  every {FLOWS_INTERVAL_SECONDS} s: the first results appear within a minute.

  Break a flow, watch the dashboard turn red, then mend it and watch the incident resolve:
    curl -X PUT    {target}/__demo/faults/f3     # F3 Preview -> Billing/Paywall breaks
    curl -X DELETE {target}/__demo/faults/f3     # mended
  or use the switches at {target}/__demo (faults: api_down, web_down, f1, f2, f3, f4, slow, flaky).
  web_down also breaks the tenant check {TENANT_CHECK}, which {DEMO_USERS[1].email} sees.
"""


def run_demo(
    port: int,
    target_port: int,
    folder: Path,
    fresh: bool,
    say: Callable[[str], None] = print,
) -> None:
    """Serve until Ctrl-C; the demo target stops with the monitor."""
    folder = prepare_folder(folder, fresh)
    with DemoServer(port=target_port) as target:
        write_checks(folder, target.url)
        os.environ.update(demo_environment(folder, target.url, port))
        settings = load_settings()
        upgrade(settings.database_url)
        seed_users(get_engine(settings.database_url))
        serve(
            settings,
            LOOPBACK,
            port,
            announce=lambda url: say(banner(url, target.url, folder)),
        )
