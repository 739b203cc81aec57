"""Two schedulers on one database: the leader is killed mid-run, the follower takes over,
closes the abandoned run, and no slot of any job runs twice."""

from __future__ import annotations

import itertools
import signal
import time
from datetime import timedelta
from pathlib import Path

from sqlmodel import col, select

from runner.db import make_engine, read_session
from runner.models import JobRun
from runner.store import ABANDONED
from tests.conftest import DemoTarget
from tests.test_scheduler import start_scheduler, wait_for_line

INTERVAL = 1


def wait_for_running_run(url: str, timeout: float = 10) -> None:
    engine = make_engine(url)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            with read_session(engine) as session:
                if session.exec(select(JobRun).where(JobRun.status == "running")).first():
                    return
            time.sleep(0.05)
    finally:
        engine.dispose()
    raise AssertionError("no run was in flight")


def test_leader_killed_follower_takes_over_each_slot_once(
    monitor_env: dict[str, str], demo_target: DemoTarget, tmp_path: Path
) -> None:
    # Slow health answers keep a run in flight when the leader dies.
    demo_target.fault("slow", ms=600)
    env = {
        **monitor_env,
        "GOLDWATCH_WEB_BASE_URL": "",
        "GOLDWATCH_HEALTH_INTERVAL_SECONDS": str(INTERVAL),
        "GOLDWATCH_SCHEDULER_LEASE_SECONDS": "3",
    }
    leader_log, follower_log = tmp_path / "leader.log", tmp_path / "follower.log"
    leader = start_scheduler(env, leader_log)
    follower = None
    try:
        wait_for_line(leader_log, "leader: holding the scheduler lease", 20)
        follower = start_scheduler(env, follower_log)
        wait_for_line(follower_log, "standby", 20)
        time.sleep(2)
        wait_for_running_run(monitor_env["GOLDWATCH_DATABASE_URL"])
        leader.send_signal(signal.SIGKILL)
        leader.wait(10)
        wait_for_line(follower_log, "leader: holding the scheduler lease", 10)
        time.sleep(4)
    finally:
        for process in (leader, follower):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(10)

    engine = make_engine(monitor_env["GOLDWATCH_DATABASE_URL"])
    with read_session(engine) as session:
        runs = session.exec(
            select(JobRun).where(JobRun.job == "check_api_health").order_by(col(JobRun.started_at))
        ).all()
    engine.dispose()
    starts = [run.started_at for run in runs]
    assert len(starts) >= 6, starts
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    assert min(gaps) >= timedelta(seconds=INTERVAL * 0.5), f"a slot ran twice: {gaps}"
    assert "closed 1 abandoned runs" in follower_log.read_text()
    abandoned = [run for run in runs if run.details.get("error") == ABANDONED]
    assert len(abandoned) == 1 and abandoned[0].status == "failed"
    assert all(run.status != "running" for run in runs)
