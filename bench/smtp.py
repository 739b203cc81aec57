"""A real SMTP server on loopback (aiosmtpd) that notes when it accepted each message."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes
from email.policy import default as default_policy
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class Accepted:
    at: float  # time.perf_counter() when the server answered 250 to DATA
    subject: str
    recipients: tuple[str, ...]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        at = time.perf_counter()
        message = message_from_bytes(envelope.content, policy=default_policy)
        subject = " ".join(str(message["Subject"]).split())
        self.sink.record(Accepted(at, subject, tuple(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


@dataclass
class SmtpSink:
    port: int = field(default_factory=free_port)
    controller: Controller | None = None
    _messages: list[Accepted] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, accepted: Accepted) -> None:
        with self._lock:
            self._messages.append(accepted)

    @property
    def messages(self) -> list[Accepted]:
        with self._lock:
            return list(self._messages)

    def settings(self) -> dict[str, Any]:
        """Goldwatch settings that send alert email here."""
        return {
            "smtp_host": "127.0.0.1",
            "smtp_port": self.port,
            "smtp_timeout_seconds": 5.0,
            "alert_to": ["oncall@bench.test"],
        }

    def wait_for(self, count: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.messages) >= count:
                return True
            time.sleep(0.005)
        return len(self.messages) >= count

    def __enter__(self) -> SmtpSink:
        self.controller = Controller(
            _Handler(self), hostname="127.0.0.1", port=self.port, ready_timeout=10
        )
        self.controller.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None
