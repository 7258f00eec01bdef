"""grade-batch --shard K/N and `capstone gradebook merge`: N machines make the gradebook one batch makes."""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from graders.engine.batch import grade_batch, in_shard, parse_shard, shard_of
from graders.reports.gradebook import GradebookError, merge, render

from .conftest import FIXTURE_LABS, FIXTURES, KIT_ROOT, SUBMISSIONS


def _without_durations(text: str) -> list[dict[str, str]]:
    return [{k: v for k, v in row.items() if k != "duration_s"} for row in csv.DictReader(io.StringIO(text))]


def test_shards_merge_into_exactly_the_gradebook_of_one_batch(tmp_path: Path, monkeypatch, cli) -> None:
    classroom = tmp_path / "class"
    for i in range(5):
        shutil.copytree(SUBMISSIONS / "good", classroom / f"student-{i}")
    (classroom / "student-5").mkdir()  # not a capstone: a failed row, in its shard like any other
    (classroom / "student-4" / "config.yaml").write_text("plant: P1\n")  # a different score
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(FIXTURES), str(KIT_ROOT)]))
    whole = render(grade_batch(classroom, labs_dir=FIXTURE_LABS, lab_ids=["lab01"]), ["lab01"])
    parts = []
    for k in (1, 2, 3):
        part = tmp_path / f"part-{k}.csv"
        result = cli("grade-batch", str(classroom), "--output", str(part), "--labs-dir", str(FIXTURE_LABS),
                     "--lab", "lab01", "--shard", f"{k}/3", "--quiet")
        assert result.returncode == 0, result.stderr
        parts.append(part)
    sizes = [len(_without_durations(p.read_text())) for p in parts]
    assert sum(sizes) == 6
    out = tmp_path / "merged.csv"
    result = cli("gradebook", "merge", str(out), *map(str, reversed(parts)), "--expect", str(classroom))
    assert result.returncode == 0, result.stderr
    assert _without_durations(out.read_text()) == _without_durations(whole)
    assert out.read_text().splitlines()[0] == whole.splitlines()[0]


def test_a_shard_is_a_hash_of_the_name_so_adding_submissions_moves_none() -> None:
    names = [f"capstone-student{i}" for i in range(400)]
    before = {name: shard_of(name, 4) for name in names}
    after = {name: shard_of(name, 4) for name in [*names, "capstone-newcomer", "aaa-first"]}
    assert all(after[name] == shard for name, shard in before.items())
    counts = [list(before.values()).count(k) for k in (1, 2, 3, 4)]
    assert min(counts) > 60, counts  # about a quarter each
    folders = [Path(n) for n in names]
    assert sorted(f for k in (1, 2, 3, 4) for f in in_shard(folders, (k, 4))) == sorted(folders)


@pytest.mark.parametrize("text", ["0/3", "4/3", "1/0", "x/2", "2", "1/2/3"])
def test_a_malformed_shard_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="expected K/N"):
        parse_shard(text)


def test_shard_option_is_checked_before_grading(tmp_path: Path, cli) -> None:
    result = cli("grade-batch", str(tmp_path), "--output", str(tmp_path / "g.csv"), "--shard", "5/4")
    assert result.returncode == 1 and "expected K/N with 1 <= K <= N" in result.stderr
    assert not (tmp_path / "g.csv").exists()


HEADER = "submission,lab01,total,max_total,status,duration_s,message\n"


def test_merge_refuses_a_submission_graded_twice() -> None:
    a = HEADER + "alice,1.0,1.0,2.0,graded,0.10,\n"
    b = HEADER + "bob,2.0,2.0,2.0,graded,0.10,\nalice,0.0,0.0,2.0,graded,0.10,\n"
    with pytest.raises(GradebookError, match=r"submission 'alice' appears in both a.csv and b.csv"):
        merge([("a.csv", a), ("b.csv", b)])


def test_merge_refuses_parts_with_other_columns() -> None:
    other = "submission,lab01,lab02,total,max_total,status,duration_s,message\n"
    with pytest.raises(GradebookError, match=r"b.csv: its columns .* differ from a.csv's"):
        merge([("a.csv", HEADER), ("b.csv", other)])


def test_merge_refuses_a_file_that_is_no_gradebook() -> None:
    with pytest.raises(GradebookError, match=r"c\.csv: not a gradebook"):
        merge([("c.csv", "name,score\nx,1\n")])


def test_merge_sorts_like_one_batch_and_checks_the_expected_class() -> None:
    a = HEADER + "carol,1.0,1.0,2.0,graded,0.10,\nalice,1.0,1.0,2.0,graded,0.10,\n"
    b = HEADER + "bob,,,,failed,0.20,\"not a capstone, see README\"\n"
    merged = merge([("a.csv", a), ("b.csv", b)], expect=["alice", "bob", "carol"])
    assert [line.split(",")[0] for line in merged.splitlines()] == ["submission", "alice", "bob", "carol"]
    assert '"not a capstone, see README"' in merged
    with pytest.raises(GradebookError, match="missing from every part: dave; not a submission folder of the class: "
                                             "carol"):
        merge([("a.csv", a), ("b.csv", b)], expect=["alice", "bob", "dave"])


def test_merge_command_reports_errors_without_writing(tmp_path: Path, cli) -> None:
    (tmp_path / "a.csv").write_text(HEADER + "alice,1.0,1.0,2.0,graded,0.10,\n")
    out = tmp_path / "out.csv"
    result = cli("gradebook", "merge", str(out), str(tmp_path / "a.csv"), str(tmp_path / "a.csv"))
    assert result.returncode == 1
    assert "appears in both" in result.stderr and not out.exists()


def test_shard_command_agrees_with_grade_batch() -> None:
    names = [f"repo-{i}" for i in range(30)]
    picked = []
    for k in (1, 2, 3):
        result = subprocess.run(
            [sys.executable, "-m", "graders.cli", "gradebook", "shard", f"{k}/3"],
            input="\n".join(names) + "\n", capture_output=True, text=True, cwd=KIT_ROOT, timeout=120,
        )
        assert result.returncode == 0, result.stderr
        got = result.stdout.split()
        assert got == [n for n in names if shard_of(n, 3) == k]
        picked += got
    assert sorted(picked) == sorted(names)
