"""1. Flow overhead: one scheduled check_golden_flows run (F1-F4 passing, recorded in the
database) against the bare Playwright script doing the same four walks, same demo target,
same machine, interleaved repetitions (the order rotates so drift hits every side alike).

Diagnostic variants split the difference. The bare walks run as plain pytest-playwright tests
(bench/bare_pytest/): what pytest and pytest-playwright cost by themselves, since flows are
pytest tests by design. The bare script with what the monitor adds inside the browser (a route
on every request, like the read-only guard; a screenshot per walk): browser work for monitor
features. One more adds a route that matches no request: Playwright's interception alone. What
is left is Goldwatch's own Python: settings, fixtures, steps, reruns, report and the record."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from bench.bare_pytest.conftest import CHROMIUM_VARIABLE
from bench.context import BenchContext
from bench.model import Figure, Section, Target
from bench.procs import Server, child_environment, children_cpu_seconds, process_cpu_seconds
from bench.stats import Summary
from runner.checks.golden_flows import NO_AUTOLOAD, PLUGINS
from runner.runtime import Runtime
from runner.settings import PROJECT_ROOT

BARE_SCRIPT = PROJECT_ROOT / "bench" / "bare_flows.py"
BARE_TESTS = PROJECT_ROOT / "bench" / "bare_pytest"
TARGET = Target("ratio", "<=", 1.15, "monitored / bare <= 1.15")
WALKS = (
    "landing_to_onboarding",
    "onboarding_to_preview",
    "preview_to_checkout",
    "paid_to_go_live",
)
FLOWS = ("f1", "f2", "f3", "f4")

# Diagnostic variants of the bare script: what the monitor adds inside the browser.
ROUTED = ("bare + read-only route", ["--route"])
SHOT = ("bare + route + JPEG per walk", ["--route", "--screenshot"])
INTERCEPT = ("bare + a route matching no request", ["--intercept-only"])
VARIANTS = dict([ROUTED, SHOT, INTERCEPT])
# The bare walks as plain pytest-playwright tests: the test framework's own cost.
AS_TESTS = "bare walks as plain pytest-playwright tests"
# Timed around the captures themselves: a difference of two whole runs would drown in noise.
SCREENSHOTS_TIMED = "screenshots, timed around the captures"
# The parts of the overhead are tenths of a second in runs that vary by as much; fewer
# repetitions than this do not split it.
MIN_REPS = 8
# What the flows' conftest pays to import the settings, on top of what pytest and Playwright
# have imported already: the largest part of Goldwatch's own Python in a run.
SETTINGS_IMPORT = (
    "import time, pytest, pytest_playwright.pytest_playwright, pytest_rerunfailures\n"
    "started = time.perf_counter()\n"
    "import runner.settings\n"
    "print(time.perf_counter() - started)"
)


@dataclass
class Side:
    """One side's repetitions: wall and CPU seconds, and seconds per named phase."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # the run's own processes
    target_cpu: list[float] = field(default_factory=list)  # the demo target's process
    phases: dict[str, list[float]] = field(default_factory=dict)

    def add(self, phase: str, seconds: float) -> None:
        self.phases.setdefault(phase, []).append(seconds)

    def median(self, phase: str) -> float:
        return Summary.of(self.phases.get(phase, [])).median


def run_timed(command: list[str], env: dict[str, str], target_pid: int, side: Side) -> float:
    """Run one side's process to its end; record its wall and CPU seconds and the demo
    target's CPU seconds on `side`; returns the moment (time.time()) it was spawned."""
    cpu, target_cpu = children_cpu_seconds(), process_cpu_seconds(target_pid)
    spawned = time.time()
    started = time.perf_counter()
    subprocess.run(
        command,
        check=True,
        cwd=PROJECT_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        timeout=300,
    )
    side.wall.append(time.perf_counter() - started)
    side.cpu.append(children_cpu_seconds() - cpu)
    side.target_cpu.append(process_cpu_seconds(target_pid) - target_cpu)
    return spawned


def run_bare(ctx: BenchContext, base: str, target_pid: int, side: Side, extra: list[str]) -> None:
    marks_file = ctx.folder("flows") / "bare-marks.json"
    command = [sys.executable, str(BARE_SCRIPT), base, ctx.chromium, "--marks", str(marks_file)]
    spawned = run_timed([*command, *extra], child_environment(), target_pid, side)
    wall = side.wall[-1]
    marks = json.loads(marks_file.read_text())
    side.add("startup: interpreter and imports", marks["imported"] - spawned)
    side.add("driver start and browser launch", marks["browser_launched"] - marks["imported"])
    previous = marks["browser_launched"]
    for walk, flow in zip(WALKS, FLOWS, strict=True):
        side.add(f"{flow} (context, walk, close)", marks[walk] - previous)
        previous = marks[walk]
    side.add("shutdown and exit", spawned + wall - previous)
    if "--screenshot" in extra:
        side.add(SCREENSHOTS_TIMED, marks["screenshot_seconds"])


