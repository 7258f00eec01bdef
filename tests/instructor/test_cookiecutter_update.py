"""A cookiecutter student gets the same repository as a copier student: course images, a copier answers
file, a lint and pre-commit hooks that pass offline on day one, and course updates with ``copier update``.

The course repository is released at v0.1.0 and cloned the way a student clones it; cookiecutter renders
from the clone by a relative path (``cookiecutter ./kit --directory template``, from the clone's parent).
The course then releases v0.2.0, the student fetches it and runs ``copier update --trust --vcs-ref v0.2.0
--defaults``: the course change arrives and the student's committed edit stays.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from graders.instructor import build, copier_config, render

from .conftest import KIT
from .test_update import git, release

pytestmark = pytest.mark.slow
PAYLOAD = copier_config.PAYLOAD_DIR
BIN = Path(sys.executable).parent
STUDENT_FILE, STUDENT_LINE = "scripts/check_pr_docs.py", "# student: my own note\n"
COURSE_FILE, COURSE_LINE = "docs/hardening-checklist.md", "\nCourse v0.2.0: a line added at the end.\n"
# The tools the offline hooks run: the repository's .venv/bin, here linked to this environment's.
HOOK_TOOLS = ("check-merge-conflict", "check-added-large-files", "check-toml", "check-json", "ruff")
# Any clone over the network fails at once: git may only use local paths, and HTTP goes nowhere.
OFFLINE = {"GIT_ALLOW_PROTOCOL": "file", "http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9"}


def run(command: list[str], cwd: Path, env: dict[str, str], timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def rendered(starter_build: build.BuildResult, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("cookiecutter-update")
    course = build.stage_template(KIT, base / "course", starter_build)
    git(course, "init", "-q", "-b", "main")
    release(course, "v0.1.0")
    git(base, "clone", "-q", str(course), "kit")
    # A home of its own (cookiecutter's replay files, no git identity) and no PWD: the relative template
    # path is resolved the way it is for any caller, not from the shell's folder.
    env = {k: v for k, v in os.environ.items() if k != "PWD"} | {"HOME": str(base / "home")}
    done = run([sys.executable, "-m", "cookiecutter", "./kit", "--directory", "template", "--no-input"], base, env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (student,) = base.glob("copilot-capstone-*")
    return {"base": base, "course": course, "kit": base / "kit", "student": student, "env": env, "log": done.stdout}


def test_cookiecutter_copies_the_course_images_from_a_relative_template_path(rendered: dict[str, Any]) -> None:
    images = rendered["course"] / "template" / "course-data"
    expected = sorted(p.relative_to(images).as_posix() for p in images.rglob("*") if p.is_file())
    student = rendered["student"]
    assert expected and all((student / rel).is_file() for rel in expected), rendered["log"]
    assert "warning: the course data" not in rendered["log"]


def test_cookiecutter_writes_the_answers_file_copier_reads(rendered: dict[str, Any]) -> None:
    student = rendered["student"]
    recorded = yaml.safe_load((student / render.ANSWERS_FILE).read_text(encoding="utf-8"))
    assert recorded["_commit"] == "v0.1.0"
    assert Path(recorded["_src_path"]) == rendered["kit"].resolve()
    replay = json.loads((rendered["base"] / "home/.cookiecutter_replay/template.json").read_text(encoding="utf-8"))
    used = {k: v for k, v in replay["cookiecutter"].items() if not k.startswith("_")}  # cookiecutter's answers
    assert {k: v for k, v in recorded.items() if not k.startswith("_")} == used
    assert git(student, "status", "--porcelain") == ""  # part of the first commit


def test_the_starter_lints_clean_as_ci_lints_it(rendered: dict[str, Any]) -> None:
    """`ruff check .` (CI's lint job and `make lint`) over every file, notebooks and scripts included."""
    done = run([str(BIN / "ruff"), "check", "--no-cache", "."], rendered["student"], rendered["env"])
    assert done.returncode == 0, done.stdout[-3000:]
    assert any(rendered["student"].glob("notebooks/*.ipynb")) and any(rendered["student"].glob("scripts/*.py"))


def test_pre_commit_hooks_run_without_the_network(rendered: dict[str, Any], tmp_path: Path) -> None:
    student = rendered["student"]
    venv_bin = student / ".venv" / "bin"  # ignored by git, as `make setup` makes it
    venv_bin.mkdir(parents=True, exist_ok=True)
    for tool in HOOK_TOOLS:
        (venv_bin / tool).symlink_to(BIN / tool)
    env = {**rendered["env"], **OFFLINE, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit")}
    done = run([str(BIN / "pre-commit"), "run", "--all-files"], student, env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert done.stdout.count("Passed") == len(HOOK_TOOLS), done.stdout
    assert not list((tmp_path / "pre-commit").glob("repo*"))  # nothing was cloned
    # The same environment stops a hook that pre-commit would clone from GitHub: the check is real.
    remote = tmp_path / "remote-hooks.yaml"
    remote.write_text(
        "repos:\n  - repo: https://github.com/pre-commit/pre-commit-hooks\n    rev: v5.0.0\n"
        "    hooks:\n      - id: check-toml\n",
        encoding="utf-8",
    )
    refused = run([str(BIN / "pre-commit"), "run", "--all-files", "-c", str(remote)], student, env)
    assert refused.returncode != 0 and "not allowed" in refused.stdout + refused.stderr


def test_copier_update_of_a_cookiecutter_render_keeps_the_students_work(rendered: dict[str, Any]) -> None:
    student, course, env = rendered["student"], rendered["course"], rendered["env"]
    with (student / STUDENT_FILE).open("a", encoding="utf-8") as fh:
        fh.write(STUDENT_LINE)
    git(student, "add", "--", STUDENT_FILE)
    git(student, "commit", "-q", "-m", "My work")
    with (course / "template" / PAYLOAD / COURSE_FILE).open("a", encoding="utf-8") as fh:
        fh.write(COURSE_LINE)
    release(course, "v0.2.0")
    git(rendered["kit"], "fetch", "-q", "--tags")
    done = run([sys.executable, "-m", "copier", "update", "--trust", "--vcs-ref", "v0.2.0", "--defaults"], student, env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert (student / STUDENT_FILE).read_text(encoding="utf-8").endswith(STUDENT_LINE)
    assert (student / COURSE_FILE).read_text(encoding="utf-8").endswith(COURSE_LINE)
    assert yaml.safe_load((student / render.ANSWERS_FILE).read_text(encoding="utf-8"))["_commit"] == "v0.2.0"
