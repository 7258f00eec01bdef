"""Lab 01 grader, what is particular to it: the reference's programs fork from the warm interpreter,
known mistakes get feedback that says what to fix, the starter fails the assignment with guidance,
and broken or hostile submissions get messages instead of crashes. The MLflow runs are real (SQLite
stores, the reference's own training code). That the reference scores full marks and every mutant is
caught is tested for every lab by test_lab_grading.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from graders.engine import mutants
from graders.engine.labs import Lab
from graders.engine.model import CheckResult, LabResult, Status
from graders.instructor.build import strip_text
from graders.lab01 import contract, dvc_hashes, scenario
from graders.sdk import Submission
from tests.labs.conftest import KIT_ROOT, failure_report

LAB = "lab01"
GIT_ENV = {**scenario.GIT_ENV, "HOME": "/nonexistent", "PATH": os.environ.get("PATH", "/usr/bin:/bin")}


def _check(result: LabResult, check_id: str) -> CheckResult:
    return next(c for c in result.checks if c.id == check_id)


def _copy(reference_root: Path, dest: Path) -> Path:
    return mutants.copy_reference(reference_root, dest)


def test_the_reference_runs_fork_from_the_warm_interpreter(reference_root: Path, tmp_path: Path) -> None:
    """All four programs fork from the warm interpreter (none falls back to a cold start) and succeed."""
    import sys

    submission = Submission(reference_root)
    played = scenario._play(submission, sys.executable, tmp_path, contract.registry(submission))
    runs = (played.weak_first, played.candidate, played.worse, played.release)
    assert all(run.ok for run in runs), [run.describe() for run in runs if not run.ok]
    assert played.cold_runs == []
    assert played.timings["warm imports"] > 0


# Phrases each mutant's feedback must contain (what was expected, where, how to fix it).
FEEDBACK = {
    "tags-missing-line": ("lab01.version_tags", ["production_line=(missing)", "press-1, weld-2, paint-3"]),
    "plant-code-hard-coded": ("lab01.version_tags", ["plant=RVB01", "expected plant=LKS03", "never hard-code"]),
    "alias-without-threshold": ("lab01.weak_run_not_promoted", ["deliberately weak model", "accuracy >= 0.95"]),
    "alias-ignores-champion": (
        "lab01.worse_run_keeps_champion",
        ["A tie does not beat the champion", "strictly greater"],
    ),
    "metrics-in-separate-run": ("lab01.model_registered", ["in the same run the model is registered from"]),
    "tracking-accuracy-only": ("lab01.dataset_version_logged", ["data/inspection/train", "as DVC recorded it"]),
    "release-self-approved": ("lab01.release_script", ["'Jordan Rivera'", "Grader Quality Engineer"]),
    "stale-dvc-hash": (
        "lab01.dvc_hashes_match",
        ["data/inspection/eval.dvc records data/inspection/eval as", "dvc commit"],
    ),
    "scorecard-monitoring-4-without-files": ("lab01.scorecard_honest", ["monitoring claims level 4", "alerting rules"]),
    "scorecard-evidence-missing-file": ("lab01.scorecard_complete", ["mlops/register.py does not"]),
    "scorecard-not-rendered": ("lab01.scorecard_rendered", ["Rollback at level 1", "python -m mlops.scorecard"]),
    "lifecycle-names-missing-file": ("lab01.lifecycle_diagram", ["mlops/train.py", "docs/lifecycle.md:"]),
    "tie-promotes": (
        "lab01.worse_run_keeps_champion",
        ["--weak --line", "moved the alias to version 2", "A tie does not beat the champion", "`>`, not `>=`"],
    ),
    "line-option-ignored": (
        "lab01.version_tags",
        ["production_line=press-1,weld-2,paint-3; expected production_line=paint-3", "given on the command line"],
    ),
    "release-newest-version": (
        "lab01.release_script",
        ["version 2 is only the newest", "release the version the alias points to"],
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("mutant_id", sorted(FEEDBACK))
def test_mutant_feedback_says_what_to_fix(mutant_id: str, graded_mutant: Callable[[str, str], LabResult]) -> None:
    check_id, phrases = FEEDBACK[mutant_id]
    check = _check(graded_mutant(LAB, mutant_id), check_id)  # the grading of test_lab_grading.py, cached
    assert check.status is not Status.PASSED
    for phrase in phrases:
        assert phrase in check.feedback, check.feedback
    assert "lab01_mlops_fundamentals.ipynb" in check.feedback


# -- the starter ---------------------------------------------------------------------------------------
def _starter(reference_root: Path, lab: Lab, dest: Path) -> Path:
    """The reference with lab01's solution regions stripped and its whole-file starters applied,
    the way `capstone build` makes the student template (without the other labs' changes)."""
    root = _copy(reference_root, dest)
    for path in sorted(p for p in root.rglob("*.py") if p.is_file()):
        text = path.read_text(encoding="utf-8")
        if "BEGIN SOLUTION lab01" in text:
            rel = path.relative_to(root).as_posix()
            path.write_text(strip_text(text, rel, rel, {LAB}), encoding="utf-8")
    for rel, replacement in lab.starters.items():
        target = root / rel
        if replacement is None:
            target.unlink()
        else:
            shutil.copy2(lab.directory / replacement, target)
    return root


@pytest.mark.slow
def test_starter_fails_the_assignment_with_feedback(
    reference_root: Path, lab_catalog: dict[str, Lab], grade_lab: Callable[[Path, str], LabResult], tmp_path: Path
) -> None:
    result = grade_lab(_starter(reference_root, lab_catalog[LAB], tmp_path / "starter"), LAB)
    assert result.score < 0.15 * result.max_score, failure_report(result)
    assignment = [
        c
        for c in result.checks
        if c.id
        in {
            "lab01.model_registered",
            "lab01.version_tags",
            "lab01.champion_meets_threshold",
            "lab01.weak_run_not_promoted",
            "lab01.worse_run_keeps_champion",
            "lab01.release_script",
            "lab01.release_records_committed",
            "lab01.scorecard_complete",
            "lab01.scorecard_honest",
            "lab01.scorecard_rendered",
        }
    ]
    assert all(c.status is Status.FAILED and c.feedback for c in assignment), failure_report(result)
    assert sum(c.score for c in assignment) < 5, failure_report(result)
    # The training code and the tracking stay in the starter: those checks still pass.
    assert _check(result, "lab01.training_run_logged").status is Status.PASSED, failure_report(result)
    registered = _check(result, "lab01.model_registered").feedback
    assert "NotImplementedError: lab01: tag the version with the plant code" in registered
    assert "does not match the scorecard schema" in _check(result, "lab01.scorecard_complete").feedback
    assert "NotImplementedError" in _check(result, "lab01.release_script").feedback


# -- broken and hostile submissions -----------------------------------------------------------------------
def test_empty_repository_gets_feedback_not_errors(tmp_path: Path, grade_lab: Callable[[Path, str], LabResult]) -> None:
    result = grade_lab(tmp_path, LAB)
    assert result.score == 0
    assert all(c.status is Status.FAILED and c.feedback for c in result.checks), failure_report(result)
    assert "params.yaml is missing" in _check(result, "lab01.model_registered").feedback
    assert "dvc.yaml is missing" in _check(result, "lab01.dvc_pipeline").feedback
    assert "docs/mlops-readiness-scorecard.yaml is missing" in _check(result, "lab01.scorecard_complete").feedback


def test_broken_params_yaml_is_named_with_its_line(
    reference_root: Path, grade_lab: Callable[[Path, str], LabResult], tmp_path: Path
) -> None:
    root = _copy(reference_root, tmp_path / "submission")
    (root / "params.yaml").write_text("registry:\n  experiment: [unclosed\n", encoding="utf-8")
    result = grade_lab(root, LAB)
    feedback = _check(result, "lab01.champion_meets_threshold").feedback
    assert "params.yaml:" in feedback and "not valid YAML" in feedback
    assert _check(result, "lab01.champion_meets_threshold").status is Status.FAILED


def test_a_copy_that_is_not_a_git_repository_is_told_so(
    reference_root: Path, grade_lab: Callable[[Path, str], LabResult], tmp_path: Path
) -> None:
    result = grade_lab(_copy(reference_root, tmp_path / "submission"), LAB)
    check = _check(result, "lab01.release_records_committed")
    assert check.status is Status.FAILED
    assert "not a git repository" in check.feedback and "git clone" in check.feedback


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, env=GIT_ENV, check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_release_commits_are_checked_against_the_history(
    reference_root: Path, grade_lab: Callable[[Path, str], LabResult], tmp_path: Path
) -> None:
    root = _copy(reference_root, tmp_path / "submission")
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "-c", "commit.gpgsign=false", "commit", "-q", "-m", "capstone")
    head = _git(root, "rev-parse", "HEAD")
    records = sorted((root / "releases").glob("*.json"))
    good = json.loads(records[0].read_text(encoding="utf-8"))
    good["git"]["commit"] = head
    records[0].write_text(json.dumps(good, indent=2) + "\n", encoding="utf-8")
    fake = dict(good, release_id="rel-20261130-inspection-cnn-v2", git={"commit": "ab" * 20, "dirty": False})
    (root / "releases" / "rel-20261130-inspection-cnn-v2.json").write_text(json.dumps(fake), encoding="utf-8")
    check = _check(grade_lab(root, LAB), "lab01.release_records_committed")
    assert check.status is Status.FAILED
    assert f"cites commit {'ab' * 20}, which is not in this repository's history" in check.feedback
    assert "rel-20261129-inspection-cnn-v1.json" not in check.feedback


