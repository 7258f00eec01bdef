"""The terminal report: table first, the next lab to work on, one root cause shown once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graders.engine.model import CheckResult, GradeReport, LabResult, Status
from graders.reports import text
from graders.reports.causes import exception_lines, group_by_cause

from .conftest import FIXTURES

# A fresh starter rendered from this kit and graded with `capstone grade --format json` (all eight labs).
FRESH_STARTER = FIXTURES / "reports" / "fresh-starter.json"
LAB01_TODO = "NotImplementedError: lab01: tag the version with the plant code and its production"


def _starter() -> GradeReport:
    return GradeReport.from_dict(json.loads(FRESH_STARTER.read_text(encoding="utf-8")), submission="/home/s/capstone")


def _crash(script: str, todo: str) -> str:
    return (
        f"`python -m {script}` exited with status 1; its output ends with:\n"
        f'      File "<tmp>", line 39, in run\n        raise NotImplementedError(\n'
        f"    NotImplementedError: {todo}\n"
        'See notebooks/lab09.ipynb, section "Hands-on".'
    )


def _check(check_id: str, feedback: str, score: float = 0, status: Status = Status.FAILED) -> CheckResult:
    return CheckResult(check_id, f"name of {check_id}", max_score=5, score=score, status=status, feedback=feedback)


def test_day_one_report_of_a_fresh_starter_is_short_and_names_the_first_lab() -> None:
    report = _starter()
    out = text.render(report)
    lines = out.splitlines()
    assert len(lines) <= 150, len(lines)
    assert lines[0] == "Capstone grade for /home/s/capstone: 93.21 / 800 points (12%)"
    for lab in report.labs:  # the table comes first, every lab in it
        assert any(line.startswith(f"  {lab.id}  ") for line in lines[:12]), lab.id
    assert "Next: lab01  MLOps fundamentals for GenAI in manufacturing  (14 / 100 points)" in lines
    assert "Then grade this lab again: capstone grade --lab lab01" in out
    assert "[failed] lab02." not in out  # later labs wait
    assert "Not shown: 102 more check(s) that need work in lab02, lab03, lab04, lab05, lab06, lab07, lab08." in out
    assert "`capstone grade --all` details every lab" in out


def test_one_starter_function_that_fails_four_checks_is_shown_once() -> None:
    out = text.render(_starter())
    assert out.count(LAB01_TODO) == 1
    assert "The same error (NotImplementedError) also fails these 3 checks (0 / 29 points):" in out
    for check_id in ("lab01.version_tags", "lab01.champion_meets_threshold", "lab01.weak_run_not_promoted"):
        assert f"        [failed] {check_id}  " in out
    assert "4 of them fail because of one error, shown once" in out


def test_all_shows_every_lab_and_every_check_in_full() -> None:
    report = _starter()
    out = text.render(report, "all")
    assert out.count(LAB01_TODO) == 4  # nothing grouped: each check with its own feedback
    assert "Next:" not in out and "Not shown" not in out
    for lab in report.labs:
        for check in lab.checks:
            assert (f"[{check.status.value}] {check.id}  " in out) == (check.status is not Status.PASSED), check.id


def test_lab_detail_groups_the_lab05_gate_crash() -> None:
    report = _starter()
    report.labs = [report.lab("lab05")]
    out = text.render(report, "labs")
    assert "The same error (NotImplementedError) also fails these 4 checks (1 / 20 points):" in out
    assert "[failed] lab05.trivy_gates" in out  # the lab in full
    assert len(out.splitlines()) < len(text.render(report, "all").splitlines())


def test_distinct_errors_are_not_grouped() -> None:
    checks = [
        _check("lab09.a", _crash("pkg.a", "lab09: write a")),
        _check("lab09.b", _crash("pkg.b", "lab09: write b")),
        _check("lab09.c", "config.yaml needs a 'region' key"),
    ]
    groups = group_by_cause(checks)
    assert [[c.id for c in g.checks] for g in groups] == [["lab09.a"], ["lab09.b"], ["lab09.c"]]
    out = text.render(GradeReport([LabResult("lab09", "Lab nine", checks)]))
    assert "also fails" not in out
    assert out.count("NotImplementedError: lab09: write") == 2


def test_a_check_with_two_errors_joins_the_one_that_blocks_most() -> None:
    common = "PR docs gate: internal error (NotImplementedError: lab09: parse a line); failing closed"
    checks = [
        _check("lab09.a", f"case one: {common}"),
        _check("lab09.b", "case empty: PR docs gate: internal error (NotImplementedError: lab09: find paths)\n"
               f"case two: {common}"),
        _check("lab09.c", f"case three: {common}"),
        _check("lab09.d", "the workflow has no deploy job"),
    ]
    assert exception_lines(checks[1].feedback) == [
        "NotImplementedError: lab09: find paths)",
        "NotImplementedError: lab09: parse a line); failing closed",
    ]
    groups = group_by_cause(checks)
    assert [[c.id for c in g.checks] for g in groups] == [["lab09.a", "lab09.b", "lab09.c"], ["lab09.d"]]
    assert groups[0].cause == "NotImplementedError: lab09: parse a line); failing closed"


def test_identical_feedback_in_different_sections_is_one_cause() -> None:
    same = "releases/ holds no release record: run the release script and commit the record."
    checks = [
        _check("lab09.a", f'{same} See notebooks/lab09.ipynb, section "Audit".'),
        _check("lab09.b", f'{same} See notebooks/lab09.ipynb, section "Release".'),
    ]
    out = text.render(GradeReport([LabResult("lab09", "Lab nine", checks)]))
    assert out.count(same) == 1
    assert "The same feedback also applies" not in out
    assert "The same feedback also fails this check (0 / 5 points):" in out


def test_next_skips_a_lab_whose_only_open_checks_were_skipped() -> None:
    skipped = LabResult("lab01", "Lab one", [_check("lab01.tool", "promtool is not installed", status=Status.SKIPPED)])
    failing = LabResult("lab02", "Lab two", [_check("lab02.api", "GET /health answered 500")])
    out = text.render(GradeReport([skipped, failing]))
    assert "Next: lab02  Lab two" in out
    assert "Not shown: 1 more check(s) that need work in lab01." in out


def test_full_marks_say_so_without_a_next_step() -> None:
    passed = LabResult("lab01", "Lab one", [CheckResult("lab01.a", "a", max_score=5, score=5, status=Status.PASSED)])
    out = text.render(GradeReport([passed], submission="ref"))
    assert out.splitlines()[0] == "Capstone grade for ref: 5 / 5 points (100%)"
    assert out.rstrip().endswith("Every check passed.")
    assert "Next:" not in out


@pytest.mark.parametrize("detail", ["next", "labs", "all"])
def test_lab_notes_are_always_shown(detail: str) -> None:
    lab = LabResult("lab01", "Lab one", [_check("lab01.a", "bad")], notes=["the lab ran past its 300 s budget"])
    other = LabResult("lab02", "Lab two", [], notes=["no grader suite installed"])
    out = text.render(GradeReport([lab, other]), detail)  # type: ignore[arg-type]
    assert "note (lab01): the lab ran past its 300 s budget" in out
    assert "note (lab02): no grader suite installed" in out


def test_fixture_report_is_a_starter_report() -> None:
    """Guard for the recorded report: eight labs, one shared lab01 error, a lab05 gate crash."""
    data = json.loads(Path(FRESH_STARTER).read_text(encoding="utf-8"))
    assert [lab["id"] for lab in data["labs"]] == [f"lab0{n}" for n in range(1, 9)]
    assert data["max_score"] == 800 and data["score"] < 120


def test_missing_tools_banner_comes_before_the_table() -> None:
    skipped = CheckResult(
        "lab04.rules", "rules", max_score=5, status=Status.SKIPPED, feedback="promtool is not installed",
        missing_tool="promtool",
    )
    lines = text.render(GradeReport([LabResult("lab04", "Lab four", [skipped])])).splitlines()
    assert lines[2] == "  1 check could not run here: install prometheus (promtool)"
    assert lines.index("  1 check could not run here: install prometheus (promtool)") < next(
        i for i, line in enumerate(lines) if line.startswith("  lab04 ")
    )
    full = text.render(GradeReport([LabResult("lab04", "Lab four", [_check("lab04.rules", "x", score=5)])]))
    assert "could not run here" not in full
