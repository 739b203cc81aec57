"""What a check returns, and what one needs to run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from runner.incidents import Observation


class RunAborted(Exception):
    """The monitor is stopping: the run is left `running`, to be closed as abandoned."""


@dataclass(frozen=True)
class ArtifactFile:
    flow: str | None
    kind: str  # screenshot | trace
    path: Path


@dataclass
class CheckResult:
    ok: bool
    duration_ms: int
    details: dict[str, Any]
    observations: list[Observation]
    artifacts: list[ArtifactFile] = field(default_factory=list)
    finished_at: datetime | None = None


@dataclass(frozen=True)
class RunContext:
    run_id: int
    now: Callable[[], datetime]


@dataclass(frozen=True)
class Check:
    """A named check: `job` is its JobRun name, `execute` does the work."""

    name: str
    job: str
    interval_seconds: int
    execute: Callable[[RunContext], CheckResult]
    tenant_id: str | None = None
