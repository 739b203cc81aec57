"""Authentication: server-side sessions (cookie) and bearer tokens, both stored hashed."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import col, delete, select

from api.access import Viewer
from api.tokens import digest, new_secret
from runner.db import read_session, write_session
from runner.models import ApiToken, User, UserSession

SESSION_COOKIE = "goldwatch_session"
TOKEN_TOUCH_INTERVAL = timedelta(minutes=5)


def bearer_token(authorization: str) -> str | None:
    scheme, _, value = authorization.strip().partition(" ")
    value = value.strip()
    return value if scheme.lower() == "bearer" and value else None


def _viewer(user: User, session_row: UserSession | None = None) -> Viewer:
    assert user.id is not None
    return Viewer(
        user_id=user.id,
        email=user.email,
        role=user.role,
        tenant_id=user.tenant_id,
        session_id=session_row.id if session_row else None,
        csrf_token=session_row.csrf_token if session_row else None,
    )


def viewer_by_token(engine: Engine, token: str, now: datetime) -> Viewer | None:
    """The bearer token's owner, or None; notes its use (at most every few minutes)."""
    with read_session(engine) as session:
        row = session.exec(
            select(ApiToken, User)
            .join(User, col(User.id) == col(ApiToken.user_id))
            .where(col(ApiToken.token_hash) == digest(token))
        ).first()
        if row is None:
            return None
        api_token, user = row
        viewer = _viewer(user)
    # Written after the read session is returned: a request holding one pooled connection
    # while it waits for another starves the pool when many first uses arrive at once.
    if api_token.last_used_at is None or now - api_token.last_used_at > TOKEN_TOUCH_INTERVAL:
        with write_session(engine) as writer:
            stored = writer.get(ApiToken, api_token.id)
            if stored is not None:
                stored.last_used_at = now
    return viewer


def viewer_by_cookie(engine: Engine, cookie: str, now: datetime) -> Viewer | None:
    """The signed-in user of an unexpired session, or None."""
    with read_session(engine) as session:
        row = session.exec(
            select(UserSession, User)
            .join(User, col(User.id) == col(UserSession.user_id))
            .where(col(UserSession.id) == digest(cookie), col(UserSession.expires_at) > now)
        ).first()
        return _viewer(row[1], row[0]) if row else None


def start_session(engine: Engine, user_id: int, lifetime: timedelta, now: datetime) -> str:
    """A new server-side session; returns the cookie value (only its hash is stored). Expired
    sessions are swept on the way."""
    cookie = new_secret()
    with write_session(engine) as session:
        session.exec(delete(UserSession).where(col(UserSession.expires_at) <= now))
        session.add(
            UserSession(
                id=digest(cookie),
                user_id=user_id,
                csrf_token=new_secret(),
                created_at=now,
                expires_at=now + lifetime,
            )
        )
    return cookie


def end_session(engine: Engine, session_id: str) -> None:
    with write_session(engine) as session:
        session.exec(delete(UserSession).where(col(UserSession.id) == session_id))
