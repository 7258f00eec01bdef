"""Shared fixtures for the lab grader tests (tests/labs/test_labNN*.py).

Grading the reference solution is the expensive part, so each lab's reference grade is computed
once per test session and shared by every test that needs it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from graders.engine import mutants, variants
from graders.engine.labs import Lab, load_catalog
from graders.engine.model import GradeReport, LabResult
from graders.engine.session import grade_labs

KIT_ROOT = Path(__file__).resolve().parents[2]
REFERENCE = KIT_ROOT / "reference_solution"


@pytest.fixture(scope="session")
def reference_root() -> Path:
    return REFERENCE


@pytest.fixture(scope="session")
def lab_catalog() -> dict[str, Lab]:
    return {lab.id: lab for lab in load_catalog()}


@pytest.fixture(scope="session")
def grade_lab(lab_catalog: dict[str, Lab]) -> Callable[[Path, str], LabResult]:
    """Grade one lab of the submission at ``root`` (in this process, like `capstone grade --lab`)."""

    def _grade(root: Path, lab_id: str) -> LabResult:
        report: GradeReport = grade_labs(root, [lab_catalog[lab_id]])
        return report.lab(lab_id)

    return _grade


@pytest.fixture(scope="session")
def reference_grades() -> dict[str, LabResult]:
    """Cache of reference-solution grades per lab id, filled by `reference_grade`."""
    return {}


@pytest.fixture(scope="session")
def reference_grade(
    reference_grades: dict[str, LabResult], lab_catalog: dict[str, Lab]
) -> Callable[[str], LabResult]:
    def _get(lab_id: str) -> LabResult:
        if lab_id not in reference_grades:
            report = grade_labs(REFERENCE, [lab_catalog[lab_id]], cacheable=True)
            reference_grades[lab_id] = report.lab(lab_id)
        return reference_grades[lab_id]

    return _get


def mutant_params(lab_id: str) -> list[pytest.param]:
    """One pytest param per mutant of a lab (ids are the mutant ids), for parametrizing tests."""
    lab = {lab.id: lab for lab in load_catalog()}[lab_id]
    return [pytest.param(m, id=m.id) for m in mutants.load_mutants(lab)]


def variant_params(lab_id: str) -> list[pytest.param]:
    """One pytest param per variant of a lab (ids are the variant ids)."""
    lab = {lab.id: lab for lab in load_catalog()}[lab_id]
    return [pytest.param(v, id=v.id) for v in variants.load_variants(lab)]


def failure_report(result: LabResult) -> str:
    """The non-passing checks of a lab result, for assertion messages."""
    return "\n".join(f"{c.id} [{c.status.value}] {c.score}/{c.max_score}: {c.feedback}" for c in result.checks
                     if c.status.value != "passed")
