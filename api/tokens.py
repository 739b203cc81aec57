"""Opaque secrets (session cookies, bearer tokens): random, shown once, stored as SHA-256."""

from __future__ import annotations

import hashlib
import secrets

BEARER_PREFIX = "gw_"


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def new_bearer_token() -> str:
    return BEARER_PREFIX + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
