"""`python -m bench [names]`: run the benchmarks, print the table, write
reports/bench-<timestamp>.md. Names: flows, detection, status, soak, noise (default: all)."""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import psutil

from bench.context import BenchContext
from bench.machine import Machine
from bench.model import Section
from bench.procs import chromium_processes, install_tag, kill_tagged
from bench.report import console_table, markdown
from runner.chromium import ChromiumNotFound, resolve_chromium
from runner.settings import PROJECT_ROOT

Benchmark = Callable[[BenchContext], Section]
TITLES = {
    "flows": "Flow overhead",
    "detection": "Detection latency",
    "status": "Status API under load",
    "soak": "Soak",
    "noise": "Noise",
    "ablation": "Flows subprocess ablation (opt-in)",
}
# The soak runs last and takes the time the others leave (see --budget-minutes).
ORDER = ("flows", "detection", "noise", "status", "soak")
OPT_IN = ("ablation",)


def benchmarks() -> dict[str, Benchmark]:
    from bench import detection, flow_ablation, flow_overhead, noise, soak, status_api

    return {
        "ablation": flow_ablation.run,
        "flows": flow_overhead.run,
        "detection": detection.run,
        "noise": noise.run,
        "status": status_api.run,
        "soak": soak.run,
    }


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help=f"{', '.join(ORDER)} (default: all); opt-in: ablation",
    )
    parser.add_argument("--reps", type=int, default=5, help="repetitions per timed figure")
    parser.add_argument(
        "--budget-minutes",
        type=float,
        default=14.0,
        help="wall-clock budget of the whole run; the soak stops early to keep it "
        "(0: no budget, the soak does all its runs)",
    )
    parser.add_argument("--soak-runs", type=int, default=300, help="golden-flow runs of the soak")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "reports")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args(argv)
    known = (*ORDER, *OPT_IN)
    unknown = [n for n in args.names if n not in known]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; known: {', '.join(known)}")
    if args.reps < 1 or args.soak_runs < 1:
        parser.error("--reps and --soak-runs must be at least 1")
    return args


class Terminated(BaseException):
    """SIGTERM: stop at once, but still stop what was started and write the report. A
    BaseException, like KeyboardInterrupt, so no `except Exception` on the way swallows it."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated(f"terminated by signal {signum}")


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    signal.signal(signal.SIGTERM, _terminate)
    names = [n for n in (*ORDER, *OPT_IN) if n in args.names] if args.names else list(ORDER)
    configured = os.environ.get("GOLDWATCH_CHROMIUM_PATH") or None
    try:
        chromium = str(resolve_chromium(configured))
    except ChromiumNotFound as error:
        print(f"bench: {error}", file=sys.stderr)
        return 2
    # Each benchmark configures Goldwatch itself: nothing from the caller's GOLDWATCH_*.
    for name in [n for n in os.environ if n.startswith("GOLDWATCH_")]:
        del os.environ[name]
    tag = install_tag()
    started_at = datetime.now().astimezone()
    started = time.monotonic()
    deadline = started + args.budget_minutes * 60 if args.budget_minutes > 0 else None
    workdir = Path(tempfile.mkdtemp(prefix="goldwatch-bench-"))
    ctx = BenchContext(chromium, workdir, tag, args.reps, deadline, args.soak_runs)
    machine = Machine.describe(chromium)
    registry = benchmarks()
    sections: list[Section] = []
    try:
        for name in names:
            print(f"== {TITLES[name]}", file=sys.stderr, flush=True)
            began = time.monotonic()
            stop = False
            try:
                section = registry[name](ctx)
            except (Terminated, KeyboardInterrupt) as error:
                section = Section(name, TITLES[name], error=f"interrupted ({error or 'Ctrl-C'})")
                stop = True
            except Exception as error:
                traceback.print_exc()
                section = Section(name, TITLES[name], error=f"{type(error).__name__}: {error}")
            section.seconds = time.monotonic() - began
            sections.append(section)
            left = chromium_processes(tag)
            if left:
                section.notes.append(f"**{len(left)} Chromium processes were left** (killed).")
                for process in left:
                    with contextlib.suppress(psutil.Error):
                        process.kill()
            section.notes.append(f"Load average when it ended: {os.getloadavg()[0]:.2f}.")
            if stop:
                break
    finally:
        kill_tagged(tag)
        if args.keep:
            print(f"scratch folder kept: {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    seconds = time.monotonic() - started
    command = "python -m bench " + shlex.join(argv if argv is not None else sys.argv[1:])
    text = markdown(sections, machine, started_at, seconds, command.strip())
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"bench-{started_at.strftime('%Y%m%d-%H%M%S')}.md"
    path.write_text(text)
    print(console_table(sections))
    print(f"\n{seconds / 60:.1f} min; report: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
