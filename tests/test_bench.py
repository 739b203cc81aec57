"""The benchmark harness's arithmetic and its report: a missed target is said plainly, with
the figure, the target as the spec words it and why; the flow-overhead parts add up."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bench import flow_overhead
from bench.flow_overhead import (
    AS_TESTS,
    INTERCEPT,
    ROUTED,
    SCREENSHOTS_TIMED,
    SHOT,
    Side,
    contributions,
)
from bench.machine import Machine
from bench.model import Figure, Section, Target
from bench.report import markdown, verdicts
from bench.stats import Summary, percentile

MACHINE = Machine(
    cores=2,
    physical_cores=2,
    cpu="test CPU",
    memory_gib=4.0,
    os="Linux",
    python="3.11",
    chromium="Chromium 1",
    chromium_path="/usr/bin/chromium",
    playwright="1.0",
    load_at_start=(0.0, 0.0, 0.0),
)
RATIO = Target("ratio", "<=", 1.15, "monitored / bare <= 1.15")


def test_percentiles_interpolate_between_closest_ranks() -> None:
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == pytest.approx(2.5)
    assert percentile([float(v) for v in range(1, 21)], 95) == pytest.approx(19.05)
    summary = Summary.of([1.0, 2.0, 3.0, 4.0, 100.0])
    assert (summary.median, summary.spread, summary.high) == (3.0, 2.0, 100.0)


def test_a_missed_ratio_is_reported_with_its_figure_target_and_reason() -> None:
    section = Section("flows", "Flow overhead")
    bare = section.add(Figure("bare script", "s", [2.0, 2.1, 1.9]))
    run = section.add(Figure("monitored run", "s", [2.6, 2.7, 2.5], bare, RATIO))
    run.note = "the browser pays for the guard."

    assert run.verdict == "MISSED"
    assert verdicts([section]) == [
        "- **MISSED: Flow overhead / monitored run**: ratio 1.30x, target monitored / bare "
        "<= 1.15. Why: the browser pays for the guard."
    ]
    report = markdown([section], MACHINE, datetime(2026, 1, 2, tzinfo=UTC), 60.0, "python -m bench")
    assert (
        "| flows | monitored run | 2.60 s | 0.100 s | 2.50 s - 2.70 s | 3 | 1.30x "
        "| monitored / bare <= 1.15 | MISSED |\n"
    ) in report


def test_met_targets_unmeasured_figures_and_failed_sections_are_told_apart() -> None:
    met = Section("flows", "Flow overhead")
    bare = met.add(Figure("bare script", "s", [2.0]))
    met.add(Figure("monitored run", "s", [2.2], bare, RATIO))
    assert verdicts([met]) == ["- Every target was met in this run."]

    empty = Section("soak", "Soak")
    empty.add(Figure("RSS growth", "%", [], target=Target("max", "<=", 10, "<= +10 %")))
    broken = Section("status", "Status API", error="server did not start")
    lines = verdicts([empty, broken])
    assert lines[0].startswith("- **MISSED: Soak / RSS growth**")
    assert lines[1] == "- **Status API: did not run** (server did not start)."
    assert empty.figures[0].verdict == "NOT MEASURED"


def test_flow_overhead_parts_add_up_to_the_whole_difference() -> None:
    sides = {
        "bare": Side(wall=[3.0, 3.2, 3.1]),
        AS_TESTS: Side(wall=[3.3, 3.4, 3.2]),
        ROUTED[0]: Side(wall=[3.2, 3.3, 3.4]),
        SHOT[0]: Side(wall=[3.4, 3.5, 3.5], phases={SCREENSHOTS_TIMED: [0.15, 0.2, 0.25]}),
        INTERCEPT[0]: Side(wall=[3.2, 3.1, 3.3]),
        "monitored": Side(wall=[3.9, 3.8, 4.0]),
    }
    parts = [extra for _, extra in contributions(sides)]
    # pytest itself 3.3 - 3.1, the guard 3.3 - 3.1, the screenshots as timed, the rest ours.
    assert parts == pytest.approx([0.2, 0.2, 0.2, 0.2])
    table = flow_overhead.attribution(sides)
    assert "| **total** | +0.800 | +25.8% |" in table
