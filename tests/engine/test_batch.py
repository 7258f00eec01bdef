"""grade-batch: every submission gets a row, whatever happens to the others."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from graders.engine import batch
from graders.engine.batch import grade_batch, submission_folders

from .conftest import FIXTURE_LABS, FIXTURES, KIT_ROOT, SUBMISSIONS, scores
from .test_submission_files import BILLION_LAUGHS


def _make_class(root: Path) -> dict[str, str]:
    """20 submissions: good, partial, hostile, empty, broken files, one that makes grading hang."""
    kinds: dict[str, str] = {}
    for i in range(6):
        shutil.copytree(SUBMISSIONS / "good", root / f"good-{i:02d}")
        kinds[f"good-{i:02d}"] = "good"
    for i in range(4):
        shutil.copytree(SUBMISSIONS / "partial", root / f"partial-{i:02d}")
        kinds[f"partial-{i:02d}"] = "partial"
    for i in range(3):
        (root / f"empty-{i:02d}").mkdir()
        kinds[f"empty-{i:02d}"] = "empty"
    for i in range(3):
        d = root / f"bomb-{i:02d}"
        shutil.copytree(SUBMISSIONS / "good", d)
        (d / "config.yaml").write_text(BILLION_LAUGHS)
        kinds[d.name] = "broken"
    for i in range(2):
        d = root / f"latin1 ü-{i:02d}"
        shutil.copytree(SUBMISSIONS / "good", d)
        (d / "notes.md").write_bytes(b"caf\xe9")
        (d / "conftest.py").write_text("raise SystemExit('student conftest')\n")
        kinds[d.name] = "broken"
    d = root / "hangs-grader"
    shutil.copytree(SUBMISSIONS / "good", d)
    (d / "slow_grading").write_text("")
    kinds[d.name] = "timeout"
    (root / ".hidden").mkdir()  # not a submission
    (root / "README.txt").write_text("not a folder")
    return kinds


def test_batch_of_twenty_writes_a_complete_gradebook(tmp_path: Path, cli) -> None:
    classroom = tmp_path / "class"
    classroom.mkdir()
    kinds = _make_class(classroom)
    assert len(kinds) == 19  # plus the one below: 20
    d = classroom / "partial-last"
    shutil.copytree(SUBMISSIONS / "partial", d)
    kinds[d.name] = "partial"

    out = tmp_path / "gradebook.csv"
    result = cli("grade-batch", str(classroom), "--output", str(out), "--labs-dir", str(FIXTURE_LABS),
                 "--jobs", "2", "--timeout", "12")
    assert result.returncode == 0, result.stderr
    rows = {r["submission"]: r for r in csv.DictReader(out.open())}
    assert set(rows) == set(kinds)
    assert "20/20" in result.stderr  # progress, one line per submission when not a terminal
    for name, kind in kinds.items():
        row = rows[name]
        if kind == "timeout":
            assert row["status"] == "timeout" and row["total"] == ""
            assert "longer than 12 s" in row["message"]
            continue
        if kind == "empty":  # no config/plant.yaml: a row that says so, never a grade of nothing
            assert row["status"] == "failed" and row["total"] == ""
            assert "is not a capstone repository (no config/plant.yaml in it)" in row["message"]
            continue
        assert row["status"] == "graded", (name, row)
        total = float(row["total"])
        if kind == "good":
            assert total == 18.0  # everything but the deliberate grader bug
        assert float(row["max_total"]) == 19.0
        assert float(row["lab01"]) + float(row["lab02"]) == pytest.approx(total)
    assert rows["good-00"]["total"] == rows["good-05"]["total"]
    assert float(rows["bomb-00"]["lab01"]) < float(rows["good-00"]["lab01"])


def test_submission_folders_skip_hidden_and_files(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "a").mkdir()
    (tmp_path / ".git").mkdir()
    (tmp_path / "file.txt").write_text("x")
    assert [p.name for p in submission_folders(tmp_path)] == ["a", "b"]


# A stand-in worker: the real one, except that grading the folders named below misbehaves.
STANDIN = """
import os, signal, sys, time
from graders.engine import batch_worker

real_task, real_grade = batch_worker.grade_task, batch_worker._grade

def grade_task(folder, result, settings, labs):
    if folder.name == "kills-worker":
        os._exit(3)
    if folder.name == "worker-hangs":
        time.sleep(600)
    return real_task(folder, result, settings, labs)

