"""The alert outbox (rule 7): the planner writes Notification rows in the incident's own
transaction; the dispatcher delivers them, at least once, with backoff, keeping every error.

Planner (`Planner.__call__` is the store's `on_change`), per incident:
- at most one raised-or-reminder row per throttle window (measured from the last such row);
- raised for a new (or reopened, or no-longer-suppressed) incident outside that window;
- reminder for an `updated` change (it failed again) once the window has passed since the last
  raised/reminder row of the current episode;
- resolved exactly once per episode, and only if that episode's raise or reminder was planned;
- nothing while the incident is suppressed by an open api_down. When the api_down resolves,
  the incidents it explained are unsuppressed but say nothing yet: most recover at their next
  run. One that fails again (its next `updated` change) outlived the outage and is raised then.

Dispatcher: claims a due row with one conditional UPDATE (pending and due, or a `sending` row
whose claim expired -> sending), sends it outside any transaction, then records sent (and the
incident's last_alerted_at), or pending again with exponential backoff, or failed when the
error is permanent; an ALERT_SENT or ALERT_FAILED audit row for every attempt. Rows of one
incident and channel go out in order (a resolved never overtakes its raise).
"""

from __future__ import annotations

import logging
import mimetypes
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import make_msgid
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, and_, exists, func, or_, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from runner.alerting.base import AlertError, AlertMessage, Channel, InlineImage
from runner.alerting.content import AlertContext, render
from runner.db import read_session, write_session
from runner.incidents import CORRELATION_ROOT
from runner.models import Artifact, AuditLog, Incident, Notification, utcnow
from runner.store import Change

log = logging.getLogger("goldwatch.alerts")
Clock = Callable[[], datetime]

ALERTING = ("raised", "reminder")
UNFINISHED = ("pending", "sending")
# Changes that mean "seen failing in this run" (`unsuppressed` is not one: see above).
FAILING_CHANGES = frozenset({"raised", "updated", "reopened"})
SCREENSHOT_LIMIT = 5 * 1024 * 1024


# Planning -----------------------------------------------------------------------------------


def _latest(session: Session, incident_id: int, events: Sequence[str]) -> Notification | None:
    return session.exec(
        select(Notification)
        .where(col(Notification.incident_id) == incident_id, col(Notification.event).in_(events))
        .order_by(col(Notification.id).desc())
        .limit(1)
    ).first()


@dataclass(frozen=True)
class Planner:
    """The store's `on_change`: decides which alerts a run's changes call for and queues them."""

    channels: Sequence[str]
    throttle: timedelta

    def __call__(self, session: Session, changes: Sequence[Change], now: datetime) -> None:
        for change in changes:
            event = self.decide(session, change, now)
            if event is not None:
                self._queue(session, change, event, now)

    def decide(self, session: Session, change: Change, now: datetime) -> str | None:
        """raised | reminder | resolved | None (say nothing) for one change."""
        incident = change.incident
        assert incident.id is not None
        last_alert = _latest(session, incident.id, ALERTING)
        last_resolved = _latest(session, incident.id, ("resolved",))
        episode_alerted = last_alert is not None and (
            last_resolved is None or (last_alert.id or 0) > (last_resolved.id or 0)
        )
        if change.event == "resolved":
            return "resolved" if episode_alerted else None
        if change.event not in FAILING_CHANGES:
            return None
        if incident.suppressed_by is not None or incident.resolved_at is not None:
            return None
        if last_alert is not None and now - last_alert.created_at < self.throttle:
            return None
        # Only a failing change reaches here, so a reminder means "still failing".
        return "reminder" if episode_alerted else "raised"

    def _queue(self, session: Session, change: Change, event: str, now: datetime) -> None:
        incident = change.incident
        assert incident.id is not None
        payload: dict[str, Any] = {
            "change": change.event,
            "occurrences": incident.occurrences,
            "planned_at": now.isoformat(),
        }
        if event == "resolved" and incident.resolved_at is not None:
            payload["resolved_at"] = incident.resolved_at.isoformat()
        for channel in self.channels:
            if event in ALERTING and _has_unsent_alert(session, incident.id, channel):
                continue  # still queued: delivered with the incident as it is then, not twice
            session.add(
                Notification(
                    incident_id=incident.id,
                    event=event,
                    channel=channel,
                    next_attempt_at=now,
                    created_at=now,
                    payload=payload,
                )
            )
        session.flush()


