"""The capstone CLI: exit statuses as in the contract, outputs where asked."""

from __future__ import annotations

import base64
import json
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
