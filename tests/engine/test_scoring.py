"""Points, partial credit and outcome statuses add up the way the result model says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graders.engine.model import CheckResult, GradeReport, LabResult, Location, Status
from graders.sdk.checks import Checklist, check

from .conftest import SUBMISSIONS, scores


def test_good_submission_scores_every_check(grade) -> None:
    report = grade(SUBMISSIONS / "good")
    lab01 = report.lab("lab01")
    assert lab01.score == lab01.max_score == 12
    assert all(c.status is Status.PASSED for c in lab01.checks)
    assert report.max_score == 19  # 12 + 7, the points declared in the fixture lab.yaml files


def test_partial_credit_adds_up(grade) -> None:
    report = grade(SUBMISSIONS / "partial", labs=["lab01"])
    lab = report.lab("lab01")
    by_id = {c.id: c for c in lab.checks}
    # checklist: 2 of 3 keys present -> 4 * 2/3
    assert by_id["lab01.config_keys"].score == pytest.approx(2.6667)
    assert by_id["lab01.config_keys"].status is Status.FAILED
    assert "config.yaml needs a 'region' key" in by_id["lab01.config_keys"].feedback
    # partial(0.5) of 2 points
    assert by_id["lab01.lines"].score == 1.0
    assert by_id["lab01.readme"].score == 0.0
    assert lab.score == pytest.approx(sum(c.score for c in lab.checks))
    assert report.lab("lab01").score == pytest.approx(3.6667)


def test_failed_check_feedback_points_to_the_notebook_section(grade) -> None:
    report = grade(SUBMISSIONS / "partial", labs=["lab01"])
    readme = report.check("lab01.readme")
    assert readme.feedback.endswith('See notebooks/lab01.ipynb, section "Getting started".')
    assert readme.location == Location("README.md")


def test_passing_check_feedback_has_no_notebook_pointer(grade) -> None:
    report = grade(SUBMISSIONS / "good", labs=["lab01"])
    assert report.check("lab01.readme").feedback == ""


def test_same_submission_graded_five_times_gives_identical_json(grade) -> None:
    def without_durations(report: GradeReport) -> str:
        data = report.to_dict()
        for lab in data["labs"]:
            lab.pop("duration_s")
            for result in lab["checks"]:
                result.pop("duration_s")
        return json.dumps(data, sort_keys=True)

    runs = {without_durations(grade(SUBMISSIONS / "partial")) for _ in range(5)}
    assert len(runs) == 1


def test_crashing_check_is_an_error_and_others_still_run(grade) -> None:
    report = grade(SUBMISSIONS / "good", labs=["lab02"])
    bug = report.check("lab02.grader_bug")
    assert bug.status is Status.ERROR and bug.score == 0
    assert "internal problem" in bug.feedback and "KeyError" in bug.feedback
    assert "Traceback" in (bug.detail or "")  # kept for --verbose, never in student-facing fields
    assert report.check("lab02.env").status is Status.PASSED


def test_program_that_sleeps_forever_is_stopped_and_reported_as_error(grade) -> None:
    report = grade(SUBMISSIONS / "partial", labs=["lab02"])
    slow = report.check("lab02.slow")
    assert slow.status is Status.ERROR
    assert "did not finish within 2 s" in slow.feedback
    assert slow.duration_s < 10
    # the rest of the lab was graded
    assert report.check("lab02.env").status is Status.PASSED


def test_check_running_past_its_own_timeout_is_an_error(grade) -> None:
    report = grade(SUBMISSIONS / "partial", labs=["lab02"])
    hung = report.check("lab02.check_timeout")
    assert hung.status is Status.ERROR
    assert "did not finish within 1 s" in hung.feedback


def test_empty_submission_gets_feedback_not_tracebacks(grade, tmp_path: Path) -> None:
    report = grade(tmp_path)
    assert report.score < report.max_score
    for lab in report.labs:
        for c in lab.checks:
            if c.status is Status.PASSED:
                continue
            assert c.feedback, c.id
            assert "Traceback" not in c.feedback
    assert "config.yaml is missing" in report.check("lab01.config_keys").feedback


def test_check_results_clamp_scores_to_their_points() -> None:
    assert CheckResult("x", "x", max_score=2, score=5).score == 2
    assert CheckResult("x", "x", max_score=2, score=-1).score == 0
    assert CheckResult("x", "x", max_score=3, score=1 / 3 * 3).score == 1.0


def test_lab_and_report_totals_are_sums_of_checks() -> None:
    lab = LabResult("lab01", "t", [CheckResult("a", "a", 1, 0.5), CheckResult("b", "b", 2, 2)])
    report = GradeReport([lab, LabResult("lab02", "u", [CheckResult("c", "c", 3, 1.25)])])
    assert (lab.score, lab.max_score) == (2.5, 3)
    assert (report.score, report.max_score) == (3.75, 6)
    assert GradeReport.from_dict(report.to_dict()) == report


def test_checklist_weights_and_deductions() -> None:
    cl = Checklist()
    cl.require(True, "a", weight=3)
    cl.require(False, "b", weight=1)
    assert cl.fraction == pytest.approx(0.75)
    cl.deduct(0.25, "lint warning")
    assert cl.fraction == pytest.approx(0.5)
    assert [m for m, _ in cl.problems] == ["b", "lint warning"]
    cl.deduct(1.0, "everything else")
    assert cl.fraction == 0.0


def test_check_declaration_rejects_non_positive_points() -> None:
    with pytest.raises(ValueError, match="points must be positive"):
        check(points=0, name="nothing")


def test_identical_scores_for_equivalent_reports(grade) -> None:
    assert scores(grade(SUBMISSIONS / "good")) == scores(grade(SUBMISSIONS / "good"))
