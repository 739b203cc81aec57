"""A step of the proof: its title, its status and the evidence captured while it ran."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum


class StepFailed(Exception):
    """A step of the story did not happen as expected; the message says what happened."""


class Status(StrEnum):
    pending = "pending"
    ok = "ok"
    failed = "FAILED"
    skipped = "skipped"
    not_reached = "not reached"


MARKS = {
    Status.pending: "…",
    Status.ok: "✅",
    Status.failed: "❌",
    Status.skipped: "⏭️",
    Status.not_reached: "⏸️",
}


def fenced(text: str, language: str = "") -> str:
    """A Markdown code block that holds `text` whatever backticks it contains."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text.rstrip()}\n{fence}"


@dataclass
class Step:
    number: int
    title: str
    status: Status = Status.pending
    seconds: float = 0.0
    note: str = ""
    blocks: list[str] = field(default_factory=list)

    def text(self, paragraph: str) -> None:
        self.blocks.append(paragraph)

    def code(self, content: str, language: str = "", caption: str = "") -> None:
        self.blocks.append((f"{caption}\n\n" if caption else "") + fenced(content, language))

    def image(self, name: str, caption: str) -> None:
        self.blocks.append(f"![{caption}]({name})\n\n*{caption}* (`{name}`)")
