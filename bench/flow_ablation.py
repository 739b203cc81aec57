"""Opt-in (`python -m bench ablation`, not part of `make bench`): what each change to the flows
subprocess saved, one change at a time, from the command the runner used before this work to
the one it uses now. Same demo target, interleaved repetitions, wall and CPU seconds of the
`pytest flows/` subprocess (the pipeline around it is the same for all)."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass, field

from bench.context import BenchContext
from bench.flow_overhead import BARE_SCRIPT
from bench.model import Figure, Section
from bench.procs import Server, child_environment, children_cpu_seconds
from bench.stats import Summary
from runner.settings import PROJECT_ROOT

BEFORE = ["--screenshot=on", "--tracing=retain-on-failure", "--reruns=1"]
ENTRY_POINTS = ["-p", "playwright", "-p", "rerunfailures"]
MODULES = ["-p", "pytest_playwright.pytest_playwright", "-p", "pytest_rerunfailures"]
RETRIES = ["--goldwatch-tracing=retries"]
SHOTS = ["--screenshot=off", "--goldwatch-screenshots"]
# (label, autoload plugins?, extra arguments); each step adds one change to the one before.
VARIANTS: tuple[tuple[str, bool, list[str]], ...] = (
    ("before: every installed plugin autoloaded", True, BEFORE),
    ("no autoload, plugins by entry-point name", False, [*ENTRY_POINTS, *BEFORE]),
    ("no autoload, plugins by module name", False, [*MODULES, *BEFORE]),
    ("+ trace reruns only", False, [*MODULES, *BEFORE, *RETRIES]),
    ("+ own screenshots (JPEG via CDP on pass)", False, [*MODULES, *BEFORE, *RETRIES, *SHOTS]),
)


@dataclass
class Runs:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)


def run_variant(ctx: BenchContext, base: str, autoload: bool, extra: list[str], runs: Runs) -> None:
    out = ctx.folder(f"ablation/{len(runs.wall)}-{time.monotonic_ns()}")
    env = child_environment({"GOLDWATCH_CHROMIUM_PATH": ctx.chromium})
    env.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
    if not autoload:
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    command = [sys.executable, "-m", "pytest", str(PROJECT_ROOT / "flows")]
    command += ["-p", "runner.pytest_plugin", f"--goldwatch-report={out / 'report.json'}"]
    command += [f"--output={out / 'flows'}", f"--base-url={base}", "-q", "-p", "no:cacheprovider"]
    cpu = children_cpu_seconds()
    started = time.perf_counter()
    done = subprocess.run(
        [*command, *extra], cwd=PROJECT_ROOT, env=env, capture_output=True, timeout=300
    )
    if done.returncode != 0:
        raise RuntimeError(f"flows failed: {done.stdout.decode(errors='replace')[-500:]}")
    runs.wall.append(time.perf_counter() - started)
    runs.cpu.append(children_cpu_seconds() - cpu)


def run_bare(ctx: BenchContext, base: str, runs: Runs) -> None:
    cpu = children_cpu_seconds()
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, str(BARE_SCRIPT), base, ctx.chromium],
        check=True,
        env=child_environment(),
        capture_output=True,
        timeout=300,
    )
    runs.wall.append(time.perf_counter() - started)
    runs.cpu.append(children_cpu_seconds() - cpu)


def run(ctx: BenchContext) -> Section:
    section = Section("ablation", "Flows subprocess: what each change saved")
    results = {label: Runs() for label, _, _ in VARIANTS}
    bare = Runs()
    with Server("demo", child_environment(), ctx.folder("ablation") / "demo.log") as demo:
        for _, autoload, extra in VARIANTS:  # warm-up
            run_variant(ctx, demo.url, autoload, extra, Runs())
        for rep in range(ctx.reps):
            order = list(VARIANTS[rep % len(VARIANTS) :] + VARIANTS[: rep % len(VARIANTS)])
            for label, autoload, extra in order:
                run_variant(ctx, demo.url, autoload, extra, results[label])
            run_bare(ctx, demo.url, bare)
            ctx.say(f"rep {rep + 1}/{ctx.reps}")
    reference = section.add(Figure("bare script (for scale)", "s", bare.wall))
    rows = [
        "| Step | wall (median s) | saved | CPU (median s) | saved |",
        "|---|---:|---:|---:|---:|",
    ]
    previous: Runs | None = None
    for label, _, _ in VARIANTS:
        runs = results[label]
        section.add(Figure(label, "s", runs.wall, reference))
        wall, cpu = Summary.of(runs.wall).median, Summary.of(runs.cpu).median
        if previous is None:
            rows.append(f"| {label} | {wall:.2f} | | {cpu:.2f} | |")
        else:
            saved_wall = Summary.of(previous.wall).median - wall
            saved_cpu = Summary.of(previous.cpu).median - cpu
            rows.append(
                f"| {label} | {wall:.2f} | {saved_wall:+.2f} | {cpu:.2f} | {saved_cpu:+.2f} |"
            )
        previous = runs
    section.details.append("\n".join(rows))
    return section
