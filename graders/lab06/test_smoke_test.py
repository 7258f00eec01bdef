"""The lab assignment, part 2: scripts/smoke_test.py passes against a healthy Copilot and fails on broken ones.

A smoke test that always exits 0 passes the healthy run and catches nothing, and one that always
fails never passes the healthy run: both score 0 here. Credit comes only from telling them apart.
"""

from __future__ import annotations

from graders.lab06 import sections, smoke
from graders.lab06.plant_data import EVAL_SET, PlantData
from graders.sdk import Checklist, Submission, check, fail

CONTRACT = (
    f"The grader runs `python {smoke.SCRIPT}` in your repository with COPILOT_BASE_URL (the Copilot to test), "
    "COPILOT_TOKEN (a valid bearer token for your plant) and COPILOT_PLANT set, and expects exit code 0 from a "
    f"healthy Copilot. For the known-answer query, ask a question of {EVAL_SET}: the grader's Copilot answers those "
    "with their answer_keywords, citing their relevant_doc_ids."
)
CAUGHT_WEIGHT = 3.0
NAMED_WEIGHT = 1.0


def _printed(run: smoke.SmokeRun, lines: int = 8) -> str:
    tail = run.result.tail(lines).strip()
    return "\n".join("    " + line for line in tail.splitlines()) if tail else "    (no output)"


def _why_not_caught(run: smoke.SmokeRun) -> str:
    if run.result.timed_out:
        return f"it did not finish within {smoke.RUN_TIMEOUT_S:g} s (set a timeout on every request)"
    asked = run.called(run.scenario.endpoint)
    if not asked:
        return f"it never requested {run.scenario.endpoint}"
    statuses = sorted({r.status for r in asked})
    return f"it requested {run.scenario.endpoint} (answered {', '.join(map(str, statuses))}) but still exited 0"


@check(
    20,
    "The smoke test passes against a healthy Copilot and fails, naming the step, on each broken one",
    section=sections.LAB,
    assignment=True,
    timeout=180,
)
def test_smoke_test_against_copilot(
    submission: Submission, student_python: str, plant_data: PlantData, checklist: Checklist
) -> None:
    if not submission.is_file(smoke.SCRIPT):
        fail(f"{smoke.SCRIPT} is missing: write the smoke test (see the lab's deliverables)", smoke.SCRIPT)
    healthy = smoke.run_scenario(submission, student_python, plant_data, smoke.SCENARIOS[0])
    if not healthy.exit_ok:
        status = "did not finish in time" if healthy.result.timed_out else f"exited {healthy.result.returncode}"
        notes = f" (the grader could not read: {'; '.join(plant_data.problems)})" if plant_data.problems else ""
        fail(
            f"against the healthy Copilot your smoke test {status}, so it would block every good release; it "
            f"printed:\n{_printed(healthy)}\n{CONTRACT}{notes}",
            smoke.SCRIPT,
        )
    for run in smoke.run_all(submission, student_python, plant_data, smoke.SCENARIOS[1:]):
        scenario = run.scenario
        if run.exit_ok or run.result.timed_out:
            checklist.require(
                False,
                f"against {scenario.description}, the smoke test must fail (non-zero exit); {_why_not_caught(run)}: "
                f"{scenario.hint}",
                smoke.SCRIPT,
                weight=(CAUGHT_WEIGHT + NAMED_WEIGHT) * scenario.weight,
            )
            continue
        checklist.require(True, "", weight=CAUGHT_WEIGHT * scenario.weight)
        checklist.require(
            run.names_the_step(),
            f"against {scenario.description}, the smoke test exited {run.result.returncode} but did not say which "
            f"step failed (print e.g. 'FAIL {scenario.step_words[0]}: ...'); it printed:\n{_printed(run, 4)}",
            smoke.SCRIPT,
            weight=NAMED_WEIGHT * scenario.weight,
        )
