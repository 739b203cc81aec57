"""Pure incident decisions: (incidents, one run's observations, streaks, policy) -> actions.

No I/O: the store loads what is needed, calls `decide`, and applies the actions in the same
transaction. Tests feed results one at a time and check the state after each.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

SEVERITIES = ("low", "medium", "high")
CORRELATION_ROOT = "api_down"
# Incident types that an API outage explains; they are linked to it rather than alerted alone.
CORRELATED_TYPES = frozenset({"web_down", "golden_flow_failed"})
DEFAULT_SEVERITIES: Mapping[str, str] = {
    "api_down": "high",
    "web_down": "high",
    "golden_flow_failed": "medium",
    "golden_flow_failed:f3": "high",
    "golden_flow_failed:f4": "high",
    "monitor_degraded": "medium",
    "http_check_failed": "medium",
}


@dataclass(frozen=True)
class Observation:
    """One subject's outcome in one run: `api_health`, `golden_flows:f3`, an extra check..."""

    subject: str
    source_check: str
    ok: bool
    at: datetime
    type: str = ""
    fingerprint: str = ""
    message: str = ""
    severity: str = "medium"
    details: Mapping[str, Any] = field(default_factory=dict)
    tenant_id: str | None = None


@dataclass(frozen=True)
class IncidentState:
    """What the decisions need to know of an incident (open, or resolved inside the window)."""

    id: int
    fingerprint: str
    subject: str
    type: str
    tenant_id: str | None
    first_seen_at: datetime
    last_seen_at: datetime
    resolved_at: datetime | None = None
    suppressed_by: int | None = None
    occurrences: int = 1

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


@dataclass(frozen=True)
class Streak:
    failures: int = 0
    successes: int = 0

    def after(self, ok: bool) -> Streak:
        return Streak(0, self.successes + 1) if ok else Streak(self.failures + 1, 0)


@dataclass(frozen=True)
class Policy:
    failure_threshold: int = 1
    success_threshold: int = 1
    dedupe_window: timedelta = timedelta(seconds=1800)


# Actions ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Raise:
    observation: Observation
    suppressed_by: int | None


@dataclass(frozen=True)
class Update:
    incident_id: int
    observation: Observation


@dataclass(frozen=True)
class Reopen:
    incident_id: int
    observation: Observation
    suppressed_by: int | None


@dataclass(frozen=True)
class Resolve:
    incident_id: int
    at: datetime


@dataclass(frozen=True)
class Unsuppress:
    incident_id: int


@dataclass(frozen=True)
class SetStreak:
    subject: str
    streak: Streak


Action = Raise | Update | Reopen | Resolve | Unsuppress | SetStreak


def severity_for(
    incident_type: str, flow_id: str | None, overrides: Mapping[str, str] | None = None
) -> str:
    """Severity by `type:flow`, then `type`; overrides first, DESIGN.md defaults second."""
    keys = [f"{incident_type}:{flow_id}"] if flow_id else []
    keys.append(incident_type)
    for table in (overrides or {}, DEFAULT_SEVERITIES):
        for key in keys:
            if key in table:
                return table[key]
    return "medium"


def _correlation_root(incidents: Iterable[IncidentState], observation: Observation) -> int | None:
    if observation.type not in CORRELATED_TYPES or observation.tenant_id is not None:
        return None
    roots = [
        i for i in incidents if i.is_open and i.type == CORRELATION_ROOT and i.tenant_id is None
    ]
    return min((i.id for i in roots), default=None)


def decide(
    observations: Sequence[Observation],
    incidents: Sequence[IncidentState],
    streaks: Mapping[str, Streak],
    policy: Policy,
) -> list[Action]:
    """The actions one run's observations call for.

    `incidents` holds every open incident plus, per fingerprint, the latest one resolved
    inside the de-dup window (what a failure may reopen).
    """
    actions: list[Action] = []
    open_by_fingerprint = {i.fingerprint: i for i in incidents if i.is_open}
    recently_resolved: dict[str, IncidentState] = {}
    for incident in incidents:
        if incident.resolved_at is None:
            continue
        latest = recently_resolved.get(incident.fingerprint)
        if latest is None or incident.resolved_at > (latest.resolved_at or incident.resolved_at):
            recently_resolved[incident.fingerprint] = incident
    known = list(incidents)

    for observation in observations:
        streak = streaks.get(observation.subject, Streak()).after(observation.ok)
        actions.append(SetStreak(observation.subject, streak))
        if observation.ok:
            if streak.successes >= policy.success_threshold:
                actions.extend(_resolutions(known, observation))
            continue

        current = open_by_fingerprint.get(observation.fingerprint)
        if current is not None:
            actions.append(Update(current.id, observation))
            continue
        if streak.failures < policy.failure_threshold:
            continue
        root = _correlation_root(known, observation)
        previous = recently_resolved.get(observation.fingerprint)
        if (
            previous is not None
            and previous.resolved_at is not None
            and observation.at - previous.resolved_at <= policy.dedupe_window
        ):
            actions.append(Reopen(previous.id, observation, root))
            reopened = replace(previous, resolved_at=None, suppressed_by=root)
            known = [reopened if i.id == previous.id else i for i in known]
            open_by_fingerprint[observation.fingerprint] = reopened
        else:
            actions.append(Raise(observation, root))
    return actions


def _resolutions(known: Sequence[IncidentState], observation: Observation) -> list[Action]:
    actions: list[Action] = []
    for incident in known:
        if not incident.is_open or incident.subject != observation.subject:
            continue
        actions.append(Resolve(incident.id, observation.at))
        if incident.type == CORRELATION_ROOT:
            # The outage that explained them is over: what still fails must now speak for itself.
            actions.extend(
                Unsuppress(linked.id)
                for linked in known
                if linked.is_open and linked.suppressed_by == incident.id
            )
    return actions
