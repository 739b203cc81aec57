"""The proof's record: its steps in order, each with a status and the evidence captured while
it ran, rendered to proof.md after every step (a failure or a kill still leaves the partial
report, its failed step marked)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TextIO

from api.prove.report import render
from api.prove.steps import Status, Step, StepFailed


@dataclass
class Proof:
    """Where the report goes and what it holds so far."""

    folder: Path
    command: str
    started: datetime
    header: dict[str, str] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    progress: TextIO = field(default_factory=lambda: sys.stderr)

    @property
    def path(self) -> Path:
        return self.folder / "proof.md"

    def plan(self, titles: list[str]) -> None:
        self.steps = [Step(i, title) for i, title in enumerate(titles, 1)]
        self.write()

    def say(self, line: str) -> None:
        print(f"prove: {line}", file=self.progress, flush=True)

    def run(self, step: Step, action: Callable[[Step], None]) -> bool:
        """Run one step: progress lines, timing, status; the report is rewritten after it."""
        total = len(self.steps)
        self.say(f"[{step.number}/{total}] {step.title} ...")
        started = time.monotonic()
        try:
            action(step)
        except StepFailed as error:
            step.status, step.note = Status.failed, str(error)
        except Exception as error:  # a crash in a step is a failed step, reported as such
            step.status, step.note = Status.failed, f"{type(error).__name__}: {error}"
        else:
            if step.status is Status.pending:
                step.status = Status.ok
        step.seconds = time.monotonic() - started
        result = f"{step.status.value} ({step.seconds:.1f} s)"
        if step.note:
            result += f": {step.note.splitlines()[0]}"
        self.say(f"[{step.number}/{total}] {result}")
        self.write()
        return step.status is not Status.failed

    def failed(self) -> list[Step]:
        return [s for s in self.steps if s.status is Status.failed]

    def write(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path.write_text(render(self))
