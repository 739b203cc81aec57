"""Types the golden flows annotate their fixtures with (see flows/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from playwright.sync_api import Response

from runner.steps import StepRecorder


@dataclass(frozen=True)
class Account:
    """A synthetic account the flows log in as."""

    email: str
    password: str


Visit = Callable[[str], Response | None]
SignIn = Callable[[Account], None]

__all__ = ["Account", "SignIn", "StepRecorder", "Visit"]
