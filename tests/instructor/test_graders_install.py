"""The graders installed alone, as the Classroom workflow and `make grade` install them, grade like the kit.

The wheel of this checkout goes into a fresh virtual environment with nothing else (pip resolves
``capstone-kit``'s declared dependencies, from pip's cache after `make setup`), and that
environment's ``capstone grade --jobs 2`` grades the reference solution and a freshly rendered
starter with the kit's interpreter as the student's (``--python``, as in Classroom). Its JSON must
equal the kit environment's own grade of the same folder (durations aside, random ids masked; for
the starter, feedback aside): a dependency that only reaches the kit's environment through its dev
extras would turn a lab into an ``error`` here, a missing tool a check into ``skipped``. System
tools (promtool, shellcheck ...) come from the machine, as on a runner.

Slow. Measured on a shared two-core machine, over four runs: building the wheel 3-15 s, the install
45-118 s (pip from its cache, no bytecode compilation), each of the four grades 48-150 s, 4.9 to 9.5
minutes in all; the kit's two grades are answered by the grade cache when `make test` graded them already.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from graders.engine.labs import load_catalog
from graders.engine.session import grade_labs
from graders.instructor import build, render
from graders.reports import json_report

from .conftest import KIT

pytestmark = pytest.mark.slow

TIMINGS: dict[str, float] = {}


def _env() -> dict[str, str]:
    """This environment without anything that would let the new one import the kit's checkout or tools."""
    kit_bin = str(Path(sys.executable).parent)
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME") and not k.startswith("PYTEST_")
    }
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p and p != kit_bin)
    return env


def _run(args: list[str], cwd: Path, timeout: int, label: str) -> subprocess.CompletedProcess[str]:
    started = time.perf_counter()
    result = subprocess.run(args, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=timeout, check=False)
    TIMINGS[label] = time.perf_counter() - started
    assert result.returncode == 0, f"{label} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def graders_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A virtual environment holding only the kit's wheel and its declared dependencies."""
    work = tmp_path_factory.mktemp("graders-only")
    _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(work / "dist"), str(KIT)],
        work,
        300,
        "build the wheel",
    )
    (wheel,) = (work / "dist").glob("capstone_kit-*.whl")
    venv = work / "venv"
    # No pip inside it: the kit's pip installs into it (--python), which saves ensurepip's seconds.
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], work, 120, "create the venv")
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(venv / "bin/python"),
            "install",
            "-q",
            "--no-compile",
            str(wheel),
        ],
        work,
        900,
        "pip install the wheel",
    )
    where = _run([str(venv / "bin/python"), "-c", "import graders; print(graders.__file__)"], work, 60, "import")
    assert Path(where.stdout.strip()).is_relative_to(venv), where.stdout  # the wheel's graders, not the checkout's
    yield venv
    print("graders-only install: " + ", ".join(f"{k} {v:.1f} s" for k, v in TIMINGS.items()))


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


def _both_ways(venv: Path, root: Path, out: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(graders-only grade, kit grade) of ``root`` as JSON (the first written to ``out``), durations removed."""
    label = out.stem
    _run(
        [
            str(venv / "bin/capstone"),
            "grade",
            str(root),
            "--exact",
            "--format",
            "json",
            "--output",
            str(out),
            "--jobs",
            "2",
            "--python",
            sys.executable,
        ],
        venv.parent,
        900,
        f"grade the {label} (graders only)",
    )
    alone = json.loads(out.read_text(encoding="utf-8"))
    started = time.perf_counter()
    kit = json.loads(
        json_report.render(grade_labs(root, load_catalog(), python=sys.executable, jobs=2, cacheable=True))
    )
    TIMINGS[f"grade the {label} (kit)"] = time.perf_counter() - started
    return _comparable(alone), _comparable(kit)


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


def test_graders_alone_give_the_reference_full_marks_like_the_kit(graders_env: Path, tmp_path: Path) -> None:
    alone, kit = _both_ways(graders_env, KIT / "reference_solution", tmp_path / "reference.json")
    assert not _differences(alone, kit), "\n".join(_differences(alone, kit))
    assert (alone["score"], alone["max_score"]) == (kit["score"], kit["max_score"]) == (800, 800)


def test_graders_alone_grade_a_fresh_starter_like_the_kit(
    graders_env: Path, starter_build: build.BuildResult, tmp_path: Path
) -> None:
    with render.staged_source(KIT, starter_build) as source:
        root = render.render_copier(source, tmp_path / "starter", {})  # as a student gets it, git included
    alone, kit = _both_ways(graders_env, root, tmp_path / "starter.json")
    # Not the feedback: a starter's unfinished service breaks at a moment that depends on the machine's
    # load (lab02 then reports a lost audit record or a dropped connection), in either environment.
    assert not _differences(alone, kit, feedback=False), "\n".join(_differences(alone, kit, feedback=False))
    assert alone["score"] == kit["score"] < alone["max_score"]
