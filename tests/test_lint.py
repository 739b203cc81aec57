"""ruff and mypy stay clean: `./verify.sh --lint` is part of the suite, so it cannot rot."""

from __future__ import annotations

import subprocess

from runner.settings import PROJECT_ROOT


def test_verify_lint_passes() -> None:
    result = subprocess.run(
        ["./verify.sh", "--lint"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert result.stdout.rstrip().endswith("verify: PASS")
