"""grade-batch: every submission gets a row, whatever happens to the others."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from graders.engine.batch import grade_batch, submission_folders

from .conftest import FIXTURE_LABS, SUBMISSIONS
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


def test_one_failing_worker_does_not_stop_the_batch(tmp_path: Path, monkeypatch) -> None:
    shutil.copytree(SUBMISSIONS / "good", tmp_path / "ok")
    (tmp_path / "boom").mkdir()
    from graders.engine import batch

    real = batch.grade_one

    def flaky(folder: Path, *args, **kwargs):  # type: ignore[no-untyped-def]
        if folder.name == "boom":
            raise RuntimeError("worker crashed")
        return real(folder, *args, **kwargs)

    monkeypatch.setattr(batch, "grade_one", flaky)
    rows = grade_batch(tmp_path, labs_dir=FIXTURE_LABS, lab_ids=["lab01"])
    assert [(r.submission, r.status) for r in rows] == [("boom", "failed"), ("ok", "graded")]
    assert "worker crashed" in rows[0].message
