"""What every request of one app shares: settings, engine, the configured checks, the secret
and the answers the API reuses under load."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from sqlalchemy import Engine

from api.access import Viewer
from api.answer_cache import AnswerCache
from api.secret import load_secret
from api.status import CheckSpec
from runner.db import commit_counter
from runner.settings import Settings


@dataclass
class Monitor:
    settings: Settings
    engine: Engine
    specs: list[CheckSpec]
    _secret: bytes | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    # status JSON per scope (tenant id, None for the platform); viewer per token digest
    status_answers: AnswerCache[str | None, bytes] = field(init=False, repr=False)
    token_viewers: AnswerCache[str, Viewer] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        counter = commit_counter(self.engine)
        ttl = self.settings.api_cache_seconds
        self.status_answers = AnswerCache(ttl, lambda: counter.value)
        self.token_viewers = AnswerCache(ttl, lambda: counter.value)

    @property
    def secure_cookies(self) -> bool:
        return self.settings.public_url.lower().startswith("https://")

    def secret(self) -> bytes:
        """Loaded on first use, so the app starts even while the database is away."""
        with self._lock:
            if self._secret is None:
                self._secret = load_secret(self.engine, self.settings.secret_key)
            return self._secret
