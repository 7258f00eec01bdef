"""The capstone progress tracker: idempotent upserts, safe under concurrent writers."""

import csv
import multiprocessing
from pathlib import Path

import pytest

from common.progress import COLUMNS, ProgressError, read_progress, record_progress


def test_upsert_by_lab(tmp_path: Path) -> None:
    path = tmp_path / "capstone-progress.csv"
    record_progress("lab02", ["api running", "audit middleware"], "in-progress", path=path, date="2026-03-01")
    record_progress("lab01", "scorecard", path=path, date="2026-02-20")
    record_progress("lab02", ["audit middleware graded"], "done", path=path, date="2026-03-02")
    rows = read_progress(path)
    assert [(r.lab, r.status, r.date) for r in rows] == [
        ("lab01", "done", "2026-02-20"),
        ("lab02", "done", "2026-03-02"),
    ]
    with path.open() as fh:
        assert next(csv.reader(fh)) == list(COLUMNS)


@pytest.mark.parametrize(("lab", "status"), [("lab9", "done"), ("lab02", "finished")])
def test_bad_lab_or_status_is_refused(tmp_path: Path, lab: str, status: str) -> None:
    with pytest.raises(ProgressError):
        record_progress(lab, "x", status, path=tmp_path / "p.csv")


def _writer(path: str, lab: str, rounds: int) -> None:
    for i in range(rounds):
        record_progress(lab, f"output {i}", "in-progress" if i < rounds - 1 else "done", path=path)


def test_concurrent_writers_lose_no_row(tmp_path: Path) -> None:
    path = tmp_path / "capstone-progress.csv"
    labs = [f"lab0{i}" for i in range(1, 9)]
    context = multiprocessing.get_context("spawn" if multiprocessing.get_start_method() != "fork" else "fork")
    processes = [context.Process(target=_writer, args=(str(path), lab, 15)) for lab in labs]
    for p in processes:
        p.start()
    for p in processes:
        p.join(timeout=60)
        assert p.exitcode == 0
    rows = read_progress(path)
    assert [r.lab for r in rows] == labs
    assert all(r.status == "done" and r.outputs == "output 14" for r in rows)
