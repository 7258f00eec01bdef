"""A course release as students and GitHub Classroom meet it: tag -> copier copy -> `make grade`.

The kit's working tree becomes a course repository (its ``[project.urls] Repository`` naming itself
through ``file://``, as a course's GitHub URL would), built with ``capstone build``, committed and
tagged ``v<version>``. A student copies it with ``copier copy --vcs-ref`` and the reference content
is committed as their work. The repository's own ``make grade`` then installs the graders exactly as
``.github/graders-requirements.txt`` pins them (``pip install`` of ``git+file://...@v<version>``: the
graders alone, in a fresh virtual environment, nothing of the kit's) and grades; then the Classroom
workflow's exact grade command runs with that environment on a freshly copied starter. `make grade`
must give the reference 800/800, and the workflow command's JSON of the starter must equal the kit
environment's grade of the same files in every status and score (durations aside, random ids
masked). A dependency that only reaches the kit's environment through its dev extras would turn a lab
into an ``error`` here, a missing tool a check into ``skipped``. System tools (promtool, shellcheck
...) come from the machine, as on a runner.

`make setup` is taken as done: the student's ``.venv`` is the kit's environment (tests/instructor/
test_setup.py runs a generated repository's real `make setup`). Slow: the install (pip, from its cache
after the kit's own `make setup`) and two graders-only gradings, a few minutes in all. pip skips
byte-compiling (``PIP_COMPILE=0``: Python compiles what the grader imports when it imports it), and the
kit's own grade of the starter's files is made while `make grade` installs, so the two overlap instead
of adding up.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from graders import __version__
from graders.engine.cache import GradeCache, cached_grade
from graders.engine.labs import load_catalog
from graders.instructor import render
from graders.reports import json_report
from graders.reports.formatting import points

from .conftest import KIT

# One worker builds the release and installs the graders once for the module's three tests.
pytestmark = [pytest.mark.slow, pytest.mark.long_running, pytest.mark.xdist_group("course-release")]

TIMINGS: dict[str, float] = {}
KIT_VENV = Path(sys.executable).parent.parent
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Course Team",
    "GIT_AUTHOR_EMAIL": "course@example.com",
    "GIT_COMMITTER_NAME": "Course Team",
    "GIT_COMMITTER_EMAIL": "course@example.com",
}


def _env(**extra: str) -> dict[str, str]:
    """This environment without anything that would let a new one import the kit's checkout or tools."""
    kit_bin = str(Path(sys.executable).parent)
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME") and not k.startswith(("PYTEST_", "CAPSTONE_"))
    }
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p and p != kit_bin)
    return {**env, **GIT_IDENTITY, **extra}


def _start(args: list[str], cwd: Path, log: Path, **env: str) -> subprocess.Popen[bytes]:
    """``args`` started in the background, its output going to ``log`` (a pipe could fill and stall it)."""
    with log.open("wb") as out:
        return subprocess.Popen(
            args, cwd=cwd, env=_env(**env), stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True
        )


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Kill a command from ``_start`` with everything it started (pip, the grading workers)."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _finish(process: subprocess.Popen[bytes], started: float, log: Path, timeout: int, label: str) -> str:
    """Wait for a command from ``_start``; its output, after asserting that it succeeded."""
    try:
        process.wait(timeout=max(1.0, timeout - (time.perf_counter() - started)))
    finally:
        _stop(process)
    TIMINGS[label] = time.perf_counter() - started
    output = log.read_text(encoding="utf-8", errors="replace")
    assert process.returncode == 0, f"{label} failed:\n{output[-6000:]}"
    return output


