"""What a benchmark hands back: figures (samples, reference, target) grouped in sections."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from bench.stats import Summary

STATISTICS = ("median", "p95", "max", "ratio")


@dataclass(frozen=True)
class Target:
    """A limit from the spec, applied to one statistic of a figure (never loosened here)."""

    statistic: str  # median | p95 | max | ratio (median / the reference's median)
    op: str  # "<=" | ">="
    limit: float
    text: str  # as the spec words it, e.g. "p95 <= 1 s"

    def met(self, value: float) -> bool:
        if math.isnan(value):
            return False
        return value <= self.limit if self.op == "<=" else value >= self.limit


@dataclass
class Figure:
    name: str
    unit: str
    samples: list[float]
    reference: Figure | None = None
    target: Target | None = None
    note: str = ""

    @property
    def summary(self) -> Summary:
        return Summary.of(self.samples)

    @property
    def ratio(self) -> float:
        if self.reference is None:
            return math.nan
        reference = self.reference.summary.median
        if not reference or math.isnan(reference):
            return math.nan
        return self.summary.median / reference

    def statistic(self, name: str) -> float:
        summary = self.summary
        values = {
            "median": summary.median,
            "p95": summary.p95,
            "max": summary.high,
            "ratio": self.ratio,
        }
        return values[name]

    @property
    def verdict(self) -> str:
        if self.target is None:
            return ""
        if not self.samples:
            return "NOT MEASURED"
        return "met" if self.target.met(self.statistic(self.target.statistic)) else "MISSED"


@dataclass
class Section:
    """One benchmark's result: its figures, what explains them, and how long it took."""

    key: str
    title: str
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)  # markdown blocks (tables, breakdowns)
    seconds: float = 0.0
    error: str | None = None

    def add(self, figure: Figure) -> Figure:
        self.figures.append(figure)
        return figure

    @property
    def missed(self) -> list[Figure]:
        return [f for f in self.figures if f.verdict in ("MISSED", "NOT MEASURED")]
