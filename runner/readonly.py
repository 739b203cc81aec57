"""The read-only guard: a flow may look at the product, never change its data."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from urllib.parse import urlsplit

from playwright.sync_api import BrowserContext, Request, Route

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class ReadOnlyViolation(AssertionError):
    """A flow tried to send a data-changing request."""


def _without_query(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


@dataclass
class ReadOnlyGuard:
    """Aborts every non-GET/HEAD/OPTIONS request unless its URL matches an allow-list glob."""

    allow: Iterable[str] = ()
    blocked: list[str] = field(default_factory=list)

    def allows(self, method: str, url: str) -> bool:
        if method.upper() in SAFE_METHODS:
            return True
        bare = _without_query(url)
        return any(fnmatchcase(bare, pattern) for pattern in self.allow)

    def install(self, context: BrowserContext) -> None:
        context.route("**/*", self._handle)

    def _handle(self, route: Route, request: Request) -> None:
        if self.allows(request.method, request.url):
            route.continue_()
            return
        self.blocked.append(f"{request.method} {request.url}")
        route.abort("blockedbyclient")

    def check(self) -> None:
        """Fail the flow if anything was blocked since the last check."""
        if self.blocked:
            blocked, self.blocked = self.blocked, []
            raise ReadOnlyViolation(
                "read-only guard blocked a data-changing request: " + ", ".join(blocked)
            )
