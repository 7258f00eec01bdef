"""Lab 07 fixtures: the parsed Terraform project, the policies and the known policy inputs.

Parsing and policy loading happen once per grading run and are shared by the checks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from graders.lab07.policy_cases import PolicyCase, load_cases
from graders.lab07.project import STUDENT_POLICY_DIR, TerraformProject, load_project
from graders.lab07.rego import PolicyFile, RegoEngine, default_engine
from graders.sdk import Submission, SubmissionFileError, fail

GRADER_DIR = Path(__file__).resolve().parent
INSTRUCTOR_POLICIES = GRADER_DIR / "policies"


@pytest.fixture(scope="session")
def project(submission: Submission) -> TerraformProject:
    return load_project(submission)


@pytest.fixture(scope="session")
def rego_engine() -> RegoEngine:
    return default_engine()


@pytest.fixture(scope="session")
def instructor_policies() -> list[PolicyFile]:
    return [
        PolicyFile(f"instructor/{p.name}", p.read_text(encoding="utf-8"))
        for p in sorted(INSTRUCTOR_POLICIES.glob("*.rego"))
    ]


@pytest.fixture(scope="session")
def student_policies(submission: Submission) -> list[PolicyFile]:
    """The student's ``policy/**/*.rego`` (what ``conftest test -p policy`` would load)."""
    files = []
    for path in submission.glob(f"{STUDENT_POLICY_DIR}/**/*.rego", under=STUDENT_POLICY_DIR):
        try:
            files.append(PolicyFile(path, submission.read_text(path)))
        except SubmissionFileError as exc:
            fail(str(exc), exc.location)
    return files


@pytest.fixture(scope="session")
def policy_cases() -> list[PolicyCase]:
    return load_cases()


@pytest.fixture(scope="session")
def plant_profile(submission: Submission) -> dict[str, Any]:
    """config/plant.yaml, or {} when it is missing or broken (another lab grades it)."""
    try:
        data = submission.load_yaml("config/plant.yaml")
    except SubmissionFileError:
        return {}
    return data if isinstance(data, dict) else {}
