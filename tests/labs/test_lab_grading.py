"""What every lab grader must do when it grades, derived from the lab catalogue (a new lab is tested
automatically): the reference scores full marks, a fresh starter fails the assignment, and every
mutant of ``mutants.yaml`` is caught, losing points on a check of the requirement it names
(``requirements.yaml``; a security or data-loss mistake at least 5 of 100 points).

Every grading goes through the test run's grade cache: each mutant is graded once per run, the
lab-specific feedback tests (``test_labNN.py``) and the ``capstone verify`` test read it again.
Grading a mutant starts the lab's real tools (5-50 s), so those tests are ``slow``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from graders.engine import mutants
from graders.engine import requirements as reqs
from graders.engine.cache import GradeCache, cached_grade
from graders.engine.labs import Lab, load_catalog
from graders.engine.model import GradeReport, LabResult, Status
from graders.instructor import build, render
from graders.instructor.verify import STARTER_LIMIT, assignment_checks

from .conftest import failure_report

CATALOG = load_catalog()
INSTALLED = [lab for lab in CATALOG if lab.grader_dir() is not None]


def _mutant_params() -> Iterator[object]:
    for lab in INSTALLED:
        try:
            found = mutants.load_mutants(lab)
        except mutants.MutantError as exc:  # test_lab_contracts.py fails on it; the other labs still run
            yield pytest.param(lab, None, id=f"{lab.id}-invalid-mutants", marks=[pytest.mark.skip(reason=str(exc))])
            continue
        for mutant in found:
            yield pytest.param(lab, mutant, id=f"{lab.id}-{mutant.id}", marks=[pytest.mark.slow])


MUTANTS = list(_mutant_params())


def _skip_without_tools(result: LabResult) -> None:
    """Where a lab's real tools are not installed its checks skip; CI installs them (scripts/system-deps.sh)."""
    missing = sorted({c.missing_tool for c in result.checks if c.status is Status.SKIPPED and c.missing_tool})
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (scripts/system-deps.sh installs them)")


@pytest.mark.parametrize("lab", [pytest.param(lab, id=lab.id) for lab in INSTALLED])
def test_reference_scores_full_marks(lab: Lab, reference_grade: Callable[[str], LabResult]) -> None:
    result = reference_grade(lab.id)
    _skip_without_tools(result)
    assert result.checks, f"{lab.id}: no check ran: {result.notes}"
    assert result.score == result.max_score == lab.points, failure_report(result)


@pytest.mark.parametrize(("lab", "mutant"), MUTANTS)
def test_mutant_is_caught(
    lab: Lab,
    mutant: mutants.Mutant,
    reference_grade: Callable[[str], LabResult],
    graded_mutant: Callable[[str, str], LabResult],
) -> None:
    _skip_without_tools(reference_grade(lab.id))
    result = graded_mutant(lab.id, mutant.id)
    outcome = mutants.judge(mutant, result, reference_grade(lab.id))
    assert outcome.caught, f"{lab.id}/{mutant.id}: {outcome.message} (score {outcome.score})\n{failure_report(result)}"


@pytest.mark.parametrize(("lab", "mutant"), MUTANTS)
def test_mutant_loses_points_on_its_requirement(
    lab: Lab,
    mutant: mutants.Mutant,
    reference_grade: Callable[[str], LabResult],
    graded_mutant: Callable[[str, str], LabResult],
) -> None:
    """Rules 3 and 4 of the requirement map (rules 1, 2 and 5 are in test_lab_contracts.py)."""
    loaded = reqs.load_requirements(lab)
    if loaded is None or mutant.requirement not in {r.id for r in loaded}:
        pytest.fail(f"{lab.id}/{mutant.id}: names no requirement of graders/{lab.id}/{reqs.FILE_NAME}")
    baseline = reference_grade(lab.id)
    _skip_without_tools(baseline)
    lost = reqs.points_lost(graded_mutant(lab.id, mutant.id), baseline)
    problems = reqs.graded_problems(
        reqs.MutantRef(mutant.id, mutant.requirement), {r.id: r for r in loaded}, lost, baseline.max_score
    )
    assert not problems, "\n".join(problems)


# -- the starter, rendered as a student gets it -----------------------------------------------------
@pytest.fixture(scope="module")
def starter_report(tmp_path_factory: pytest.TempPathFactory, grade_cache: GradeCache) -> GradeReport:
    """Every lab graded on a fresh starter, rendered the way ``capstone verify`` renders it (same cache entry)."""
    with render.staged_source(build.KIT_ROOT, build.build(build.KIT_ROOT)) as source:
        root = render.render_copier(source, tmp_path_factory.mktemp("starter") / "starter", {})
    render.record_source(root, build.KIT_ROOT)
    return cached_grade(grade_cache, root, INSTALLED)


# The starter's tests go to one worker, which grades it once; the others grade mutants meanwhile.
STARTER_GROUP = pytest.mark.xdist_group("starter-grade")


@pytest.mark.slow
@STARTER_GROUP
@pytest.mark.parametrize("lab", [pytest.param(lab, id=lab.id) for lab in INSTALLED])
def test_starter_fails_an_assignment_check(lab: Lab, starter_report: GradeReport) -> None:
    wanted = assignment_checks(lab)
    assert wanted, f"{lab.id}: no check is declared with assignment=True"
    result = starter_report.lab(lab.id)
    failed = [c.id for c in result.checks if reqs.base_id(c.id) in wanted and c.status is not Status.PASSED]
    assert failed, f"{lab.id}: the starter passes every assignment check ({', '.join(wanted)})"


@pytest.mark.slow
@STARTER_GROUP
def test_starter_scores_under_the_limit(starter_report: GradeReport) -> None:
    assert starter_report.score < STARTER_LIMIT * starter_report.max_score, "\n".join(
        f"{lab.id}: {lab.score:g}/{lab.max_score:g}" for lab in starter_report.labs
    )
