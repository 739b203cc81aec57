"""Find a Chromium for Playwright, in a fixed order, or say in one line how to get one.

Order: GOLDWATCH_CHROMIUM_PATH; a Playwright-managed browser; a system Chromium or Chrome in
the usual places or on PATH; with `--install` (used by `make`), `apt-get install -y chromium`
when running as root with apt available.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

# Real binaries first: Debian's /usr/bin/chromium is a shell wrapper around the first one.
SYSTEM_LOCATIONS = (
    "/usr/lib/chromium/chromium",
    "/usr/lib/chromium-browser/chromium-browser",
    "/opt/google/chrome/chrome",
    "/snap/bin/chromium",
)
PATH_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
HOW_TO_FIX = (
    "no Chromium found: install one (Debian/Ubuntu: `sudo apt-get install -y chromium`) "
    "or set GOLDWATCH_CHROMIUM_PATH to a Chromium or Chrome binary"
)


class ChromiumNotFound(RuntimeError):
    pass


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def playwright_managed(browsers_root: Path | None = None) -> Path | None:
    """The newest Chromium that `playwright install` left in its cache, if any."""
    if browsers_root is None:
        configured = os.environ.get("PLAYWRIGHT_BROWSERS_PATH", "")
        browsers_root = (
            Path(configured)
            if configured and configured != "0"
            else Path.home() / ".cache" / "ms-playwright"
        )
    if not browsers_root.is_dir():
        return None
    candidates = sorted(browsers_root.glob("chromium-*/chrome-linux*/chrome"), reverse=True)
    return next((c for c in candidates if _is_executable(c)), None)


def system_chromium(
    locations: Iterable[str] = SYSTEM_LOCATIONS,
    which: Callable[[str], str | None] = shutil.which,
) -> Path | None:
    for location in locations:
        if _is_executable(Path(location)):
            return Path(location)
    for name in PATH_NAMES:
        found = which(name)
        if found:
            return Path(found)
    return None


def resolve_chromium(
    configured: str | None = None,
    *,
    browsers_root: Path | None = None,
    locations: Iterable[str] = SYSTEM_LOCATIONS,
    which: Callable[[str], str | None] = shutil.which,
) -> Path:
    """The Chromium to use, or ChromiumNotFound with the fix."""
    configured = os.environ.get("GOLDWATCH_CHROMIUM_PATH", "") if configured is None else configured
    if configured:
        path = Path(configured)
        if not _is_executable(path):
            raise ChromiumNotFound(
                f"GOLDWATCH_CHROMIUM_PATH={configured} is not an executable file"
            )
        return path
    found = playwright_managed(browsers_root) or system_chromium(locations, which)
    if found is None:
        raise ChromiumNotFound(HOW_TO_FIX)
    return found


def can_apt_install() -> bool:
    return os.geteuid() == 0 and shutil.which("apt-get") is not None


def apt_install_chromium() -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    print("goldwatch: no Chromium found, installing Debian's chromium package", file=sys.stderr)
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=True, env=env)


def ensure_chromium(install: bool) -> Path:
    try:
        return resolve_chromium()
    except ChromiumNotFound:
        if not (install and can_apt_install()):
            raise
    apt_install_chromium()
    return resolve_chromium()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print the Chromium Goldwatch will use.")
    parser.add_argument(
        "--install", action="store_true", help="apt-get install chromium when none is found"
    )
    args = parser.parse_args(argv)
    try:
        print(ensure_chromium(args.install))
    except ChromiumNotFound as error:
        print(f"goldwatch: {error}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as error:
        print(f"goldwatch: installing chromium failed ({error}); {HOW_TO_FIX}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
