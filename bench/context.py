"""What every benchmark gets: the Chromium, a scratch folder, repetitions and the time left."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.monitor import make_settings
from runner.settings import Settings


@dataclass
class BenchContext:
    chromium: str
    workdir: Path
    tag: str
    reps: int
    deadline: float | None  # time.monotonic() by which the whole run should end
    soak_runs: int

    def folder(self, name: str) -> Path:
        path = self.workdir / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def settings(self, name: str, **values: Any) -> Settings:
        return make_settings(self.folder(name), self.chromium, **values)

    def seconds_left(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.monotonic()

    @staticmethod
    def say(message: str) -> None:
        print(f"  {message}", file=sys.stderr, flush=True)
