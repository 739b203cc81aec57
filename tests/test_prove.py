"""`goldwatch prove --fast`: the acceptance story run for real (demo target, SMTP sink,
`goldwatch serve` with its scheduler, a fault on and off, Chromium), and the report it writes:
every section holds what the run captured, and the screenshots are real PNGs."""

from __future__ import annotations

import io
import json
import os
import re
import struct
import subprocess
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import pytest

from api.prove import processes
from api.prove.context import ProveOptions, Story
from api.prove.evidence import wait_for
from api.prove.record import Proof
from api.prove.steps import Step, StepFailed
from api.prove.story import run_steps
from tests.conftest import CommandResult, run_goldwatch

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Proved:
    result: CommandResult
    folder: Path

    @property
    def text(self) -> str:
        return (self.folder / "proof.md").read_text()

    def section(self, title: str) -> str:
        """The body of the section whose heading ends with `title`."""
        for part in self.text.split("\n## ")[1:]:
            heading, _, body = part.partition("\n")
            if heading.endswith(title):
                return body
        raise AssertionError(f"no section {title!r}")

    def json_blocks(self, title: str) -> list[str]:
        return re.findall(r"```json\n(.*?)\n```", self.section(title), re.DOTALL)


@pytest.fixture(scope="module")
def proved(tmp_path_factory: pytest.TempPathFactory) -> Proved:
    output = tmp_path_factory.mktemp("reports")
    result = run_goldwatch("prove", "--fast", "--output", str(output), timeout=400)
    (folder,) = output.glob("proof-*")
    return Proved(result, folder)


@pytest.mark.browser
@pytest.mark.slow
def test_prove_fast_passes_and_prints_where_its_report_is(proved: Proved) -> None:
    assert proved.result.code == 0, proved.result.stderr[-4000:]
    assert proved.result.stdout.strip() == str(proved.folder / "proof.md")
    assert proved.folder.name.startswith("proof-20")
    assert "prove: [1/24] Start the SMTP sink ..." in proved.result.stderr
    assert "prove: [24/24] ok" in proved.result.stderr
    assert proved.text.startswith("# Goldwatch proof\n\nResult: **PASS**")


@pytest.mark.browser
@pytest.mark.slow
def test_the_scheduler_and_http_sections_hold_captured_output(proved: Proved) -> None:
    log = proved.section("Scheduler log: jobs scheduled and executed")
    assert re.search(r"goldwatch\.scheduler: leader: holding the scheduler lease as ", log)
    for job, every in (("api_health", 5), ("web_health", 5), ("golden_flows", 10)):
        assert f"goldwatch.scheduler: scheduled check_{job} every {every}s" in log
    raised = re.search(r"executed check_golden_flows run=\d+ status=failed .*raised=#(\d+)", log)
    resolved = re.search(
        r"executed check_golden_flows run=\d+ status=success .*resolved=#(\d+)", log
    )
    assert raised and resolved and raised.group(1) == resolved.group(1)
    assert (proved.folder / "monitor.log").read_text().count("goldwatch.pipeline: executed") > 5

    http = proved.section("Status API as admin, staff and anonymous: raw HTTP")
    assert http.count("GET /api/monitoring/status HTTP/1.1") == 3
    assert "HTTP/1.1 200 OK" in http and '{"overallStatus":"green","lastChecks":{' in http
    assert "HTTP/1.1 403 Forbidden" in http and "HTTP/1.1 401 Unauthorized" in http
    assert "(redacted, 46 characters)" in http  # the bearer tokens are not in the report


@pytest.mark.browser
@pytest.mark.slow
def test_the_incident_lifecycle_sections_hold_rows_and_emails(proved: Proved) -> None:
    assert '"f3":true' in proved.section("Fault f3 switched on")
    assert '"f3":false' in proved.section("Fault f3 switched off")
    (raised,) = map(json.loads, proved.json_blocks("Incident raised"))
    (resolved,) = map(json.loads, proved.json_blocks("Incident resolved"))
    assert raised["id"] == resolved["id"]
    assert (raised["type"], raised["subject"], raised["severity"]) == (
        "golden_flow_failed",
        "golden_flows:f3",
        "high",
    )
    assert raised["resolved_at"] is None and resolved["resolved_at"] is not None
    assert raised["details"]["failing_step"] == "Open paywall"

    for event, section in (
        ("raised", "Alert email received"),
        ("resolved", "Resolved email received"),
    ):
        shown = proved.section(section)
        assert f"X-Goldwatch-Event: {event}" in shown
        assert f"X-Goldwatch-Incident: {raised['id']}" in shown
        assert "RCPT TO:<oncall@pagecraft.test>" in shown
        message = message_from_bytes(
            (proved.folder / f"email-{event}.eml").read_bytes(), policy=default_policy
        )
        assert str(message["Subject"]) in shown
    assert "Subject: [Goldwatch][HIGH] F3 Preview" in proved.section("Alert email received")
    assert "Subject: [Goldwatch][RESOLVED] F3 Preview" in proved.section("Resolved email received")

    audit = proved.json_blocks("Audit trail of the incident")[0].splitlines()
    events = [json.loads(line)["event"] for line in audit]
    assert events == ["INCIDENT_RAISED", "ALERT_SENT", "INCIDENT_RESOLVED", "ALERT_SENT"]


