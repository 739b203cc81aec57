"""A check's recent runs as a small bar chart (inline SVG drawn on the server): bar height is
the duration, colour the result."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from api.timefmt import describe_ms
from runner.models import JobRun

WIDTH, HEIGHT, SLOTS, GAP, MIN_BAR = 240, 40, 30, 2, 3


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    ok: bool
    label: str


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    width: int
    height: int
    runs: int
    uptime_percent: int | None

    @property
    def summary(self) -> str:
        if self.uptime_percent is None:
            return "no runs yet"
        if self.runs == 1:
            return "the only run passed" if self.uptime_percent == 100 else "the only run failed"
        return f"{self.uptime_percent}% of the last {self.runs} runs passed"


def history_chart(runs: Sequence[JobRun], slots: int = SLOTS) -> Chart:
    """Bars for the last `slots` finished runs (oldest left), right-aligned."""
    runs = list(runs)[-slots:]
    if not runs:
        return Chart([], WIDTH, HEIGHT, 0, None)
    slot = WIDTH / slots
    longest = max((r.duration_ms or 0) for r in runs) or 1
    bars = []
    offset = slots - len(runs)
    for index, run in enumerate(runs):
        height = max(MIN_BAR, HEIGHT * (run.duration_ms or 0) / longest)
        when = run.finished_at.strftime("%Y-%m-%d %H:%M UTC") if run.finished_at else ""
        bars.append(
            Bar(
                x=round((offset + index) * slot, 1),
                y=round(HEIGHT - height, 1),
                width=round(slot - GAP, 1),
                height=round(height, 1),
                ok=run.status == "success",
                label=f"run #{run.id} {run.status}, {describe_ms(run.duration_ms)}, {when}",
            )
        )
    passed = sum(1 for r in runs if r.status == "success")
    return Chart(bars, WIDTH, HEIGHT, len(runs), round(100 * passed / len(runs)))
