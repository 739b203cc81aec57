"""`goldwatch prove`: the whole acceptance story, run for real against the demo target, written
down as `reports/proof-<timestamp>/proof.md` with its screenshots.

It lives in `api/` next to `api/demo.py`, whose wiring it reuses: like `goldwatch demo` it
drives the whole product (demo target, `goldwatch serve`, dashboard), so it sits above `runner/`
(which never imports `api/`).
"""

from __future__ import annotations

from api.prove.story import ProveOptions, prove

__all__ = ["ProveOptions", "prove"]
