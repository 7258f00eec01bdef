"""Nothing in a submission can change its own score, and student programs never see grader secrets."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from graders.sdk import process

from .conftest import FIXTURE_LABS, scores

FORCE_PASS_CONFTEST = '''
import pytest

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    report.outcome = "passed"
    report.longrepr = None

def pytest_collection_modifyitems(items):
    for item in items:
        item.add_marker(pytest.mark.skip(reason="student says so"))
'''

SITECUSTOMIZE = '''
import pathlib
pathlib.Path(__file__).with_name("SITECUSTOMIZE_RAN").write_text("imported")
import graders.engine.model as m
m.CheckResult.__post_init__ = lambda self: setattr(self, "score", self.max_score)
'''


def _plant_hostile_files(root: Path) -> None:
    (root / "conftest.py").write_text(FORCE_PASS_CONFTEST)
    (root / "pytest.ini").write_text("[pytest]\naddopts = -p no:python --co -k nothing\n")
    (root / "pyproject.toml").write_text('[tool.pytest.ini_options]\naddopts = "-x --lf"\n')
    (root / "tox.ini").write_text("[pytest]\naddopts = --maxfail=1\n")
    (root / "sitecustomize.py").write_text(SITECUSTOMIZE)
    plugin_dir = root / "tests"
    plugin_dir.mkdir(exist_ok=True)
    (plugin_dir / "conftest.py").write_text(FORCE_PASS_CONFTEST)


def test_hostile_pytest_files_do_not_change_the_score(grade, submission_copy) -> None:
    plain = submission_copy("partial")
    baseline = scores(grade(plain))
    hostile = submission_copy("partial", as_name="hostile")
    _plant_hostile_files(hostile)
    assert scores(grade(hostile)) == baseline
    assert not (hostile / "SITECUSTOMIZE_RAN").exists()


def test_hostile_files_are_ignored_when_grading_from_inside_the_repo(cli, submission_copy) -> None:
    root = submission_copy("partial")
    baseline = cli("grade", ".", "--labs-dir", str(FIXTURE_LABS), "--format", "json", "--lab", "lab01", cwd=root)
    _plant_hostile_files(root)
    hostile = cli("grade", ".", "--labs-dir", str(FIXTURE_LABS), "--format", "json", "--lab", "lab01", cwd=root)
    assert baseline.returncode == hostile.returncode == 0, hostile.stderr

    def checks(out: str) -> dict[str, float]:
        return {c["id"]: c["score"] for lab in json.loads(out)["labs"] for c in lab["checks"]}

    assert checks(hostile.stdout) == checks(baseline.stdout)
    assert not (root / "SITECUSTOMIZE_RAN").exists()


def test_grader_refuses_to_run_when_it_imported_code_from_the_submission(cli, submission_copy) -> None:
    root = submission_copy("partial")
    (root / "sitecustomize.py").write_text("SUBMITTED = True\n")
    # A grader installed into the student's environment with the repository on its path: refused.
    result = cli(
        "grade", str(root), "--labs-dir", str(FIXTURE_LABS),
        env={"PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", ""), str(FIXTURE_LABS.parent)])},
    )
    assert result.returncode == 1
    assert "imported sitecustomize from the submission" in result.stderr
    assert "own environment" in result.stderr


def test_pytest_environment_variables_are_ignored(grade, submission_copy, monkeypatch) -> None:
    root = submission_copy("partial")
    baseline = scores(grade(root))
    monkeypatch.setenv("PYTEST_ADDOPTS", "-k nothing_matches")
    monkeypatch.setenv("PYTEST_PLUGINS", "does_not_exist_plugin")
    assert scores(grade(root)) == baseline
    assert os.environ["PYTEST_ADDOPTS"] == "-k nothing_matches"  # restored afterwards


def test_student_program_cannot_read_the_graders_environment(grade, submission_copy, monkeypatch) -> None:
    monkeypatch.setenv("CAPSTONE_TEST_SECRET", "s3cr3t-value")
    report = grade(submission_copy("good"), labs=["lab02"])
    assert report.check("lab02.env").status.value == "passed", report.check("lab02.env").feedback


@pytest.mark.parametrize("name", ["GITHUB_TOKEN", "GITHUB_OUTPUT", "GITHUB_ENV", "AWS_SECRET_ACCESS_KEY",
                                  "GOOGLE_APPLICATION_CREDENTIALS", "CAPSTONE_ANY"])
def test_scrubbed_environment_drops_secrets_and_output_files(tmp_path: Path, monkeypatch, name: str) -> None:
    monkeypatch.setenv(name, "leak-me")
    result = process.run([sys.executable, "-c", "import os, json; print(json.dumps(dict(os.environ)))"], cwd=tmp_path)
    env = json.loads(result.stdout)
    assert name not in env
    assert "leak-me" not in result.stdout
    assert env["HOME"] != os.environ.get("HOME")  # a throw-away home, not the grader's


def test_explicitly_passed_variables_reach_the_program(tmp_path: Path) -> None:
    result = process.run([sys.executable, "-c", "import os; print(os.environ['MLFLOW_TRACKING_URI'])"],
                         cwd=tmp_path, env={"MLFLOW_TRACKING_URI": "sqlite:///x.db"})
    assert result.stdout.strip() == "sqlite:///x.db"


def test_memory_limit_stops_a_runaway_program(tmp_path: Path) -> None:
    result = process.run([sys.executable, "-c", "x = bytearray(2_000_000_000)"], cwd=tmp_path, memory_mb=512)
    assert result.returncode != 0
    assert "MemoryError" in result.stderr


@pytest.mark.skipif(not hasattr(process.resource, "prlimit"), reason="no prlimit on this platform")
def test_no_python_code_runs_between_fork_and_exec() -> None:
    """The child of a threaded grader must not run Python code before exec (an import, a lock another
    thread held at fork time or a signal handler fails it with "Exception occurred in preexec_fn"): the
    memory limit is set from the parent, and the runaway test above shows it still holds."""
    assert process._limits(512) is None


def test_output_is_truncated(tmp_path: Path) -> None:
    result = process.run([sys.executable, "-c", "print('x' * 100000)"], cwd=tmp_path, max_output_chars=1000)
    assert len(result.stdout) < 1100
    assert "truncated after 1,000 characters" in result.stdout


def test_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    script = (
        "import subprocess, sys, time; "
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); time.sleep(60)"
    )
    result = process.run([sys.executable, "-c", script], cwd=tmp_path, timeout=1, raise_on_timeout=False)
    assert result.timed_out
    assert result.duration_s < 5
    with pytest.raises(process.StudentProgramTimeout, match="did not finish within 1 s"):
        process.run([sys.executable, "-c", "import time; time.sleep(60)"], cwd=tmp_path, timeout=1)
