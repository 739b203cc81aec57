"""`goldwatch serve`: API + dashboard (+ scheduler) in one process, with uvicorn."""

from __future__ import annotations

from collections.abc import Callable

import uvicorn

from api.app import create_app
from runner.runtime import Runtime
from runner.serving import bind, url_of
from runner.settings import Settings


def serve(
    settings: Settings,
    host: str,
    port: int,
    *,
    scheduler: bool = True,
    announce: Callable[[str], None] | None = None,
) -> None:
    """Migrate, validate the checks, then serve until Ctrl-C / SIGTERM. `announce` gets the
    base URL once the port is bound."""
    runtime = Runtime.start(settings)
    app = create_app(settings, runtime if scheduler else None)
    sock = bind(host, port)
    try:
        if announce is not None:
            announce(url_of(sock))
        config = uvicorn.Config(
            app, log_config=None, server_header=False, timeout_graceful_shutdown=5
        )
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
