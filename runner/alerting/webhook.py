"""Webhook alerts: a JSON POST with httpx. `text` is the whole alert as plain text, so a
Slack-style incoming webhook shows it as is; `incident` and friends carry the structure.

Transient (retried): connection errors, timeouts, 5xx, 408 and 429. Permanent (failed): any
other 4xx and redirects (the URL is wrong).
"""

from __future__ import annotations

from typing import Any

import httpx

from runner.alerting.base import AlertError, AlertMessage, Channel
from runner.settings import ConfigError, Settings

USER_AGENT = "Goldwatch/0.1 (alerts)"
RETRYABLE_4XX = frozenset({408, 425, 429})


def payload(message: AlertMessage) -> dict[str, Any]:
    return {"text": f"{message.subject}\n\n{message.text}", **message.data, "url": message.url}


class WebhookChannel(Channel):
    name = "webhook"

    def __init__(self, settings: Settings) -> None:
        self.url = settings.webhook_url
        self.timeout = settings.webhook_timeout_seconds

    @classmethod
    def from_settings(cls, settings: Settings) -> WebhookChannel | None:
        return cls(settings) if settings.webhook_url else None

    def validate(self) -> None:
        try:
            url = httpx.URL(self.url)
        except (httpx.InvalidURL, ValueError) as error:
            raise ConfigError(f"invalid setting GOLDWATCH_WEBHOOK_URL: {error}") from None
        if url.scheme not in ("http", "https") or not url.host:
            raise ConfigError(
                f"invalid setting GOLDWATCH_WEBHOOK_URL (got {self.url!r}): "
                "expected an http:// or https:// URL"
            )

    def send(self, message: AlertMessage) -> None:
        try:
            response = httpx.post(
                self.url,
                json=payload(message),
                timeout=self.timeout,
                headers={"User-Agent": USER_AGENT},
                follow_redirects=False,
            )
        except httpx.TimeoutException:
            raise AlertError(f"webhook timed out after {self.timeout:g}s") from None
        except httpx.HTTPError as error:
            raise AlertError(f"webhook {type(error).__name__}: {error}") from None
        if response.is_success:
            return
        body = " ".join(response.text.split())[:200]
        reason = f"webhook answered HTTP {response.status_code} {response.reason_phrase}"
        if body:
            reason += f": {body}"
        status = response.status_code
        permanent = status < 500 and status not in RETRYABLE_4XX
        raise AlertError(reason, permanent=permanent)
