"""proof.md from the record: verdict, step table, then every step's captured evidence."""

from __future__ import annotations

from typing import TYPE_CHECKING

from api.prove.steps import MARKS, Status, Step, fenced

if TYPE_CHECKING:
    from api.prove.record import Proof


def first_line(text: str) -> str:
    return text.splitlines()[0] if text else ""


def verdict(proof: Proof) -> str:
    failed = proof.failed()
    if failed:
        named = "; ".join(f'step {s.number} "{s.title}": {first_line(s.note)}' for s in failed)
        return f"**FAIL**: {named}"
    if any(s.status in (Status.pending, Status.not_reached) for s in proof.steps):
        return "**INCOMPLETE**: the proof is still running or was stopped"
    return "**PASS**: every step happened as expected"


def _summary_row(step: Step) -> str:
    note = first_line(step.note).replace("|", "\\|")
    seconds = f"{step.seconds:.1f} s" if step.status not in (Status.pending,) else ""
    return (
        f"| {step.number} | [{step.title}](#step-{step.number}) | "
        f"{MARKS[step.status]} {step.status.value} | {seconds} | {note} |"
    )


def _section(step: Step) -> str:
    lines = [
        f'<a id="step-{step.number}"></a>',
        f"## {step.number}. {step.title}",
        "",
        f"{MARKS[step.status]} **{step.status.value}**"
        + (f" in {step.seconds:.1f} s" if step.status in (Status.ok, Status.failed) else ""),
    ]
    if step.note:
        lines += ["", step.note if "\n" not in step.note else fenced(step.note)]
    for block in step.blocks:
        lines += ["", block]
    return "\n".join(lines)


def render(proof: Proof) -> str:
    header = [
        "# Goldwatch proof",
        "",
        f"Result: {verdict(proof)}",
        "",
        f"- Command: `{proof.command}`",
        f"- Started: {proof.started.isoformat(timespec='seconds')}",
    ]
    header += [f"- {name}: {value}" for name, value in proof.header.items()]
    header += [
        "",
        "Everything below was captured from this run as it happened: logs, HTTP exchanges, "
        "database rows, emails and screenshots. Nothing is typed in by hand.",
        "",
        "| # | Step | Result | Time | Note |",
        "|---|---|---|---|---|",
    ]
    header += [_summary_row(step) for step in proof.steps]
    sections = [_section(step) for step in proof.steps]
    return "\n".join(header) + "\n\n" + "\n\n".join(sections) + "\n"
