"""`python -m demo --port P [--host H]`: serve Pagecraft in the foreground."""

from __future__ import annotations

import argparse
import logging
import sys

from demo.server import LOOPBACK, serve

DEFAULT_PORT = 8100


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo", description=__doc__)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="TCP port (0 = any free)")
    parser.add_argument("--host", default=LOOPBACK, help="address to bind (default 127.0.0.1)")
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error(f"--port must be between 0 and 65535, got {args.port}")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        serve(args.port, host=args.host)
    except OSError as error:
        print(f"demo: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