def test_data_linked_from_outside_the_repository_is_refused(
    reference_root: Path, grade_lab: Callable[[Path, str], LabResult], tmp_path: Path
) -> None:
    root = _copy(reference_root, tmp_path / "submission")
    secret = tmp_path / "outside.png"
    secret.write_bytes(b"not part of the submission")
    (root / "data" / "inspection" / "eval" / "zz-link.png").symlink_to(secret)
    check = _check(grade_lab(root, LAB), "lab01.dvc_hashes_match")
    assert check.status is Status.FAILED
    assert "zz-link.png is a symbolic link" in check.feedback


# -- DVC hashes --------------------------------------------------------------------------------------------
def test_dir_hash_equals_the_hashes_in_dvcs_own_tests(tmp_path: Path) -> None:
    """Values asserted by DVC's and dvc-data's test suites (tests/func/test_virtual_directory.py and
    tests/hashfile/test_build.py: a folder holding foo and bar, then foo, bar and foobar)."""
    assert dvc_hashes.md5_bytes(b"foo") == "acbd18db4cc2f85cedef654fccc4a4d8"
    folder = tmp_path / "dir"
    folder.mkdir()
    for name in ("foo", "bar"):
        (folder / name).write_text(name, encoding="utf-8")
    measured = dvc_hashes.measure(Submission(tmp_path), "dir")
    assert measured == dvc_hashes.Measured("5ea40360f5b4ec688df672a4db9c17d1.dir", 6, 2)
    (folder / "foobar").write_text("foobar", encoding="utf-8")
    measured = dvc_hashes.measure(Submission(tmp_path), "dir")
    assert measured == dvc_hashes.Measured("a5beca056acbef9e0013347efdc2b751.dir", 12, 3)


