"""Finding what a proof left running.

Every process the proof starts carries a tag in its environment, which its children inherit
(the flows' pytest, the Playwright driver, Chromium), so whatever is still alive after the stop
can be found, named and killed. Linux (/proc); elsewhere nothing is found.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

# Not GOLDWATCH_*: the golden-flows check passes its subprocess no GOLDWATCH_* of its own.
TAG_VARIABLE = "PROVE_RUN_TAG"
PROC = Path("/proc")


@dataclass(frozen=True)
class Leftover:
    pid: int
    command: str

    def __str__(self) -> str:
        return f"{self.pid} ({self.command})"


def tag_environment(tag: str) -> dict[str, str]:
    return {TAG_VARIABLE: tag}


def _command(entry: Path) -> str:
    try:
        raw = (entry / "cmdline").read_bytes()
    except OSError:
        return "?"
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()[:120] or "?"


def tagged(tag: str, proc: Path = PROC) -> list[Leftover]:
    """Live processes carrying `tag` (zombies have an empty environment: not counted)."""
    needle = f"{TAG_VARIABLE}={tag}".encode()
    found: list[Leftover] = []
    if not proc.is_dir():
        return found
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if needle in environ.split(b"\0"):
            found.append(Leftover(int(entry.name), _command(entry)))
    return found


def wait_until_gone(tag: str, timeout: float = 5.0) -> list[Leftover]:
    """The tagged processes still alive after up to `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        left = tagged(tag)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.2)


def kill(processes: list[Leftover]) -> None:
    for process in processes:
        with contextlib.suppress(OSError):
            os.kill(process.pid, signal.SIGKILL)