@pytest.mark.browser
@pytest.mark.slow
def test_the_report_links_real_screenshots(proved: Proved) -> None:
    linked = re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", proved.text)
    assert len(linked) >= 3
    for name in linked:
        data = (proved.folder / name).read_bytes()
        assert data.startswith(PNG_SIGNATURE), name
        width, height = struct.unpack(">II", data[16:24])
        assert width >= 1000 and height >= 500, (name, width, height)
        assert len(data) > 20_000, name  # a rendered page, not a blank image
    assert "The indicator says: Incident #" in proved.section("Dashboard during the fault: red")
    assert "All is well" in proved.section("Dashboard after recovery: green")
    assert "resolved high F3 Preview" in proved.section("Incident list with the resolved incident")


@pytest.mark.browser
@pytest.mark.slow
def test_everything_is_stopped_and_the_checkout_is_described(proved: Proved) -> None:
    stopped = proved.section("Stop everything the proof started")
    assert "no process carrying PROVE_RUN_TAG=" in stopped
    assert "scheduler stopped; lease released" in stopped
    for script in ("./verify.sh --lint", "./smoke.sh"):
        assert "skipped with --fast" in proved.section(script)
    git = proved.section("Git checkout: status and changed files")
    assert "`git status --short`:" in git or "not inside a git checkout" in git


def test_without_chromium_it_says_so_in_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "no-chromium"
    result = run_goldwatch(
        "prove", "--fast", "--output", str(tmp_path), env={"GOLDWATCH_CHROMIUM_PATH": str(missing)}
    )
    assert result.code == 1
    assert result.stderr.strip() == (
        f"goldwatch prove: GOLDWATCH_CHROMIUM_PATH={missing} is not an executable file"
    )
    assert list(tmp_path.iterdir()) == []


def test_fast_and_full_exclude_each_other(tmp_path: Path) -> None:
    result = run_goldwatch("prove", "--fast", "--full", "--output", str(tmp_path))
    assert result.code == 2
    assert "--fast and --full exclude each other" in result.stderr


def test_a_step_that_does_not_happen_is_marked_and_the_rest_of_the_story_not_reached(
    tmp_path: Path,
) -> None:
    ran: list[str] = []

    def happens(name: str) -> Callable[[Story, Step], None]:
        def action(story: Story, step: Step) -> None:
            ran.append(name)
            step.code(f"captured by {name}")

        return action

    def does_not_happen(story: Story, step: Step) -> None:
        ran.append("raise")
        raise StepFailed("no open incident for flow f3 within 120 s")

    progress = io.StringIO()
    proof = Proof(tmp_path, "goldwatch prove", datetime.now(UTC), progress=progress)
    actions = [happens("start"), does_not_happen, happens("resolve"), happens("stop")]
    proof.plan(["Start", "Incident raised", "Incident resolved", "Stop everything"])
    with ExitStack() as resources:
        story = Story(ProveOptions(tmp_path), proof, tmp_path, "tag", Path("chromium"), resources)
        run_steps(story, list(zip(proof.steps, actions, strict=True)), always=1)

    assert ran == ["start", "raise", "stop"]
    report = proof.path.read_text()
    assert report.startswith(
        '# Goldwatch proof\n\nResult: **FAIL**: step 2 "Incident raised": '
        "no open incident for flow f3 within 120 s"
    )
    assert "| 2 | [Incident raised](#step-2) | ❌ FAILED |" in report
    assert "| 3 | [Incident resolved](#step-3) | ⏸️ not reached |" in report
    assert "captured by stop" in report
    assert "prove: [2/4] FAILED (0.0 s): no open incident for flow f3" in progress.getvalue()


def test_what_a_proof_started_is_found_by_its_tag_until_it_stops() -> None:
    tag = "test-" + str(os.getpid())
    env = {**os.environ, **processes.tag_environment(tag)}
    with subprocess.Popen(["sleep", "30"], env=env) as child:
        try:
            # Popen returns once the child has exec'd, but /proc shows the new program's
            # environment a moment later (a vfork'd parent is released before it is set up).
            found = wait_for(lambda: processes.tagged(tag) or None, timeout=5, every=0.02)
            assert [p.pid for p in found or []] == [child.pid]
            assert "sleep 30" in str(processes.tagged(tag)[0])
        finally:
            processes.kill(processes.tagged(tag))
            child.wait(5)
    assert processes.wait_until_gone(tag, timeout=2) == []
