"""One sign-in attempt: throttle check, Argon2 verification, attempt counted, session opened."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from api.auth import start_session
from api.context import Monitor
from api.passwords import verify_password
from api.throttle import ThrottlePolicy, record_attempt, retry_after
from api.users import find_user, normalize_email
from runner.db import read_session

MAX_PASSWORD_LENGTH = 1024


@dataclass(frozen=True)
class LoginResult:
    cookie: str | None = None  # the new session's cookie value, when signed in
    retry_after: int | None = None  # seconds, when throttled

    @property
    def ok(self) -> bool:
        return self.cookie is not None


def attempt_login(
    monitor: Monitor, email: str, password: str, address: str, now: datetime
) -> LoginResult:
    settings = monitor.settings
    policy = ThrottlePolicy.from_settings(settings)
    email = normalize_email(email)[:320]
    with read_session(monitor.engine) as session:
        wait = retry_after(session, email, address, policy, now)
        user = find_user(session, email) if wait is None else None
    if wait is not None:
        return LoginResult(retry_after=wait)
    too_long = len(password) > MAX_PASSWORD_LENGTH  # Argon2 on megabytes would be a DoS
    ok = not too_long and verify_password(password, user.password_hash if user else None)
    record_attempt(monitor.engine, policy, email, address, ok, now)
    if not ok or user is None or user.id is None:
        return LoginResult()
    lifetime = timedelta(hours=settings.session_lifetime_hours)
    return LoginResult(cookie=start_session(monitor.engine, user.id, lifetime, now))
