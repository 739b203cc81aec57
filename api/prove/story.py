"""The acceptance story in order, run once for real and written down as it happens.

    prove(ProveOptions(output=Path("reports")))  # 0: every step happened, 1: one did not

The story's steps stop at the first that does not happen (the rest are marked "not reached");
the closing steps always run: stop everything, the scheduler's log, verify, smoke, git.
"""

from __future__ import annotations

import functools
import platform
import secrets
import sys
import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

from api.prove import closing, lifecycle, opening
from api.prove.context import FAULT, ProveOptions, Story
from api.prove.record import Proof
from api.prove.report import first_line
from api.prove.steps import Status, Step
from runner.chromium import ChromiumNotFound, resolve_chromium

__all__ = ["ProveOptions", "prove"]

Action = Callable[[Story, Step], None]

STORY: tuple[tuple[str, Action], ...] = (
    ("Start the SMTP sink", opening.start_sink),
    ("Start the demo target", opening.start_target),
    ("Create the database and the accounts", opening.create_accounts),
    ("Start the monitor: goldwatch serve", opening.start_monitor_step),
    ("The scheduler takes the lease and schedules the checks", opening.scheduled),
    ("The first scheduled runs pass: status green", opening.first_green),
    ("Status API as admin, staff and anonymous: raw HTTP", opening.status_exchanges),
    ("Dashboard before the fault: green", opening.dashboard_green_before),
    (f"Fault {FAULT} switched on", lifecycle.fault_on),
    ("Incident raised", lifecycle.incident_raised),
    ("Alert email received", lifecycle.alert_email),
    ("Dashboard during the fault: red", lifecycle.dashboard_red),
    (f"Fault {FAULT} switched off", lifecycle.fault_off),
    ("Incident resolved", lifecycle.incident_resolved),
    ("Resolved email received", lifecycle.resolved_email),
    ("Dashboard after recovery: green", lifecycle.dashboard_green_after),
    ("Incident list with the resolved incident", lifecycle.incident_list),
    ("Incident page with its failure screenshot", lifecycle.incident_page),
    ("Audit trail of the incident", lifecycle.audit),
)


def closing_steps(options: ProveOptions) -> tuple[tuple[str, Action], ...]:
    verify = "./verify.sh" if options.full else "./verify.sh --lint"
    return (
        ("Stop everything the proof started", closing.stop_everything),
        ("Scheduler log: jobs scheduled and executed", closing.scheduler_log),
        (verify, closing.verify),
        ("./smoke.sh", closing.smoke),
        ("Git checkout: status and changed files", closing.git_state),
    )


def report_folder(output: Path, started: datetime) -> Path:
    """A new `proof-<UTC timestamp>` folder in `output` (suffixed when one exists already)."""
    base = output / f"proof-{started.strftime('%Y%m%dT%H%M%SZ')}"
    folder, n = base, 1
    while folder.exists():
        n += 1
        folder = base.with_name(f"{base.name}-{n}")
    folder.mkdir(parents=True)
    return folder


def run_steps(story: Story, steps: list[tuple[Step, Action]], always: int) -> None:
    """The story's steps until one fails, then the last `always` steps whatever happened."""
    failed: Step | None = None
    for index, (step, action) in enumerate(steps):
        if failed is not None and index < len(steps) - always:
            step.status = Status.not_reached
            step.note = f'step {failed.number} "{failed.title}" did not happen'
            continue
        if not story.proof.run(step, functools.partial(action, story)) and failed is None:
            failed = step


def prove(options: ProveOptions) -> int:
    """Run the story, write the report; 0 when every step happened as expected."""
    try:
        chromium = resolve_chromium()
    except ChromiumNotFound as error:
        print(f"goldwatch prove: {error}", file=sys.stderr)
        return 1
    started = datetime.now(UTC)
    proof = Proof(report_folder(options.output, started), options.command, started)
    proof.header = {
        "Machine": f"{platform.node()} ({platform.platform()}), Python {platform.python_version()}",
        "Chromium": f"`{chromium}`",
    }
    actions = [*STORY, *closing_steps(options)]
    proof.plan([title for title, _ in actions])
    proof.say(f"writing {proof.path}")
    try:
        with (
            tempfile.TemporaryDirectory(prefix="goldwatch-prove-") as work,
            ExitStack() as resources,
        ):
            story = Story(options, proof, Path(work), secrets.token_hex(8), chromium, resources)
            steps = [(step, action) for step, (_, action) in zip(proof.steps, actions, strict=True)]
            run_steps(story, steps, always=len(actions) - len(STORY))
    finally:
        proof.header["Duration"] = f"{(datetime.now(UTC) - started).total_seconds():.0f} s"
        proof.write()
    failed = proof.failed()
    if failed:
        first = failed[0]
        print(
            f'goldwatch prove: FAIL at step {first.number} "{first.title}": '
            f"{first_line(first.note)} (report: {proof.path})",
            file=sys.stderr,
        )
        return 1
    print(proof.path)
    return 0
