"""The mutation log: every data-changing request the demo target has received.

Tests read it to prove that the golden flows never change the product's data.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Logging in and out changes a session, not the product's data.
NOT_MUTATIONS = frozenset({("POST", "/login"), ("POST", "/logout")})
MAX_ENTRIES = 10_000


def is_mutation(method: str, path: str) -> bool:
    method = method.upper()
    if method in SAFE_METHODS or path.startswith("/__demo"):
        return False
    return (method, path) not in NOT_MUTATIONS


@dataclass(frozen=True)
class Mutation:
    method: str
    path: str
    at: datetime

    def as_json(self) -> dict[str, str]:
        return {"method": self.method, "path": self.path, "at": self.at.isoformat()}


class MutationLog:
    """Thread-safe, bounded (oldest entries drop first)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: deque[Mutation] = deque(maxlen=MAX_ENTRIES)

    def record(self, method: str, path: str) -> None:
        entry = Mutation(method.upper(), path, datetime.now(UTC))
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[Mutation]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
