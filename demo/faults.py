"""Fault switches of the demo target: which parts of the product are broken right now."""

from __future__ import annotations

import math
import threading

BOOL_FAULTS: tuple[str, ...] = ("api_down", "web_down", "f1", "f2", "f3", "f4")
FAULT_NAMES: tuple[str, ...] = (*BOOL_FAULTS, "slow", "flaky")

DEFAULT_SLOW_MS = 1000
MAX_SLOW_MS = 300_000
DEFAULT_FLAKY_RATE = 0.5

FaultSnapshot = dict[str, bool | int | float]


class UnknownFault(LookupError):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown fault {name!r}; known: {', '.join(FAULT_NAMES)}")
        self.name = name

    def __str__(self) -> str:
        return str(self.args[0])


class FaultValueError(ValueError):
    """A fault parameter (`ms`, `rate`) that is not a number or out of range."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter


def parse_slow_ms(raw: str | None) -> int:
    """`?ms=` of the slow fault: an integer from 0 to MAX_SLOW_MS; absent = the default."""
    if raw is None:
        return DEFAULT_SLOW_MS
    try:
        ms = int(raw.strip())
    except ValueError:
        raise FaultValueError("ms", f"ms must be an integer, got {raw!r}") from None
    if not 0 <= ms <= MAX_SLOW_MS:
        raise FaultValueError("ms", f"ms must be between 0 and {MAX_SLOW_MS}, got {ms}")
    return ms


def parse_flaky_rate(raw: str | None) -> float:
    """`?rate=` of the flaky fault: a number from 0 to 1; absent = the default."""
    if raw is None:
        return DEFAULT_FLAKY_RATE
    try:
        rate = float(raw.strip())
    except ValueError:
        raise FaultValueError("rate", f"rate must be a number, got {raw!r}") from None
    if not (math.isfinite(rate) and 0.0 <= rate <= 1.0):
        raise FaultValueError("rate", f"rate must be between 0 and 1, got {raw!r}")
    return rate


class FaultState:
    """The current faults, safe to read and switch from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._on: dict[str, bool] = dict.fromkeys(BOOL_FAULTS, False)
        self._slow_ms = 0
        self._flaky_rate = 0.0

    @staticmethod
    def check_name(name: str) -> None:
        if name not in FAULT_NAMES:
            raise UnknownFault(name)

    def is_on(self, name: str) -> bool:
        self.check_name(name)
        with self._lock:
            if name == "slow":
                return self._slow_ms > 0
            if name == "flaky":
                return self._flaky_rate > 0
            return self._on[name]

    @property
    def slow_ms(self) -> int:
        with self._lock:
            return self._slow_ms

    @property
    def flaky_rate(self) -> float:
        with self._lock:
            return self._flaky_rate

    def switch_on(
        self, name: str, *, ms: int = DEFAULT_SLOW_MS, rate: float = DEFAULT_FLAKY_RATE
    ) -> None:
        """Switch one fault on; `ms` applies to `slow` and `rate` to `flaky` only."""
        self.check_name(name)
        with self._lock:
            if name == "slow":
                self._slow_ms = ms
            elif name == "flaky":
                self._flaky_rate = rate
            else:
                self._on[name] = True

    def switch_off(self, name: str) -> None:
        self.check_name(name)
        with self._lock:
            if name == "slow":
                self._slow_ms = 0
            elif name == "flaky":
                self._flaky_rate = 0.0
            else:
                self._on[name] = False

    def clear(self) -> None:
        with self._lock:
            self._on = dict.fromkeys(BOOL_FAULTS, False)
            self._slow_ms = 0
            self._flaky_rate = 0.0

    def snapshot(self) -> FaultSnapshot:
        with self._lock:
            state: FaultSnapshot = {name: self._on[name] for name in BOOL_FAULTS}
            state["slow"] = self._slow_ms
            state["flaky"] = self._flaky_rate
            return state