def run_bare_tests(ctx: BenchContext, base: str, target_pid: int, side: Side) -> None:
    """The bare walks as plain pytest-playwright tests, pytest-playwright loaded as the monitor
    loads it (PLUGINS[0])."""
    command = [sys.executable, "-m", "pytest", str(BARE_TESTS), "-p", PLUGINS[0]]
    command += [f"--base-url={base}", f"--output={ctx.folder('flows/bare-pytest')}"]
    command += ["-q", "-p", "no:cacheprovider"]
    env = child_environment({CHROMIUM_VARIABLE: ctx.chromium, **NO_AUTOLOAD})
    run_timed(command, env, target_pid, side)


def settings_import_seconds() -> float:
    done = subprocess.run(
        [sys.executable, "-c", SETTINGS_IMPORT],
        check=True,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return float(done.stdout.strip())


def run_monitored(runtime: Runtime, target_pid: int, side: Side) -> None:
    check = runtime.checks["golden_flows"]
    cpu, target_cpu = children_cpu_seconds(), process_cpu_seconds(target_pid)
    own_cpu = time.process_time()
    spawned = time.time()
    started = time.perf_counter()
    outcome = runtime.pipeline.run(check, "schedule")
    wall = time.perf_counter() - started
    if outcome is None or outcome.run.status != "success":
        raise RuntimeError(f"monitored run did not pass: {outcome.run.details if outcome else ''}")
    side.wall.append(wall)
    side.cpu.append(children_cpu_seconds() - cpu + time.process_time() - own_cpu)
    side.target_cpu.append(process_cpu_seconds(target_pid) - target_cpu)
    folder = runtime.settings.artifacts_dir / str(outcome.run.id)
    report: dict[str, Any] = json.loads((folder / "report.json").read_text())
    subprocess_seconds = (outcome.run.duration_ms or 0) / 1000
    startup = report["started_at"] - spawned
    side.add("startup: interpreter and imports", startup)
    flows = {f["flow_id"]: f for f in report["flows"]}
    in_flows = 0.0
    for flow in FLOWS:
        seconds = flows[flow]["duration_ms"] / 1000
        in_flows += seconds
        side.add(f"{flow} (context, walk, close)", seconds)
        steps = sum(s["duration_ms"] for s in flows[flow]["steps"]) / 1000
        side.add(f"{flow} named steps", steps)
    session = report["finished_at"] - report["started_at"]
    side.add("collection and reporting", session - in_flows)
    side.add("shutdown and exit", subprocess_seconds - startup - session)
    side.add("record in the database", wall - subprocess_seconds)


def breakdown(bare: Side, monitored: Side) -> str:
    names = list(dict.fromkeys([*bare.phases, *monitored.phases]))
    rows = [
        "| Phase (median s) | bare script | monitored run | difference |",
        "|---|---:|---:|---:|",
    ]
    for name in names:
        b = bare.median(name) if name in bare.phases else 0.0
        m = monitored.median(name) if name in monitored.phases else 0.0
        rows.append(f"| {name} | {b:.3f} | {m:.3f} | {m - b:+.3f} |")
    rows.append(
        f"| **total wall** | {Summary.of(bare.wall).median:.3f} "
        f"| {Summary.of(monitored.wall).median:.3f} "
        f"| {Summary.of(monitored.wall).median - Summary.of(bare.wall).median:+.3f} |"
    )
    return "\n".join(rows)


def run(ctx: BenchContext) -> Section:
    section = Section("flows", "Flow overhead: monitored golden-flows run vs bare Playwright")
    with Server("demo", child_environment(), ctx.folder("flows") / "demo.log") as demo:
        settings = ctx.settings("flows", web_base_url=demo.url)
        runtime = Runtime.start(settings)
        names = ["bare", *VARIANTS, AS_TESTS, "monitored"]
        sides = {name: Side() for name in names}

        def once(name: str, side: Side) -> None:
            if name == "monitored":
                run_monitored(runtime, demo.pid, side)
            elif name == AS_TESTS:
                run_bare_tests(ctx, demo.url, demo.pid, side)
            else:
                run_bare(ctx, demo.url, demo.pid, side, VARIANTS.get(name, []))

        ctx.say("warm-up: one run of each (not counted)")
        for name in names:
            once(name, Side())
        reps = max(ctx.reps, MIN_REPS)
        for rep in range(reps):
            # Rotate the order so a drift in machine load hits every side alike.
            for name in names[rep % len(names) :] + names[: rep % len(names)]:
                once(name, sides[name])
            ctx.say(
                f"rep {rep + 1}/{reps}: bare {sides['bare'].wall[-1]:.2f} s, "
                f"monitored {sides['monitored'].wall[-1]:.2f} s"
            )
        runtime.engine.dispose()
    settings_import = [settings_import_seconds() for _ in range(ctx.reps)]
    figures(section, sides, settings_import)
    return section


def figures(section: Section, sides: dict[str, Side], settings_import: list[float]) -> None:
    bare, monitored = sides["bare"], sides["monitored"]
    reference = section.add(Figure("bare Playwright script (reference)", "s", bare.wall))
    run = section.add(
        Figure("monitored run (pipeline.run)", "s", monitored.wall, reference, TARGET)
    )
    run.note = why(sides, Summary.of(settings_import).median)
    paired = [m / b for m, b in zip(monitored.wall, bare.wall, strict=True)]
    section.add(Figure("paired ratio, monitored / bare", "x", paired))
    for name in [AS_TESTS, *VARIANTS]:
        section.add(Figure(f"diagnostic: {name}", "s", sides[name].wall, reference))
    section.add(
        Figure("diagnostic: importing the settings in the flows process", "s", settings_import)
    )
    cpu_ref = section.add(Figure("CPU s, bare script processes", "s", bare.cpu))
    section.add(Figure("CPU s, monitored run processes", "s", monitored.cpu, cpu_ref))
    section.add(Figure("demo target CPU s, bare run", "s", bare.target_cpu))
    section.add(Figure("demo target CPU s, monitored run", "s", monitored.target_cpu))
    section.details.append(attribution(sides))
    section.details.append(breakdown(bare, monitored))
    section.notes.extend(explain(bare, monitored))


def medians(sides: dict[str, Side]) -> dict[str, float]:
    return {name: Summary.of(side.wall).median for name, side in sides.items()}


def contributions(sides: dict[str, Side]) -> list[tuple[str, float]]:
    """What the monitored run adds to the bare script, one part at a time: differences of
    medians, but the screenshots, timed directly; Goldwatch's own Python is what is left."""
    median = medians(sides)
    framework = median[AS_TESTS] - median["bare"]
    guard = median[ROUTED[0]] - median["bare"]
    shots = sides[SHOT[0]].median(SCREENSHOTS_TIMED)
    own = median["monitored"] - median["bare"] - framework - guard - shots
    return [
        ("pytest and pytest-playwright themselves (the walks as plain tests)", framework),
        ("the read-only guard: Playwright's route on every request", guard),
        ("passing screenshots: one JPEG per flow, captured by Chromium", shots),
        ("Goldwatch's own Python: settings, fixtures, steps, reruns, report, record", own),
    ]


def why(sides: dict[str, Side], settings_import: float) -> str:
    median = medians(sides)
    (_, framework), (_, guard), (_, shots), (_, own) = contributions(sides)
    intercept = median[INTERCEPT[0]] - median["bare"]
    return (
        f"of the {median['monitored'] - median['bare']:+.2f} s, {framework:+.2f} s is pytest "
        "and pytest-playwright themselves (the same walks as plain tests; flows are pytest "
        f"tests by design); {guard:+.2f} s the read-only guard's route on every request, of "
        f"which {intercept:+.2f} s Playwright's interception costs by itself (a route matching "
        "no request; with any route the browser cache is off and every request passes the "
        f"driver); {shots:+.2f} s the passing screenshots (Chromium renders and encodes a "
        "frame; timed around the captures). The guard and the screenshots are browser work "
        "for monitor features, measured by adding them to the bare script. The remaining "
        f"{own:+.2f} s is Goldwatch's own Python (settings, fixtures, steps, reruns, the report "
        "and the database record), of which importing pydantic-settings for the flows' "
        f"settings takes {settings_import:.2f} s. See the noise note below: the parts are rough."
    )


def attribution(sides: dict[str, Side]) -> str:
    bare = Summary.of(sides["bare"].wall).median
    rows = [
        "| What the monitored run adds (difference of medians) | seconds | share of bare |",
        "|---|---:|---:|",
    ]
    parts = contributions(sides)
    for label, extra in parts:
        rows.append(f"| {label} | {extra:+.3f} | {extra / bare:+.1%} |")
    total = sum(extra for _, extra in parts)
    rows.append(f"| **total** | {total:+.3f} | {total / bare:+.1%} |")
    return "\n".join(rows)


def explain(bare: Side, monitored: Side) -> list[str]:
    wall_b, wall_m = Summary.of(bare.wall).median, Summary.of(monitored.wall).median
    budget = 1.15 * wall_b
    walks = sum(bare.median(f"{f} (context, walk, close)") for f in FLOWS)
    launch = bare.median("driver start and browser launch")
    return [
        f"The bare script spends {walks + launch:.2f} s of its {wall_b:.2f} s in the browser "
        f"and the target (driver start, launch, four walks); the 1.15 target allows the "
        f"monitored run {budget:.2f} s, i.e. {budget - wall_b:.2f} s for everything the "
        f"monitor adds. It took {wall_m:.2f} s ({wall_m - wall_b:+.2f} s).",
        f"CPU: the demo target burns {Summary.of(bare.target_cpu).median:.2f} s per bare run "
        f"and {Summary.of(monitored.target_cpu).median:.2f} s per monitored run (the same "
        "logins and pages); that is the target's cost, identical on both sides.",
        f"Noise: one run of the bare script varies by {Summary.of(bare.wall).spread:.2f} s (IQR) "
        f"and a monitored run by {Summary.of(monitored.wall).spread:.2f} s on this machine, as "
        f"much as the smaller parts in the table below, even as medians of {len(bare.wall)} "
        "runs: take the split as rough. The screenshots are timed around the captures, and "
        "Goldwatch's own Python is what is left, so it carries the noise of the others.",
    ]
