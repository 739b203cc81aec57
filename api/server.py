"""`goldwatch serve`: API + dashboard (+ scheduler) in one process, with uvicorn."""

from __future__ import annotations

import errno
import socket
from collections.abc import Callable

import uvicorn

from api.app import create_app
from runner.runtime import Runtime
from runner.settings import ConfigError, Settings


def bind(host: str, port: int) -> socket.socket:
    """A listening socket, or ConfigError saying the port is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise ConfigError(f"port {port} on {host} is already in use; pass --port") from None
        raise ConfigError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


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
