"""The throttle rules hold for any sequence of failures and recoveries (hypothesis feeds runs
one at a time through the real store, planner and dispatcher; console channel)."""

from __future__ import annotations

import itertools
import tempfile
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.alerting_support import Clock, Monitor, flow_failed, make_settings, passing

pytest_plugins = ("tests.alerting_support",)
THROTTLE = timedelta(hours=1)
SUBJECT = "golden_flows:f3"

runs = st.lists(
    st.tuples(st.booleans(), st.integers(min_value=1, max_value=90)), min_size=1, max_size=25
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(history=runs)
def test_throttle_rules_hold_for_any_history(
    clean_env: Path, history: list[tuple[bool, int]]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        clock = Clock()
        monitor = Monitor(make_settings(Path(folder)), clock, Path(folder))
        failures = []
        try:
            for ok, minutes in history:
                clock.advance(minutes=minutes)
                if ok:
                    monitor.run(passing(SUBJECT, clock()))
                else:
                    monitor.run(flow_failed(clock()))
                    failures.append(clock())
            rows = monitor.notifications()
            resolves = monitor.audit("INCIDENT_RESOLVED")
        finally:
            monitor.close()

    assert all(r.status == "sent" for r in rows)
    alerts = [r for r in rows if r.event in ("raised", "reminder")]
    # Nothing failing goes unannounced for longer than the throttle window ...
    for at in failures:
        assert any(at - THROTTLE < r.created_at <= at for r in alerts), at
    # ... no incident is announced twice within one, and only while failing.
    assert {r.created_at for r in alerts} <= set(failures)
    for incident_id in {r.incident_id for r in rows}:
        times = [r.created_at for r in alerts if r.incident_id == incident_id]
        assert all(b - a >= THROTTLE for a, b in itertools.pairwise(times))

        # Per episode: raised, then reminders; a resolve says "resolved" exactly when the
        # episode was announced, and never otherwise.
        timeline = sorted(
            [(r.created_at, r.event) for r in rows if r.incident_id == incident_id]
            + [(a.at, "INCIDENT_RESOLVED") for a in resolves if a.incident_id == incident_id]
        )
        announced = False
        for index, (at, event) in enumerate(timeline):
            if event == "INCIDENT_RESOLVED":
                said = [e for t, e in timeline if t == at and e == "resolved"]
                assert said == (["resolved"] if announced else []), timeline
                announced = False
            elif event in ("raised", "reminder"):
                assert event == ("reminder" if announced else "raised"), timeline
                announced = True
            else:
                assert timeline[index - 1] == (at, "INCIDENT_RESOLVED"), timeline