def test_nested_folders_are_hashed_with_posix_relative_paths(tmp_path: Path) -> None:
    (tmp_path / "d" / "sub").mkdir(parents=True)
    (tmp_path / "d" / "sub" / "a.txt").write_text("a", encoding="utf-8")
    (tmp_path / "d" / "b.txt").write_text("b", encoding="utf-8")
    expected = dvc_hashes.dir_md5([("sub/a.txt", dvc_hashes.md5_bytes(b"a")), ("b.txt", dvc_hashes.md5_bytes(b"b"))])
    assert dvc_hashes.measure(Submission(tmp_path), "d") == dvc_hashes.Measured(expected, 2, 2)


def test_hashes_agree_with_dvc_data_where_it_is_installed(reference_root: Path) -> None:
    build = pytest.importorskip("dvc_data.hashfile.build", reason="dvc-data is not installed: cross-check not run")
    from dvc_data.hashfile.db import HashFileDB
    from dvc_objects.fs import MemoryFileSystem
    from dvc_objects.fs.local import LocalFileSystem

    odb = HashFileDB(MemoryFileSystem(), "memory://lab01")
    for rel in ("data/inspection/eval", "data/inspection/train", "params.yaml"):
        _, _, obj = build.build(odb, str(reference_root / rel), LocalFileSystem(), "md5", dry_run=True)
        measured = dvc_hashes.measure(Submission(reference_root), rel)
        assert measured is not None and measured.md5 == obj.hash_info.value, rel


def test_recorded_hashes_of_the_reference_come_from_dvc(reference_root: Path) -> None:
    """dvc.lock and data/inspection/eval.dvc were written by DVC 3 itself; their values are the data's."""
    recorded = {r.path: r for r in dvc_hashes.recorded(Submission(reference_root))}
    assert set(recorded) >= {"data/inspection/train", "data/inspection/eval"}
    for rec in recorded.values():
        measured = dvc_hashes.measure(Submission(reference_root), rec.path)
        assert measured is not None and (measured.md5, measured.nfiles) == (rec.md5, rec.nfiles), rec


def test_reference_schemas_are_the_graders_copies(reference_root: Path) -> None:
    for name in ("release-record.schema.json", "scorecard.schema.json"):
        ours = (KIT_ROOT / "graders" / "lab01" / "schemas" / name).read_text(encoding="utf-8")
        assert (reference_root / "mlops" / "schemas" / name).read_text(encoding="utf-8") == ours, name


@pytest.mark.parametrize(
    ("code", "level", "shown"),
    [
        ("mlflow.log_params(p)\nmlflow.log_metrics(m)\n", 3, True),  # the fluent API
        ("client.log_batch(run_id, metrics=m, params=p)\n", 3, True),  # the client API
        ("mlflow.pytorch.autolog()\n", 3, True),
        ("client.log_batch(run_id, metrics=m)\nclient.log_dict(run_id, d, 'x.json')\ndataset = 1\n", 4, True),
        ("print(params, metrics)\n", 3, False),
    ],
)
def test_tracking_evidence_is_any_mlflow_logging_api(code: str, level: int, shown: bool) -> None:
    from graders.lab01 import scorecard_rules

    files = {"mlops/train.py": code}
    met = all(scorecard_rules.satisfied(e, files) for e in scorecard_rules.required("experiment_tracking", level))
    assert met is shown
