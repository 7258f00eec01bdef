"""``capstone verify``: its judgement on hand-made results, and the real run over every lab's grader."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graders.cli import main
from graders.engine.cache import GradeCache
from graders.engine.labs import load_catalog
from graders.engine.model import CheckResult, GradeReport, LabResult, Status
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


def test_variants_are_counted_over_every_lab_and_a_lost_point_fails_naming_the_check() -> None:
    full = verify.VariantVerdict("ordered-checklist", True, 10, 10)
    lost = verify.VariantVerdict("pure-asgi", False, 8, 10, "scored 8/10; lost points in lab02.audit (failed, 4/6: x)")
    ok = verify.LabVerdict("lab05", "CI/CD", True, 10, 10, 0, ["lab05.x"], ["lab05.x"], variants=[full])
    bad = verify.LabVerdict(
        "lab02", "FastAPI", True, 10, 10, 0, ["lab02.audit"], ["lab02.audit"], variants=[lost],
        problems=[f"variant pure-asgi not at full marks: {lost.message}"],
    )
    result = verify.Verification([ok, bad], starter_score=0, max_score=20)
    table = verify.render_table(result)
    assert "  variants: 1/2 at full marks" in table
    assert "lab02: variant pure-asgi not at full marks: scored 8/10; lost points in lab02.audit" in table
    data = result.to_dict()
    assert data["variants"] == {"full_marks": 1, "total": 2} and not data["ok"]
    assert data["labs"][1]["variants"][0] == {
        "id": "pure-asgi", "full_marks": False, "score": 8, "max_score": 10, "message": lost.message
    }


def test_verify_grades_the_variants_of_every_lab_beside_the_mutants(monkeypatch: pytest.MonkeyPatch) -> None:
    """_verify_changes sends mutants and variants through one pool and files each verdict in its lab."""
    from graders.engine import mutants, variants

    lab = next(lab for lab in load_catalog() if lab.grader_dir() is not None)
    mutant = mutants.Mutant("m", lab.id, "d", (), (f"{lab.id}.x",))
    good, bad = (variants.Variant(i, lab.id, "d", ()) for i in ("good", "bad"))
    monkeypatch.setattr(mutants, "load_mutants", lambda _lab: [mutant])
    monkeypatch.setattr(variants, "load_variants", lambda _lab: [good, bad])
    monkeypatch.setattr(verify, "_run_mutant", lambda m, *_: verify.MutantVerdict(m.id, True))
    monkeypatch.setattr(
        verify, "_run_variant", lambda v, *_: verify.VariantVerdict(v.id, v.id == "good", 1, 1, "" if v.id == "good"
                                                                     else "scored 0/1; lost points in x")
    )
    verdicts = {lab.id: verify.LabVerdict(lab.id, lab.title, True)}
    report = GradeReport([LabResult(lab.id, lab.title, [])])
    verify._verify_changes([lab], verdicts, KIT / "reference_solution", report, jobs=1)
    verdict = verdicts[lab.id]
    assert [m.id for m in verdict.mutants] == ["m"] and [v.id for v in verdict.variants] == ["good", "bad"]
    assert verdict.problems == ["variant bad not at full marks: scored 0/1; lost points in x"]


def test_assignment_checks_are_read_from_the_grader_modules() -> None:
    labs = [lab for lab in load_catalog() if lab.grader_dir() is not None]
    assert labs, "no lab grader is installed"
    found = {lab.id: verify.assignment_checks(lab) for lab in labs}
    assert all(ids == sorted(ids) and all(i.startswith(f"{lab}.") for i in ids) for lab, ids in found.items())
    assert any(found.values())


@pytest.mark.slow
def test_capstone_verify_passes_on_this_kit(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, grade_cache: GradeCache
) -> None:
    """The acceptance run: reference full marks, starter under 15%, every mutant caught and every variant at
    full marks, every requirement covered, in every graded lab. It reads the grades the kit's suite made
    (the same cache folder; ``make test`` runs it after the suite)."""
    code = main(["verify", "--format", "json", "--jobs", "2", "--cache-dir", str(grade_cache.directory)])
    out = capsys.readouterr().out
    (tmp_path / "verify.json").write_text(out, encoding="utf-8")
    data = json.loads(out)
    problems = data["problems"] + [f"{lab['id']}: {p}" for lab in data["labs"] for p in lab["problems"]]
    assert code == 0 and data["ok"], "\n".join(problems)
    assert data["starter_score"] < verify.STARTER_LIMIT * data["max_score"]
    assert data["variants"]["full_marks"] == data["variants"]["total"]


def test_verify_reports_a_template_that_does_not_build(tmp_path: Path) -> None:
    (tmp_path / "labs").symlink_to(KIT / "labs")
    (tmp_path / "hooks").symlink_to(KIT / "hooks")
    (tmp_path / "reference_solution").mkdir()
    (tmp_path / "reference_solution/a.py").write_text("# END SOLUTION\n", encoding="utf-8")
    result = verify.verify(tmp_path, run_mutants=False)
    assert not result.ok
    assert result.problems[0].startswith("the template does not build: reference_solution/a.py:1: END SOLUTION")
