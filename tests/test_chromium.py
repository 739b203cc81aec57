"""Chromium resolution order and the message when there is none."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from runner.chromium import HOW_TO_FIX, ChromiumNotFound, resolve_chromium


def executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.fixture
def places(tmp_path: Path) -> dict[str, Path]:
    return {
        "configured": executable(tmp_path / "custom" / "chrome"),
        "managed_root": tmp_path / "ms-playwright",
        "system": executable(tmp_path / "usr-lib" / "chromium"),
        "on_path": executable(tmp_path / "bin" / "chromium"),
    }


def resolve(
    places: dict[str, Path],
    configured: str = "",
    *,
    managed: bool = True,
    system: bool = True,
    on_path: bool = True,
) -> Path:
    if managed:
        executable(places["managed_root"] / "chromium-1187" / "chrome-linux" / "chrome")
    return resolve_chromium(
        configured,
        browsers_root=places["managed_root"],
        locations=[str(places["system"])] if system else [],
        which=lambda name: str(places["on_path"]) if on_path and name == "chromium" else None,
    )


def test_configured_path_comes_first(places: dict[str, Path]) -> None:
    assert resolve(places, str(places["configured"])) == places["configured"]


def test_then_a_playwright_managed_browser(places: dict[str, Path]) -> None:
    assert resolve(places).parts[-3:] == ("chromium-1187", "chrome-linux", "chrome")


def test_then_the_usual_places_then_path(places: dict[str, Path]) -> None:
    assert resolve(places, managed=False) == places["system"]
    assert resolve(places, managed=False, system=False) == places["on_path"]


def test_none_found_says_how_to_get_one(places: dict[str, Path]) -> None:
    with pytest.raises(ChromiumNotFound) as error:
        resolve(places, managed=False, system=False, on_path=False)
    assert str(error.value) == HOW_TO_FIX
    assert "apt-get install -y chromium" in HOW_TO_FIX
    assert "GOLDWATCH_CHROMIUM_PATH" in HOW_TO_FIX


def test_a_bad_configured_path_is_named(places: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(ChromiumNotFound, match=r"GOLDWATCH_CHROMIUM_PATH=.*not an executable"):
        resolve(places, str(tmp_path / "nope"))
