"""The scheduler runs each job at its interval, and only one scheduler leads per database."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select

from runner.db import read_session
from runner.models import JobRun, utcnow
from runner.runtime import Runtime
from runner.scheduler import run_scheduler
from runner.settings import Settings
from runner.store import ABANDONED, start_run
from tests.conftest import DemoTarget


def test_jobs_run_at_their_interval(settings: Settings, demo_target: DemoTarget) -> None:
    fast = settings.model_copy(update={"health_interval_seconds": 1})
    runtime = Runtime.start(fast)
    runtime.checks = {name: runtime.checks[name] for name in ("api_health", "web_health")}
    abandoned = start_run(runtime.engine, "check_golden_flows", "schedule", utcnow())

    async def run_for(seconds: float) -> None:
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(seconds, stop.set)
        await run_scheduler(runtime, stop)

    asyncio.run(run_for(3.6))
    with read_session(runtime.engine) as session:
        runs = session.exec(select(JobRun).order_by(col(JobRun.started_at))).all()
    by_job: dict[str, list[JobRun]] = {}
    for run in runs:
        by_job.setdefault(run.job, []).append(run)
    for job in ("check_api_health", "check_web_health"):
        starts = [r.started_at for r in by_job[job]]
        assert 3 <= len(starts) <= 5, (job, starts)
        gaps = [b - a for a, b in itertools.pairwise(starts)]
        assert all(timedelta(seconds=0.8) <= gap <= timedelta(seconds=1.5) for gap in gaps), gaps
        assert {r.trigger for r in by_job[job]} == {"schedule"}
        assert all(r.status == "success" for r in by_job[job])
    (reaped,) = by_job["check_golden_flows"]
    assert reaped.id == abandoned
    assert (reaped.status, reaped.details["error"]) == ("failed", ABANDONED)


LEASE = 6


def start_scheduler(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "runner", "scheduler"],
        env={**{k: v for k, v in os.environ.items() if not k.startswith("GOLDWATCH_")}, **env},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def wait_for_line(log: Path, text: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in log.read_text():
            return
        time.sleep(0.1)
    pytest.fail(f"{log.name} never said {text!r}:\n{log.read_text()}")


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGKILL])
def test_second_scheduler_waits_as_standby_then_takes_over(
    monitor_env: dict[str, str], tmp_path: Path, stop_signal: signal.Signals
) -> None:
    env = {
        **monitor_env,
        "GOLDWATCH_WEB_BASE_URL": "",  # health of the API only: fast runs
        "GOLDWATCH_HEALTH_INTERVAL_SECONDS": "1",
        "GOLDWATCH_SCHEDULER_LEASE_SECONDS": str(LEASE),
    }
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    first = start_scheduler(env, first_log)
    second = None
    try:
        wait_for_line(first_log, "leader: holding the scheduler lease", 20)
        second = start_scheduler(env, second_log)
        wait_for_line(second_log, "standby: scheduler lease held by", 20)
        time.sleep(1.5)
        assert "leader" not in second_log.read_text()

        stopped_at = time.monotonic()
        first.send_signal(stop_signal)
        first.wait(10)
        wait_for_line(second_log, "leader: holding the scheduler lease", 15)
        # A clean stop releases the lease at once; a killed leader's lease has to expire.
        # (The standby looks every LEASE / 3 seconds.)
        took = time.monotonic() - stopped_at
        assert took < (LEASE * 2 / 3 if stop_signal == signal.SIGTERM else LEASE * 4 / 3), took
        wait_for_line(second_log, "executed check_api_health", 5)
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(10)
    if stop_signal == signal.SIGTERM:
        assert "scheduler stopped; lease released" in first_log.read_text()
