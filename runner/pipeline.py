"""One run reads as four calls: execute -> record -> decide -> notify."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine

from runner.checks.base import Check, CheckResult, RunAborted, RunContext
from runner.incidents import Observation, Policy
from runner.models import utcnow
from runner.settings import Settings
from runner.store import OnChange, RunOutcome, record_result, start_run

log = logging.getLogger("goldwatch.pipeline")
Clock = Callable[[], datetime]


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

    def run(self, check: Check, trigger: str = "manual") -> RunOutcome | None:
        """Execute, record, decide, notify; None when the monitor stopped mid-run."""
        run_id = start_run(self.engine, check.job, trigger, self.clock(), check.tenant_id)
        try:
            result = self._execute(check, run_id)
        except RunAborted:
            log.warning("run %s of %s abandoned: monitor is stopping", run_id, check.job)
            return None
        outcome = record_result(
            self.engine, run_id, result, policy_from(self.settings), self.on_change
        )
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
