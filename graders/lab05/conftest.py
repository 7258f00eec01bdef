"""Lab 05 fixtures: the parsed pipeline workflow, its recognised jobs, and the student's gate runner.

Parsing and the gate's subprocess runs happen once per grading run here; a problem building a
fixture (no main.yml, a workflow without jobs, no gate script) fails every check that needs it with
the same feedback.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from graders.lab05 import workflow
from graders.lab05.gate import GateRunner
from graders.lab05.workflow import Job, Workflow
from graders.sdk import Submission, fail


@pytest.fixture(scope="session")
def pipeline(submission: Submission) -> Workflow:
    """The lab's deliverable, .github/workflows/main.yml."""
    if not submission.is_file(workflow.MAIN_WORKFLOW):
        fail(f"{workflow.MAIN_WORKFLOW} is missing: the lab's pipeline lives there", workflow.MAIN_WORKFLOW)
    return workflow.load(submission, workflow.MAIN_WORKFLOW)


def _single(pipeline: Workflow, predicate: object, what: str, how: str) -> Job:
    jobs = pipeline.jobs_where(predicate)
    if not jobs:
        fail(f"{pipeline.path} has no {what} job: {how}", pipeline.path)
    return jobs[0]


@pytest.fixture(scope="session")
def test_job(pipeline: Workflow) -> Job:
    return _single(pipeline, workflow.is_test, "test", "add a job whose steps run pytest")


@pytest.fixture(scope="session")
def deploy_job(pipeline: Workflow) -> Job:
    return _single(
        pipeline, workflow.is_deploy, "deploy", "add a job that deploys to Cloud Run (gcloud run deploy) in staging"
    )


@pytest.fixture(scope="session")
def gate(submission: Submission, student_python: str, tmp_path_factory: pytest.TempPathFactory) -> GateRunner:
    workdir: Path = tmp_path_factory.mktemp("lab05-gate")
    return GateRunner(submission, student_python, workdir)
