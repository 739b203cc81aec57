"""4. Soak: the real monitor process (`python -m runner scheduler`, i.e. `goldwatch scheduler`)
runs the golden flows every second against the demo target; after each finished run the harness
samples the monitor's resident memory and looks for Chromium processes created before that run
ended that are still alive. Target: RSS growth from run 50 to run 300 <= 10 %, zero Chromium
processes left after each run. Within a time budget the soak stops early and says so."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench.context import BenchContext
from bench.model import Figure, Section, Target
from bench.procs import (
    Server,
    child_environment,
    chromium_processes,
    die_with_parent,
    rss_bytes,
)
from bench.stats import Summary
from runner.settings import PROJECT_ROOT

JOB = "check_golden_flows"
SPEC_RUNS, SPEC_FROM = 300, 50
MARGIN_SECONDS = 25.0  # to stop the monitor and write the report within the budget
MIB = 2**20


@dataclass
class RunSample:
    index: int  # 1-based, in finishing order
    status: str
    duration_ms: int
    rss: int
    left: int  # Chromium processes created before the run ended, alive after it


@dataclass
class Soak:
    samples: list[RunSample] = field(default_factory=list)
    left_after_stop: int = 0
    stopped_early: str = ""

    def rss_at(self, index: int) -> int:
        return self.samples[index - 1].rss


def finished_runs(db: Path, after_id: int) -> list[tuple[int, str, int, str]]:
    """Golden-flow runs finished since `after_id` (none while the monitor still migrates)."""
    if not db.exists():
        return []
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as c:
            rows = c.execute(
                "SELECT id, status, COALESCE(duration_ms, 0), finished_at FROM job_run "
                "WHERE job = ? AND finished_at IS NOT NULL AND id > ? ORDER BY id",
                (JOB, after_id),
            ).fetchall()
    except sqlite3.OperationalError:  # no job_run table yet
        return []
    return [(int(r[0]), str(r[1]), int(r[2]), str(r[3])) for r in rows]


def epoch(stored: str) -> float:
    return datetime.fromisoformat(stored).replace(tzinfo=UTC).timestamp()


def start_monitor(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "runner", "scheduler"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )


def stop_monitor(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(process.pid, signal.SIGTERM)  # graceful: it kills its running flows itself
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


def watch(ctx: BenchContext, process: subprocess.Popen[bytes], db: Path, soak: Soak) -> None:
    journal = db.with_name("samples.jsonl")
    last_id = 0
    while len(soak.samples) < ctx.soak_runs:
        left = ctx.seconds_left()
        if left is not None and left < MARGIN_SECONDS:
            soak.stopped_early = "time budget"
            return
        if process.poll() is not None:
            soak.stopped_early = f"monitor exited with {process.returncode}"
            return
        rows = finished_runs(db, last_id)
        for run_id, status, duration_ms, finished_at in rows:
            last_id = run_id
            leaked = chromium_processes(ctx.tag, created_before=epoch(finished_at))
            index = len(soak.samples) + 1
            sample = RunSample(index, status, duration_ms, rss_bytes(process.pid), len(leaked))
            soak.samples.append(sample)
            with journal.open("a") as out:  # survives the harness being killed
                out.write(json.dumps(asdict(sample)) + "\n")
            if index % 25 == 0:
                ctx.say(f"soak: {index} runs, RSS {soak.samples[-1].rss / MIB:.1f} MiB")
        time.sleep(0.1)


def run(ctx: BenchContext) -> Section:
    section = Section("soak", "Soak: consecutive golden-flow runs in the real monitor process")
    folder = ctx.folder("soak")
    db = folder / "goldwatch.db"
    soak = Soak()
    with Server("demo", child_environment(), folder / "demo.log") as demo:
        env = child_environment(
            {
                "GOLDWATCH_DATABASE_URL": f"sqlite:///{db}",
                "GOLDWATCH_WEB_BASE_URL": demo.url,
                "GOLDWATCH_FLOWS_INTERVAL_SECONDS": "1",
                "GOLDWATCH_ARTIFACTS_DIR": str(folder / "artifacts"),
                "GOLDWATCH_CHROMIUM_PATH": ctx.chromium,
            }
        )
        process = start_monitor(env, folder / "monitor.log")
        try:
            watch(ctx, process, db, soak)
        finally:
            stop_monitor(process)
        time.sleep(0.5)
        soak.left_after_stop = len(chromium_processes(ctx.tag))
    summarize(section, soak, ctx.soak_runs)
    return section


def summarize(section: Section, soak: Soak, wanted: int) -> None:
    done = len(soak.samples)
    section.add(Figure("golden-flow runs done", "count", [float(done)]))
    if done < 2:
        section.notes.append(f"Too few runs to judge memory ({done}); {soak.stopped_early}.")
        return
    start = max(1, round(done * SPEC_FROM / SPEC_RUNS)) if done < SPEC_RUNS else SPEC_FROM
    end = done if done < SPEC_RUNS else SPEC_RUNS
    growth = (soak.rss_at(end) - soak.rss_at(start)) / soak.rss_at(start) * 100
    name = f"monitor RSS growth, run {start} -> run {end}"
    section.add(Figure(name, "%", [growth], target=Target("max", "<=", 10, "<= +10 %")))
    rss = [s.rss / MIB for s in soak.samples]
    section.add(Figure("monitor RSS over all runs", "MiB", rss))
    left = [float(s.left) for s in soak.samples]
    section.add(
        Figure(
            "Chromium left after a run (max)",
            "count",
            left,
            target=Target("max", "<=", 0, "0 after each run"),
        )
    )
    section.add(
        Figure(
            "Chromium left after monitor stopped",
            "count",
            [float(soak.left_after_stop)],
            target=Target("max", "<=", 0, "0"),
        )
    )
    durations = [s.duration_ms / 1000 for s in soak.samples]
    section.add(Figure("flows subprocess per run", "s", durations))
    failed = sum(1 for s in soak.samples if s.status != "success")
    section.add(Figure("runs that did not pass", "count", [float(failed)]))
    if done < wanted:
        section.notes.append(
            f"**The soak stopped after {done} of {wanted} runs ({soak.stopped_early}).** At "
            f"{Summary.of(durations).median:.1f} s per run the {SPEC_RUNS} runs the spec asks "
            f"for need about {SPEC_RUNS * Summary.of(durations).median / 60:.0f} min of "
            "browser work alone, more than the whole `make bench` budget of 15 min on this "
            "machine; memory growth is measured over the same share of the runs (from run "
            f"{start}, as the spec's run {SPEC_FROM} of {SPEC_RUNS}, to the last). "
            "`python -m bench soak --budget-minutes 0` runs all of them."
        )
    section.details.append(rss_table(soak, start, end))


def rss_table(soak: Soak, start: int, end: int) -> str:
    picks = sorted({1, start, (start + end) // 2, end, len(soak.samples)})
    rows = ["| Run | RSS (MiB) | Chromium left |", "|---:|---:|---:|"]
    rows += [
        f"| {i} | {soak.rss_at(i) / MIB:.1f} | {soak.samples[i - 1].left} |"
        for i in picks
        if 1 <= i <= len(soak.samples)
    ]
    return "\n".join(rows)
