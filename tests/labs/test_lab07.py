"""Lab 07 grader, what is particular to it: the starter fails the assignment with guidance and becomes
full marks with the reference module, broken files get feedback (full marks for the reference and every
mutant caught: test_lab_grading.py, for every lab)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from graders.engine import mutants
from graders.engine.labs import Lab
from graders.engine.model import LabResult, Status
from graders.instructor.build import strip_text
from tests.labs.conftest import failure_report

LAB = "lab07"
# What the lab07 grader reads; the starter is built from these the way `capstone build` does.
GRADED_PATHS = ("terraform", "policy", "scripts/estimate_cost.py", "config/plant.yaml")


def _starter(reference_root: Path, lab: Lab, dest: Path) -> Path:
    for part in GRADED_PATHS:
        source, target = reference_root / part, dest / part
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy2(source, target)
    for rel, replacement in lab.starters.items():
        path = dest / rel
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
        if replacement is not None:
            source = lab.directory / replacement
            shutil.copytree(source, path) if source.is_dir() else shutil.copy2(source, path)
    for path in sorted(p for p in dest.rglob("*") if p.is_file()):
        rel = path.relative_to(dest).as_posix()
        path.write_text(strip_text(path.read_text(encoding="utf-8"), rel, rel, {LAB}), encoding="utf-8")
    return dest


def test_starter_fails_the_assignment_with_feedback(
    reference_root: Path,
    lab_catalog: dict[str, Lab],
    grade_lab: Callable[[Path, str], LabResult],
    tmp_path: Path,
) -> None:
    starter = _starter(reference_root, lab_catalog[LAB], tmp_path / "starter")
    assert not list((starter / "terraform/modules/gcs").glob("*.tf")), "the starter's gcs module folder must be empty"
    assert (starter / "terraform/modules/gcs/README.md").is_file()
    result = grade_lab(starter, LAB)
    assert result.score < 0.15 * result.max_score, failure_report(result)
    by_id = {c.id: c for c in result.checks}
    for check_id in (
        "lab07.module_structure",
        "lab07.variables_typed",
        "lab07.outputs_described",
        "lab07.regions_wired",
        "lab07.student_policies_discriminate",
        "lab07.rego_unit_tests",
        "lab07.cost_estimate",
    ):
        assert by_id[check_id].status is Status.FAILED and by_id[check_id].feedback, failure_report(result)
    assert "cost-estimate.md is missing" in by_id["lab07.cost_estimate"].feedback
    assert "[labels]" in by_id["lab07.student_policies_discriminate"].feedback
    assert "[naming]" in by_id["lab07.student_policies_discriminate"].feedback
    assert "Not graded yet" in by_id["lab07.instructor_policies"].feedback


def test_starter_becomes_full_marks_with_the_reference_module(
    reference_root: Path,
    lab_catalog: dict[str, Lab],
    grade_lab: Callable[[Path, str], LabResult],
    tmp_path: Path,
) -> None:
    """The starter's scaffolding is sound: putting back the solution is all it takes."""
    starter = _starter(reference_root, lab_catalog[LAB], tmp_path / "starter")
    for part in GRADED_PATHS:
        source, target = reference_root / part, starter / part
        if source.is_dir():
            shutil.rmtree(target)
            shutil.copytree(source, target)
        else:
            shutil.copy2(source, target)
    result = grade_lab(starter, LAB)
    assert result.score == 100, failure_report(result)


def test_empty_repository_gets_feedback_not_errors(grade_lab: Callable[[Path, str], LabResult], tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = grade_lab(tmp_path / "empty", LAB)
    assert result.score == 0
    assert all(c.status is Status.FAILED and c.feedback for c in result.checks), failure_report(result)


def test_broken_files_get_feedback_not_errors(
    reference_root: Path, grade_lab: Callable[[Path, str], LabResult], tmp_path: Path
) -> None:
    root = tmp_path / "broken"
    for part in ("terraform", "policy"):
        shutil.copytree(reference_root / part, root / part)
    (root / "policy" / "labels.rego").write_text("package main\ndeny contains msg if {\n", encoding="utf-8")
    (root / "terraform" / "pricing.yaml").write_text("regions: [unclosed\n", encoding="utf-8")
    (root / "terraform" / "environments" / "prod.tfvars").write_bytes(b"\xff\xfe binary")
    (root / "terraform" / "extra.tf").symlink_to("/etc/passwd")
    result = grade_lab(root, LAB)
    assert not [c for c in result.checks if c.status is Status.ERROR], failure_report(result)
    by_id = {c.id: c for c in result.checks}
    assert "policy/labels.rego" in by_id["lab07.rego_unit_tests"].feedback
    assert "terraform/pricing.yaml" in by_id["lab07.cost_estimate"].feedback
    assert "prod.tfvars" in by_id["lab07.hcl_parses"].feedback


@pytest.mark.parametrize("mutant_id", [None, "unformatted-module"])
def test_formatting_falls_back_without_terraform(
    mutant_id: str | None,
    reference_root: Path,
    lab_catalog: dict[str, Lab],
    grade_lab: Callable[[Path, str], LabResult],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Where terraform is not installed the check says so and still checks indentation."""
    from graders.sdk.tools import find_tool

    root = tmp_path / "repo"
    for part in ("terraform", "policy"):
        shutil.copytree(reference_root / part, root / part)
    if mutant_id:
        mutant = next(m for m in mutants.load_mutants(lab_catalog[LAB]) if m.id == mutant_id)
        mutants.apply(mutant, root)
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools"))
    find_tool.cache_clear()
    try:
        fmt = next(c for c in grade_lab(root, LAB).checks if c.id == "lab07.terraform_fmt")
    finally:
        monkeypatch.undo()
        find_tool.cache_clear()
    if mutant_id:
        assert fmt.status is Status.FAILED and "terraform/modules/gcs/main.tf:" in fmt.feedback
    else:
        assert fmt.status is Status.PASSED and "not installed" in fmt.feedback
