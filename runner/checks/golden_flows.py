"""golden_flows: `pytest flows/` in a subprocess with a hard timeout and its own output folder.

Rule 2: never pytest.main in the long-running process. The subprocess gets a new process
group, killed whole when the run ends or times out, so no Chromium outlives its run.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from runner.checks.base import ArtifactFile, Check, CheckResult, RunAborted, RunContext
from runner.incidents import Observation, severity_for
from runner.settings import PROJECT_ROOT, Settings, as_environment

NAME = "golden_flows"
JOB = "check_golden_flows"
FLOW_FAILED = "golden_flow_failed"
MONITOR_DEGRADED = "monitor_degraded"
# pytest exit codes that mean the flows could not run at all (not a product failure).
UNUSABLE_EXIT = {2: "interrupted", 3: "internal error", 4: "usage error", 5: "no flows collected"}
# The subprocess loads exactly the plugins a run needs instead of every one installed
# (autoloading hypothesis and anyio cost ~1 s of startup per run); a flow that needs another
# plugin names it in PYTEST_PLUGINS, which pytest still reads. By module name, not entry-point
# name: `-p playwright` would mark the whole playwright package for assertion rewriting
# (~0.45 s of CPU per run recompiling it from source).
NO_AUTOLOAD = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
PLUGINS = ("pytest_playwright.pytest_playwright", "pytest_rerunfailures", "runner.pytest_plugin")


def pytest_command(settings: Settings, output_dir: Path, report: Path) -> list[str]:
    command = [sys.executable, "-m", "pytest", str(settings.flows_dir)]
    for plugin in PLUGINS:
        command += ["-p", plugin]
    command += [
        f"--goldwatch-report={report}",
        f"--output={output_dir}",
        # Our plugin's screenshots: PNG of a failure, a cheaper JPEG of a pass.
        "--screenshot=off",
        "--goldwatch-screenshots",
        "--tracing=retain-on-failure",
        f"--reruns={settings.flows_reruns}",
        "-q",
        "-p",
        "no:cacheprovider",
    ]
    if settings.flows_reruns > 0:
        # A failure is only an incident once its rerun fails too: trace the reruns only.
        command.append("--goldwatch-tracing=retries")
    if settings.web_base_url:
        command.append(f"--base-url={settings.web_base_url}")
    return command


def reproduce_command(settings: Settings, nodeid: str | None = None) -> str:
    """What a developer types to run the same flow locally."""
    target = nodeid.split("::")[0] if nodeid else "flows/"
    parts = ["pytest", target]
    if settings.web_base_url:
        parts.append(f"--base-url={settings.web_base_url}")
    parts += ["--headed", "--tracing=retain-on-failure"]
    return shlex.join(parts)


def browser_endpoint_error(endpoint: str, timeout: float = 3.0) -> str | None:
    """Why the Playwright server at `endpoint` cannot be reached, or None when it answers."""
    if not endpoint:
        return None
    parts = urlsplit(endpoint)
    default_port = 443 if parts.scheme == "wss" else 80
    try:
        with socket.create_connection((parts.hostname or "", parts.port or default_port), timeout):
            return None
    except OSError as error:
        reason = error.strerror or type(error).__name__
        return f"browser endpoint unreachable: {endpoint} ({reason.lower()})"


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


_running: set[subprocess.Popen[bytes]] = set()
_running_lock = threading.Lock()
_aborting = threading.Event()


def abort_all() -> None:
    """Kill every flows subprocess (monitor shutdown); their runs stay `running` and are
    closed as abandoned by the next scheduler that starts."""
    _aborting.set()
    with _running_lock:
        for process in _running:
            _kill_group(process)


def run_pytest(
    command: list[str], timeout: float, log: Path, env: dict[str, str]
) -> tuple[int | None, float]:
    """Exit code (None on timeout) and seconds taken; the process group never survives."""
    if _aborting.is_set():
        raise RunAborted("monitor is shutting down")
    started = time.perf_counter()
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
        )
        with _running_lock:
            _running.add(process)
        try:
            code: int | None = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            code = None
        finally:
            _kill_group(process)
            process.wait()
            with _running_lock:
                _running.discard(process)
    if _aborting.is_set():
        raise RunAborted("monitor is shutting down")
    return code, time.perf_counter() - started


def _flow_observation(flow: dict[str, Any], settings: Settings, at: Any) -> Observation:
    flow_id = str(flow["flow_id"])
    subject = f"{NAME}:{flow_id}"
    outcome = flow["outcome"]
    details = {
        "flow": flow_id,
        "title": flow["title"],
        "outcome": outcome,
        "flaky": flow["flaky"],
        "reruns": flow["reruns"],
        "failing_step": flow["failing_step"],
        "error": flow["error"],
        "steps": flow["steps"],
        "duration_ms": flow["duration_ms"],
        "base_url": settings.web_base_url or None,
        "reproduce": reproduce_command(settings, flow["nodeid"]),
    }
    if outcome in ("passed", "skipped"):
        return Observation(subject=subject, source_check=NAME, ok=True, at=at, details=details)
    label = f"{flow_id.upper()} {flow['title']}"
    if outcome == "error":
        # Setup or teardown broke (browser, fixtures): the monitor, not the product.
        incident_type, message = MONITOR_DEGRADED, f"{label} could not run"
        fingerprint = f"{MONITOR_DEGRADED}:{subject}"
    else:
        step = flow["failing_step"] or "unnamed step"
        incident_type, message = FLOW_FAILED, f'{label} failing at "{step}"'
        fingerprint = f"{FLOW_FAILED}:{subject}:{step}"
    return Observation(
        subject=subject,
        source_check=NAME,
        ok=False,
        at=at,
        type=incident_type,
        fingerprint=fingerprint,
        message=message,
        severity=severity_for(incident_type, flow_id, settings.severity_overrides),
        details=details,
    )


def _run_failure(
    settings: Settings,
    at: Any,
    incident_type: str,
    message: str,
    error: str,
    log: Path,
    cause: str = "",
) -> Observation:
    return Observation(
        subject=NAME,
        source_check=NAME,
        ok=False,
        at=at,
        type=incident_type,
        fingerprint=f"{incident_type}:{NAME}" + (f":{cause}" if cause else ""),
        message=message,
        severity=severity_for(incident_type, None, settings.severity_overrides),
        details={"error": error, "log": str(log), "reproduce": reproduce_command(settings)},
    )


def execute(settings: Settings, context: RunContext) -> CheckResult:
    output_dir = (settings.artifacts_dir / str(context.run_id)).absolute()
    output_dir.mkdir(parents=True, exist_ok=True)
    report_path = output_dir / "report.json"
    log_path = output_dir / "pytest.log"
    command = pytest_command(settings, output_dir / "flows", report_path)
    shown = " ".join(f"{k}={v}" for k, v in NO_AUTOLOAD.items()) + " " + shlex.join(command)
    details: dict[str, Any] = {"command": shown, "exit_code": None, "flows": []}
    unreachable = browser_endpoint_error(settings.browser_ws_endpoint)
    if unreachable:
        at = context.now()
        details["error"] = unreachable
        observation = _run_failure(
            settings,
            at,
            MONITOR_DEGRADED,
            "Browser endpoint unreachable",
            unreachable,
            log_path,
            cause="browser_endpoint",
        )
        return CheckResult(False, 0, details, [observation], finished_at=at)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOLDWATCH_")}
    env.update(as_environment(settings))
    env.update(NO_AUTOLOAD)
    code, seconds = run_pytest(command, settings.flows_run_timeout_seconds, log_path, env)
    at = context.now()
    duration_ms = int(seconds * 1000)
    details["exit_code"] = code

    if code is None:
        error = f"run killed after the {settings.flows_run_timeout_seconds}s timeout"
        observation = _run_failure(
            settings, at, FLOW_FAILED, "Golden flows run timed out", error, log_path
        )
        details["error"] = error
        return CheckResult(False, duration_ms, details, [observation], finished_at=at)
    if code in UNUSABLE_EXIT or not report_path.is_file():
        tail = log_path.read_text(errors="replace").strip().splitlines()[-3:]
        error = f"pytest {UNUSABLE_EXIT.get(code, f'exit {code}')}: " + " | ".join(tail)
        observation = _run_failure(
            settings, at, MONITOR_DEGRADED, "Golden flows could not run", error[:1000], log_path
        )
        details["error"] = error[:1000]
        return CheckResult(False, duration_ms, details, [observation], finished_at=at)

    report = json.loads(report_path.read_text())
    observations = [_flow_observation(flow, settings, at) for flow in report["flows"]]
    # The run as a whole worked: close any "could not run"/"timed out" incident.
    observations.append(Observation(subject=NAME, source_check=NAME, ok=True, at=at))
    artifacts = [
        ArtifactFile(flow["flow_id"], art["kind"], Path(art["path"]))
        for flow in report["flows"]
        for art in flow["artifacts"]
        if Path(art["path"]).is_file()
    ]
    details["flows"] = [o.details for o in observations if o.subject != NAME]
    ok = all(o.ok for o in observations)
    return CheckResult(ok, duration_ms, details, observations, artifacts, finished_at=at)


def build(settings: Settings) -> Check:
    return Check(NAME, JOB, settings.flows_interval_seconds, lambda ctx: execute(settings, ctx))
