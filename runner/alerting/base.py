"""What every alert channel is: a name, a start-up `validate()` and a `send()` that raises
`AlertError(message, permanent=...)`. The dispatcher retries transient errors with backoff and
gives up on permanent ones, keeping the error either way.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar


class AlertError(Exception):
    """A delivery failed; `permanent` means retrying the same message cannot help."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent


@dataclass(frozen=True)
class InlineImage:
    """An image shown inside the HTML body (`<img src="cid:{cid}">`)."""

    cid: str  # without angle brackets
    filename: str
    data: bytes
    subtype: str = "png"


@dataclass(frozen=True)
class AlertMessage:
    """One rendered alert: the same facts as a subject, plain text, HTML and JSON data."""

    incident_id: int
    event: str  # raised | reminder | resolved
    subject: str  # one line, no CR/LF
    text: str
    html: str
    url: str  # the incident page
    data: dict[str, Any] = field(default_factory=dict)  # the structured incident (webhooks)
    images: tuple[InlineImage, ...] = ()


class Channel(ABC):
    """One way of delivering alerts. Adding a channel is one module and one registry line."""

    name: ClassVar[str]

    @abstractmethod
    def validate(self) -> None:
        """Check the configuration at start-up; raise ConfigError with one clear line."""

    @abstractmethod
    def send(self, message: AlertMessage) -> None:
        """Deliver or raise AlertError. Called from worker threads, never inside an event loop."""
