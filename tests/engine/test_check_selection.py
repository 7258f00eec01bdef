"""Grading a selection of checks (``grade_labs(checks=...)``) and the mutants graded on their scope:
only the selected checks run (their fixtures included), the result records the selection and
round-trips, and a scoped grade is compared with the reference on the same checks."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from graders.engine import mutants
from graders.engine import requirements as reqs
from graders.engine.labs import Lab, load_catalog
from graders.engine.model import CheckResult, GradeReport, LabResult, Status
from graders.engine.session import EngineError, grade_labs

from .conftest import SUBMISSIONS

MARKER = "hello-ran"


@pytest.fixture
def noisy_submission(tmp_path: Path) -> Path:
    """The good submission, whose hello.py leaves a file behind when the grader runs it."""
    root = tmp_path / "good"
    shutil.copytree(SUBMISSIONS / "good", root)
    (root / "hello.py").write_text(f"open({MARKER!r}, 'w').close()\nprint('hello')\n", encoding="utf-8")
    return root


def test_a_selection_runs_and_reports_only_its_checks(lab01: Lab, noisy_submission: Path) -> None:
    result = grade_labs(noisy_submission, [lab01], checks=["lab01.lines", "lab01.config_keys"]).lab("lab01")
    assert [c.id for c in result.checks] == ["lab01.config_keys", "lab01.lines"]
    assert result.selection == ("lab01.config_keys", "lab01.lines")
    assert (result.score, result.max_score) == (6, 6)
    assert not (noisy_submission / MARKER).exists()  # lab01.hello, the check that runs hello.py, did not run


def test_without_a_selection_every_check_runs(lab01: Lab, noisy_submission: Path) -> None:
    result = grade_labs(noisy_submission, [lab01]).lab("lab01")
    assert len(result.checks) == 5 and result.selection == ()
    assert (noisy_submission / MARKER).exists()


def test_a_selected_check_id_ignores_its_parameters(lab01: Lab) -> None:
    result = grade_labs(SUBMISSIONS / "good", [lab01], checks=["lab01.readme[any]"]).lab("lab01")
    assert [c.id for c in result.checks] == ["lab01.readme"] and result.selection == ("lab01.readme",)


def test_a_selection_round_trips_and_crosses_to_a_worker(fixture_labs: list[Lab]) -> None:
    report = grade_labs(SUBMISSIONS / "good", fixture_labs, jobs=2, checks=["lab01.readme", "lab02.grader_bug"])
    assert report.lab("lab01").selection == ("lab01.readme",)
    assert report.lab("lab02").selection == ("lab02.grader_bug",)
    assert GradeReport.from_dict(report.to_dict()) == report
    assert "selection" not in grade_labs(SUBMISSIONS / "good", fixture_labs[:1]).to_dict()["labs"][0]


def test_a_lab_with_no_selected_check_is_refused(fixture_labs: list[Lab]) -> None:
    with pytest.raises(EngineError, match=r"no check of lab02 is selected .*grade only the labs whose checks"):
        grade_labs(SUBMISSIONS / "good", fixture_labs, checks=["lab01.readme"])


# -- comparing a scoped grade with the reference's full one --------------------------------------
def _lab(*checks: tuple[str, float, float], selection: tuple[str, ...] = ()) -> LabResult:
    return LabResult(
        "lab04",
        "Monitoring",
        [CheckResult(i, i, m, s, Status.PASSED if s == m else Status.FAILED) for i, s, m in checks],
        selection=selection,
    )


REFERENCE = _lab(("lab04.a", 6, 6), ("lab04.b[x]", 2, 2), ("lab04.c", 92, 92))


def test_checks_outside_the_selection_are_not_lost_points() -> None:
    scoped = _lab(("lab04.b[x]", 0, 2), selection=("lab04.b",))
    assert reqs.points_lost(scoped, REFERENCE) == {"lab04.b": 2}
    whole = _lab(("lab04.b[x]", 0, 2))  # a full grading that lost checks a and c lost their points
    assert reqs.points_lost(whole, REFERENCE) == {"lab04.a": 6, "lab04.b": 2, "lab04.c": 92}


def test_a_scoped_mutant_is_caught_on_the_reference_score_of_its_scope() -> None:
    mutant = mutants.Mutant("m", "lab04", "", (), ("lab04.b[x]",), scope=("lab04.b",))
    caught = mutants.judge(mutant, _lab(("lab04.b[x]", 0, 2), selection=("lab04.b",)), REFERENCE)
    assert caught.caught and (caught.score, caught.baseline_score) == (0, 2)
    missed = mutants.judge(mutant, _lab(("lab04.b[x]", 2, 2), selection=("lab04.b",)), REFERENCE)
    assert not missed.caught and missed.message == "still passing: lab04.b[x]"


# -- a mutant's scope ---------------------------------------------------------------------------------
LAB04 = next(lab for lab in load_catalog() if lab.id == "lab04")


def _mutants_with_map(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, requirement: str) -> list[mutants.Mutant]:
    (tmp_path / "requirements.yaml").write_text(
        "requirements:\n  - id: waits\n    text: Alerts wait.\n    source: Alert rules\n    consequence: outage\n"
        "    checks: [lab04.alert_metadata, lab04.alert_rules_valid]\n",
        encoding="utf-8",
    )
    (tmp_path / "mutants.yaml").write_text(
        f"mutants:\n  - id: m\n    description: d\n    edits: [{{file: a, delete: true}}]\n"
        f"    must_fail: ['lab04.promtool_tests[paging]']\n    requirement: {requirement}\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(reqs, "requirements_file", lambda _lab: tmp_path / "requirements.yaml")
    monkeypatch.setattr(mutants, "mutants_file", lambda _lab: tmp_path / "mutants.yaml")
    return mutants.load_mutants(LAB04)


def test_a_mutant_is_scoped_to_its_must_fail_and_requirement_checks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (mutant,) = _mutants_with_map(tmp_path, monkeypatch, "waits")
    assert mutant.scope == ("lab04.alert_metadata", "lab04.alert_rules_valid", "lab04.promtool_tests")


def test_a_mutant_of_an_unknown_requirement_is_graded_on_every_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (mutant,) = _mutants_with_map(tmp_path, monkeypatch, "nowhere")
    assert mutant.scope == ()


def test_the_scope_is_part_of_the_cache_key() -> None:
    edits = (mutants.Edit("a", "delete", {}),)
    scoped = mutants.Mutant("m", "lab04", "", edits, ("lab04.a",), scope=("lab04.a",))
    whole = mutants.Mutant("m", "lab04", "", edits, ("lab04.a",))
    assert mutants.fingerprint(scoped) != mutants.fingerprint(whole)
