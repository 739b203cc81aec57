"""The monitor's secret: GOLDWATCH_SECRET_KEY, or one generated once per database."""

from __future__ import annotations

import hashlib
import hmac

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from api.tokens import new_secret
from runner.db import read_session, write_session
from runner.models import Setting

SECRET_KEY_SETTING = "secret_key"


def load_secret(engine: Engine, configured: str) -> bytes:
    """The configured secret, else the database's (created on first use; racing creators
    agree on whichever row was inserted first)."""
    if configured:
        return configured.encode()
    with read_session(engine) as session:
        row = session.get(Setting, SECRET_KEY_SETTING)
    if row is None:
        try:
            with write_session(engine) as session:
                session.add(Setting(key=SECRET_KEY_SETTING, value=new_secret()))
        except IntegrityError:
            pass
        with read_session(engine) as session:
            row = session.get(Setting, SECRET_KEY_SETTING)
    assert row is not None
    return row.value.encode()


def sign(secret: bytes, purpose: str, value: str) -> str:
    return hmac.new(secret, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()