def _has_unsent_alert(session: Session, incident_id: int, channel: str) -> bool:
    return (
        session.exec(
            select(Notification.id).where(
                col(Notification.incident_id) == incident_id,
                col(Notification.channel) == channel,
                col(Notification.event).in_(ALERTING),
                col(Notification.status).in_(UNFINISHED),
            )
        ).first()
        is not None
    )


# Rendering at delivery time -----------------------------------------------------------------


def _screenshot(session: Session, incident: Incident) -> tuple[InlineImage, int] | None:
    ids = [i for i in incident.details.get("artifact_ids") or [] if isinstance(i, int)]
    if not ids:
        return None
    rows = session.exec(
        select(Artifact)
        .where(col(Artifact.id).in_(ids), col(Artifact.kind) == "screenshot")
        .order_by(col(Artifact.id).desc())
    ).all()
    for artifact in rows:  # the newest attempt's screenshot that is still on disk
        path = Path(artifact.path)
        if not path.is_file() or path.stat().st_size > SCREENSHOT_LIMIT:
            continue
        kind = mimetypes.guess_type(path.name)[0] or "image/png"
        cid = make_msgid("screenshot", domain="goldwatch")[1:-1]
        image = InlineImage(cid, path.name, path.read_bytes(), kind.partition("/")[2] or "png")
        assert artifact.id is not None
        return image, artifact.id
    return None


