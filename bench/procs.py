"""Processes the harness starts and watches: servers in their own process group, Chromium
processes a run left behind, CPU time and resident memory."""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO

import psutil

from runner.settings import PROJECT_ROOT

# Every process the harness starts inherits this variable (set in os.environ at start, so the
# monitor's flows subprocesses and their browsers carry it too), so a Chromium a run left behind
# can be told from one another program on this machine started. Not GOLDWATCH_*: the flows
# check passes only its own settings under that prefix.
TAG_VARIABLE = "BENCH_RUN_TAG"
CHROMIUM_NAMES = ("chromium", "chrome", "headless_shell")
PR_SET_PDEATHSIG = 1


def install_tag() -> str:
    """Tag this process (and so everything it starts) with a fresh tag; returns it."""
    tag = uuid.uuid4().hex
    os.environ[TAG_VARIABLE] = tag
    return tag


def die_with_parent() -> None:
    """For preexec_fn: SIGTERM this child when the harness dies, even by SIGKILL (Linux)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def child_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment (with its tag) for a child; GOLDWATCH_* only from `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOLDWATCH_")}
    env.update(extra or {})
    return env


def _is_chromium(process: psutil.Process) -> bool:
    try:
        name = process.name().lower()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False
    return any(part in name for part in CHROMIUM_NAMES)


def chromium_processes(tag: str, created_before: float | None = None) -> list[psutil.Process]:
    """Live Chromium processes carrying `tag` (optionally only those created before a time)."""
    found: list[psutil.Process] = []
    for process in psutil.process_iter():
        if not _is_chromium(process):
            continue
        try:
            if process.environ().get(TAG_VARIABLE) != tag:
                continue
            if created_before is not None and process.create_time() > created_before:
                continue
            if process.status() == psutil.STATUS_ZOMBIE:
                continue
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
        found.append(process)
    return found


def kill_tagged(tag: str) -> int:
    """Last-resort cleanup: kill every process (not this one) carrying `tag`."""
    killed = 0
    for process in psutil.process_iter():
        if process.pid == os.getpid():
            continue
        try:
            if process.environ().get(TAG_VARIABLE) == tag:
                process.kill()
                killed += 1
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return killed


def children_cpu_seconds() -> float:
    """User + system CPU of every descendant this process has waited for."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def process_cpu_seconds(pid: int) -> float:
    try:
        times = psutil.Process(pid).cpu_times()
    except psutil.NoSuchProcess:
        return 0.0
    return float(times.user + times.system)


def wait_idle(pid: int, busy: float = 0.1, timeout: float = 60.0) -> float:
    """Wait until the process uses less than `busy` of a core over half a second (a server
    still working off abandoned requests); returns the seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        before = process_cpu_seconds(pid)
        time.sleep(0.5)
        if process_cpu_seconds(pid) - before < busy * 0.5:
            break
    return time.monotonic() - started


def rss_bytes(pid: int) -> int:
    return int(psutil.Process(pid).memory_info().rss)


@dataclass
class Server:
    """`python -m bench.serve KIND` in its own process group; `url` once it accepts."""

    kind: str
    env: dict[str, str]
    log: Path
    startup_timeout: float = 60.0
    url: str = ""
    process: subprocess.Popen[str] | None = None

    def start(self) -> Server:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        errors: IO[str] = self.log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.serve", self.kind],
            cwd=PROJECT_ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=errors,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        errors.close()
        ready = threading.Event()
        stdout = self.process.stdout
        assert stdout is not None

        def read() -> None:
            for line in stdout:
                if line.startswith("URL "):
                    self.url = line.split()[1]
                    ready.set()
            ready.set()

        threading.Thread(target=read, name=f"serve-{self.kind}", daemon=True).start()
        if not ready.wait(self.startup_timeout) or not self.url:
            self.stop()
            tail = self.log.read_text(errors="replace")[-800:]
            raise RuntimeError(f"bench.serve {self.kind} did not start: {tail}")
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def stop(self, timeout: float = 10.0) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout)

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
