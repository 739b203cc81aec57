"""Email alerts with aiosmtplib: explicit TLS mode (rule 8), timeouts, multipart text + HTML
with the failure screenshot inline, built with EmailMessage so no value can add a header.

Transient (retried): connection refused or dropped, timeouts, TLS failures, 4xx replies and a
rejected login (fixed by the operator, then delivered). Permanent (failed): 5xx replies and
rejected recipients.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import socket
import ssl
from collections.abc import Coroutine
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Any, TypedDict, TypeVar

import aiosmtplib

from runner.alerting.base import AlertError, AlertMessage, Channel
from runner.alerting.content import one_line
from runner.settings import ConfigError, Settings, SmtpTls

T = TypeVar("T")
log = logging.getLogger("goldwatch.alerts")


class TlsOptions(TypedDict):
    use_tls: bool
    start_tls: bool


def tls_options(mode: SmtpTls) -> TlsOptions:
    """aiosmtplib arguments for a TLS mode; never the "STARTTLS if offered" default."""
    if mode is SmtpTls.tls:
        return {"use_tls": True, "start_tls": False}
    if mode is SmtpTls.starttls:
        return {"use_tls": False, "start_tls": True}
    return {"use_tls": False, "start_tls": False}


def address(value: str) -> str | None:
    """The bare address of `a@b` or `Name <a@b>`; None when it is not one."""
    if any(ch in value for ch in "\r\n\0"):
        return None
    _, addr = parseaddr(value)
    local, at, domain = addr.rpartition("@")
    if not at or not local or not domain or any(ch.isspace() for ch in addr):
        return None
    return addr


def run_coroutine(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run to completion from synchronous code, even if this thread already runs a loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _causes(error: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _reason(error: BaseException) -> str:
    for cause in _causes(error):
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, socket.gaierror):
            return f"DNS lookup failed ({cause})"
        if isinstance(cause, ssl.SSLError):
            return f"TLS failed ({cause})"
    return str(error) or type(error).__name__


def classify(error: Exception, server: str) -> AlertError:
    """An aiosmtplib (or socket) error as a transient or permanent AlertError."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        refused = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in error.recipients)
        permanent = any(r.code >= 500 for r in error.recipients)
        return AlertError(f"SMTP recipients refused: {refused}", permanent=permanent)
    if isinstance(error, aiosmtplib.SMTPAuthenticationError):
        return AlertError(f"SMTP login rejected by {server}: {error.code} {error.message}")
    if isinstance(error, aiosmtplib.SMTPResponseException):
        what = type(error).__name__.removeprefix("SMTP").removesuffix("Error") or "reply"
        return AlertError(
            f"SMTP {what} refused by {server}: {error.code} {error.message}",
            permanent=error.code >= 500,
        )
    if isinstance(error, aiosmtplib.SMTPConnectTimeoutError):
        return AlertError(f"SMTP server {server} timed out while connecting")
    if isinstance(error, aiosmtplib.SMTPConnectError):
        return AlertError(f"cannot connect to SMTP server {server}: {_reason(error)}")
    if isinstance(error, aiosmtplib.SMTPServerDisconnected):
        return AlertError(f"SMTP server {server} disconnected mid-conversation: {_reason(error)}")
    if isinstance(error, aiosmtplib.SMTPTimeoutError | TimeoutError):
        return AlertError(f"SMTP server {server} timed out waiting for a reply")
    if isinstance(error, aiosmtplib.SMTPNotSupported):
        return AlertError(f"SMTP server {server} does not support what the settings ask: {error}")
    return AlertError(f"SMTP error with {server}: {type(error).__name__}: {_reason(error)}")


