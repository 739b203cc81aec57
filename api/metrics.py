"""Prometheus metrics, read from the database at scrape time, so every replica (with or
without the scheduler) reports the same figures."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from sqlalchemy import Engine, case
from sqlmodel import Session, col, func, select

from api.access import Scope
from api.status import CheckSpec, compute_status
from runner.db import read_session
from runner.models import Incident, JobRun, Notification, SchedulerLease, utcnow

# Seconds; golden-flow runs take tens of seconds, health checks milliseconds.
DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
OVERALL = {"green": 0, "yellow": 1, "red": 2}


class MonitorCollector(Collector):
    def __init__(self, engine: Engine, specs: Sequence[CheckSpec]) -> None:
        self.engine = engine
        self.specs = list(specs)

    def collect(self) -> Iterator[Metric]:
        now = utcnow()
        with read_session(self.engine) as session:
            yield from self._status(session, now)
            yield from self._runs(session)
            yield from self._incidents(session)
            yield from self._notifications(session)
            yield from self._scheduler(session)

    def _status(self, session: Session, now: datetime) -> Iterator[Metric]:
        report = compute_status(session, self.specs, Scope.platform(), now)
        overall = GaugeMetricFamily(
            "goldwatch_overall_status", "Overall status: 0 green, 1 yellow, 2 red"
        )
        overall.add_metric([], OVERALL[report.overall])
        up = GaugeMetricFamily(
            "goldwatch_check_up", "1 when the check's last run succeeded", labels=["check"]
        )
        stale = GaugeMetricFamily(
            "goldwatch_check_stale",
            "1 when no run finished within 2x the interval",
            labels=["check"],
        )
        duration = GaugeMetricFamily(
            "goldwatch_check_last_duration_seconds", "Duration of the last run", labels=["check"]
        )
        finished = GaugeMetricFamily(
            "goldwatch_check_last_run_timestamp_seconds",
            "When the last run finished (Unix time)",
            labels=["check"],
        )
        for state in report.checks:
            stale.add_metric([state.name], float(state.stale))
            if state.status is None or state.at is None:
                continue
            up.add_metric([state.name], float(state.status == "success"))
            duration.add_metric([state.name], (state.duration_ms or 0) / 1000)
            finished.add_metric([state.name], state.at.timestamp())
        yield from (overall, up, stale, duration, finished)

    def _runs(self, session: Session) -> Iterator[Metric]:
        names = {spec.job: spec.name for spec in self.specs}
        finished = col(JobRun.status) != "running"
        counts = session.exec(
            select(JobRun.job, JobRun.status, func.count())
            .where(finished)
            .group_by(col(JobRun.job), col(JobRun.status))
        ).all()
        runs = CounterMetricFamily(
            "goldwatch_check_runs",
            "Recorded runs by result (since retention)",
            labels=["check", "status"],
        )
        for job, status, count in counts:
            runs.add_metric([names.get(job, job), status], count)
        yield runs

        seconds = col(JobRun.duration_ms) / 1000.0
        bucket_columns = [
            func.sum(case((seconds <= bound, 1), else_=0)) for bound in DURATION_BUCKETS
        ]
        rows = session.exec(
            select(
                JobRun.job,
                func.count(),
                func.coalesce(func.sum(seconds), 0.0),
                *bucket_columns,
            )
            .where(finished, col(JobRun.duration_ms).is_not(None))
            .group_by(col(JobRun.job))
        ).all()
        histogram = HistogramMetricFamily(
            "goldwatch_check_duration_seconds", "Run durations", labels=["check"]
        )
        for row in rows:
            job, total, total_seconds = str(row[0]), float(row[1] or 0), float(row[2] or 0)
            cumulative: tuple[object, ...] = tuple(row[3:])
            buckets = [
                (str(bound), float(str(cumulative[i] or 0)))
                for i, bound in enumerate(DURATION_BUCKETS)
            ]
            buckets.append(("+Inf", total))
            histogram.add_metric([names.get(job, job)], buckets, total_seconds)
        yield histogram

    def _incidents(self, session: Session) -> Iterator[Metric]:
        rows = session.exec(
            select(Incident.type, Incident.severity, func.count())
            .where(col(Incident.resolved_at).is_(None))
            .group_by(col(Incident.type), col(Incident.severity))
        ).all()
        family = GaugeMetricFamily(
            "goldwatch_open_incidents", "Open incidents", labels=["type", "severity"]
        )
        for incident_type, severity, count in rows:
            family.add_metric([incident_type, severity], count)
        yield family

    def _notifications(self, session: Session) -> Iterator[Metric]:
        rows = session.exec(
            select(Notification.channel, Notification.status, func.count()).group_by(
                col(Notification.channel), col(Notification.status)
            )
        ).all()
        family = GaugeMetricFamily(
            "goldwatch_notifications",
            "Alert notifications by channel and delivery status",
            labels=["channel", "status"],
        )
        for channel, status, count in rows:
            family.add_metric([channel, status], count)
        yield family

    def _scheduler(self, session: Session) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "goldwatch_scheduler_heartbeat_timestamp_seconds",
            "Last heartbeat of the scheduler holding the lease (Unix time)",
        )
        lease = session.exec(select(SchedulerLease)).first()
        if lease is not None:
            family.add_metric([], lease.heartbeat_at.timestamp())
        yield family
