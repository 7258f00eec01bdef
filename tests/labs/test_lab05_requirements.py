"""Lab 05 checks that judge meaning, tested both ways: the diff range of the gate job, the shell
semantics of a piped gate, evidence uploads after a failure, guarded files added or deleted, and
security requirements that void their check."""

from __future__ import annotations

from pathlib import Path

import pytest

from graders.engine.labs import load_catalog
from graders.engine.requirements import load_requirements
from graders.lab05 import gate, scenarios, shell_semantics, workflow
from graders.lab05.severity import require_severe
from graders.lab05.workflow import Job, Step, Workflow
from graders.sdk import Checklist, Submission

REFERENCE = Path(__file__).resolve().parents[2] / "reference_solution"


def _workflow(raw: dict) -> Workflow:
    jobs = {
        name: Job(name, body, [Step(i, s) for i, s in enumerate(body.get("steps", []))])
        for name, body in raw.get("jobs", {}).items()
    }
    return Workflow(".github/workflows/main.yml", raw, jobs)


# -- the diff range ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "script",
    [
        'git diff --name-status --find-renames "${BASE_SHA}...HEAD" > changed.txt',
        'git diff --name-status -M \\\n  "origin/${BASE_REF}...HEAD" | python scripts/check_pr_docs.py',
        "git diff --name-status origin/main...HEAD",
        "git diff --name-status ${{ github.event.pull_request.base.sha }} HEAD",
        'git diff --name-status "$(git merge-base HEAD origin/main)" HEAD',
    ],
)
def test_diff_against_the_base_is_accepted(script: str) -> None:
    assert shell_semantics.diff_range_problem(script) is None


@pytest.mark.parametrize(
    ("script", "says"),
    [
        ("git diff --name-status HEAD~1 > changed.txt", "last commit"),
        ("git diff --name-status HEAD^ HEAD", "last commit"),
        ("git diff --name-status > changed.txt", "working tree"),
        ("git diff --name-status v1.0 -- src/", "base"),
    ],
)
def test_diff_that_misses_the_pull_request_is_refused(script: str, says: str) -> None:
    problem = shell_semantics.diff_range_problem(script)
    assert problem is not None and says in problem


# -- the shell a piped gate runs in ------------------------------------------------------------------
GATE = "python scripts/check_pr_docs.py --changed-files changed.txt | tee reports/gate.txt"


@pytest.mark.parametrize(
    ("workflow_defaults", "step", "fails_open"),
    [
        ({}, {"run": GATE}, True),  # bash -e {0}: tee's status wins
        ({"run": {"shell": "bash"}}, {"run": GATE}, False),  # bash -eo pipefail
        ({}, {"run": GATE, "shell": "bash"}, False),
        ({}, {"run": GATE, "shell": "sh"}, True),
        ({}, {"run": GATE, "shell": "bash -e {0}"}, True),
        ({}, {"run": "set -euo pipefail\n" + GATE}, False),
        ({}, {"run": "python scripts/check_pr_docs.py changed.txt"}, False),  # not piped
        ({"run": {"shell": "bash"}}, {"run": "python scripts/check_pr_docs.py changed.txt || true"}, True),
    ],
)
def test_piped_gate_needs_pipefail(workflow_defaults: dict, step: dict, fails_open: bool) -> None:
    raw = {"defaults": workflow_defaults} if workflow_defaults else {}
    raw["jobs"] = {"gate": {"steps": [step]}}
    pipeline = _workflow(raw)
    job = pipeline.jobs["gate"]
    problem = shell_semantics.gate_step_problem(pipeline, job, job.steps[0])
    assert (problem is not None) == fails_open, problem


def test_reference_gate_job_passes_both_semantic_requirements() -> None:
    pipeline = workflow.load(Submission(REFERENCE), workflow.MAIN_WORKFLOW)
    job = next(j for j in pipeline.jobs.values() if "check_pr_docs.py" in j.run_text)
    assert shell_semantics.diff_range_problem(job.run_text) is None
    assert [s for s in job.steps if shell_semantics.gate_step_problem(pipeline, job, s)] == []


# -- evidence after a failure ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("condition", "runs"),
    [
        ("always()", True),
        ("${{ !cancelled() }}", True),
        ("success() || failure()", True),
        ("failure()", False),  # a passing run would leave no evidence
        (None, False),
        ("github.ref == 'refs/heads/main'", False),
    ],
)
def test_upload_after_failure(condition: str | None, runs: bool) -> None:
    raw = {"uses": "actions/upload-artifact@v4"} | ({"if": condition} if condition else {})
    assert scenarios.step_runs_after_failure(Step(0, raw)) is runs


# -- the gate's cases ----------------------------------------------------------------------------------
def test_blocking_cases_add_and_delete_guarded_code() -> None:
    statuses = {line.split("\t", 1)[0] for case in gate.BLOCKS for line in case.changes if "\t" in line}
    assert {"A", "D", "M"} <= statuses
    deleted = next(c for c in gate.BLOCKS if c.id == "model-code-deleted")
    assert deleted.expect == gate.DOCS_MISSING and deleted.must_name == ("src/copilot/vision/model.py",)


# -- severe requirements -------------------------------------------------------------------------------
def test_unmet_severe_requirement_voids_the_check() -> None:
    checklist = Checklist()
    checklist.require(True, "fine")
    checklist.require(True, "fine too")
    assert require_severe(checklist, False, "deploy does not need the scan", "main.yml:10") is False
    assert checklist.fraction == 0.0
    assert ("deploy does not need the scan", "main.yml:10") in checklist.problems


def test_met_severe_requirement_costs_nothing() -> None:
    checklist = Checklist()
    checklist.require(False, "minor")
    checklist.require(True, "fine")
    assert require_severe(checklist, True, "unused") is True
    assert checklist.fraction == 0.5


# -- the requirement map -------------------------------------------------------------------------------
def test_requirement_map_names_the_new_semantic_requirements() -> None:
    lab = {lab.id: lab for lab in load_catalog()}["lab05"]
    requirements = {r.id: r for r in load_requirements(lab) or []}
    for rid in ("gate-job-fails-on-gate", "evidence-survives-failures", "gate-job-on-pull-request-changes"):
        assert rid in requirements
    assert requirements["deploy-needs-every-gate"].consequence == "security"
