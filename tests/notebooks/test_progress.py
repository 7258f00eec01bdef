"""The progress sheet: the notebooks' writer (common.progress) and `capstone grade --record-progress`.

Both write ``capstone-progress.csv`` in one format under one lock, so the tests run them against each
other: idempotent upserts, no row lost when they write at the same moment, and clear errors for a
sheet that cannot be used. ``reference_solution/tests/common/test_progress.py`` tests the notebook
writer on its own.
"""

from __future__ import annotations

import csv
import multiprocessing
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from graders.engine import progress
from graders.engine.model import CheckResult, GradeReport, LabResult, Status
from graders.instructor import kit_files

from . import support

common_progress = pytest.importorskip("common.progress", reason="the reference solution is not installed")
FIXTURES = support.KIT_ROOT / "tests" / "fixtures"
TODAY = date(2026, 11, 30)


def lab_result(lab_id: str, scores: list[tuple[float, float]]) -> LabResult:
    checks = [
        CheckResult(f"{lab_id}.c{i}", f"check {i}", max_score=top, score=got,
                    status=Status.PASSED if got == top else Status.FAILED)
        for i, (got, top) in enumerate(scores)
    ]
    return LabResult(lab_id, f"Lab {lab_id}", checks)


def rows(path: Path) -> dict[str, dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return {row["lab"]: row for row in csv.DictReader(fh)}


def test_one_format_for_notebooks_grader_and_template() -> None:
    formats = {tuple(common_progress.COLUMNS), progress.COLUMNS, kit_files.PROGRESS_COLUMNS}
    assert formats == {("lab", "date", "outputs", "status")}
    assert tuple(common_progress.STATUSES) == progress.STATUSES
    assert progress.DEFAULT_FILE == common_progress.DEFAULT_FILE == kit_files.PROGRESS_CSV


def test_a_score_joins_the_notebook_outputs_and_replaces_the_previous_score(tmp_path: Path) -> None:
    sheet = tmp_path / "capstone-progress.csv"
    common_progress.record_progress("lab04", ["promtool test rules: SUCCESS", "dashboard: 19 panels"], "done",
                                    path=sheet, date="2026-11-20")
    report = GradeReport(labs=[lab_result("lab04", [(8, 10), (6, 6)])])
    progress.record_scores(sheet, report, today=TODAY)
    progress.record_scores(sheet, GradeReport(labs=[lab_result("lab04", [(10, 10), (6, 6)])]), today=TODAY)
    row = rows(sheet)["lab04"]
    assert row == {
        "lab": "lab04",
        "date": "2026-11-30",
        "outputs": "promtool test rules: SUCCESS; dashboard: 19 panels; capstone grade: 16/16 (2 of 2 checks passed)",
        "status": "done",
    }
    # ... and the notebook's own writer still reads the sheet the grader wrote.
    assert [r.lab for r in common_progress.read_progress(sheet)] == ["lab04"]


def test_rows_of_other_labs_are_kept_and_sorted(tmp_path: Path) -> None:
    sheet = tmp_path / "capstone-progress.csv"
    sheet.write_text(kit_files.progress_csv(support.load_catalog(), complete=False), encoding="utf-8")
    progress.record_scores(sheet, GradeReport(labs=[lab_result("lab02", [(3, 10)])]), today=TODAY)
    found = rows(sheet)
    assert list(found) == [f"lab0{i}" for i in range(1, 9)]
    assert found["lab02"]["status"] == "in-progress"  # a graded lab is no longer "not-started"
    assert found["lab02"]["outputs"] == "capstone grade: 3/10 (0 of 1 checks passed)"
    assert found["lab01"] == {"lab": "lab01", "date": "", "outputs": "", "status": "not-started"}


def test_status_rules(tmp_path: Path) -> None:
    sheet = tmp_path / "capstone-progress.csv"
    common_progress.record_progress("lab05", "gate", "blocked", path=sheet)
    labs = [lab_result("lab05", [(5, 5)]), lab_result("lab06", [(5, 5)]), lab_result("lab07", [(1, 5)])]
    report = GradeReport(labs=labs)
    progress.record_scores(sheet, report, today=TODAY)
    found = rows(sheet)
    assert (found["lab05"]["status"], found["lab06"]["status"], found["lab07"]["status"]) == (
        "blocked",  # the student's own status is kept
        "done",  # a new row at full marks
        "in-progress",
    )


def test_labs_whose_grader_did_not_run_are_left_alone(tmp_path: Path) -> None:
    sheet = tmp_path / "capstone-progress.csv"
    written = progress.record_scores(sheet, GradeReport(labs=[LabResult("lab03", "Lab 3", notes=["no grader"])]))
    assert written == [] and rows(sheet) == {}


@pytest.mark.parametrize(
    ("prepare", "message"),
    [
        (lambda p: p.write_text("lab,title,points,status,key_outputs,notes\n", encoding="utf-8"),
         "the header is lab,title,points,status,key_outputs,notes but must be lab,date,outputs,status"),
        (lambda p: p.symlink_to(p.parent / "elsewhere.csv"), "is a symbolic link; replace it with the file itself"),
        (lambda p: p.mkdir(), "is not a file"),
        (lambda p: p.write_bytes(b"lab,date,outputs,status\n" + b"x" * (progress.MAX_BYTES + 1)), "larger than"),
        (lambda p: p.write_bytes(b"lab,date,outputs,status\n\xff\xfe\n"), "cannot be read as UTF-8 text"),
    ],
    ids=["legacy-header", "symlink", "folder", "oversized", "binary"],
)
def test_an_unusable_sheet_is_reported_with_its_name_and_the_fix(tmp_path: Path, prepare, message: str) -> None:
    sheet = tmp_path / "capstone-progress.csv"
    prepare(sheet)
    with pytest.raises(progress.ProgressFileError, match=message) as caught:
        progress.record_scores(sheet, GradeReport(labs=[lab_result("lab01", [(1, 1)])]))
    assert str(sheet) in str(caught.value)


def test_a_missing_folder_is_reported(tmp_path: Path) -> None:
    with pytest.raises(progress.ProgressFileError, match="does not exist"):
        report = GradeReport(labs=[lab_result("lab01", [(1, 1)])])
        progress.record_scores(tmp_path / "no" / "capstone-progress.csv", report)


# -- two writers at the same moment -----------------------------------------------------------------
def _notebook_writer(path: str, lab: str, rounds: int) -> None:
    for i in range(rounds):
        common_progress.record_progress(lab, [f"notebook output {i}"], "done", path=path)


def _grader_writer(path: str, lab: str, rounds: int) -> None:
    for i in range(rounds):
        progress.record_scores(Path(path), GradeReport(labs=[lab_result(lab, [(i, rounds)])]))


def test_notebooks_and_the_grader_writing_at_once_lose_no_row(tmp_path: Path) -> None:
    sheet = tmp_path / "capstone-progress.csv"
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    workers = [
        context.Process(target=_notebook_writer if i % 2 else _grader_writer, args=(str(sheet), f"lab0{i}", 12))
        for i in range(1, 9)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    found = rows(sheet)
    assert list(found) == [f"lab0{i}" for i in range(1, 9)]
    for i in range(1, 9):
        expected = "notebook output 11" if i % 2 else "capstone grade: 11/12 (0 of 1 checks passed)"
        assert found[f"lab0{i}"]["outputs"] == expected


def test_the_notebook_progress_cell_replaces_its_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The last cell of every notebook, run twice: one row for the lab, the other labs' rows untouched."""
    repo = tmp_path / "capstone"
    (repo / "config").mkdir(parents=True)
    shutil.copyfile(support.REFERENCE / "config" / "plant.yaml", repo / "config" / "plant.yaml")
    sheet = repo / "capstone-progress.csv"
    sheet.write_text(kit_files.progress_csv(support.load_catalog(), complete=False), encoding="utf-8")
    monkeypatch.setenv("COPILOT_PLANT_CONFIG", str(repo / "config" / "plant.yaml"))
    cell = support.shared_cell("progress_cell.py", "lab07")
    for outputs, open_items in ([{"cost": "900 USD"}, ["module"]], [{"cost": "933.51 USD"}, []]):
        exec(cell, {"LAB": "lab07", "KEY_OUTPUTS": outputs, "OPEN_ITEMS": open_items})  # as the notebook runs it
    found = rows(sheet)
    assert len(found) == 8
    assert found["lab07"]["outputs"] == "cost: 933.51 USD" and found["lab07"]["status"] == "done"
    assert found["lab06"]["status"] == "not-started"


# -- capstone grade --record-progress ---------------------------------------------------------------
def _grade(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(FIXTURES), str(support.KIT_ROOT)])}
    return subprocess.run(
        [sys.executable, "-m", "graders.cli", "grade", *args, "--labs-dir", str(FIXTURES / "labs")],
        capture_output=True, text=True, env=env, timeout=120, cwd=support.KIT_ROOT,
    )


