"""GET /metrics: Prometheus text format; a bearer token when GOLDWATCH_METRICS_TOKEN is set."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Header
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from api.deps import MonitorDep
from api.metrics import MonitorCollector

router = APIRouter(tags=["metrics"])


@router.get("/metrics", response_class=Response, responses={401: {}})
def metrics(monitor: MonitorDep, authorization: str = Header(default="")) -> Response:
    """The monitor's metrics: checks, runs, incidents, alerts and the scheduler heartbeat."""
    token = monitor.settings.metrics_token
    if token and not hmac.compare_digest(authorization, f"Bearer {token}"):
        return JSONResponse({"detail": "metrics need the bearer token"}, status_code=401)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(MonitorCollector(monitor.engine, monitor.specs))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
