"""Login throttling, counted in the database (so it holds across workers and restarts).

An account is throttled after N failures in the window since its last success; a client
address after M failures in the window, whatever accounts they named.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, delete, func, select

from runner.db import write_session
from runner.models import LoginAttempt
from runner.settings import Settings

KEEP_ATTEMPTS = timedelta(days=1)


@dataclass(frozen=True)
class ThrottlePolicy:
    max_per_account: int
    max_per_address: int
    window: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> ThrottlePolicy:
        return cls(
            settings.login_max_failures_per_account,
            settings.login_max_failures_per_address,
            timedelta(seconds=settings.login_throttle_window_seconds),
        )


def _wait(failures: Sequence[datetime], limit: int, window: timedelta, now: datetime) -> float:
    """Seconds until fewer than `limit` of these (newest first) failures are in the window."""
    if len(failures) < limit:
        return 0.0
    return max(0.0, (failures[limit - 1] + window - now).total_seconds())


def retry_after(
    session: Session, email: str, address: str, policy: ThrottlePolicy, now: datetime
) -> int | None:
    """Seconds to wait before this login may be tried, or None when it may be tried now."""
    since = now - policy.window
    last_success = session.exec(
        select(func.max(LoginAttempt.at)).where(
            col(LoginAttempt.email) == email, col(LoginAttempt.succeeded).is_(True)
        )
    ).one()
    account_since = max(since, last_success) if last_success else since
    account = session.exec(
        select(LoginAttempt.at)
        .where(
            col(LoginAttempt.email) == email,
            col(LoginAttempt.succeeded).is_(False),
            col(LoginAttempt.at) > account_since,
        )
        .order_by(col(LoginAttempt.at).desc())
        .limit(policy.max_per_account)
    ).all()
    by_address = session.exec(
        select(LoginAttempt.at)
        .where(
            col(LoginAttempt.address) == address,
            col(LoginAttempt.succeeded).is_(False),
            col(LoginAttempt.at) > since,
        )
        .order_by(col(LoginAttempt.at).desc())
        .limit(policy.max_per_address)
    ).all()
    wait = max(
        _wait(account, policy.max_per_account, policy.window, now),
        _wait(by_address, policy.max_per_address, policy.window, now),
    )
    return math.ceil(wait) if wait > 0 else None


def record_attempt(
    engine: Engine,
    policy: ThrottlePolicy,
    email: str,
    address: str,
    succeeded: bool,
    now: datetime,
) -> None:
    """Count one attempt; attempts too old to matter are swept on the way."""
    keep = max(policy.window, KEEP_ATTEMPTS)
    with write_session(engine) as session:
        session.exec(delete(LoginAttempt).where(col(LoginAttempt.at) < now - keep))
        session.add(LoginAttempt(email=email, address=address, succeeded=succeeded, at=now))
