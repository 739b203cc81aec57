"""A small HTTP/1.1 load generator: N keep-alive connections, each sending its next GET as soon
as the previous answer is read (closed loop, like wrk), for a fixed time after a warm-up. Raw
asyncio streams rather than an HTTP client library, so one process drives far more requests
than the one-worker servers under test can answer (it reports its own CPU to show that).

    python -m bench.loadgen URL --connections 32 --seconds 5 [--warmup 1] [--header 'K: V']

prints one JSON object: requests, errors, statuses, seconds, rps, latency percentiles (ms) of the
responses that arrived inside the measured window, and the requests still unanswered at its end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from bench.stats import percentile


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)  # seconds, measured phase only
    statuses: Counter[int] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    bytes_read: int = 0
    in_flight: dict[int, float] = field(default_factory=dict)  # connection -> request start


async def read_response(reader: asyncio.StreamReader) -> tuple[int, int]:
    """Status code and body length of one response (Content-Length or chunked)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        length = int(headers["content-length"])
        await reader.readexactly(length)
        return status, length
    if headers.get("transfer-encoding", "").lower() == "chunked":
        total = 0
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            total += size
            if size == 0:
                return status, total
    raise ValueError("response without Content-Length or chunked body")


async def connection(
    host: str, port: int, request: bytes, warm_until: float, stop_at: float, tally: Tally
) -> None:
    """Requests back to back; a response counts when it arrives inside the measured window
    (its latency includes any queueing behind earlier requests, as a client sees it)."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            tally.in_flight[id(writer)] = started
            writer.write(request)
            status, length = await read_response(reader)
            ended = time.perf_counter()
            del tally.in_flight[id(writer)]
            if warm_until <= ended <= stop_at:
                tally.latencies.append(ended - started)
                tally.statuses[status] += 1
                tally.bytes_read += length
    except (OSError, ValueError, asyncio.IncompleteReadError) as error:
        tally.errors.append(f"{type(error).__name__}: {error}")
    finally:
        writer.close()


async def load(
    url: str, connections: int, seconds: float, warmup: float, headers: list[str]
) -> dict[str, Any]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    lines = [f"GET {target} HTTP/1.1", f"Host: {parts.netloc}", "Accept: */*", *headers]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    tally = Tally()
    begun = time.perf_counter()
    warm_until, stop_at = begun + warmup, begun + warmup + seconds
    cpu = time.process_time()
    tasks = [
        asyncio.create_task(connection(host, port, request, warm_until, stop_at, tally))
        for _ in range(connections)
    ]
    # Requests still unanswered when the window closes are abandoned, not waited for.
    await asyncio.wait(tasks, timeout=stop_at - time.perf_counter() + 0.2)
    unanswered = [stop_at - started for started in tally.in_flight.values()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    measured = seconds
    ms = [value * 1000 for value in tally.latencies]
    # An unanswered request took at least this long: it counts in the percentiles as that.
    waited = ms + [value * 1000 for value in unanswered]
    return {
        "url": url,
        "connections": connections,
        "requests": len(ms),
        "errors": tally.errors[:5],
        "error_count": len(tally.errors),
        "statuses": {str(k): v for k, v in tally.statuses.items()},
        "seconds": measured,
        "rps": len(ms) / measured,
        "p50_ms": percentile(waited, 50),
        "p90_ms": percentile(waited, 90),
        "p99_ms": percentile(waited, 99),
        "max_ms": max(waited, default=float("nan")),
        "unanswered_at_end": len(unanswered),
        "oldest_unanswered_ms": max(unanswered, default=0.0) * 1000,
        "mean_body_bytes": tally.bytes_read / len(ms) if ms else 0,
        "client_cpu_seconds": time.process_time() - cpu,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.loadgen")
    parser.add_argument("url")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--header", action="append", default=[])
    args = parser.parse_args(argv)
    result = asyncio.run(load(args.url, args.connections, args.seconds, args.warmup, args.header))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
