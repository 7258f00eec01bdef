"""The generated GitHub Classroom workflow: valid, pinned, one reporter runner per lab."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from graders.engine.labs import load_catalog
from graders.instructor import classroom, release

from .conftest import KIT

WORKFLOW = KIT / "reference_solution" / classroom.WORKFLOW_PATH
LABS = load_catalog()


def check_jsonschema(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_workflow_in_the_reference_is_the_generated_one() -> None:
    assert WORKFLOW.read_text(encoding="utf-8") == classroom.render(LABS)


@pytest.mark.parametrize("python_version", ["3.11", "3.10"])
def test_workflow_validates_against_the_github_workflow_schema(tmp_path: Path, python_version: str) -> None:
    path = tmp_path / "classroom.yml"
    path.write_text(classroom.render(LABS, python_version), encoding="utf-8")
    result = check_jsonschema(path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_can_fail(tmp_path: Path) -> None:
    workflow = yaml.safe_load(classroom.render(LABS))
    workflow["jobs"]["autograding"]["timeout-minutes"] = "forty"
    path = tmp_path / "broken.yml"
    path.write_text(yaml.safe_dump(workflow), encoding="utf-8")
    result = check_jsonschema(path)
    assert result.returncode != 0 and "timeout-minutes" in result.stdout + result.stderr


def test_one_reporter_runner_per_lab_fed_by_the_grade_step() -> None:
    workflow = yaml.safe_load(classroom.render(LABS))
    steps = workflow["jobs"]["autograding"]["steps"]
    grade = next(s for s in steps if s.get("id") == "grade")
    reporter = next(s for s in steps if "autograding-grading-reporter" in s.get("uses", ""))
    ids = [lab.id for lab in LABS]
    assert reporter["with"]["runners"] == ",".join(ids)
    assert re.fullmatch(r"([a-zA-Z0-9]+,)*[a-zA-Z0-9]+", reporter["with"]["runners"])  # the reporter's own rule
    assert reporter["env"] == {f"{i.upper()}_RESULTS": f"${{{{ steps.grade.outputs.{i} }}}}" for i in ids}
    command = " ".join(grade["run"].split())
    assert 'capstone grade "$GITHUB_WORKSPACE" --format classroom --also markdown="$GITHUB_STEP_SUMMARY"' in command
    assert '--python "$GITHUB_WORKSPACE/.venv/bin/python"' in command
    assert grade["working-directory"] == "${{ runner.temp }}"  # the grader never runs from the student's tree


def test_graders_are_installed_pinned_into_their_own_environment() -> None:
    workflow = yaml.safe_load(classroom.render(LABS))
    install = next(s for s in workflow["jobs"]["autograding"]["steps"] if "graders-venv" in s.get("run", ""))
    assert "python -m venv graders-venv" in install["run"]
    assert f'-r "$GITHUB_WORKSPACE/{classroom.REQUIREMENTS_PATH}"' in install["run"]
    requirement = classroom.requirements().splitlines()[-1]
    assert requirement == f"capstone-kit @ git+{release.kit_repository()}@{release.release_tag()}"
    assert (KIT / "reference_solution" / classroom.REQUIREMENTS_PATH).read_text(encoding="utf-8") == (
        classroom.requirements()
    )


def test_every_action_is_pinned_by_full_commit_sha() -> None:
    for line in classroom.render(LABS).splitlines():
        if "uses:" in line:
            assert re.search(r"uses: [\w.-]+/[\w.-]+@[0-9a-f]{40} # v", line), line


def test_make_grade_uses_the_same_pinned_graders_outside_the_repository() -> None:
    makefile = (KIT / "reference_solution/Makefile").read_text(encoding="utf-8")
    grade = makefile[makefile.index("\ngrade:") :]
    assert classroom.REQUIREMENTS_PATH in grade
    assert "GRADERS_VENV ?= $(HOME)/.cache/capstone-graders" in makefile
    assert '--python "$(CURDIR)/$(BIN)/python"' in grade
