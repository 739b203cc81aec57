"""Alerts: channels (one module each, one registry line each), the outbox planner and the
dispatcher. `Alerting.start(settings, engine)` is what a monitor process needs."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine

from runner.alerting.base import AlertError, AlertMessage, Channel, InlineImage
from runner.alerting.console import ConsoleChannel
from runner.alerting.email import EmailChannel
from runner.alerting.outbox import (
    Backoff,
    Clock,
    Delivery,
    Dispatcher,
    Planner,
    queue_counts,
    requeue,
)
from runner.alerting.webhook import WebhookChannel
from runner.models import utcnow
from runner.settings import Settings

__all__ = [
    "AlertError",
    "AlertMessage",
    "Alerting",
    "Channel",
    "Delivery",
    "Dispatcher",
    "InlineImage",
    "Planner",
    "build_channels",
    "queue_counts",
    "requeue",
]

log = logging.getLogger("goldwatch.alerts")

# The channels a configuration can turn on; each returns None when its settings are empty.
REGISTRY: tuple[Callable[[Settings], Channel | None], ...] = (
    EmailChannel.from_settings,
    WebhookChannel.from_settings,
)
FALLBACK: Callable[[Settings], Channel] = ConsoleChannel.from_settings


def build_channels(settings: Settings) -> dict[str, Channel]:
    """The configured channels, validated (ConfigError names a bad setting); the console
    channel when none is configured."""
    channels = [make(settings) for make in REGISTRY]
    found = {channel.name: channel for channel in channels if channel is not None}
    if not found:
        console = FALLBACK(settings)
        found = {console.name: console}
    for channel in found.values():
        channel.validate()
    return found


@dataclass(frozen=True)
class Alerting:
    """The planner (the store's `on_change`) and the dispatcher, built from the settings."""

    channels: dict[str, Channel]
    planner: Planner
    dispatcher: Dispatcher

    @classmethod
    def start(
        cls,
        settings: Settings,
        engine: Engine,
        clock: Clock = utcnow,
        channels: dict[str, Channel] | None = None,
    ) -> Alerting:
        channels = channels if channels is not None else build_channels(settings)
        planner = Planner(list(channels), timedelta(seconds=settings.alert_throttle_seconds))
        dispatcher = Dispatcher(
            engine,
            channels,
            settings.public_url,
            backoff=Backoff(settings.alert_retry_base_seconds, settings.alert_retry_max_seconds),
            clock=clock,
            # A send takes at most a few timeouts; a claim outliving that means a dead sender.
            claim_seconds=60
            + 6 * max(settings.smtp_timeout_seconds, settings.webhook_timeout_seconds),
        )
        return cls(channels, planner, dispatcher)

    def deliver(self) -> None:
        """Deliver what is due now; never raises (what fails stays queued for the next pass)."""
        try:
            self.dispatcher.run_once()
        except Exception:
            log.exception("alert delivery pass failed; queued alerts are retried next pass")