class EmailChannel(Channel):
    name = "email"

    def __init__(self, settings: Settings) -> None:
        self.host = settings.smtp_host
        self.port = settings.smtp_port
        self.username = settings.smtp_username or None
        self.password = settings.smtp_password or None
        self.tls = settings.smtp_tls
        self.timeout = settings.smtp_timeout_seconds
        self.sender = settings.alert_from
        self.recipients = list(settings.alert_to)

    @classmethod
    def from_settings(cls, settings: Settings) -> EmailChannel | None:
        """The channel when email is asked for (a host or recipients set), else None."""
        return cls(settings) if settings.smtp_host or settings.alert_to else None

    def validate(self) -> None:
        if not self.host:
            raise ConfigError(
                "invalid setting GOLDWATCH_SMTP_HOST: empty, but GOLDWATCH_ALERT_TO is set; "
                "set the SMTP server or clear the recipients"
            )
        if any(ch.isspace() or ch in "/@" for ch in self.host):
            raise ConfigError(f"invalid setting GOLDWATCH_SMTP_HOST (got {self.host!r})")
        if not self.recipients:
            raise ConfigError(
                "invalid setting GOLDWATCH_ALERT_TO: empty, but GOLDWATCH_SMTP_HOST is set; "
                "give a comma list of recipient addresses"
            )
        for recipient in self.recipients:
            if address(recipient) is None:
                raise ConfigError(
                    f"invalid setting GOLDWATCH_ALERT_TO (got {recipient!r}): not an address"
                )
        if address(self.sender) is None:
            raise ConfigError(
                f"invalid setting GOLDWATCH_ALERT_FROM (got {self.sender!r}): not an address"
            )
        if bool(self.username) != bool(self.password):
            raise ConfigError(
                "invalid setting GOLDWATCH_SMTP_PASSWORD: set both GOLDWATCH_SMTP_USERNAME "
                "and GOLDWATCH_SMTP_PASSWORD, or neither"
            )

    def build(self, message: AlertMessage) -> EmailMessage:
        """The MIME message: text/plain and text/html alternatives, images related to the HTML."""
        sender = address(self.sender) or self.sender
        domain = sender.rpartition("@")[2] or "goldwatch"
        email = EmailMessage()
        email["Subject"] = one_line(message.subject)
        email["From"] = self.sender
        email["To"] = ", ".join(self.recipients)
        email["Date"] = formatdate(usegmt=True)
        email["Message-ID"] = make_msgid("goldwatch", domain=domain)
        email["References"] = f"<incident-{message.incident_id}@{domain}>"
        email["Auto-Submitted"] = "auto-generated"
        email["X-Goldwatch-Incident"] = str(message.incident_id)
        email["X-Goldwatch-Event"] = message.event
        email.set_content(message.text)
        email.add_alternative(message.html, subtype="html")
        if message.images:
            html_part = email.get_body(preferencelist=("html",))
            assert isinstance(html_part, EmailMessage)
            for image in message.images:
                html_part.add_related(
                    image.data,
                    maintype="image",
                    subtype=image.subtype,
                    cid=f"<{image.cid}>",
                    filename=image.filename,
                    disposition="inline",
                )
        return email

    async def _deliver(self, email: EmailMessage) -> dict[str, Any]:
        envelope_from = address(self.sender) or self.sender
        envelope_to = [address(r) or r for r in self.recipients]
        errors, _ = await asyncio.wait_for(
            aiosmtplib.send(
                email,
                sender=envelope_from,
                recipients=envelope_to,
                hostname=self.host,
                port=self.port,
                username=self.username,
                password=self.password,
                timeout=self.timeout,
                **tls_options(self.tls),
            ),
            # Each command has its own timeout; this bounds a server that trickles replies.
            timeout=self.timeout * 6,
        )
        return dict(errors)

    def send(self, message: AlertMessage) -> None:
        email = self.build(message)
        try:
            refused = run_coroutine(self._deliver(email))
        except Exception as error:
            raise classify(error, f"{self.host}:{self.port}") from error
        if refused:  # some recipients took it: delivered, but say who did not
            log.warning(
                "email for incident #%s refused for %s",
                message.incident_id,
                "; ".join(f"{who}: {reply.code} {reply.message}" for who, reply in refused.items()),
            )
