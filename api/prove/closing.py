"""The last steps, run whatever happened before: stop everything the proof started (and check
that nothing is left), the scheduler's log, the checkout's verify and smoke scripts, git."""

from __future__ import annotations

import shutil
import signal

from api.prove import checkout, processes
from api.prove.context import Story
from api.prove.opening import CHECKS, scheduler_lines
from api.prove.steps import Status, Step, StepFailed

LEFTOVER_SETTLE_SECONDS = 10.0
# The monitor's log lines that show a graceful stop.
SHUTDOWN_MARKS = ("Shutting down", "scheduler stopped", "shutdown complete", "Finished server")


def exit_text(code: int) -> str:
    if code < 0:
        return f"ended by {signal.Signals(-code).name} (exit status {code})"
    return f"exited with status {code}"


def stop_everything(story: Story, step: Step) -> None:
    lines: list[str] = []
    code: int | None = 0
    monitor = story.monitor
    if monitor is not None:
        code = monitor.stop()
        lines.append(
            f"goldwatch serve (pid {monitor.process.pid}): "
            + ("killed after the SIGTERM timeout" if code is None else exit_text(code))
        )
        shutdown = [
            line
            for line in monitor.log.read_text(errors="replace").splitlines()
            if any(mark in line for mark in SHUTDOWN_MARKS)
        ]
        lines += [f"  {line}" for line in shutdown]
    story.page = None
    story.resources.close()  # the browser, the demo target, the SMTP sink, the database engine
    lines.append("browser, demo target, SMTP sink and database connections closed")
    left = processes.wait_until_gone(story.tag, LEFTOVER_SETTLE_SECONDS)
    if left:
        processes.kill(left)
        lines.append("left running (now killed): " + ", ".join(map(str, left)))
    else:
        lines.append(
            f"no process carrying {processes.TAG_VARIABLE}={story.tag} is left "
            "(the monitor, its flow runs and every Chromium, the proof's own included)"
        )
    step.code("\n".join(lines))
    if code is None:
        raise StepFailed("goldwatch serve did not stop on SIGTERM")
    if left:
        raise StepFailed(f"{len(left)} process(es) left running: {left[0]}")


def scheduler_log(story: Story, step: Step) -> None:
    if story.monitor is None:
        raise StepFailed("the monitor never started: no log")
    shutil.copyfile(story.monitor.log, story.folder / "monitor.log")
    lines = scheduler_lines(story)
    step.code(
        "\n".join(lines),
        caption="Every `goldwatch.scheduler` and `goldwatch.pipeline` line of the monitor's "
        "log (the whole log: [`monitor.log`](monitor.log)):",
    )
    problems = [
        f"no {what} line for check_{job}"
        for job in CHECKS
        for what in ("scheduled", "executed")
        if not any(f"{what} check_{job} " in line for line in lines)
    ]
    flows = [line for line in lines if "executed check_golden_flows" in line]
    if not any("status=failed" in line and " raised=#" in line for line in flows):
        problems.append("no golden-flows run raised an incident")
    if not any("status=success" in line and " resolved=#" in line for line in flows):
        problems.append("no golden-flows run resolved an incident")
    if problems:
        raise StepFailed("; ".join(problems))


def _script_step(story: Story, step: Step, args: list[str], log_name: str) -> None:
    if story.options.fast:
        step.status, step.note = Status.skipped, "skipped with --fast"
        return
    root = story.options.project_root
    if checkout.script(root, args[0]) is None:
        step.status, step.note = Status.skipped, f"no {args[0]} here: not a source checkout"
        return
    run = checkout.run_command([f"./{args[0]}", *args[1:]], root, timeout=3600)
    (story.folder / log_name).write_text(run.output)
    outcome = "timed out" if run.code is None else f"exit status {run.code}"
    step.code(
        run.tail(),
        caption=f"`{run.command}`: {outcome} after {run.seconds:.0f} s "
        f"(whole output: [`{log_name}`]({log_name})):",
    )
    if not run.ok:
        raise StepFailed(f"{run.command}: {outcome}")


def verify(story: Story, step: Step) -> None:
    args = ["verify.sh"] if story.options.full else ["verify.sh", "--lint"]
    _script_step(story, step, args, "verify.log")


def smoke(story: Story, step: Step) -> None:
    _script_step(story, step, ["smoke.sh"], "smoke.log")


def git_state(story: Story, step: Step) -> None:
    root = story.options.project_root
    if not checkout.in_git_checkout(root):
        step.status, step.note = Status.skipped, "not inside a git checkout"
        return
    step.code(checkout.git(root, "log", "-1", "--format=%H %s"), caption="`git log -1`:")
    step.code(checkout.git(root, "status", "--short") or "(clean)", caption="`git status --short`:")
    step.code(
        checkout.git(root, "diff", "--stat", "HEAD") or "(no changes to tracked files)",
        caption="`git diff --stat HEAD` (changed files):",
    )
