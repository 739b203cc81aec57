"""Serve one app for a benchmark in its own process, every app with the same uvicorn settings
(those of `goldwatch serve`, api/server.py; logging at WARNING, so no access lines):

    python -m bench.serve demo        the demo target (Pagecraft)
    python -m bench.serve bare        a bare FastAPI JSON endpoint (the status API's reference)
    python -m bench.serve goldwatch   Goldwatch's API and dashboard (settings from GOLDWATCH_*)

Binds a free loopback port and prints `URL http://127.0.0.1:PORT` once it accepts connections.
"""

from __future__ import annotations

import argparse
import logging
import socket
import sys

import uvicorn
from fastapi import FastAPI

from runner.serving import LOOPBACK, bind, url_of

KINDS = ("demo", "bare", "goldwatch")


def build_app(kind: str) -> FastAPI:
    if kind == "demo":
        from demo.app import create_app as create_demo

        return create_demo()
    if kind == "bare":
        from bench.bare_api import app

        return app
    from api.app import create_app
    from runner.settings import load_settings

    return create_app(load_settings())


def config(app: FastAPI) -> uvicorn.Config:
    """As `goldwatch serve` configures uvicorn: one worker, its default loop and protocol."""
    return uvicorn.Config(app, log_config=None, server_header=False, timeout_graceful_shutdown=5)


class AnnouncingServer(uvicorn.Server):
    def __init__(self, cfg: uvicorn.Config, url: str) -> None:
        super().__init__(cfg)
        self.url = url

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        print(f"URL {self.url}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.serve")
    parser.add_argument("kind", choices=KINDS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    app = build_app(args.kind)
    sock = bind(LOOPBACK, 0)
    server = AnnouncingServer(config(app), url_of(sock))
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
