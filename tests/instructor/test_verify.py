"""``capstone verify``: its judgement on hand-made results, and the real run over every lab's grader."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graders.cli import main
from graders.engine.labs import load_catalog
from graders.engine.model import CheckResult, LabResult, Status
from graders.instructor import verify

from .conftest import KIT


def lab_result(*checks: tuple[str, float, float, Status]) -> LabResult:
    return LabResult("lab02", "FastAPI", [CheckResult(i, i, m, s, st, feedback="why") for i, s, m, st in checks])


def judged(reference: LabResult, starter: LabResult, assignment: list[str]) -> verify.LabVerdict:
    verdict = verify.LabVerdict("lab02", "FastAPI", True, assignment_checks=assignment)
    verify._judge_lab(verdict, reference, starter)
    return verdict


FULL = lab_result(("lab02.audit", 6, 6, Status.PASSED), ("lab02.rbac", 4, 4, Status.PASSED))


def test_full_reference_and_a_failing_assignment_check_pass() -> None:
    starter = lab_result(("lab02.audit", 0, 6, Status.FAILED), ("lab02.rbac", 4, 4, Status.PASSED))
    verdict = judged(FULL, starter, ["lab02.audit"])
    assert verdict.ok and verdict.assignment_failed_by_starter == ["lab02.audit"]


def test_reference_below_full_marks_fails_naming_the_check() -> None:
    reference = lab_result(("lab02.audit", 3, 6, Status.FAILED), ("lab02.rbac", 4, 4, Status.PASSED))
    starter = lab_result(("lab02.audit", 0, 6, Status.FAILED), ("lab02.rbac", 0, 4, Status.FAILED))
    verdict = judged(reference, starter, ["lab02.audit"])
    assert not verdict.ok
    assert "the reference does not get full marks: lab02.audit (failed: why)" in verdict.problems


def test_starter_passing_every_assignment_check_fails() -> None:
    verdict = judged(FULL, FULL, ["lab02.audit"])
    assert verdict.problems == ["the starter passes every assignment check: the lab leaves nothing to do"]


def test_lab_without_assignment_checks_fails() -> None:
    verdict = judged(FULL, FULL, [])
    assert verdict.problems == ["the grader declares no assignment=True check"]


def test_parametrized_check_ids_match_their_declaration() -> None:
    starter = lab_result(("lab02.audit[case-1]", 0, 6, Status.FAILED), ("lab02.rbac", 4, 4, Status.PASSED))
    assert judged(FULL, starter, ["lab02.audit"]).assignment_failed_by_starter == ["lab02.audit[case-1]"]


def test_table_and_json_report_every_lab_and_the_verdict() -> None:
    ok = verify.LabVerdict(
        "lab02", "FastAPI", True, 10, 10, 0, ["lab02.audit"], ["lab02.audit"], [verify.MutantVerdict("m1", True)]
    )
    missing = verify.LabVerdict("lab06", "Cloud Run", False)
    bad = verify.LabVerdict(
        "lab03",
        "Docker",
        True,
        9,
        10,
        1,
        ["lab03.x"],
        ["lab03.x"],
        [verify.MutantVerdict("m2", False, "still passing: lab03.x")],
        ["mutant m2 not caught: still passing: lab03.x"],
    )
    result = verify.Verification([ok, missing, bad], starter_score=1, max_score=20)
    table = verify.render_table(result)
    assert "lab02" in table and "1/1" in table and "lab06  missing" in table and "no grader yet" in table
    assert "lab03: mutant m2 not caught" in table and table.rstrip().endswith("verify: FAILED")
    data = result.to_dict()
    assert data["ok"] is False and [lab["id"] for lab in data["labs"]] == ["lab02", "lab06", "lab03"]


def test_assignment_checks_are_read_from_the_grader_modules() -> None:
    labs = [lab for lab in load_catalog() if lab.grader_dir() is not None]
    assert labs, "no lab grader is installed"
    found = {lab.id: verify.assignment_checks(lab) for lab in labs}
    assert all(ids == sorted(ids) and all(i.startswith(f"{lab}.") for i in ids) for lab, ids in found.items())
    assert any(found.values())


@pytest.mark.slow
def test_capstone_verify_passes_on_this_kit(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """The acceptance run: reference full marks, starter under 15%, every mutant caught, in every graded lab."""
    code = main(["verify", "--format", "json", "--jobs", "2"])
    out = capsys.readouterr().out
    (tmp_path / "verify.json").write_text(out, encoding="utf-8")
    data = json.loads(out)
    problems = data["problems"] + [f"{lab['id']}: {p}" for lab in data["labs"] for p in lab["problems"]]
    assert code == 0 and data["ok"], "\n".join(problems)
    assert data["starter_score"] < verify.STARTER_LIMIT * data["max_score"]


def test_verify_reports_a_template_that_does_not_build(tmp_path: Path) -> None:
    (tmp_path / "labs").symlink_to(KIT / "labs")
    (tmp_path / "hooks").symlink_to(KIT / "hooks")
    (tmp_path / "reference_solution").mkdir()
    (tmp_path / "reference_solution/a.py").write_text("# END SOLUTION\n", encoding="utf-8")
    result = verify.verify(tmp_path, run_mutants=False)
    assert not result.ok
    assert result.problems[0].startswith("the template does not build: reference_solution/a.py:1: END SOLUTION")
