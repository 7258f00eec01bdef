"""A check's outcome becomes its score in the model only, and a check whose outcome never arrives is
the grader's error, never "passed, 0 points". Lab notes reach the JSON and Classroom reports.

The grader suites here are written into a temporary folder: a suite that stops the session after
its first check, and one that cannot be imported.
"""

from __future__ import annotations

import base64
import json
import re
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from graders.engine import outcomes
from graders.engine.labs import Lab, load_lab
from graders.engine.model import NOT_RUN_FEEDBACK, CheckResult, GradeReport, LabResult, Location, Status
from graders.engine.session import grade_labs
from graders.reports import classroom, json_report

from .conftest import FIXTURE_LABS, SUBMISSIONS

STOPS_EARLY = """
import pytest

from graders.sdk import check


@check(points=2, name="Runs first and passes")
def test_first() -> None:
    pass


@check(points=3, name="Stops the session")
def test_stop() -> None:
    pytest.exit("the session stops here")


@check(points=5, name="Never reached")
def test_never() -> None:
    pass
"""


@pytest.fixture
def suite_lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], Lab]:
    """A lab whose grader suite is ``source`` (one test module in a package of its own)."""
    monkeypatch.syspath_prepend(str(tmp_path))

    name = "graders_" + re.sub(r"\W", "_", tmp_path.name)  # a package of its own: no module reused

    def _lab(source: str) -> Lab:
        package = tmp_path / name / "lab01"
        package.mkdir(parents=True)
        (package.parent / "__init__.py").write_text("", encoding="utf-8")
        (package / "__init__.py").write_text("", encoding="utf-8")
        (package / "test_suite.py").write_text(textwrap.dedent(source), encoding="utf-8")
        lab_dir = tmp_path / "labs" / "lab01"
        lab_dir.mkdir(parents=True)
        metadata = (FIXTURE_LABS / "lab01" / "lab.yaml").read_text(encoding="utf-8")
        (lab_dir / "lab.yaml").write_text(
            metadata.replace("fixture_graders.lab01", f"{name}.lab01"), encoding="utf-8"
        )
        return load_lab(lab_dir / "lab.yaml")

    return _lab


def test_a_check_starts_as_not_run() -> None:
    check = CheckResult("lab01.x", "x", 4)
    assert (check.status, check.score, check.feedback) == (Status.ERROR, 0.0, NOT_RUN_FEEDBACK)


def test_checks_whose_outcome_never_arrives_are_errors_not_passes(suite_lab: Callable[[str], Lab]) -> None:
    report = grade_labs(SUBMISSIONS / "good", [suite_lab(STOPS_EARLY)])
    assert report.check("lab01.first").status is Status.PASSED
    for check_id in ("lab01.stop", "lab01.never"):
        check = report.check(check_id)
        assert check.status is Status.ERROR and check.score == 0, check
        assert "did not run" in check.feedback and "instructor" in check.feedback
    assert (report.score, report.max_score) == (2, 10)


def test_the_model_scores_the_fraction_an_outcome_earned() -> None:
    check = CheckResult("lab01.x", "x", 3)
    outcomes.record(check, outcomes.Outcome(Status.FAILED, 1 / 3, "one of three"))
    assert (check.status, check.score) == (Status.FAILED, 1.0)
    outcomes.record(check, outcomes.Outcome(Status.PASSED, 1.5, ""))
    assert check.score == 3  # never more than the check's points
    outcomes.record(check, outcomes.Outcome(Status.FAILED, -0.5, "no"))
    assert check.score == 0


def test_finish_scrubs_paths_and_points_to_the_notebook_section() -> None:
    raw = outcomes.Outcome(Status.FAILED, 0.0, "/srv/sub/config.yaml is wrong", Location("/srv/sub/config.yaml", 3))
    done = outcomes.finish(raw, "/srv/sub", "notebooks/lab01.ipynb", "Configuration")
    assert done.feedback == 'config.yaml is wrong. See notebooks/lab01.ipynb, section "Configuration".'
    assert done.location == Location("config.yaml", 3)
    assert outcomes.finish(outcomes.PASSED, "/srv/sub", "notebooks/lab01.ipynb", "Configuration").feedback == ""


def test_a_fresh_grading_round_trips_losslessly() -> None:
    from graders.engine.labs import load_catalog

    report = grade_labs(SUBMISSIONS / "partial", load_catalog(FIXTURE_LABS))
    assert any(c.detail for lab in report.labs for c in lab.checks)  # the grader bug's traceback
    assert all(c.duration_s > 0 for lab in report.labs for c in lab.checks if c.status is not Status.SKIPPED)
    again = GradeReport.from_dict(json.loads(json.dumps(report.to_dict())))
    assert again == report


def test_a_grader_that_cannot_load_is_noted_in_json_and_classroom(suite_lab: Callable[[str], Lab]) -> None:
    report = grade_labs(SUBMISSIONS / "good", [suite_lab("import a_module_that_does_not_exist\n")])
    lab = report.lab("lab01")
    assert lab.notes and "could not be loaded" in lab.notes[0]
    assert report.check("lab01.grader_loaded").status is Status.ERROR
    assert report.check("lab01.grader_loaded").detail  # the import error, for the instructor
    assert json.loads(json_report.render(report))["labs"][0]["notes"] == lab.notes
    line = classroom.render(report).strip()
    payload = json.loads(base64.b64decode(line.split("=", 1)[1]))
    assert lab.notes[0] in payload["tests"][0]["message"]


def test_student_formats_never_carry_the_detail() -> None:
    check = CheckResult("lab01.x", "x", 1, status=Status.ERROR, feedback="internal problem", detail="Traceback: secret")
    report = GradeReport.from_dict(GradeReport([LabResult("lab01", "Lab one", [check])]).to_dict())
    assert report.check("lab01.x").detail == "Traceback: secret"
    assert "secret" not in json_report.render(report)
    assert "secret" not in classroom.render(report)

