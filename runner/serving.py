"""Serving an ASGI app on a socket we bind ourselves: the port is ours before uvicorn starts
(port 0 = a free one, no race), and TCP_NODELAY applies to accepted connections."""

from __future__ import annotations

import errno
import logging
import socket
import threading
import time
from types import TracebackType
from typing import Self

import uvicorn
from fastapi import FastAPI

from runner.settings import ConfigError

logger = logging.getLogger(__name__)
LOOPBACK = "127.0.0.1"


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


def uvicorn_config(app: FastAPI) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=2,
    )


class ServerThread:
    """An ASGI app served by uvicorn on 127.0.0.1 in a background thread (tests, the demo,
    the proof). ``with ServerThread(app) as server: httpx.get(server.url + "/healthz")``; or
    ``start()`` (returns the base URL once connections are accepted) and ``stop()``.
    """

    def __init__(self, app: FastAPI, port: int = 0, *, startup_timeout: float = 10.0) -> None:
        self.app = app
        self._port = port
        self._startup_timeout = startup_timeout
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self._url: str | None = None
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        """Base URL without a trailing slash, e.g. ``http://127.0.0.1:41234``."""
        if self._url is None:
            raise RuntimeError("ServerThread is not running; call start() first")
        return self._url

    def start(self) -> str:
        if self._thread is not None:
            raise RuntimeError("ServerThread is already running")
        sock = bind(LOOPBACK, self._port)
        server = uvicorn.Server(uvicorn_config(self.app))
        self._error = None

        def run() -> None:
            try:
                server.run(sockets=[sock])
            except BaseException as error:  # SystemExit on startup failure included
                self._error = error

        thread = threading.Thread(target=run, name="goldwatch-server-thread", daemon=True)
        self._server, self._thread, self._socket = server, thread, sock
        thread.start()
        deadline = time.monotonic() + self._startup_timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                reason = self._error or "timed out"
                raise RuntimeError(f"server did not start: {reason}") from self._error
            time.sleep(0.01)
        self._url = url_of(sock)
        return self._url

    def stop(self, timeout: float = 5.0) -> None:
        """Ask uvicorn to exit and wait for its thread (bounded; idempotent)."""
        server, thread, sock = self._server, self._thread, self._socket
        self._server = self._thread = self._socket = None
        self._url = None
        if server is not None:
            server.should_exit = True
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive() and server is not None:
                server.force_exit = True
                thread.join(timeout)
            if thread.is_alive():
                logger.warning("server thread did not stop within %.0f s", 2 * timeout)
        if sock is not None:
            sock.close()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
