"""Fixtures for the engine tests: small fixture labs and submissions, never the real labs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from graders.engine.labs import Lab, load_catalog
from graders.engine.model import GradeReport
from graders.engine.session import grade_labs

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
FIXTURE_LABS = FIXTURES / "labs"
SUBMISSIONS = FIXTURES / "submissions"
KIT_ROOT = FIXTURES.parents[1]


@pytest.fixture(scope="session")
def fixture_labs() -> list[Lab]:
    return load_catalog(FIXTURE_LABS)


@pytest.fixture(scope="session")
def lab01(fixture_labs: list[Lab]) -> Lab:
    return next(lab for lab in fixture_labs if lab.id == "lab01")


@pytest.fixture
def grade(fixture_labs: list[Lab]) -> Callable[..., GradeReport]:
    def _grade(root: Path, labs: list[str] | None = None) -> GradeReport:
        selected = [lab for lab in fixture_labs if labs is None or lab.id in labs]
        return grade_labs(root, selected)

    return _grade


@pytest.fixture
def submission_copy(tmp_path: Path) -> Callable[[str], Path]:
    """A writable copy of one of the fixture submissions."""

    def _copy(name: str, as_name: str | None = None) -> Path:
        dest = tmp_path / (as_name or name)
        shutil.copytree(SUBMISSIONS / name, dest)
        return dest

    return _copy


@pytest.fixture
def cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run `python -m graders.cli` in a subprocess against the fixture labs."""

    def _run(
        *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        full_env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(FIXTURES), str(KIT_ROOT)]), **(env or {})}
        return subprocess.run(
            [sys.executable, "-m", "graders.cli", *args],
            capture_output=True,
            text=True,
            cwd=cwd or KIT_ROOT,
            env=full_env,
            timeout=120,
        )

    return _run


def scores(report: GradeReport) -> dict[str, tuple[float, str]]:
    """check id -> (score, status): what must not change between equivalent gradings."""
    return {c.id: (c.score, c.status.value) for lab in report.labs for c in lab.checks}


def running(pid: int) -> bool:
    """Whether ``pid`` is a process that still runs (a zombie, killed but not yet reaped, does not)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def still_running_after(pid: int, wait_s: float = 5.0) -> bool:
    """Whether ``pid`` still runs ``wait_s`` after it should have been killed (SIGKILL is asynchronous)."""
    deadline = time.time() + wait_s
    while time.time() < deadline and running(pid):
        time.sleep(0.05)
    return running(pid)