def test_grade_records_the_score_once_however_often_it_runs(tmp_path: Path) -> None:
    submission = tmp_path / "good"
    shutil.copytree(FIXTURES / "submissions" / "good", submission)
    for _ in range(2):
        done = _grade(str(submission), "--lab", "lab01", "--record-progress")
        assert done.returncode == 0, done.stderr
        assert f"recorded 1 lab score(s) in {submission / 'capstone-progress.csv'}" in done.stderr
    found = rows(submission / "capstone-progress.csv")
    assert list(found) == ["lab01"]
    assert found["lab01"]["outputs"].startswith("capstone grade: ")
    assert found["lab01"]["outputs"].count("capstone grade") == 1


def test_grade_without_the_option_writes_nothing(tmp_path: Path) -> None:
    submission = tmp_path / "good"
    shutil.copytree(FIXTURES / "submissions" / "good", submission)
    assert _grade(str(submission), "--lab", "lab01").returncode == 0
    assert not (submission / "capstone-progress.csv").exists()


def test_grade_reports_first_then_names_a_sheet_it_cannot_write(tmp_path: Path) -> None:
    submission = tmp_path / "good"
    shutil.copytree(FIXTURES / "submissions" / "good", submission)
    (submission / "capstone-progress.csv").write_text("lab,title,points,status,key_outputs,notes\n", encoding="utf-8")
    done = _grade(str(submission), "--lab", "lab01", "--record-progress", "--format", "json")
    assert done.returncode == 1
    assert '"score"' in done.stdout  # the grade itself was reported
    assert "capstone: error: the grade was not recorded" in done.stderr
    assert "must be lab,date,outputs,status" in done.stderr


def test_the_sheet_keeps_its_permissions(tmp_path: Path) -> None:
    sheet = tmp_path / "capstone-progress.csv"
    progress.record_scores(sheet, GradeReport(labs=[lab_result("lab01", [(1, 1)])]))
    assert sheet.stat().st_mode & 0o777 == 0o644  # not the 0600 of a temporary file
    sheet.chmod(0o664)
    progress.record_scores(sheet, GradeReport(labs=[lab_result("lab02", [(1, 1)])]))
    assert sheet.stat().st_mode & 0o777 == 0o664
