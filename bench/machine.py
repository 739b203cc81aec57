"""The machine a report was measured on."""

from __future__ import annotations

import os
import platform
import subprocess
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import psutil


def _cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    return platform.processor() or "unknown"


def chromium_version(chromium: str) -> str:
    try:
        done = subprocess.run(
            [chromium, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"unknown ({error})"
    return done.stdout.strip() or done.stderr.strip() or "unknown"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


@dataclass(frozen=True)
class Machine:
    cores: int
    physical_cores: int | None
    cpu: str
    memory_gib: float
    os: str
    python: str
    chromium: str
    chromium_path: str
    playwright: str
    load_at_start: tuple[float, float, float]

    @classmethod
    def describe(cls, chromium: str) -> Machine:
        return cls(
            cores=os.cpu_count() or 0,
            physical_cores=psutil.cpu_count(logical=False),
            cpu=_cpu_model(),
            memory_gib=psutil.virtual_memory().total / 2**30,
            os=f"{platform.system()} {platform.release()} ({platform.machine()})",
            python=platform.python_version(),
            chromium=chromium_version(chromium),
            chromium_path=chromium,
            playwright=_version("playwright"),
            load_at_start=os.getloadavg(),
        )

    def rows(self) -> list[tuple[str, str]]:
        load = ", ".join(f"{v:.2f}" for v in self.load_at_start)
        physical = f" ({self.physical_cores} physical)" if self.physical_cores else ""
        return [
            ("CPU", f"{self.cores} logical cores{physical}, {self.cpu}"),
            ("Memory", f"{self.memory_gib:.1f} GiB"),
            ("OS", self.os),
            ("Python", self.python),
            ("Chromium", f"{self.chromium} ({self.chromium_path})"),
            ("Playwright", self.playwright),
            ("Load average at start (1, 5, 15 min)", load),
        ]
