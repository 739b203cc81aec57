"""`./smoke.sh` as CI and operators run it: the stack on free loopback ports with a temporary
database, its checks, and everything it started stopped again."""

from __future__ import annotations

import os
import subprocess

import pytest

from runner.settings import PROJECT_ROOT

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def smoke(**env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["./smoke.sh"],
        cwd=PROJECT_ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_smoke_passes_against_the_demo_stack() -> None:
    result = smoke()
    assert result.returncode == 0, result.stdout + result.stderr[-4000:]
    assert result.stdout.strip().splitlines()[-1] == "smoke: PASS"
    for line in (
        "smoke: /healthz: HTTP 200",
        'smoke: status as admin: HTTP 200 {"overallStatus":',
        "smoke: status as staff: HTTP 403",
        "smoke: status without a token: HTTP 401",
        "smoke:   check_golden_flows",
        "smoke: status after the run: HTTP 200",
    ):
        assert line in result.stderr, result.stderr[-4000:]


def test_smoke_reports_what_failed_and_still_stops_what_it_started() -> None:
    # No time at all to wait for the demo target: it is started, then must be stopped again.
    result = smoke(SMOKE_WAIT_SECONDS="0")
    assert result.returncode == 1
    assert result.stdout.strip().splitlines()[-1] == ("smoke: FAIL: the demo target did not start")
    assert "processes left running" not in result.stdout
