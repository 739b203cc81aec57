"""The checkout's own checks (`./verify.sh`, `./smoke.sh`) and its git state, when the proof
runs inside a source checkout."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

TAIL_LINES = 40


@dataclass(frozen=True)
class CommandRun:
    command: str
    code: int | None  # None: timed out (and killed)
    output: str
    seconds: float

    @property
    def ok(self) -> bool:
        return self.code == 0

    def tail(self, lines: int = TAIL_LINES) -> str:
        kept = self.output.rstrip().splitlines()
        skipped = len(kept) - lines
        shown = "\n".join(kept[-lines:])
        if skipped <= 0:
            return shown
        return f"[... {skipped} earlier lines in the log file ...]\n{shown}"


def run_command(args: list[str], cwd: Path, timeout: float) -> CommandRun:
    """Run to completion (stdout and stderr together), without the caller's GOLDWATCH_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOLDWATCH_")}
    started = time.monotonic()
    try:
        done = subprocess.run(
            args,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            check=False,
        )
        code: int | None = done.returncode
        output = done.stdout.decode(errors="replace")
    except subprocess.TimeoutExpired as error:
        code = None
        raw = error.stdout or b""
        output = (raw if isinstance(raw, bytes) else raw.encode()).decode(errors="replace")
        output += f"\n[timed out after {timeout:.0f} s]"
    return CommandRun(" ".join(args), code, output, time.monotonic() - started)


def script(root: Path, name: str) -> Path | None:
    """`root/name` when it is an executable script of the checkout."""
    path = root / name
    return path if path.is_file() and os.access(path, os.X_OK) else None


def in_git_checkout(root: Path) -> bool:
    if shutil.which("git") is None:
        return False
    done = subprocess.run(
        ["git", "rev-parse", "--is-inside-work-tree"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode == 0 and done.stdout.strip() == "true"


def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, check=False, timeout=60
    )
    return (done.stdout + done.stderr).rstrip()
