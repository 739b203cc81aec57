"""What every request of one app shares: settings, engine, the configured checks, the secret."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from sqlalchemy import Engine

from api.secret import load_secret
from api.status import CheckSpec
from runner.settings import Settings


@dataclass
class Monitor:
    settings: Settings
    engine: Engine
    specs: list[CheckSpec]
    _secret: bytes | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def secure_cookies(self) -> bool:
        return self.settings.public_url.lower().startswith("https://")

    def secret(self) -> bytes:
        """Loaded on first use, so the app starts even while the database is away."""
        with self._lock:
            if self._secret is None:
                self._secret = load_secret(self.engine, self.settings.secret_key)
            return self._secret
