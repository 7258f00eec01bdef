"""The capstone CLI: exit statuses as in the contract, outputs where asked."""

from __future__ import annotations

import base64
import csv
import json
import shutil
from pathlib import Path

from .conftest import FIXTURE_LABS, SUBMISSIONS


def test_grade_exits_zero_whatever_the_score(cli) -> None:
    result = cli("grade", str(SUBMISSIONS / "partial"), "--labs-dir", str(FIXTURE_LABS), "--lab", "lab01")
    assert result.returncode == 0, result.stderr
    assert "Checks that need work:" in result.stdout


def test_grade_of_a_missing_folder_is_a_grader_error(cli, tmp_path: Path) -> None:
    result = cli("grade", str(tmp_path / "nope"), "--labs-dir", str(FIXTURE_LABS))
    assert result.returncode == 1
    assert "not a folder; pass the path of the capstone repository" in result.stderr


def test_unknown_lab_is_a_grader_error(cli) -> None:
    result = cli("grade", str(SUBMISSIONS / "good"), "--labs-dir", str(FIXTURE_LABS), "--lab", "lab42")
    assert result.returncode == 1
    assert "unknown lab id(s): lab42" in result.stderr


def test_unknown_format_is_a_usage_error(cli) -> None:
    result = cli("grade", "--format", "pdf")
    assert result.returncode == 2
    assert "invalid choice: 'pdf'" in result.stderr


def test_json_output_file_and_extra_formats(cli, tmp_path: Path) -> None:
    out, md, junit = tmp_path / "grade.json", tmp_path / "summary.md", tmp_path / "junit.xml"
    result = cli("grade", str(SUBMISSIONS / "good"), "--labs-dir", str(FIXTURE_LABS), "--format", "json",
                 "--output", str(out), "--also", f"markdown={md}", "--also", f"junit={junit}")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    data = json.loads(out.read_text())
    assert data["score"] == 18.0
    assert md.read_text().startswith("## Capstone grade: 18 / 19")
    assert junit.read_text().startswith("<?xml")


def test_bad_also_value_names_the_expected_form(cli) -> None:
    result = cli("grade", str(SUBMISSIONS / "good"), "--labs-dir", str(FIXTURE_LABS), "--also", "pdf=x")
    assert result.returncode == 1
    assert "expected FORMAT=FILE" in result.stderr


def test_classroom_format_appends_to_github_output(cli, tmp_path: Path) -> None:
    github_output = tmp_path / "github_output"
    github_output.write_text("earlier=1\n")
    summary = tmp_path / "summary.md"
    summary.write_text("# Earlier step\n")
    result = cli("grade", str(SUBMISSIONS / "good"), "--labs-dir", str(FIXTURE_LABS), "--format", "classroom",
                 "--also", f"markdown={summary}",
                 env={"GITHUB_OUTPUT": str(github_output), "GITHUB_STEP_SUMMARY": str(summary)})
    assert result.returncode == 0, result.stderr
    lines = github_output.read_text().splitlines()
    assert lines[0] == "earlier=1"
    outputs = dict(line.split("=", 1) for line in lines[1:])
    assert set(outputs) == {"lab01", "lab02"}
    assert json.loads(base64.b64decode(outputs["lab01"]))["max_score"] == 12
    assert summary.read_text().startswith("# Earlier step\n## Capstone grade")


def test_verbose_text_shows_grader_tracebacks(cli) -> None:
    result = cli("grade", str(SUBMISSIONS / "good"), "--labs-dir", str(FIXTURE_LABS), "--verbose", "--lab", "lab02")
    assert "--- lab02.grader_bug ---" in result.stdout
    assert "KeyError" in result.stdout


def test_labs_lists_the_catalogue(cli) -> None:
    result = cli("labs", "--labs-dir", str(FIXTURE_LABS), "--format", "json")
    listed = json.loads(result.stdout)
    assert [lab["id"] for lab in listed] == ["lab01", "lab02"]
    assert listed[0]["installed"] is True


def test_batch_requires_an_existing_folder(cli, tmp_path: Path) -> None:
    result = cli("grade-batch", str(tmp_path / "missing"), "--output", str(tmp_path / "g.csv"))
    assert result.returncode == 1
    assert "not a folder of submissions" in result.stderr


def test_grade_from_a_folder_inside_the_repository_grades_the_repository(cli, submission_copy) -> None:
    root = submission_copy("partial")
    (root / "notebooks").mkdir()
    inside = cli("grade", "--labs-dir", str(FIXTURE_LABS), "--lab", "lab01", "--format", "json", cwd=root / "notebooks")
    assert inside.returncode == 0, inside.stderr
    assert inside.stderr.strip() == f"Grading {root.resolve()} (found from notebooks/)"
    at_root = cli("grade", str(root), "--labs-dir", str(FIXTURE_LABS), "--lab", "lab01", "--format", "json")

    def checks(out: str) -> dict[str, float]:  # stdout stays pure JSON
        return {c["id"]: c["score"] for lab in json.loads(out)["labs"] for c in lab["checks"]}

    assert checks(inside.stdout) == checks(at_root.stdout)
    assert json.loads(inside.stdout)["score"] == 3.6667
    text = cli("grade", "notebooks", "--labs-dir", str(FIXTURE_LABS), "--lab", "lab01", cwd=root)
    assert text.stdout.startswith(f"Capstone grade for {root.resolve()}: 3.67 / 12 points")
    assert "Grading " in text.stderr and "found from notebooks/" in text.stderr


