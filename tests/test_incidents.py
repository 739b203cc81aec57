"""The incident state machine, fed one result at a time (as Gatus tests its alerting)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from runner.incidents import (
    IncidentState,
    Observation,
    Policy,
    Raise,
    Reopen,
    Resolve,
    SetStreak,
    Streak,
    Unsuppress,
    Update,
    decide,
    severity_for,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def failure(
    subject: str, at: datetime, incident_type: str = "api_down", step: str = ""
) -> Observation:
    fingerprint = f"{incident_type}:{subject}" + (f":{step}" if step else "")
    return Observation(
        subject=subject,
        source_check=subject.split(":")[0],
        ok=False,
        at=at,
        type=incident_type,
        fingerprint=fingerprint,
        message=f"{subject} failing",
    )


def success(subject: str, at: datetime) -> Observation:
    return Observation(subject=subject, source_check=subject.split(":")[0], ok=True, at=at)


@dataclass
class World:
    """Applies actions the way the store does, in memory, so state can be checked after each."""

    policy: Policy = field(default_factory=Policy)
    incidents: dict[int, IncidentState] = field(default_factory=dict)
    streaks: dict[str, Streak] = field(default_factory=dict)
    audit: list[tuple[str, int]] = field(default_factory=list)
    next_id: int = 1

    def feed(self, *observations: Observation) -> list[object]:
        window_start = max(o.at for o in observations) - self.policy.dedupe_window
        visible = [
            i
            for i in self.incidents.values()
            if i.is_open or (i.resolved_at and i.resolved_at >= window_start)
        ]
        actions = decide(observations, visible, self.streaks, self.policy)
        for action in actions:
            self._apply(action)
        return [a for a in actions if not isinstance(a, SetStreak)]

    def _apply(self, action: object) -> None:
        if isinstance(action, SetStreak):
            self.streaks[action.subject] = action.streak
        elif isinstance(action, Raise):
            o = action.observation
            incident = IncidentState(
                self.next_id,
                o.fingerprint,
                o.subject,
                o.type,
                o.tenant_id,
                o.at,
                o.at,
                None,
                action.suppressed_by,
            )
            self.incidents[self.next_id] = incident
            self.audit.append(("INCIDENT_RAISED", self.next_id))
            self.next_id += 1
        elif isinstance(action, Update | Reopen):
            current = self.incidents[action.incident_id]
            updated = replace(
                current,
                last_seen_at=max(current.last_seen_at, action.observation.at),
                occurrences=current.occurrences + 1,
            )
            if isinstance(action, Reopen):
                updated = replace(updated, resolved_at=None, suppressed_by=action.suppressed_by)
                self.audit.append(("INCIDENT_REOPENED", action.incident_id))
            self.incidents[action.incident_id] = updated
        elif isinstance(action, Resolve):
            self.incidents[action.incident_id] = replace(
                self.incidents[action.incident_id], resolved_at=action.at
            )
            self.audit.append(("INCIDENT_RESOLVED", action.incident_id))
        elif isinstance(action, Unsuppress):
            self.incidents[action.incident_id] = replace(
                self.incidents[action.incident_id], suppressed_by=None
            )

    def open(self) -> list[IncidentState]:
        return [i for i in self.incidents.values() if i.is_open]


def test_raise_repeat_resolve() -> None:
    world = World()
    assert isinstance(world.feed(failure("api_health", T0))[0], Raise)
    assert [i.occurrences for i in world.open()] == [1]

    for minute in (5, 10):
        actions = world.feed(failure("api_health", T0 + timedelta(minutes=minute)))
        assert [type(a) for a in actions] == [Update]
    (incident,) = world.open()
    assert incident.occurrences == 3
    assert incident.last_seen_at == T0 + timedelta(minutes=10)

    actions = world.feed(success("api_health", T0 + timedelta(minutes=15)))
    assert [type(a) for a in actions] == [Resolve]
    assert world.open() == []
    assert world.audit == [("INCIDENT_RAISED", 1), ("INCIDENT_RESOLVED", 1)]


def test_success_without_incident_does_nothing() -> None:
    assert World().feed(success("api_health", T0)) == []


def test_failure_inside_dedupe_window_reopens_the_same_incident() -> None:
    world = World(policy=Policy(dedupe_window=timedelta(minutes=30)))
    world.feed(failure("web_health", T0, "web_down"))
    world.feed(success("web_health", T0 + timedelta(minutes=5)))
    actions = world.feed(failure("web_health", T0 + timedelta(minutes=20), "web_down"))
    assert [type(a) for a in actions] == [Reopen]
    assert [i.id for i in world.open()] == [1]
    assert ("INCIDENT_REOPENED", 1) in world.audit
    assert len(world.incidents) == 1


def test_failure_outside_dedupe_window_is_a_new_incident() -> None:
    world = World(policy=Policy(dedupe_window=timedelta(minutes=30)))
    world.feed(failure("web_health", T0, "web_down"))
    world.feed(success("web_health", T0 + timedelta(minutes=5)))
    actions = world.feed(failure("web_health", T0 + timedelta(minutes=36), "web_down"))
    assert [type(a) for a in actions] == [Raise]
    assert [i.id for i in world.open()] == [2]


def test_thresholds_need_consecutive_results() -> None:
    world = World(policy=Policy(failure_threshold=3, success_threshold=2))
    for minute in (0, 5):
        assert world.feed(failure("api_health", T0 + timedelta(minutes=minute))) == []
    world.feed(success("api_health", T0 + timedelta(minutes=10)))  # breaks the streak
    for minute in (15, 20):
        assert world.feed(failure("api_health", T0 + timedelta(minutes=minute))) == []
    assert isinstance(world.feed(failure("api_health", T0 + timedelta(minutes=25)))[0], Raise)

    assert world.feed(success("api_health", T0 + timedelta(minutes=30))) == []
    assert len(world.open()) == 1
    assert [type(a) for a in world.feed(success("api_health", T0 + timedelta(minutes=35)))] == [
        Resolve
    ]


def test_api_outage_suppresses_web_and_flow_incidents_until_it_resolves() -> None:
    world = World()
    world.feed(failure("api_health", T0))
    web = world.feed(failure("web_health", T0, "web_down"))
    flow = world.feed(failure("golden_flows:f3", T0, "golden_flow_failed", "Open paywall"))
    assert isinstance(web[0], Raise) and web[0].suppressed_by == 1
    assert isinstance(flow[0], Raise) and flow[0].suppressed_by == 1

    # The web recovers during the outage; the flow still fails after it.
    world.feed(success("web_health", T0 + timedelta(minutes=5)))
    actions = world.feed(success("api_health", T0 + timedelta(minutes=10)))
    assert [type(a) for a in actions] == [Resolve, Unsuppress]
    assert isinstance(actions[1], Unsuppress) and actions[1].incident_id == 3
    (still_open,) = world.open()
    assert still_open.subject == "golden_flows:f3" and still_open.suppressed_by is None


def test_tenant_incidents_are_not_suppressed_by_the_platform_api() -> None:
    world = World()
    world.feed(failure("api_health", T0))
    tenant_failure = replace(failure("acme-site", T0, "web_down"), tenant_id="acme")
    (action,) = world.feed(tenant_failure)
    assert isinstance(action, Raise) and action.suppressed_by is None


def test_a_flow_failing_at_another_step_is_another_fingerprint() -> None:
    world = World()
    world.feed(failure("golden_flows:f3", T0, "golden_flow_failed", "Open paywall"))
    world.feed(
        failure(
            "golden_flows:f3", T0 + timedelta(minutes=30), "golden_flow_failed", "Open checkout"
        )
    )
    assert len(world.open()) == 2
    world.feed(success("golden_flows:f3", T0 + timedelta(minutes=60)))
    assert world.open() == []


def test_severity_defaults_and_overrides() -> None:
    assert severity_for("api_down", None) == "high"
    assert severity_for("golden_flow_failed", "f1") == "medium"
    assert severity_for("golden_flow_failed", "f3") == "high"
    assert severity_for("golden_flow_failed", "f1", {"golden_flow_failed:f1": "low"}) == "low"
    assert severity_for("web_down", None, {"web_down": "medium"}) == "medium"


SUBJECTS = [
    ("api_health", "api_down"),
    ("web_health", "web_down"),
    ("golden_flows:f3", "golden_flow_failed"),
]


@settings(max_examples=150, deadline=None)
@given(
    events=st.lists(
        st.tuples(st.integers(0, 2), st.booleans(), st.integers(0, 40)), min_size=1, max_size=60
    ),
    failure_threshold=st.integers(1, 3),
    success_threshold=st.integers(1, 3),
)
def test_invariants_over_random_sequences(
    events: list[tuple[int, bool, int]], failure_threshold: int, success_threshold: int
) -> None:
    world = World(policy=Policy(failure_threshold, success_threshold, timedelta(minutes=30)))
    now = T0
    for index, ok, minutes_later in events:
        now += timedelta(minutes=minutes_later)
        subject, incident_type = SUBJECTS[index]
        before = {i.id: i.last_seen_at for i in world.incidents.values()}
        world.feed(success(subject, now) if ok else failure(subject, now, incident_type))

        fingerprints = [i.fingerprint for i in world.open()]
        assert len(fingerprints) == len(set(fingerprints)), "two open incidents, one fingerprint"
        for incident in world.incidents.values():
            if incident.id in before:
                assert incident.last_seen_at >= before[incident.id], "last_seen_at went back"
            if incident.suppressed_by is not None and incident.is_open:
                root = world.incidents[incident.suppressed_by]
                assert root.type == "api_down" and root.is_open, "suppressed by a closed outage"
        raised = {incident_id for event, incident_id in world.audit if event == "INCIDENT_RAISED"}
        assert raised == set(world.incidents), "every incident has its raise audit row"
