"""A local SMTP server (aiosmtpd) that keeps every message it receives: where the proof's
alert emails land, on loopback only."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class Received:
    """One message as it arrived: envelope, raw bytes and the parsed message."""

    mail_from: str
    rcpt_to: list[str]
    raw: bytes
    message: EmailMessage
    at: float  # time.perf_counter() when the server accepted it (answered 250 to DATA)

    def header(self, name: str) -> str:
        return str(self.message.get(name, ""))

    @property
    def subject(self) -> str:
        """The subject on one line, as a mail client shows it (folding undone)."""
        return " ".join(self.header("Subject").split())

    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        return "" if part is None else str(part.get_content()).replace("\r\n", "\n")

    def readable(self) -> str:
        """Envelope, headers, the text part and the MIME outline, as a reader sees them."""
        headers = "\n".join(f"{name}: {value}" for name, value in self.message.items())
        outline = "\n".join(
            f"  {part.get_content_type()}"
            + (f"  {part.get_filename()}" if part.get_filename() else "")
            for part in self.message.walk()
        )
        envelope = f"MAIL FROM:<{self.mail_from}>\nRCPT TO:" + ", ".join(
            f"<{to}>" for to in self.rcpt_to
        )
        return f"{envelope}\n\n{headers}\n\n{self.text().rstrip()}\n\n[MIME structure]\n{outline}"


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        at = time.perf_counter()
        raw = bytes(envelope.content)
        message = message_from_bytes(raw, policy=default_policy)
        assert isinstance(message, EmailMessage)
        received = Received(str(envelope.mail_from), list(envelope.rcpt_tos), raw, message, at)
        self.sink.add(received)
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


@dataclass
class SmtpSink:
    """`with SmtpSink() as sink:` an SMTP server on 127.0.0.1:`sink.port`."""

    port: int = 0
    messages: list[Received] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _controller: Controller | None = None

    def add(self, received: Received) -> None:
        with self._lock:
            self.messages.append(received)

    def start(self, attempts: int = 3) -> SmtpSink:
        """Listen on a free port (a probe, then a retry should another process take it)."""
        for attempt in range(attempts):
            self.port = _free_port()
            controller = Controller(
                _Handler(self), hostname=LOOPBACK, port=self.port, ready_timeout=5
            )
            try:
                controller.start()
            except Exception:
                if attempt == attempts - 1:
                    raise
                continue
            self._controller = controller
            return self
        raise RuntimeError("unreachable")

    def stop(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    def wait_for(self, matches: Callable[[Received], bool], timeout: float) -> Received | None:
        """The first message that `matches`, waiting up to `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                found = next((m for m in self.messages if matches(m)), None)
            if found is not None or time.monotonic() > deadline:
                return found
            time.sleep(0.2)

    def wait_for_count(self, count: int, timeout: float) -> bool:
        """Whether `count` messages have arrived, waiting up to `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.005)
        return len(self.messages) >= count

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
