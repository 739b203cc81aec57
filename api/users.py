"""Dashboard accounts and their bearer tokens (what `goldwatch user add` and `token create` do)."""

from __future__ import annotations

import re

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from api.passwords import MIN_PASSWORD_LENGTH, hash_password
from api.tokens import digest, new_bearer_token
from runner.db import write_session
from runner.models import ApiToken, User

ROLES = ("owner", "admin", "staff")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
TENANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class UserError(ValueError):
    """Bad input for an account; the message says what to fix."""


def normalize_email(email: str) -> str:
    return email.strip().lower()


def _validated(email: str, password: str, role: str, tenant_id: str | None) -> str:
    email = normalize_email(email)
    if not EMAIL.match(email):
        raise UserError(f"not an email address: {email!r}")
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    if tenant_id is not None and not TENANT.match(tenant_id):
        raise UserError(f"invalid tenant id {tenant_id!r} (letters, digits, _ . -; max 64)")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"password too short: at least {MIN_PASSWORD_LENGTH} characters")
    return email


def find_user(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(col(User.email) == normalize_email(email))).first()


def add_user(
    engine: Engine, email: str, password: str, role: str, tenant_id: str | None = None
) -> User:
    """A new account; UserError when the input is bad or the email is taken."""
    email = _validated(email, password, role, tenant_id)
    password_hash = hash_password(password)
    try:
        with write_session(engine) as session:
            user = User(email=email, password_hash=password_hash, role=role, tenant_id=tenant_id)
            session.add(user)
            session.flush()
            return user
    except IntegrityError:
        raise UserError(f"a user {email} already exists") from None


def ensure_user(
    engine: Engine, email: str, password: str, role: str, tenant_id: str | None = None
) -> bool:
    """Create the account unless it exists (seeding); True when it was created."""
    try:
        add_user(engine, email, password, role, tenant_id)
    except UserError as error:
        if "already exists" in str(error):
            return False
        raise
    return True


def create_token(engine: Engine, email: str) -> str:
    """A new bearer token for the account, returned once; only its hash is stored."""
    token = new_bearer_token()
    with write_session(engine) as session:
        user = find_user(session, email)
        if user is None or user.id is None:
            raise UserError(f"no user {normalize_email(email)}")
        session.add(ApiToken(token_hash=digest(token), user_id=user.id))
    return token
