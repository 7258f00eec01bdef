"""The class-grading workflow and Kubernetes Job: valid, pinned, and grading shards the way
`grade-batch --shard` does."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from graders.batch_class import k8s_job, workflow
from graders.instructor.classroom import apt_packages

from .test_classroom import check_jsonschema

CAPSTONE = [sys.executable, "-m", "graders.cli"]


def _capstone(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CAPSTONE, *args], capture_output=True, text=True, timeout=120, check=False)


def _scripts(text: str) -> list[str]:
    return [step["run"] for job in yaml.safe_load(text)["jobs"].values() for step in job["steps"] if "run" in step]


@pytest.mark.parametrize("shards", [1, 4])
def test_workflow_validates_against_the_github_workflow_schema(tmp_path: Path, shards: int) -> None:
    result = _capstone("gradebook", "workflow", "--org", "acme-school", "--prefix", "capstone-2026", "--shards",
                       str(shards))
    assert result.returncode == 0, result.stderr
    path = tmp_path / "grade-class.yml"
    path.write_text(result.stdout, encoding="utf-8")
    checked = check_jsonschema(path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    data = yaml.safe_load(result.stdout)
    assert data["jobs"]["grade"]["strategy"]["matrix"]["shard"] == list(range(1, shards + 1))
    assert data["env"] == {"ORG": "acme-school", "PREFIX": "capstone-2026", "SHARDS": str(shards)}
    assert data["jobs"]["merge"]["needs"] == "grade"


def test_workflow_clones_grades_merges_and_publishes() -> None:
    text = workflow.render("acme", "capstone", 3)
    scripts = "\n".join(_scripts(text))
    assert 'gh repo list "$ORG"' in scripts and 'gh repo clone "$ORG/$name"' in scripts
    assert "capstone gradebook shard ${{ matrix.shard }}/3" in scripts
    assert "capstone grade-batch submissions --shard ${{ matrix.shard }}/3" in scripts
    assert "capstone gradebook merge gradebook.csv parts/*.csv --expect expected" in scripts
    assert "secrets.CLASS_REPOS_TOKEN" in text
    assert all(p in scripts for p in apt_packages())
    for uses in re.findall(r"uses: (\S+)", text):  # every action pinned by commit
        assert re.fullmatch(r"[\w-]+/[\w-]+@[0-9a-f]{40}", uses), uses
    assert "name: gradebook\n" in text


def test_odd_organisation_and_prefix_names_stay_plain_strings() -> None:
    data = yaml.safe_load(workflow.render('we "quote": yes', "on", 2))
    assert data["env"]["ORG"] == 'we "quote": yes' and data["env"]["PREFIX"] == "on"


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
def test_the_generated_shell_passes_shellcheck(tmp_path: Path) -> None:
    job = yaml.safe_load(k8s_job.render("acme", "capstone", 3))
    scripts = [*_scripts(workflow.render("acme", "capstone", 3)), job["spec"]["template"]["spec"]["containers"][0]
               ["command"][2]]
    for i, script in enumerate(scripts):
        path = tmp_path / f"step{i}.sh"
        path.write_text(script.replace("${{ matrix.shard }}", "1"), encoding="utf-8")
        result = subprocess.run(["shellcheck", "-s", "bash", str(path)], capture_output=True, text=True, check=False)
        assert result.returncode == 0, script + result.stdout


def test_k8s_job_is_a_valid_indexed_job(tmp_path: Path) -> None:
    tool = shutil.which("kubernetes-validate") or str(Path(sys.executable).with_name("kubernetes-validate"))
    if not Path(tool).exists():
        pytest.skip("kubernetes-validate is not installed")
    result = _capstone("gradebook", "k8s-job", "--org", "acme", "--prefix", "Capstone_2026!", "--shards", "5")
    assert result.returncode == 0, result.stderr
    path = tmp_path / "job.yaml"
    path.write_text(result.stdout, encoding="utf-8")
    checked = subprocess.run([tool, "--strict", str(path)], capture_output=True, text=True, timeout=120, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    job = yaml.safe_load(result.stdout)
    assert job["metadata"]["name"] == "grade-capstone-2026"
    spec = job["spec"]
    assert (spec["completionMode"], spec["completions"], spec["parallelism"]) == ("Indexed", 5, 5)
    script = spec["template"]["spec"]["containers"][0]["command"][2]
    assert 'capstone grade-batch submissions --shard "$((JOB_COMPLETION_INDEX + 1))"/5' in script
    assert '--output /results/gradebook-"$((JOB_COMPLETION_INDEX + 1))".csv' in script
    assert "capstone gradebook merge gradebook.csv" in result.stdout  # the follow-up, in the header


def test_shards_must_be_positive() -> None:
    result = _capstone("gradebook", "workflow", "--org", "a", "--prefix", "b", "--shards", "0")
    assert result.returncode == 1 and "--shards and --jobs must be at least 1" in result.stderr


def test_students_programs_run_in_the_courses_environment_not_the_graders() -> None:
    """lab01 trains with torch and lab02 serves with FastAPI: the checks need the students' dependency
    set, installed once per shard from the same release, and passed to grade-batch as --python."""
    for text in (workflow.render("acme", "capstone", 2), k8s_job.render("acme", "capstone", 2)):
        assert "manufacturing-copilot[dev] @ git+" in text and "#subdirectory=reference_solution" in text
        grade_lines = [line for line in text.splitlines() if "capstone grade-batch" in line]
        assert grade_lines and all('--python "$HOME/student-env"/bin/python' in line for line in grade_lines)
