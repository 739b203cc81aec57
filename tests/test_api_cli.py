"""The commands of issue 5 as a user types them: `goldwatch user add`, `token create`, `serve`
(the "done when" curl checks) and `demo` (everything on loopback, Ctrl-C stops it all)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil
import pytest
from sqlmodel import select

from api.demo import DB_NAME, DEMO_USERS, prepare_folder
from api.tokens import digest
from runner.db import get_engine, read_session
from runner.models import ApiToken, User
from tests.conftest import run_goldwatch
from tests.monitor_support import bearer, sign_in

pytest_plugins = ("tests.monitor_support",)
STATUS = "/api/monitoring/status"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@contextmanager
def goldwatch_process(
    args: list[str], env: dict[str, str], cwd: Path
) -> Iterator[subprocess.Popen[str]]:
    """`goldwatch ARGS` in the background; Ctrl-C (SIGINT) at the end, as a user stops it."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("GOLDWATCH_")}
    full_env.update(env)
    process = subprocess.Popen(
        [sys.executable, "-m", "runner", *args],
        env=full_env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise


def wait_until_up(url: str, process: subprocess.Popen[str], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            pytest.fail(f"exited with {process.returncode}: {output[-2000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"{url} did not come up within {seconds} s")


def test_user_add_reads_the_password_from_stdin_and_stores_an_argon2_hash(
    monitor_env: dict[str, str],
) -> None:
    added = run_goldwatch(
        "user", "add", "Ops@Example.test", "--role", "admin", "--tenant", "acme",
        env=monitor_env, input_text="a-long-password\n",
    )  # fmt: skip
    assert added.code == 0, added.stderr
    assert added.stdout.strip() == "added ops@example.test (admin, tenant acme)"
    with read_session(get_engine(monitor_env["GOLDWATCH_DATABASE_URL"])) as session:
        user = session.exec(select(User)).one()
    assert user.password_hash.startswith("$argon2id$")
    assert "a-long-password" not in user.password_hash
    for args, stdin, message in (
        (["ops@example.test", "--role", "staff"], "another-password\n", "already exists"),
        (["new@example.test", "--role", "staff"], "short\n", "password too short"),
        (["not-an-email", "--role", "staff"], "long-enough-pw\n", "not an email address"),
        (["new@example.test", "--role", "root"], "long-enough-pw\n", "root"),
    ):
        refused = run_goldwatch("user", "add", *args, env=monitor_env, input_text=stdin)
        assert refused.code == 2, args
        assert message in refused.stderr, refused.stderr


def test_token_create_prints_the_token_once_and_stores_its_hash(
    monitor_env: dict[str, str],
) -> None:
    run_goldwatch(
        "user", "add", "ops@example.test", "--role", "owner",
        env=monitor_env, input_text="a-long-password\n",
    )  # fmt: skip
    created = run_goldwatch("token", "create", "ops@example.test", env=monitor_env)
    assert created.code == 0, created.stderr
    token = created.stdout.strip()
    assert token.startswith("gw_") and len(token) > 40
    assert "Shown once" in created.stderr
    with read_session(get_engine(monitor_env["GOLDWATCH_DATABASE_URL"])) as session:
        stored = session.exec(select(ApiToken.token_hash)).all()
    assert list(stored) == [digest(token)]
    unknown = run_goldwatch("token", "create", "nobody@example.test", env=monitor_env)
    assert unknown.code == 2 and "no user nobody@example.test" in unknown.stderr


def test_serve_answers_curl_as_documented(monitor_env: dict[str, str], tmp_path: Path) -> None:
    for email, role in (("admin@example.test", "admin"), ("staff@example.test", "staff")):
        added = run_goldwatch(
            "user", "add", email, "--role", role, env=monitor_env, input_text="a-long-password\n"
        )
        assert added.code == 0, added.stderr
    admin = run_goldwatch("token", "create", "admin@example.test", env=monitor_env).stdout.strip()
    staff = run_goldwatch("token", "create", "staff@example.test", env=monitor_env).stdout.strip()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = ["serve", "--port", str(port), "--no-scheduler"]
    with goldwatch_process(args, monitor_env, tmp_path) as process:
        wait_until_up(url, process)
        ok = httpx.get(url + STATUS, headers=bearer(admin))
        assert ok.status_code == 200
        body = ok.json()
        assert set(body) == {"overallStatus", "lastChecks", "activeIncidentsCount"}
        assert body["overallStatus"] in ("green", "yellow", "red")
        assert set(body["lastChecks"]) == {"api_health", "web_health", "golden_flows"}
        assert httpx.get(url + STATUS, headers=bearer(staff)).status_code == 403
        assert httpx.get(url + STATUS).status_code == 401
    output = process.stdout.read() if process.stdout else ""
    assert f"goldwatch: dashboard at {url}/dashboard/monitoring" in output
    assert process.returncode in (0, 130), output[-2000:]


def test_demo_runs_everything_on_loopback_and_ctrl_c_stops_it_all(tmp_path: Path) -> None:
    port, target_port = free_port(), free_port()
    url, target = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{target_port}"
    folder = tmp_path / "demo-data"
    args = ["demo", "--port", str(port), "--target-port", str(target_port)]
    args += ["--data-dir", str(folder), "--fresh"]
    with goldwatch_process(args, {}, tmp_path) as process:
        wait_until_up(url, process, seconds=60)
        assert httpx.get(f"{target}/__demo/faults").status_code == 200
        owner, acme, staff = DEMO_USERS
        with httpx.Client(base_url=url) as browser:
            assert sign_in(browser, owner.email, owner.password).status_code == 303
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:  # the scheduler runs the checks at once
                checks = browser.get(STATUS).json()["lastChecks"]
                if checks["api_health"]["status"] and checks["acme-site"]["status"]:
                    break
                time.sleep(0.25)
            assert checks["api_health"]["status"] == "success"
            assert set(checks) == {"api_health", "web_health", "golden_flows", "acme-site"}
        with httpx.Client(base_url=url) as browser:
            assert sign_in(browser, acme.email, acme.password).status_code == 303
            assert set(browser.get(STATUS).json()["lastChecks"]) == {"acme-site"}
        with httpx.Client(base_url=url) as browser:
            assert sign_in(browser, staff.email, staff.password).status_code == 303
            assert browser.get(STATUS).status_code == 403
        # Stop while the golden flows (pytest + Chromium) are most likely running.
        children = psutil.Process(process.pid).children(recursive=True)
    output = process.stdout.read() if process.stdout else ""
    assert process.returncode in (0, 130), output[-3000:]
    for line in (
        f"Dashboard     {url}/dashboard/monitoring",
        f"curl -X PUT    {target}/__demo/faults/f3",
        f"{target}/__demo",
        f"{owner.email}",
        owner.password,
        acme.password,
        staff.password,
    ):
        assert line in output, line
    leftovers = [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
    assert leftovers == []
    for address in (url, target):
        with pytest.raises(httpx.ConnectError):
            httpx.get(address + "/healthz", timeout=2)
    assert (folder / DB_NAME).is_file() and (folder / "checks.toml").is_file()


def test_the_demo_database_persists_unless_fresh(tmp_path: Path) -> None:
    folder = prepare_folder(tmp_path / "demo", fresh=False)
    (folder / DB_NAME).write_text("kept")
    (folder / "screenshots").mkdir()
    assert (prepare_folder(folder, fresh=False) / DB_NAME).read_text() == "kept"
    prepare_folder(folder, fresh=True)
    assert not (folder / DB_NAME).exists() and not (folder / "screenshots").exists()
