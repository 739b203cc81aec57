"""Named steps inside a flow, so a failure says which step failed and how long each took."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

import pytest

STEPS_KEY = pytest.StashKey["StepRecorder"]()


@dataclass
class StepRecord:
    name: str
    duration_ms: int
    outcome: str  # "passed" | "failed"
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def first_line(error: BaseException) -> str:
    """The readable head of an error: Playwright appends a long call log after line one."""
    text = str(error).strip() or type(error).__name__
    head = text.splitlines()[0].strip()
    return head[:500]


@dataclass
class StepRecorder:
    """Records each `with step("...")` block; `after_step` runs checks at each step's end."""

    after_step: Callable[[], None] | None = None
    steps: list[StepRecord] = field(default_factory=list)

    @property
    def failing_step(self) -> str | None:
        return next((s.name for s in self.steps if s.outcome == "failed"), None)

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
            if self.after_step is not None:
                self.after_step()
        except BaseException as error:
            elapsed = int((time.perf_counter() - started) * 1000)
            self.steps.append(StepRecord(name, elapsed, "failed", first_line(error)))
            error.add_note(f'Goldwatch: step "{name}" failed')
            raise
        self.steps.append(StepRecord(name, int((time.perf_counter() - started) * 1000), "passed"))
