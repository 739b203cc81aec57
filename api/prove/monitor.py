"""`goldwatch serve` (API, dashboard and scheduler) in a subprocess, exactly as an operator
starts it, on a free loopback port; its log is the proof's scheduler evidence."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

LOOPBACK = "127.0.0.1"
PORT_TAKEN = "already in use"


class MonitorError(RuntimeError):
    """The monitor did not start (the message quotes the end of its log)."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def clean_environment(extra: dict[str, str]) -> dict[str, str]:
    """This process's environment without any GOLDWATCH_* of the caller, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOLDWATCH_")}
    env.update(extra)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def log_tail(path: Path, lines: int = 12) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@dataclass
class Monitor:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    @property
    def command(self) -> str:
        args = self.process.args
        shown = [str(a) for a in args] if isinstance(args, list) else [str(args)]
        return " ".join(["goldwatch", *shown[3:]])  # without `python -m runner`

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM (a graceful stop: the scheduler releases its lease, aborts running flows);
        SIGKILL after `timeout`. The exit code, or None when it had to be killed."""
        if self.process.poll() is not None:
            return self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
            return None


def _wait_healthy(process: subprocess.Popen[bytes], url: str, timeout: float) -> bool:
    """True once /healthz answers 200; False when the process exited first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise MonitorError(f"/healthz did not answer within {timeout:.0f} s")


def start_monitor(
    environment: Callable[[int], dict[str, str]],
    workdir: Path,
    log: Path,
    timeout: float = 60.0,
    attempts: int = 3,
) -> Monitor:
    """Serve on a free port; `environment(port)` gives the GOLDWATCH_* settings for it. Runs in
    `workdir` (no stray .env); retries on another port should the chosen one be taken."""
    for _ in range(attempts):
        port = free_port()
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "runner", "serve", "--port", str(port)],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=workdir,
                env=clean_environment(environment(port)),
            )
        monitor = Monitor(process, f"http://{LOOPBACK}:{port}", log)
        try:
            if _wait_healthy(process, monitor.url, timeout):
                return monitor
        except MonitorError:
            monitor.stop()
            raise MonitorError(f"/healthz did not answer:\n{log_tail(log)}") from None
        if PORT_TAKEN not in log_tail(log):
            code = process.returncode
            raise MonitorError(f"goldwatch serve exited with {code}:\n{log_tail(log)}")
    raise MonitorError(f"no free port after {attempts} attempts:\n{log_tail(log)}")
