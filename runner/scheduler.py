"""APScheduler wiring: each check at its interval, behind the single-scheduler lease.

Rule 3: job defaults are set here (coalesce, max_instances=1, a misfire grace sized to the
interval) and error/missed events are logged, so no run is dropped silently.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from datetime import datetime, timedelta

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlmodel import col, func, select

from runner.checks import golden_flows
from runner.checks.base import Check
from runner.db import read_session
from runner.lease import make_lock
from runner.models import JobRun, utcnow
from runner.retention import prune
from runner.runtime import Runtime
from runner.store import reap_abandoned_runs

log = logging.getLogger("goldwatch.scheduler")
PERIODIC_TASKS_KEY = "periodic"


def _first_run_at(runtime: Runtime, check: Check, now: datetime) -> datetime:
    """Keep the rhythm across restarts: the next slot after the last run, or now."""
    with read_session(runtime.engine) as session:
        last = session.exec(
            select(func.max(JobRun.started_at)).where(col(JobRun.job) == check.job)
        ).one()
    if last is None:
        return now
    return max(now, last + timedelta(seconds=check.interval_seconds))


def _on_event(event: JobExecutionEvent) -> None:
    if event.code == EVENT_JOB_MISSED:
        log.warning("missed run of %s scheduled at %s", event.job_id, event.scheduled_run_time)
    elif event.exception is not None:
        log.error("job %s failed: %r", event.job_id, event.exception, exc_info=event.exception)


def build_scheduler(
    runtime: Runtime, extra_jobs: dict[str, tuple[float, Callable[[], object]]] | None = None
) -> AsyncIOScheduler:
    """A scheduler with one job per check plus periodic housekeeping (not yet started)."""
    scheduler = AsyncIOScheduler(
        executors={"default": ThreadPoolExecutor(max_workers=4)},
        job_defaults={"coalesce": True, "max_instances": 1},
        timezone="UTC",
    )
    scheduler.add_listener(_on_event, EVENT_JOB_ERROR | EVENT_JOB_MISSED)
    now = utcnow()
    for check in runtime.checks.values():
        first = _first_run_at(runtime, check, now)
        scheduler.add_job(
            runtime.pipeline.run,
            "interval",
            seconds=check.interval_seconds,
            args=[check, "schedule"],
            id=check.job,
            name=check.job,
            next_run_time=first,
            misfire_grace_time=check.interval_seconds,
        )
        log.info(
            "scheduled %s every %ss, next run at %s",
            check.job,
            check.interval_seconds,
            first.isoformat(timespec="seconds"),
        )
    housekeeping: dict[str, tuple[float, Callable[[], object]]] = {
        "prune_retention": (
            86_400.0,
            lambda: prune(runtime.engine, utcnow(), runtime.settings.retention_days),
        ),
        **(extra_jobs or {}),
    }
    for job_id, (seconds, function) in housekeeping.items():
        scheduler.add_job(
            function,
            "interval",
            seconds=seconds,
            id=job_id,
            name=job_id,
            misfire_grace_time=max(1, int(seconds)),
        )
    return scheduler


async def run_scheduler(
    runtime: Runtime,
    stop: asyncio.Event,
    extra_jobs: dict[str, tuple[float, Callable[[], object]]] | None = None,
) -> None:
    """Lead while holding the lease, wait as standby otherwise, until `stop` is set."""
    ttl = timedelta(seconds=runtime.settings.scheduler_lease_seconds)
    lease = make_lock(runtime.engine, ttl)
    beat = ttl.total_seconds() / 3
    scheduler: AsyncIOScheduler | None = None
    announced_standby = False
    try:
        while not stop.is_set():
            leading = await asyncio.to_thread(lease.acquire, utcnow())
            if leading and scheduler is None:
                reaped = await asyncio.to_thread(reap_abandoned_runs, runtime.engine, utcnow())
                log.info(
                    "leader: holding the scheduler lease as %s (closed %d abandoned runs)",
                    lease.holder,
                    reaped,
                )
                scheduler = build_scheduler(runtime, extra_jobs)
                scheduler.start()
                announced_standby = False
            elif not leading:
                if scheduler is not None:
                    log.warning("lost the scheduler lease; stopping jobs and going standby")
                    scheduler.shutdown(wait=False)
                    scheduler = None
                if not announced_standby:
                    current = await asyncio.to_thread(lease.current)
                    log.info(
                        "standby: scheduler lease held by %s until %s",
                        current.holder if current else "?",
                        current.expires_at.isoformat(timespec="seconds") if current else "?",
                    )
                    announced_standby = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=beat)
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)
            golden_flows.abort_all()
            await asyncio.to_thread(lease.release)
            log.info("scheduler stopped; lease released")


def run_forever(runtime: Runtime) -> None:
    """`goldwatch scheduler`: run until SIGINT or SIGTERM."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_scheduler(runtime, stop, runtime.periodic_jobs())

    asyncio.run(main())