def test_grade_outside_any_capstone_is_one_clear_error(cli, tmp_path: Path) -> None:
    folder = tmp_path / "downloads"
    folder.mkdir()
    (folder / "config.yaml").write_text("plant: RVB01\n")  # a file of a capstone is not a capstone
    result = cli("grade", "--labs-dir", str(FIXTURE_LABS), cwd=folder)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"capstone: error: {folder} is not a capstone repository (no config/plant.yaml found here or above); "
        "run `capstone grade` from inside your capstone, or pass its path"
    ]


def test_a_copier_render_without_its_plant_profile_is_still_graded(cli, submission_copy) -> None:
    root = submission_copy("good")
    (root / "config" / "plant.yaml").unlink()
    (root / ".copier-answers.yml").write_text("_src_path: gh:course/capstone-kit\nplant_code: RVB01\n")
    result = cli("grade", str(root), "--labs-dir", str(FIXTURE_LABS), "--lab", "lab01", "--format", "json")
    assert result.returncode == 0, result.stderr
    (root / ".copier-answers.yml").write_text("_src_path: gh:someone/other-template\nproject: x\n")
    assert cli("grade", str(root), "--labs-dir", str(FIXTURE_LABS), "--lab", "lab01").returncode == 1


def test_exact_grades_the_folder_itself_never_the_one_above(cli, submission_copy) -> None:
    root = submission_copy("good")
    (root / "notebooks").mkdir()
    result = cli("grade", str(root / "notebooks"), "--exact", "--labs-dir", str(FIXTURE_LABS))
    assert result.returncode == 1
    assert "notebooks is not a capstone repository (no config/plant.yaml in it)" in result.stderr


def test_batch_gives_a_non_capstone_its_own_row_and_never_grades_the_folder_above(cli, tmp_path: Path) -> None:
    classroom = tmp_path / "course" / "class"  # the batch folder lies inside a capstone
    shutil.copytree(SUBMISSIONS / "good", tmp_path / "course")
    shutil.copytree(SUBMISSIONS / "good", classroom / "alice")
    (classroom / "bob").mkdir()
    (classroom / "bob" / "notes.md").write_text("my capstone is on another laptop\n")
    out = tmp_path / "gradebook.csv"
    result = cli("grade-batch", str(classroom), "--output", str(out), "--labs-dir", str(FIXTURE_LABS), "--lab", "lab01")
    assert result.returncode == 0, result.stderr
    rows = {r["submission"]: r for r in csv.DictReader(out.open())}
    assert rows["alice"]["status"] == "graded" and rows["alice"]["total"] == "12.0"
    assert rows["bob"]["status"] == "failed" and rows["bob"]["total"] == ""
    assert "bob is not a capstone repository (no config/plant.yaml in it)" in rows["bob"]["message"]


def test_text_report_details_the_first_lab_and_all_details_every_lab(cli, submission_copy) -> None:
    root = submission_copy("good")
    (root / "README.md").unlink()  # lab01 has work left; lab02 has its grader bug
    default = cli("grade", str(root), "--labs-dir", str(FIXTURE_LABS))
    assert "Next: lab01" in default.stdout and "[failed] lab01.readme" in default.stdout
    assert "lab02.grader_bug" not in default.stdout
    every = cli("grade", str(root), "--labs-dir", str(FIXTURE_LABS), "--all")
    assert "Next:" not in every.stdout
    assert "[failed] lab01.readme" in every.stdout and "[error] lab02.grader_bug" in every.stdout


def test_check_grades_only_the_selected_checks_and_says_so(cli) -> None:
    args = ("grade", str(SUBMISSIONS / "partial"), "--labs-dir", str(FIXTURE_LABS), "--check", "lab01.lines")
    result = cli(*args, "--format", "json")
    assert result.returncode == 0, result.stderr
    (lab,) = json.loads(result.stdout)["labs"]  # lab02 holds no selected check: not graded
    assert [c["id"] for c in lab["checks"]] == ["lab01.lines"] and lab["selection"] == ["lab01.lines"]
    text = cli(*args).stdout
    assert text.startswith("Only the selected checks were graded (--check lab01.lines): the scores below count")


def test_a_check_id_that_does_not_exist_names_the_close_ones(cli) -> None:
    result = cli("grade", str(SUBMISSIONS / "good"), "--labs-dir", str(FIXTURE_LABS), "--check", "lab01.line")
    assert result.returncode == 1
    assert "--check lab01.line: lab01 has no such check; did you mean lab01.lines?" in result.stderr
    other = cli("grade", str(SUBMISSIONS / "good"), "--labs-dir", str(FIXTURE_LABS), "--check", "lab09.x")
    assert other.returncode == 1 and "no lab 'lab09' is graded here (labs: lab01, lab02)" in other.stderr


def test_check_and_record_progress_are_refused_together(cli, submission_copy) -> None:
    root = submission_copy("good")
    result = cli("grade", str(root), "--labs-dir", str(FIXTURE_LABS), "--check", "lab01.lines", "--record-progress")
    assert result.returncode == 1 and "--record-progress records whole labs: drop --check" in result.stderr
    assert not (root / "capstone-progress.csv").exists()