def grade(folder, labs, python):  # runs in the forked grading process
    if folder.name == "segfaults":
        os.kill(os.getpid(), signal.SIGSEGV)
    if folder.name == "hogs-memory":
        hog = b"x" * (600 * 2**20)
        time.sleep(30)
    if folder.name == "raises":
        raise RuntimeError("grader bug")
    return real_grade(folder, labs, python)

batch_worker.grade_task, batch_worker._grade = grade_task, grade
batch_worker.main(sys.argv[1:])
"""


def _standin(tmp_path: Path) -> list[str]:
    script = tmp_path / "standin_worker.py"
    script.write_text(STANDIN, encoding="utf-8")
    return [sys.executable, str(script)]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="warm workers fork")
def test_crashes_hangs_and_memory_blowups_cost_their_own_row_only(tmp_path: Path, monkeypatch) -> None:
    classroom = tmp_path / "class"
    for name in ("a-ok", "hogs-memory", "kills-worker", "m-ok", "raises", "segfaults", "worker-hangs", "z-ok"):
        shutil.copytree(SUBMISSIONS / "good", classroom / name)
    monkeypatch.setattr(batch, "WORKER_GRACE_S", 3.0)  # the hung worker is replaced soon
    monkeypatch.setattr(batch, "WORKER_START_S", 60.0)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(FIXTURES), str(KIT_ROOT)]))
    rows = grade_batch(
        classroom, labs_dir=FIXTURE_LABS, lab_ids=["lab01"], jobs=2, timeout_s=20, memory_mb=400,
        worker=_standin(tmp_path),
    )
    got = {r.submission: (r.status, r.message) for r in rows}
    assert [r.submission for r in rows] == sorted(got)
    for ok in ("a-ok", "m-ok", "z-ok"):
        assert got[ok] == ("graded", ""), got
        assert next(r for r in rows if r.submission == ok).report.score == 12.0  # type: ignore[union-attr]
    assert got["hogs-memory"] == ("failed", "grading used more than 400 MB of memory and was stopped")
    assert got["kills-worker"] == ("failed", "the grading worker stopped unexpectedly (exit 3)")
    assert got["raises"] == ("failed", "the grader crashed: RuntimeError: grader bug")
    assert got["segfaults"] == ("failed", "the grading process stopped unexpectedly (signal 11)")
    assert got["worker-hangs"] == ("timeout", "grading took longer than 20 s")


def test_the_report_comes_back_from_the_worker_as_graded(tmp_path: Path, grade, monkeypatch) -> None:
    """The batch's report is the one an in-process grading gives (transferred as GradeReport JSON)."""
    shutil.copytree(SUBMISSIONS / "good", tmp_path / "class" / "one")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(FIXTURES), str(KIT_ROOT)]))
    (row,) = grade_batch(tmp_path / "class", labs_dir=FIXTURE_LABS)
    assert row.status == "graded" and row.report is not None
    direct = grade(tmp_path / "class" / "one")
    assert scores(row.report) == scores(direct)
    assert [c.feedback for lab in row.report.labs for c in lab.checks] == [
        c.feedback for lab in direct.labs for c in lab.checks
    ]


def test_warm_worker_imports_the_real_graders_without_starting_a_thread(tmp_path: Path) -> None:
    """A process with threads must not fork: the warm imports (checkov, MLflow ...) start none."""
    code = (
        "import sys, json\n"
        "from graders.engine import batch_worker as w\n"
        "s = w.Settings(None, None, None, 60.0, 4096, sys.argv[1])\n"
        "labs = w.warm_up(s)\n"
        "print(json.dumps([w.threads_running(), 'checkov.main' in sys.modules, 'mlflow' in sys.modules]))\n"
    )
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=600,
                            cwd=KIT_ROOT)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [1, True, True]


def test_cold_batch_grades_like_the_warm_one(tmp_path: Path, monkeypatch) -> None:
    """--cold (a fresh `capstone grade` per submission, the old way and the benchmarks' baseline)."""
    classroom = tmp_path / "class"
    shutil.copytree(SUBMISSIONS / "good", classroom / "good")
    shutil.copytree(SUBMISSIONS / "partial", classroom / "partial")
    (classroom / "empty").mkdir()
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(FIXTURES), str(KIT_ROOT)]))
    warm, cold = (grade_batch(classroom, labs_dir=FIXTURE_LABS, jobs=2, cold=c) for c in (False, True))
    assert [(r.submission, r.status) for r in cold] == [(r.submission, r.status) for r in warm]
    for w, c in zip(warm, cold, strict=True):
        if w.report is None:
            assert "is not a capstone repository" in w.message and "is not a capstone repository" in c.message
        else:
            assert c.report is not None and scores(c.report) == scores(w.report)