def _moment(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def load_context(
    session: Session, row: Notification, public_url: str, now: datetime
) -> AlertContext:
    incident = session.get(Incident, row.incident_id)
    if incident is None:
        raise AlertError(f"incident #{row.incident_id} no longer exists", permanent=True)
    also: Sequence[Incident] = ()
    if incident.type == CORRELATION_ROOT and row.event in ALERTING:
        also = session.exec(
            select(Incident)
            .where(col(Incident.suppressed_by) == incident.id, col(Incident.resolved_at).is_(None))
            .order_by(col(Incident.id))
        ).all()
    shot = _screenshot(session, incident) if row.event in ALERTING else None
    return AlertContext(
        incident=incident,
        event=row.event,
        public_url=public_url,
        now=now,
        also_affected=also,
        screenshot=shot[0] if shot else None,
        screenshot_artifact_id=shot[1] if shot else None,
        resolved_at=_moment(row.payload.get("resolved_at")),
    )


# Delivery -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Backoff:
    """Delay before retry n (1-based): base * 2**(n-1), at most `cap` seconds."""

    base: float = 15.0
    cap: float = 600.0

    def delay(self, attempts: int) -> timedelta:
        return timedelta(seconds=min(self.cap, self.base * 2 ** max(0, attempts - 1)))


@dataclass(frozen=True)
class Delivery:
    """The outcome of one send attempt."""

    notification_id: int
    incident_id: int
    channel: str
    event: str
    attempt: int
    error: str | None = None
    permanent: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class _Claim:
    row_id: int
    until: datetime


class Dispatcher:
    """Delivers due outbox rows through the channels this process has."""

    def __init__(
        self,
        engine: Engine,
        channels: Mapping[str, Channel],
        public_url: str,
        *,
        backoff: Backoff | None = None,
        clock: Clock = utcnow,
        claim_seconds: float = 300.0,
        batch: int = 50,
    ) -> None:
        self.engine = engine
        self.channels = dict(channels)
        self.public_url = public_url
        self.backoff = backoff or Backoff()
        self.clock = clock
        self.claim_ttl = timedelta(seconds=claim_seconds)
        self.batch = batch

    # queries

    def _claimable(self, now: datetime) -> Any:
        due = and_(col(Notification.status) == "pending", col(Notification.next_attempt_at) <= now)
        expired = and_(col(Notification.status) == "sending", col(Notification.claimed_until) < now)
        return or_(due, expired)

    def _in_turn(self) -> Any:
        """No earlier row of the same incident and channel is still waiting or in flight."""
        earlier = aliased(Notification)
        return ~exists().where(
            col(earlier.incident_id) == col(Notification.incident_id),
            col(earlier.channel) == col(Notification.channel),
            col(earlier.id) < Notification.id,
            col(earlier.status).in_(UNFINISHED),
        )

    def _mine(self) -> Any:
        return col(Notification.channel).in_(list(self.channels))

    def due(self, now: datetime) -> list[tuple[int, str]]:
        with read_session(self.engine) as session:
            rows = session.exec(
                select(Notification.id, Notification.channel)
                .where(self._mine(), self._claimable(now), self._in_turn())
                .order_by(col(Notification.next_attempt_at), col(Notification.id))
                .limit(self.batch)
            ).all()
        return [(row_id, channel) for row_id, channel in rows if row_id is not None]

    def claim(self, row_id: int) -> _Claim | None:
        """Atomically take one row (pending and due, or its claim expired); None if not ours."""
        now = self.clock()
        until = now + self.claim_ttl
        with write_session(self.engine) as session:
            # PostgreSQL: a row another dispatcher is claiming right now is skipped, not waited
            # for (SQLite's BEGIN IMMEDIATE already serializes claims; it renders no FOR UPDATE).
            free = session.exec(
                select(Notification.id)
                .where(col(Notification.id) == row_id, self._claimable(now))
                .with_for_update(skip_locked=True)
            ).first()
            if free is None:
                return None
            result = session.connection().execute(
                update(Notification)
                .where(col(Notification.id) == row_id, self._claimable(now))
                .values(
                    status="sending",
                    claimed_until=until,
                    attempts=Notification.attempts + 1,
                )
            )
            return _Claim(row_id, until) if result.rowcount == 1 else None

    # one pass

    def run_once(self, max_rounds: int = 10) -> list[Delivery]:
        """Deliver what is due now, including rows whose turn came during this pass (a
        resolve behind its raise); a channel that failed transiently rests until next pass."""
        deliveries: list[Delivery] = []
        failing: set[str] = set()
        for _ in range(max_rounds):
            progressed = False
            for row_id, channel in self.due(self.clock()):
                if channel in failing:
                    continue
                claim = self.claim(row_id)
                if claim is None:
                    continue  # another dispatcher took it
                delivery = self._attempt(claim)
                if delivery is None:
                    continue
                deliveries.append(delivery)
                progressed = progressed or delivery.ok or delivery.permanent
                if not delivery.ok and not delivery.permanent:
                    failing.add(channel)
            if not progressed:
                break
        return deliveries

    def _attempt(self, claim: _Claim) -> Delivery | None:
        error: AlertError | None = None
        with read_session(self.engine) as session:
            row = session.get(Notification, claim.row_id)
            assert row is not None
            try:
                message: AlertMessage | None = render(
                    load_context(session, row, self.public_url, self.clock())
                )
            except AlertError as failure:
                message, error = None, failure
            except Exception as failure:  # a rendering bug must not stop the other alerts
                log.exception("rendering notification %s failed", row.id)
                message, error = None, AlertError(f"rendering failed: {failure!r}")
        if message is not None:
            try:
                self.channels[row.channel].send(message)
            except AlertError as failure:
                error = failure
            except Exception as failure:  # a channel bug: keep it queued, with the error
                log.exception("%s channel crashed", row.channel)
                error = AlertError(f"{type(failure).__name__}: {failure}")
        return self._record(claim, message, error)

    def _record(
        self, claim: _Claim, message: AlertMessage | None, error: AlertError | None
    ) -> Delivery | None:
        now = self.clock()
        with write_session(self.engine) as session:
            row = session.get(Notification, claim.row_id)
            if row is None or row.status != "sending" or row.claimed_until != claim.until:
                log.warning("notification %s was reclaimed while we sent it", claim.row_id)
                return None
            assert row.id is not None
            row.claimed_until = None
            data: dict[str, Any] = {
                "channel": row.channel,
                "event": row.event,
                "notification_id": row.id,
                "attempt": row.attempts,
            }
            if error is None:
                row.status, row.sent_at = "sent", now
                incident = session.get(Incident, row.incident_id)
                if incident is not None:
                    incident.last_alerted_at = now
                if message is not None:
                    data["subject"] = message.subject
                audit = "ALERT_SENT"
            else:
                row.last_error = error.message[:2000]
                data.update(error=row.last_error, permanent=error.permanent)
                if error.permanent:
                    row.status = "failed"
                else:
                    row.status = "pending"
                    row.next_attempt_at = now + self.backoff.delay(row.attempts)
                    data["retry_at"] = row.next_attempt_at.isoformat()
                audit = "ALERT_FAILED"
            session.add(AuditLog(event=audit, incident_id=row.incident_id, at=now, data=data))
            self._log(row, error)
            return Delivery(
                row.id,
                row.incident_id,
                row.channel,
                row.event,
                row.attempts,
                error.message if error else None,
                bool(error and error.permanent),
            )

    @staticmethod
    def _log(row: Notification, error: AlertError | None) -> None:
        what = f"{row.event} alert for incident #{row.incident_id} via {row.channel}"
        if error is None:
            log.info("sent %s (attempt %s)", what, row.attempts)
        elif error.permanent:
            log.error("gave up on %s: %s", what, error.message)
        else:
            log.warning(
                "could not send %s (attempt %s, retry at %s): %s",
                what,
                row.attempts,
                row.next_attempt_at.isoformat(timespec="seconds"),
                error.message,
            )

    # bounded wait

    def next_due(self) -> datetime | None:
        """When the earliest deliverable pending row of ours is due."""
        with read_session(self.engine) as session:
            return session.exec(
                select(func.min(Notification.next_attempt_at)).where(
                    self._mine(), col(Notification.status) == "pending", self._in_turn()
                )
            ).one()

    def unsent(self) -> list[Notification]:
        with read_session(self.engine) as session:
            return list(
                session.exec(
                    select(Notification)
                    .where(self._mine(), col(Notification.status).in_(UNFINISHED))
                    .order_by(col(Notification.id))
                ).all()
            )

    def flush(
        self,
        timeout: float,
        *,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> list[Notification]:
        """Deliver until nothing of ours is pending or `timeout` seconds passed; the rows still
        unsent (left queued, with their last error, for the scheduler or the next run)."""
        deadline = monotonic() + timeout
        while True:
            self.run_once()
            due = self.next_due()
            if due is None:
                break
            wait = max(0.05, (due - self.clock()).total_seconds())
            if monotonic() + wait > deadline:
                break
            sleep(wait)
        left = self.unsent()
        for row in left:
            log.warning(
                "%s alert for incident #%s via %s still queued after %s attempt(s)%s",
                row.event,
                row.incident_id,
                row.channel,
                row.attempts,
                f"; last error: {row.last_error}" if row.last_error else "",
            )
        return left


# Operator helpers ---------------------------------------------------------------------------


def requeue(engine: Engine, notification_id: int, now: datetime | None = None) -> bool:
    """Send a failed notification again (e.g. after fixing a recipient); False if not failed."""
    with write_session(engine) as session:
        result = session.connection().execute(
            update(Notification)
            .where(col(Notification.id) == notification_id, col(Notification.status) == "failed")
            .values(status="pending", next_attempt_at=now or utcnow(), claimed_until=None)
        )
        return result.rowcount == 1


def queue_counts(engine: Engine) -> dict[str, int]:
    """Notifications by status: pending, sending, sent, failed (for metrics and the dashboard)."""
    with read_session(engine) as session:
        rows = session.exec(
            select(Notification.status, func.count()).group_by(col(Notification.status))
        ).all()
    counts = dict.fromkeys(("pending", "sending", "sent", "failed"), 0)
    counts.update({status: count for status, count in rows})
    return counts
