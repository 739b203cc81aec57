"""The status API's reference: a bare FastAPI JSON endpoint, no auth, no database, returning a
constant of the status response's shape. Served by bench.serve with Goldwatch's settings."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

app = FastAPI()

_CHECK = {"status": "success", "at": "2025-01-01T00:00:00Z", "durationMs": 42, "stale": False}
STATUS: dict[str, Any] = {
    "overallStatus": "green",
    "lastChecks": {"api_health": _CHECK, "web_health": _CHECK, "golden_flows": _CHECK},
    "activeIncidentsCount": 0,
}


@app.get("/api/bare/status")
async def bare_status() -> dict[str, Any]:
    return STATUS
