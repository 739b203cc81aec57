"""One run reads as four calls: execute -> record -> decide -> notify.

Root first: when a run sees a dependent failure (web_down, a golden flow) and no api_down is
open, the root check (api_health) runs before that run is recorded. An API outage is then open
by the time the dependent incident is raised, so the dependent is linked to it and stays quiet:
one outage, one alert, whichever check the scheduler happened to start first.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine

from runner.checks.base import Check, CheckResult, RunAborted, RunContext
from runner.incidents import CORRELATED_TYPES, Observation, Policy
from runner.models import utcnow
from runner.settings import Settings
from runner.store import (
    OnChange,
    RunOutcome,
    correlation_root_open,
    record_result,
    start_run,
)

log = logging.getLogger("goldwatch.pipeline")
Clock = Callable[[], datetime]
DEPENDENCY = "dependency"  # the trigger of a root check's run made for a dependent failure


def policy_from(settings: Settings) -> Policy:
    return Policy(
        failure_threshold=settings.failure_threshold,
        success_threshold=settings.success_threshold,
        dedupe_window=timedelta(seconds=settings.dedupe_window_seconds),
    )


@dataclass
class Pipeline:
    """Runs checks and records them; `on_change` writes outbox rows, `notify` delivers them."""

    settings: Settings
    engine: Engine
    clock: Clock = utcnow
    on_change: OnChange | None = None
    notify: Callable[[], None] | None = None
    root_check: Check | None = None  # api_health, when configured

    def run(self, check: Check, trigger: str = "manual") -> RunOutcome | None:
        """Execute, record, decide, notify; None when the monitor stopped mid-run."""
        run_id = start_run(self.engine, check.job, trigger, self.clock(), check.tenant_id)
        try:
            result = self._execute(check, run_id)
        except RunAborted:
            log.warning("run %s of %s abandoned: monitor is stopping", run_id, check.job)
            return None
        root_first = self._confirm_root(check, result)
        outcome = record_result(
            self.engine, run_id, result, policy_from(self.settings), self.on_change
        )
        outcome.root_first = root_first
        log.info(
            "executed %s run=%s status=%s duration=%sms%s",
            check.job,
            run_id,
            outcome.run.status,
            outcome.run.duration_ms,
            "".join(f" {c.event}=#{c.incident.id}" for c in outcome.changes),
        )
        if self.notify is not None and outcome.changes:
            self.notify()
        return outcome

    def _confirm_root(self, check: Check, result: CheckResult) -> RunOutcome | None:
        root = self.root_check
        if root is None or check.name == root.name:
            return None
        dependent_failure = any(
            not o.ok and o.type in CORRELATED_TYPES and o.tenant_id is None
            for o in result.observations
        )
        if not dependent_failure or correlation_root_open(self.engine):
            return None
        log.info("%s failed: running %s first, in case the API explains it", check.name, root.name)
        return self.run(root, DEPENDENCY)

    def _execute(self, check: Check, run_id: int) -> CheckResult:
        try:
            return check.execute(RunContext(run_id=run_id, now=self.clock))
        except RunAborted:
            raise
        except Exception as error:  # a check bug must not kill the scheduler, nor hide
            log.exception("check %s crashed", check.name)
            at = self.clock()
            observation = Observation(
                subject=check.name,
                source_check=check.name,
                ok=False,
                at=at,
                type="monitor_degraded",
                fingerprint=f"monitor_degraded:{check.name}",
                message=f"{check.name} check crashed",
                details={"error": f"{type(error).__name__}: {error}"},
            )
            return CheckResult(False, 0, {"error": str(error)}, [observation], finished_at=at)