def _run(args: list[str], cwd: Path, timeout: int, label: str, **env: str) -> subprocess.CompletedProcess[str]:
    started = time.perf_counter()
    result = subprocess.run(
        args,
        cwd=cwd,
        env=_env(**env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    TIMINGS[label] = time.perf_counter() - started
    assert result.returncode == 0, f"{label} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def _copy_worktree(source: Path, dest: Path) -> None:
    """The files git would commit in ``source`` (tracked and untracked-not-ignored), copied to ``dest``."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=source,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for rel in filter(None, listed.split("\0")):
        path = source / rel
        if path.is_file() and not path.is_symlink():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dest / rel)


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The kit's working tree released as ``v<version>`` from a git repository that names itself."""
    course = tmp_path_factory.mktemp("release") / "capstone-kit"
    _copy_worktree(KIT, course)
    pyproject = course / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text(encoding="utf-8") + f'\n[project.urls]\nRepository = "file://{course}"\n', encoding="utf-8"
    )
    _run(["git", "init", "-q"], course, 60, "git init")
    _run([str(Path(sys.executable).parent / "capstone"), "build"], course, 300, "capstone build")
    _run(["git", "add", "--all", "--force"], course, 120, "git add")  # what the kit tracks despite .gitignore
    _run(["git", "commit", "-q", "-m", f"Release v{__version__}"], course, 120, "git commit")
    _run(["git", "tag", f"v{__version__}"], course, 60, "git tag")
    yield course
    print("course release: " + ", ".join(f"{k} {v:.1f} s" for k, v in TIMINGS.items()))


def _copier_copy(course: Path, dest: Path, answers: dict[str, Any]) -> Path:
    data = [
        f"--data={key}={str(value).lower() if isinstance(value, bool) else value}" for key, value in answers.items()
    ]
    _run(
        [
            sys.executable,
            "-m",
            "copier",
            "copy",
            "--trust",
            "--defaults",
            "--vcs-ref",
            f"v{__version__}",
            *data,
            str(course),
            str(dest),
        ],
        dest.parent,
        600,
        f"copier copy to {dest.name}",
    )
    (dest / ".venv").symlink_to(KIT_VENV, target_is_directory=True)  # `make setup` done (see the docstring)
    return dest


@pytest.fixture(scope="module")
def student(course: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A student's repository copied from the release, with the reference content committed as their work."""
    root = _copier_copy(course, tmp_path_factory.mktemp("student") / "my-capstone", render.example_answers())
    _copy_worktree(course / "reference_solution", root)  # as built for the release (its pin included)
    # The reference's release records cite the kit's commits, where a student's cite their own: fetch them.
    _run(["git", "fetch", "-q", "--no-tags", str(KIT), "HEAD"], root, 300, "student git fetch")
    _run(["git", "add", "--all"], root, 120, "student git add")
    _run(["git", "commit", "-q", "-m", "All eight labs"], root, 120, "student git commit")
    return root


@pytest.fixture(scope="module")
def starter(course: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh starter copied from the release, as a student gets it before the first lab."""
    return _copier_copy(course, tmp_path_factory.mktemp("starter") / "starter", render.example_answers())


@dataclass(frozen=True)
class Install:
    """The graders `make grade` installed from the pin, what it printed, and the kit's grades to compare."""

    venv: Path
    make_grade_output: str
    kit_starter: dict[str, Any]


@pytest.fixture(scope="module")
def graders_install(
    student: Path, starter: Path, course: Path, grade_cache: GradeCache, tmp_path_factory: pytest.TempPathFactory
) -> Install:
    """`make grade` in the student's repository (install the graders from the pin, grade); meanwhile the
    kit's environment grades the starter's files, which the workflow command's grade must equal."""
    pin = (student / ".github/graders-requirements.txt").read_text(encoding="utf-8").splitlines()[-1]
    assert pin == f"capstone-kit @ git+file://{course}@v{__version__}"
    venv = tmp_path_factory.mktemp("runner-temp") / "graders-venv"
    log, label = venv.parent / "make-grade.log", "make grade (install the graders, grade)"
    started = time.perf_counter()
    make = _start(
        ["make", "--no-print-directory", "-o", ".venv/.setup-stamp", f"GRADERS_VENV={venv}", "grade"],
        student,
        log,
        PIP_COMPILE="0",
    )
    try:
        kit_starter = _kit_grade(starter, grade_cache)
    except BaseException:
        _stop(make)
        raise
    made = _finish(make, started, log, 1800, label)
    where = _run([str(venv / "bin/python"), "-c", "import graders; print(graders.__file__)"], venv, 60, "import")
    assert Path(where.stdout.strip()).is_relative_to(venv), where.stdout  # the release's graders, not the kit's
    return Install(venv, made, kit_starter)


# Random ids the student's service returns (lab02 quotes a queued job's response, id and status URL,
# the latter cut short): every hex run of five or more, masked on both sides alike.
RANDOM_ID = re.compile(r"(?<![0-9A-Za-z])[0-9a-f]{5,}")
# Checks whose feedback may differ because an optional extra of the kit's dev environment is absent
# from a graders-only install (score and status must still agree).
OPTIONAL_EXTRA_FEEDBACK = {
    "lab08.helm_render": "helm-python-sdk (extra `helm`) renders the chart in the kit; without it the "
    "grader checks the templates' .Values references and says so",
}


def _comparable(data: Any) -> Any:
    """``data`` without durations, random ids masked."""
    if isinstance(data, dict):
        return {k: _comparable(v) for k, v in data.items() if k != "duration_s"}
    if isinstance(data, list):
        return [_comparable(v) for v in data]
    if isinstance(data, str):
        return RANDOM_ID.sub("<id>", data)
    return data


def _kit_grade(root: Path, cache: GradeCache) -> dict[str, Any]:
    started = time.perf_counter()
    report = cached_grade(cache, root, load_catalog(), python=sys.executable, jobs=2)
    TIMINGS[f"grade {root.name} (kit)"] = time.perf_counter() - started
    return _comparable(json.loads(json_report.render(report)))


def _differences(alone: dict[str, Any], kit: dict[str, Any], feedback: bool = True) -> list[str]:
    """Per check, where the two grades disagree (feedback of OPTIONAL_EXTRA_FEEDBACK checks aside).

    ``feedback=False`` compares everything but the feedback and its location: what a missing module
    (an ``error``) or tool (``skipped``, ``missing_tool``) would change.
    """
    kit_checks = {c["id"]: c for lab in kit["labs"] for c in lab["checks"]}
    alone_checks = {c["id"]: c for lab in alone["labs"] for c in lab["checks"]}
    problems = []
    for check_id in sorted(set(kit_checks) | set(alone_checks)):
        a, k = alone_checks.get(check_id), kit_checks.get(check_id)
        if a is not None and k is not None and (not feedback or check_id in OPTIONAL_EXTRA_FEEDBACK):
            a, k = {**a, "feedback": "", "location": None}, {**k, "feedback": "", "location": None}
        if a != k:
            problems.append(f"{check_id}: graders only {a} != kit {k}")
    if [lab["id"] for lab in alone["labs"]] != [lab["id"] for lab in kit["labs"]]:
        problems.append("the labs differ")
    return problems


def test_make_grade_installs_the_release_and_gives_the_reference_full_marks(graders_install: Install) -> None:
    text = graders_install.make_grade_output
    assert re.search(r"Capstone grade for .*: 800(\.0+)? / 800", text), text[-3000:]
    assert "could not run here" not in text


def test_the_classroom_workflow_command_grades_a_fresh_starter_like_the_kit(
    graders_install: Install, starter: Path
) -> None:
    """The workflow's own command line, from the runner's temporary folder, with Classroom's outputs,
    on a starter (work left in every lab, so every output has failing tests to carry): the same
    statuses and scores as the kit's environment gives the same files."""
    temp = graders_install.venv.parent
    outputs, summary, as_json = temp / "github-output", temp / "step-summary.md", temp / "grade.json"
    _run(
        [
            "graders-venv/bin/capstone",
            "grade",
            str(starter),
            "--format",
            "classroom",
            f"--also=markdown={summary}",
            f"--also=json={as_json}",
            "--python",
            str(starter / ".venv/bin/python"),
        ],
        temp,
        1800,
        "the workflow's grade command (starter)",
        GITHUB_OUTPUT=str(outputs),
        GITHUB_STEP_SUMMARY=str(summary),
    )
    alone, kit = _comparable(json.loads(as_json.read_text(encoding="utf-8"))), graders_install.kit_starter
    results = dict(line.split("=", 1) for line in outputs.read_text(encoding="utf-8").splitlines() if "=" in line)
    assert sorted(results) == [f"lab0{n}" for n in range(1, 9)], sorted(results)
    scores = {lab["id"]: lab["score"] for lab in alone["labs"]}
    for lab, encoded in results.items():
        payload = json.loads(base64.b64decode(encoded))
        assert payload["max_score"] == 100, (lab, payload)
        assert sum(t["score"] for t in payload["tests"]) == pytest.approx(scores[lab]), lab
        assert (payload["status"] == "pass") == (scores[lab] == 100), (lab, payload["status"])
    assert f"Capstone grade: {points(alone['score'])} / 800" in summary.read_text(encoding="utf-8")
    # Not the feedback: a starter's unfinished service breaks at a moment that depends on the machine's
    # load (lab02 then reports a lost audit record or a dropped connection), in either environment.
    assert not _differences(alone, kit, feedback=False), "\n".join(_differences(alone, kit, feedback=False))
    assert alone["score"] == kit["score"] < alone["max_score"]
