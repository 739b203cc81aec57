"""Run Pagecraft with uvicorn: in a background thread for tests, or in the foreground."""

from __future__ import annotations

import logging
import socket
import threading
import time
from types import TracebackType

import uvicorn
from fastapi import FastAPI

from demo.app import create_app

logger = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"


def _bind(host: str, port: int) -> socket.socket:
    """A bound socket (port 0 = a free port, chosen here so there is no race)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY on accepted sockets only when their
    # proto says TCP; with proto 0 every keep-alive response waits ~40 ms (Nagle + delayed ACK).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _config(app: FastAPI) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=2,
    )


class DemoServer:
    """Pagecraft on 127.0.0.1 in a background thread.

    ``with DemoServer() as server: httpx.get(server.url + "/api/health")``; or call
    ``start()`` (returns the base URL once connections are accepted) and ``stop()``.
    ``app`` is the running FastAPI app; its ``state`` holds the store, faults and mutation log.
    """

    def __init__(
        self, port: int = 0, *, app: FastAPI | None = None, startup_timeout: float = 10.0
    ) -> None:
        self.app = app if app is not None else create_app()
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
            raise RuntimeError("DemoServer is not running; call start() first")
        return self._url

    def start(self) -> str:
        if self._thread is not None:
            raise RuntimeError("DemoServer is already running")
        sock = _bind(LOOPBACK, self._port)
        server = uvicorn.Server(_config(self.app))
        self._error = None

        def run() -> None:
            try:
                server.run(sockets=[sock])
            except BaseException as error:  # SystemExit on startup failure included
                self._error = error

        thread = threading.Thread(target=run, name="pagecraft-demo-server", daemon=True)
        self._server, self._thread, self._socket = server, thread, sock
        thread.start()
        deadline = time.monotonic() + self._startup_timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                reason = self._error or "timed out"
                raise RuntimeError(f"demo server did not start: {reason}") from self._error
            time.sleep(0.01)
        self._url = _url(sock)
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
                logger.warning("demo server thread did not stop within %.0f s", 2 * timeout)
        if sock is not None:
            sock.close()

    def __enter__(self) -> DemoServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def serve(port: int, host: str = LOOPBACK) -> None:
    """Serve Pagecraft in the foreground until interrupted (Ctrl-C)."""
    sock = _bind(host, port)
    try:
        server = uvicorn.Server(_config(create_app()))
        logger.info("Pagecraft demo target serving at %s", _url(sock))
        server.run(sockets=[sock])
    finally:
        sock.close()
