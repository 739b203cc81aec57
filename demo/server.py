"""Run Pagecraft with uvicorn: in a background thread for tests, or in the foreground."""

from __future__ import annotations

import logging

import uvicorn

from demo.app import create_app
from runner.serving import LOOPBACK, ServerThread, bind, url_of, uvicorn_config

logger = logging.getLogger(__name__)

__all__ = ["LOOPBACK", "DemoServer", "serve"]


class DemoServer(ServerThread):
    """Pagecraft on 127.0.0.1 in a background thread: ``with DemoServer() as server: ...``.
    ``app.state`` holds the store, faults and mutation log."""

    def __init__(self, port: int = 0, *, startup_timeout: float = 10.0) -> None:
        super().__init__(create_app(), port, startup_timeout=startup_timeout)


def serve(port: int, host: str = LOOPBACK) -> None:
    """Serve Pagecraft in the foreground until interrupted (Ctrl-C)."""
    sock = bind(host, port)
    try:
        server = uvicorn.Server(uvicorn_config(create_app()))
        logger.info("Pagecraft demo target serving at %s", url_of(sock))
        server.run(sockets=[sock])
    finally:
        sock.close()
