"""The generated GitHub Classroom workflow: Classroom's own shape, valid, pinned, one reporter runner per
lab, and every system tool a check needs installed."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from graders.engine.labs import load_catalog
from graders.instructor import classroom, release
from graders.sdk.tools import TOOLS, Source

from ..engine.test_tools import tool_calls
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
    workflow["jobs"][classroom.JOB_ID]["timeout-minutes"] = "forty"
    path = tmp_path / "broken.yml"
    path.write_text(yaml.safe_dump(workflow), encoding="utf-8")
    result = check_jsonschema(path)
    assert result.returncode != 0 and "timeout-minutes" in result.stdout + result.stderr


def test_one_reporter_runner_per_lab_fed_by_the_grade_step() -> None:
    workflow = yaml.safe_load(classroom.render(LABS))
    steps = workflow["jobs"][classroom.JOB_ID]["steps"]
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
    install = next(s for s in workflow["jobs"][classroom.JOB_ID]["steps"] if "graders-venv" in s.get("run", ""))
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


def test_workflow_has_the_shape_classroom_records_points_from() -> None:
    workflow = yaml.safe_load(classroom.render(LABS))
    assert workflow["name"] == "Autograding Tests"
    assert workflow["on"] == ["push", "repository_dispatch"]  # quoted 'on': a YAML 1.1 loader reads it as a key
    assert workflow["permissions"] == {"checks": "write", "actions": "read", "contents": "read"}
    assert list(workflow["jobs"]) == ["run-autograding-tests"]  # one job, by this id, without a display name
    job = workflow["jobs"]["run-autograding-tests"]
    assert "name" not in job and job["runs-on"] == "ubuntu-latest"
    assert job["if"] == "github.actor != 'github-classroom[bot]'"
    assert job["steps"][0]["name"] == "Checkout code" and job["steps"][0]["uses"].startswith("actions/checkout@")
    reporter = job["steps"][-1]
    assert reporter["name"] == "Autograding Reporter"
    assert reporter["uses"].startswith("classroom-resources/autograding-grading-reporter@")
    # The reporter reads process.env[`${runner.trim().toUpperCase()}_RESULTS`] for each runner id.
    runners = reporter["with"]["runners"].split(",")
    assert set(reporter["env"]) == {f"{runner.upper()}_RESULTS" for runner in runners}


def apt_installed(workflow_text: str) -> list[str]:
    """Packages the workflow installs with ``sudo apt-get install`` after a ``sudo apt-get update``."""
    steps = yaml.safe_load(workflow_text)["jobs"][classroom.JOB_ID]["steps"]
    packages: list[str] = []
    for step in steps:
        lines = [line.strip() for line in str(step.get("run", "")).splitlines()]
        installs = [i for i, line in enumerate(lines) if line.startswith("sudo apt-get install ")]
        for index in installs:
            assert "sudo apt-get update" in lines[:index], f"apt-get install before apt-get update: {lines}"
            words = lines[index].split()[3:]
            assert words[:2] == ["-y", "--no-install-recommends"], lines[index]
            packages += words[2:]
    return packages


def tools_not_installed(workflow_text: str) -> list[str]:
    """Every Debian-packaged tool a check looks up that the workflow does not install, with its package."""
    installed = set(apt_installed(workflow_text))
    needed = [TOOLS[name] for name in tool_calls() if name in TOOLS]
    return [
        f"{tool.name} (Debian package {tool.package})"
        for tool in needed
        if tool.source is Source.DEBIAN and not tool.optional and tool.package not in installed
    ]


def test_workflow_installs_every_system_tool_a_check_needs() -> None:
    text = classroom.render(LABS)
    assert "prometheus" in apt_installed(text)  # promtool: lab04's rule checks
    assert tools_not_installed(text) == []


def test_the_system_tool_check_fails_when_the_workflow_misses_a_package() -> None:
    text = classroom.render(LABS)
    broken = re.sub(r"(apt-get install -y --no-install-recommends.*) prometheus(?=\s)", r"\1", text)
    assert broken != text
    assert tools_not_installed(broken) == ["promtool (Debian package prometheus)"]


def test_optional_tools_are_not_installed() -> None:
    installed = set(apt_installed(classroom.render(LABS)))
    assert "prometheus-alertmanager" not in installed  # its amtool predates the course's receivers
