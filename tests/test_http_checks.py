"""Health checks fail with a readable error for each way a target can break, never a crash."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse, RedirectResponse

from runner.checks import api_health, web_health
from runner.checks.base import RunContext
from runner.checks.http import Expectation, probe
from runner.models import utcnow
from runner.serving import ServerThread
from runner.settings import Settings
from tests.conftest import DemoTarget


@pytest.fixture(scope="module")
def odd_target() -> Iterator[str]:
    """A target misbehaving in ways the demo does not: loops and wrong content types."""
    app = FastAPI()

    @app.get("/loop")
    def loop() -> RedirectResponse:
        return RedirectResponse("/loop")

    @app.get("/unhealthy")
    def unhealthy() -> dict[str, str]:
        return {"status": "degraded"}

    @app.get("/page", response_class=HTMLResponse)
    def page() -> str:
        return "<h1>hello</h1>"

    with ServerThread(app) as server:
        yield server.url


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_connection_refused() -> None:
    port = closed_port()
    result = probe(f"http://127.0.0.1:{port}/", Expectation(), timeout=2)
    assert not result.ok
    assert result.error == f"connection refused by 127.0.0.1:{port}"


def test_timeout(demo_target: DemoTarget) -> None:
    demo_target.fault("slow", ms=1500)
    result = probe(f"{demo_target.url}/api/health", Expectation(), timeout=0.3)
    assert (result.ok, result.error) == (False, "timed out after 0.3s")


def test_server_error(demo_target: DemoTarget) -> None:
    demo_target.fault("web_down")
    result = probe(demo_target.url + "/", Expectation(html=True), timeout=5)
    assert (result.status_code, result.error) == (503, "HTTP 503 Service Unavailable")


def test_json_where_a_page_is_expected(demo_target: DemoTarget) -> None:
    result = probe(f"{demo_target.url}/api/health", Expectation(html=True), timeout=5)
    assert result.error == "expected an HTML page, got application/json"


def test_redirect_loop(odd_target: str) -> None:
    result = probe(f"{odd_target}/loop", Expectation(), timeout=5)
    assert result.error == "too many redirects (redirect loop?)"


def test_health_status_in_json_must_be_ok(odd_target: str) -> None:
    assert probe(f"{odd_target}/unhealthy", Expectation(json_status=True), 5).error == (
        "health status is 'degraded'"
    )
    assert probe(f"{odd_target}/page", Expectation(html=True, text="hello"), 5).ok
    assert probe(f"{odd_target}/page", Expectation(text="bye"), 5).error == (
        "expected text 'bye' not found"
    )


def test_built_in_checks_produce_stable_messages(
    flow_settings: Settings, demo_target: DemoTarget
) -> None:
    context = RunContext(run_id=1, now=utcnow)
    demo_target.fault("api_down")
    api = api_health.build(flow_settings).execute(context)
    web = web_health.build(flow_settings).execute(context)
    assert (api.ok, web.ok) == (False, True)
    (observation,) = api.observations
    assert observation.message == f"API health check failing: GET {demo_target.url}/api/health"
    assert observation.fingerprint == "api_down:api_health"
    assert observation.details["error"] == "HTTP 503 Service Unavailable"
