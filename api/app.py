"""The app factory: JSON API, pages and (with a runtime) the scheduler in the app's lifespan.

app = create_app(settings)                    # API + dashboard (an extra replica)
app = create_app(settings, Runtime.start(s))  # ... plus the scheduler (`goldwatch serve`)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.context import Monitor
from api.errors import install_error_handlers
from api.routes import health, metrics, monitoring
from api.status import CheckSpec
from runner.checks.registry import build_checks
from runner.db import get_engine
from runner.runtime import Runtime
from runner.settings import Settings
from web.routes import auth, pages
from web.templating import PACKAGE_DIR, error_page

log = logging.getLogger("goldwatch.api")
DOCS_PATHS = ("/docs", "/redoc", "/openapi.json")
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def scheduler_lifespan(runtime: Runtime) -> Lifespan:
    """Run the (lease-holding) scheduler while the app serves; stop it on shutdown."""
    from runner.scheduler import run_scheduler

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = asyncio.create_task(run_scheduler(runtime, stop, runtime.periodic_jobs()))
        task.add_done_callback(_report_crash)
        try:
            yield
        finally:
            stop.set()
            with contextlib.suppress(Exception):
                await task

    return lifespan


def _report_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("the scheduler stopped with an error", exc_info=task.exception())


class SecurityHeaders:
    """Adds the security headers to every HTTP response. Plain ASGI: the decorator-style
    middleware would cost every request a task and a response copy."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in _headers_for(path):
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _headers_for(path: str) -> list[tuple[str, str]]:
    headers = [
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "same-origin"),
        ("X-Frame-Options", "DENY"),
    ]
    if not path.startswith(DOCS_PATHS):
        headers.append(("Content-Security-Policy", CONTENT_SECURITY_POLICY))
    if path.startswith(("/api/", "/dashboard", "/login", "/logout")):
        headers.append(("Cache-Control", "no-store"))
    return headers


def create_app(settings: Settings, runtime: Runtime | None = None) -> FastAPI:
    """The monitor's web app; with `runtime`, its lifespan also runs the scheduler."""
    engine = runtime.engine if runtime else get_engine(settings.database_url)
    checks = runtime.checks if runtime else build_checks(settings)
    app = FastAPI(
        title="Goldwatch",
        summary="Synthetic monitoring: status, incidents and their evidence.",
        version="0.1.0",
        lifespan=scheduler_lifespan(runtime) if runtime else None,
    )
    app.state.monitor = Monitor(settings, engine, [CheckSpec.of(c) for c in checks.values()])
    install_error_handlers(app, error_page)
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=PACKAGE_DIR / "static"), name="static")
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(monitoring.router)
    app.include_router(auth.router)
    app.include_router(pages.router)
    return app
