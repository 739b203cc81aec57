"""Argon2 password hashing (pwdlib; rule 9: passlib is unmaintained)."""

from __future__ import annotations

import functools

from pwdlib import PasswordHash

MIN_PASSWORD_LENGTH = 8


@functools.cache
def _hasher() -> PasswordHash:
    return PasswordHash.recommended()


@functools.cache
def _dummy_hash() -> str:
    return _hasher().hash("goldwatch-timing-equaliser")


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    """True when `password` matches; with no hash (unknown account) the same work is done, so
    response times do not tell which emails exist."""
    if password_hash is None:
        _hasher().verify(password, _dummy_hash())
        return False
    return _hasher().verify(password, password_hash)
