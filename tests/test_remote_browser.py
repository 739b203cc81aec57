"""Flows through a Playwright server (`playwright run-server`) instead of a local Chromium,
and a dead endpoint recorded as the monitor's problem, not the product's."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from sqlmodel import select

from runner.chromium import resolve_chromium
from runner.db import read_session
from runner.models import Incident
from runner.runtime import Runtime
from runner.settings import Settings
from tests.conftest import DemoTarget

pytestmark = [pytest.mark.browser]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def browser_server() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "playwright", "run-server", "--host", "127.0.0.1",
         "--port", str(port), "--unsafe"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        yield f"ws://127.0.0.1:{port}/"
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # the server and any browser it started
        process.wait(10)


@pytest.mark.sqlite_only
def test_flows_run_on_a_playwright_server(
    settings: Settings, demo_target: DemoTarget, browser_server: str
) -> None:
    remote = settings.model_copy(
        update={
            "browser_ws_endpoint": browser_server,
            "chromium_path": str(resolve_chromium()),
            "flows_reruns": 0,
        }
    )
    runtime = Runtime.start(remote)
    outcome = runtime.pipeline.run(runtime.checks["golden_flows"])
    assert outcome is not None
    assert [f["outcome"] for f in outcome.run.details["flows"]] == ["passed"] * 4
    assert f"--base-url={demo_target.url}" in outcome.run.details["command"]


def test_dead_endpoint_is_monitor_degraded(settings: Settings, demo_target: DemoTarget) -> None:
    endpoint = f"ws://127.0.0.1:{free_port()}/"
    runtime = Runtime.start(settings.model_copy(update={"browser_ws_endpoint": endpoint}))
    outcome = runtime.pipeline.run(runtime.checks["golden_flows"])
    assert outcome is not None
    assert outcome.run.status == "failed"
    assert outcome.run.details["error"] == (
        f"browser endpoint unreachable: {endpoint} (connection refused)"
    )
    with read_session(runtime.engine) as session:
        (incident,) = session.exec(select(Incident)).all()
    assert (incident.type, incident.message) == ("monitor_degraded", "Browser endpoint unreachable")
