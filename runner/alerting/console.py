"""Console alerts: used when neither email nor a webhook is configured. Logs the whole alert,
so a developer sees exactly what would have been sent."""

from __future__ import annotations

import logging

from runner.alerting.base import AlertMessage, Channel
from runner.settings import Settings

log = logging.getLogger("goldwatch.alerts")


class ConsoleChannel(Channel):
    name = "console"

    @classmethod
    def from_settings(cls, settings: Settings) -> ConsoleChannel:
        return cls()

    def validate(self) -> None:
        """Nothing to configure."""

    def send(self, message: AlertMessage) -> None:
        bar = "=" * 72
        # WARNING: `goldwatch run` shows warnings only, and an alert is what it must show.
        log.warning(
            "ALERT (console channel)\n%s\n%s\n\n%s\n%s", bar, message.subject, message.text, bar
        )
