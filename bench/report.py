"""The printed table and the markdown report."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

from bench.machine import Machine
from bench.model import Figure, Section

HEADERS = (
    "Benchmark",
    "Figure",
    "Median",
    "Spread (IQR)",
    "Min-max",
    "n",
    "Ratio",
    "Target",
    "Verdict",
)


def number(value: float, unit: str) -> str:
    if math.isnan(value):
        return "-"
    if unit == "x":
        return f"{value:.2f}x"
    if unit == "count":
        return f"{value:g}"
    if unit == "req/s":
        return f"{value:,.0f} req/s"
    if unit == "%":
        return f"{value:+.1f} %"
    if unit == "MiB":
        return f"{value:.1f} MiB"
    digits = 3 if abs(value) < 1 else 2 if abs(value) < 100 else 0
    return f"{value:.{digits}f} {unit}"


def cells(section: Section, figure: Figure) -> tuple[str, ...]:
    summary = figure.summary
    unit = figure.unit
    spread = "-" if summary.n < 2 else number(summary.spread, unit).replace("+", "")
    low_high = (
        "-" if summary.n < 2 else f"{number(summary.low, unit)} - {number(summary.high, unit)}"
    )
    ratio = "-" if math.isnan(figure.ratio) else f"{figure.ratio:.2f}x"
    target = figure.target.text if figure.target else ""
    return (
        section.key,
        figure.name,
        number(summary.median, unit),
        spread,
        low_high,
        str(summary.n),
        ratio,
        target,
        figure.verdict,
    )


def rows(sections: Sequence[Section]) -> list[tuple[str, ...]]:
    table: list[tuple[str, ...]] = []
    for section in sections:
        if section.error:
            table.append((section.key, "FAILED TO RUN", "", "", "", "", "", "", section.error))
        table.extend(cells(section, figure) for figure in section.figures)
    return table


def console_table(sections: Sequence[Section]) -> str:
    table = [HEADERS, *rows(sections)]
    widths = [max(len(row[i]) for row in table) for i in range(len(HEADERS))]
    lines = []
    for index, row in enumerate(table):
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def markdown_table(sections: Sequence[Section]) -> str:
    escaped = [tuple(cell.replace("|", "\\|") for cell in row) for row in rows(sections)]
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    lines += ["| " + " | ".join(row) + " |" for row in escaped]
    return "\n".join(lines)


def verdicts(sections: Sequence[Section]) -> list[str]:
    lines = []
    for section in sections:
        if section.error:
            lines.append(f"- **{section.title}: did not run** ({section.error}).")
        for figure in section.missed:
            assert figure.target is not None
            value = figure.statistic(figure.target.statistic)
            shown = number(value, "x" if figure.target.statistic == "ratio" else figure.unit)
            line = (
                f"- **MISSED: {section.title} / {figure.name.strip()}**: "
                f"{figure.target.statistic} {shown}, target {figure.target.text}."
            )
            lines.append(line + (f" Why: {figure.note}" if figure.note else ""))
    return lines or ["- Every target was met in this run."]


def markdown(
    sections: Sequence[Section],
    machine: Machine,
    started: datetime,
    seconds: float,
    command: str,
) -> str:
    parts = [
        f"# Goldwatch benchmarks, {started.strftime('%Y-%m-%d %H:%M:%S %Z')}",
        "",
        f"Command: `{command}`, {seconds / 60:.1f} min in all. Every figure below was measured "
        "in this run, on this machine; a ratio compares a figure with its reference measured "
        "in the same run. Median and spread (interquartile range) are over repetitions.",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        *[f"| {name} | {value} |" for name, value in machine.rows()],
        "",
        "## Targets",
        "",
        *verdicts(sections),
        "",
        "## Figures",
        "",
        markdown_table(sections),
    ]
    for section in sections:
        parts += ["", f"## {section.title}", "", f"Took {section.seconds:.0f} s."]
        if section.error:
            parts += ["", f"**Did not run:** {section.error}"]
        for note in section.notes:
            parts += ["", note]
        for block in section.details:
            parts += ["", block]
    return "\n".join(parts) + "\n"
