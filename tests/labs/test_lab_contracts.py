"""Contracts every lab grader keeps, derived from the lab catalogue (a new lab is tested automatically).

Points add up to lab.yaml, every check names its notebook section, the lab has assignment checks,
ships enough mutants, every mutant still applies to the reference, and every check is named by at
least one mutant so that it is proven in both directions.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from graders.engine import mutants
from graders.engine.labs import Lab, load_catalog
from graders.engine.session import collect_checks

from .conftest import REFERENCE

CATALOG = load_catalog()
# The number of known-wrong variants each lab's issue asks for.
MIN_MUTANTS = {"lab01": 6, "lab02": 6, "lab03": 8, "lab04": 7, "lab05": 7, "lab06": 6, "lab07": 8, "lab08": 8}
INSTALLED = [pytest.param(lab, id=lab.id) for lab in CATALOG if lab.grader_dir() is not None]


@pytest.fixture(scope="module")
def declared() -> dict[str, list]:
    return collect_checks([lab for lab in CATALOG if lab.grader_dir() is not None])


def test_every_course_lab_has_a_grader_suite() -> None:
    missing = [lab.id for lab in CATALOG if lab.grader_dir() is None]
    assert not missing, f"labs without a grader suite: {missing}"


@pytest.mark.parametrize("lab", INSTALLED)
def test_check_points_add_up_to_the_lab_points(lab: Lab, declared: dict[str, list]) -> None:
    checks = declared[lab.id]
    assert checks, f"{lab.id}: no checks collected"
    total = sum(spec.points for _, spec in checks)
    assert total == pytest.approx(lab.points), f"{lab.id}: checks add up to {total}, lab.yaml says {lab.points}"


@pytest.mark.parametrize("lab", INSTALLED)
def test_every_check_names_its_notebook_section(lab: Lab, declared: dict[str, list]) -> None:
    missing = [check_id for check_id, spec in declared[lab.id] if not spec.section]
    assert not missing, f"checks without section=: {missing}"


@pytest.mark.parametrize("lab", INSTALLED)
def test_lab_has_assignment_checks(lab: Lab, declared: dict[str, list]) -> None:
    assert any(spec.assignment for _, spec in declared[lab.id]), f"{lab.id}: no check has assignment=True"


@pytest.mark.parametrize("lab", INSTALLED)
def test_lab_ships_enough_mutants(lab: Lab) -> None:
    found = mutants.load_mutants(lab)
    assert len(found) >= MIN_MUTANTS[lab.id], f"{lab.id}: {len(found)} mutants, at least {MIN_MUTANTS[lab.id]} needed"


@pytest.mark.parametrize("lab", INSTALLED)
def test_every_check_is_named_by_a_mutant(lab: Lab, declared: dict[str, list]) -> None:
    named = {check_id for m in mutants.load_mutants(lab) for check_id in m.must_fail}
    base = {check_id.split("[", 1)[0] for check_id in named}
    unproven = [c for c, _ in declared[lab.id] if c not in named and c.split("[", 1)[0] not in base]
    assert not unproven, f"{lab.id}: no mutant makes these checks fail: {unproven}"
    unknown = sorted(named - {c for c, _ in declared[lab.id]})
    assert not unknown, f"{lab.id}: mutants name checks that do not exist: {unknown}"


@pytest.mark.parametrize("lab", INSTALLED)
def test_every_mutant_applies_to_the_reference(lab: Lab, tmp_path: Path) -> None:
    """Each edit still finds its text: applied to copies of just the files the mutant edits."""
    for mutant in mutants.load_mutants(lab):
        copy = tmp_path / mutant.id
        for rel in {edit.file for edit in mutant.edits}:
            if (REFERENCE / rel).is_file():
                (copy / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(REFERENCE / rel, copy / rel)
        mutants.apply(mutant, copy)  # raises MutantError naming the stale edit
