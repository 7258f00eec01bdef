"""Contracts every lab grader keeps, derived from the lab catalogue (a new lab is tested automatically).

Points add up to lab.yaml, every check names its notebook section, the lab has assignment checks,
ships enough mutants (``min_mutants`` in lab.yaml), every mutant still applies to the reference, every
check is named by at least one mutant so that it is proven in both directions, and the lab's
requirement map covers it (rules 1, 2 and 5 of ``graders.engine.requirements``; the graded rules 3 and
4 are in test_lab_grading.py). Nothing here grades a submission.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from graders.engine import mutants
from graders.engine import requirements as reqs
from graders.engine.labs import Lab, load_catalog
from graders.engine.session import collect_checks

from .conftest import REFERENCE, lab_setting

CATALOG = load_catalog()
DEFAULT_MIN_MUTANTS = 6  # lab.schema.json's default for min_mutants
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
    wanted = lab_setting(lab, "min_mutants", DEFAULT_MIN_MUTANTS)
    assert isinstance(wanted, int)
    assert len(found) >= wanted, f"{lab.id}: {len(found)} mutants, at least {wanted} needed (min_mutants in lab.yaml)"


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


@pytest.mark.parametrize("lab", INSTALLED)
def test_requirement_map_covers_the_lab(lab: Lab, declared: dict[str, list]) -> None:
    """Every requirement has a check and a mutant, every mutant a known requirement, every check a requirement."""
    loaded = reqs.load_requirements(lab)  # raises RequirementError naming file and field
    assert loaded is not None, f"{lab.id}: no requirement map (graders/{lab.id}/{reqs.FILE_NAME})"
    refs = [reqs.MutantRef(m.id, m.requirement) for m in mutants.load_mutants(lab)]
    problems = reqs.static_problems(loaded, [c for c, _ in declared[lab.id]], refs)
    assert not problems, f"{lab.id}: " + "\n".join(problems)


YAML_LOADERS = frozenset({"safe_load", "safe_load_all", "load", "load_all", "CSafeLoader", "SafeLoader"})


def _lab_modules(lab: Lab) -> list[Path]:
    directory = lab.grader_dir()
    assert directory is not None
    return sorted(p for p in directory.glob("*.py") if p.name != "__init__.py")


@pytest.mark.parametrize("lab", INSTALLED)
def test_lab_suite_follows_the_lab_convention(lab: Lab) -> None:
    """The layout ARCHITECTURE.md asks of every lab: notebook sections named in `sections.py`, helpers
    in modules (never imported from `conftest.py`), YAML read through `graders.sdk.safe_yaml`."""
    import ast

    directory = lab.grader_dir()
    assert directory is not None
    problems = [] if (directory / "sections.py").is_file() else [f"{lab.id}: no sections.py"]
    for path in _lab_modules(lab):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[-1] == "conftest":
                problems.append(f"{path.name}:{node.lineno} imports from conftest; move the helper into a module")
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "yaml"
                and node.attr in YAML_LOADERS
            ):
                problems.append(f"{path.name}:{node.lineno} uses yaml.{node.attr}; use graders.sdk.safe_yaml")
    assert not problems, "\n".join(problems)
