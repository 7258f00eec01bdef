"""No student program outlives its grading: not one that detached itself into a session of its own,
and not what was running when a batch killed a grading at its time limit."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from graders.engine import orphans

from .conftest import FIXTURE_LABS, SUBMISSIONS, still_running_after

# The fixture lab runs `python slow.py` in the submission; this one starts a sleeper in a session
# of its own (out of reach of the process-group kill after every run) and exits at once.
DETACHES = """
import subprocess, sys
sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True)
open("LEFT_BEHIND", "w").write(str(sleeper.pid))
print("done")
"""

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs Linux /proc (subreaper)")


def _detaching_submission(root: Path) -> Path:
    shutil.copytree(SUBMISSIONS / "good", root)
    (root / "slow.py").write_text(DETACHES, encoding="utf-8")
    return root


def _left_behind(root: Path) -> int:
    return int((root / "LEFT_BEHIND").read_text())


def test_capstone_grade_stops_a_program_that_detached_itself(tmp_path: Path, cli) -> None:
    root = _detaching_submission(tmp_path / "detaches")
    result = cli("grade", str(root), "--labs-dir", str(FIXTURE_LABS), "--format", "json")
    assert result.returncode == 0, result.stderr
    pid = _left_behind(root)
    assert not still_running_after(pid), f"process {pid}, started by the submission, outlived `capstone grade`"


# Graded after the one above (folder order, one at a time): records whether its sleeper still runs.
OBSERVES = """
pid = open("../detaches-then-hangs/LEFT_BEHIND").read()
try:
    state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
except OSError:
    state = "gone"
open("SAW", "w").write("running" if state not in ("Z", "gone") else "stopped")
print("done")
"""


def test_grade_batch_stops_what_a_killed_grading_left_before_the_next_one(tmp_path: Path, cli) -> None:
    classroom = tmp_path / "class"
    root = _detaching_submission(classroom / "detaches-then-hangs")
    (root / "slow_grading").write_text("")  # the grading then runs past the batch's time limit
    observer = classroom / "observer"
    shutil.copytree(SUBMISSIONS / "good", observer)
    (observer / "slow.py").write_text(OBSERVES, encoding="utf-8")
    out = tmp_path / "gradebook.csv"
    result = cli("grade-batch", str(classroom), "--output", str(out), "--labs-dir", str(FIXTURE_LABS), "--timeout", "8")
    assert result.returncode == 0, result.stderr
    assert "took longer than 8 s" in out.read_text()
    assert (observer / "SAW").read_text() == "stopped"  # gone before the next submission was graded
    pid = _left_behind(root)
    assert not still_running_after(pid), f"process {pid} outlived the grading the batch killed"


def test_sweeping_is_off_unless_the_process_adopted_its_orphans() -> None:
    """A library caller (this test session) never has its own children killed."""
    assert orphans.sweep() == 0
