"""Shared fixtures for the lab grader tests (tests/labs/test_labNN*.py).

Grading is the expensive part, so the reference's grade of each lab and each mutant's grade go
through the test run's grade cache (``grade_cache`` in tests/conftest.py): graded once per run, read
by every test that needs them and by the ``capstone verify`` test after the suite.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from graders.engine import mutants, variants
from graders.engine.cache import GradeCache, cached_grade
from graders.engine.labs import Lab, load_catalog
from graders.engine.model import GradeReport, LabResult
from graders.engine.session import grade_labs
from graders.sdk import safe_yaml

KIT_ROOT = Path(__file__).resolve().parents[2]
REFERENCE = KIT_ROOT / "reference_solution"


@pytest.fixture(scope="session", autouse=True)
def replay_lab01_runs() -> Iterator[None]:
    """Lab01's MLflow runs are replayed between gradings whose program inputs are equal, and its warm
    interpreter is started once per test run (``lab01_replay``)."""
    from graders.lab01 import scenario

    from .lab01_replay import SharedWarmPython, replaying

    shared = SharedWarmPython()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(scenario, "play", replaying(scenario.play))
        patch.setattr(scenario, "WarmPython", shared)
        yield
    shared.close()


@pytest.fixture(scope="session", autouse=True)
def share_lab03_api() -> Iterator[None]:
    """lab03's gradings of reference-derived trees share one running API per app (``lab03_shared_api``)."""
    import graders.lab03.conftest as lab03_fixtures

    from .lab03_shared_api import SharedCopilot

    shared = SharedCopilot(lab03_fixtures.start_copilot)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(lab03_fixtures, "start_copilot", shared)
        yield
    shared.close()


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
    reference_grades: dict[str, LabResult], lab_catalog: dict[str, Lab], grade_cache: GradeCache
) -> Callable[[str], LabResult]:
    def _get(lab_id: str) -> LabResult:
        if lab_id not in reference_grades:
            report = cached_grade(grade_cache, REFERENCE, [lab_catalog[lab_id]])
            reference_grades[lab_id] = report.lab(lab_id)
        return reference_grades[lab_id]

    return _get


@pytest.fixture(scope="session")
def graded_mutant(lab_catalog: dict[str, Lab], grade_cache: GradeCache) -> Callable[..., LabResult]:
    """A lab graded on the reference with one of its mutants applied (``graded_mutant("lab04", id)``),
    through the grade cache: the contract suite grades each mutant once, on its scope (the checks of its
    requirement and must_fail, as ``capstone verify`` does), and feedback tests read that grading.
    ``whole=True`` grades every check of the lab, for a test of what the mutant leaves passing."""
    known: dict[str, dict[str, mutants.Mutant]] = {}

    def _grade(lab_id: str, mutant_id: str, whole: bool = False) -> LabResult:
        lab = lab_catalog[lab_id]
        if lab_id not in known:
            known[lab_id] = {m.id: m for m in mutants.load_mutants(lab)}
        mutant = known[lab_id][mutant_id]
        if whole:
            mutant = dataclasses.replace(mutant, scope=())
        return mutants.grade_change(mutant, REFERENCE, lab, cache=grade_cache)

    return _grade


def lab_setting(lab: Lab, name: str, default: object) -> object:
    """A per-lab number of lab.yaml (``min_mutants`` ...), with the schema's default."""
    data = safe_yaml.load((lab.directory / "lab.yaml").read_text(encoding="utf-8"), str(lab.directory / "lab.yaml"))
    return data.get(name, default) if isinstance(data, dict) else default


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
