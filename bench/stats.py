"""Summaries of repeated measurements: median, spread and percentiles."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), linear between closest ranks."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class Summary:
    """Median and spread of samples; `spread` is the interquartile range (p75 - p25)."""

    n: int
    median: float
    p25: float
    p75: float
    p95: float
    low: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Summary:
        if not values:
            nan = math.nan
            return cls(0, nan, nan, nan, nan, nan, nan)
        return cls(
            n=len(values),
            median=statistics.median(values),
            p25=percentile(values, 25),
            p75=percentile(values, 75),
            p95=percentile(values, 95),
            low=min(values),
            high=max(values),
        )

    @property
    def spread(self) -> float:
        return self.p75 - self.p25
