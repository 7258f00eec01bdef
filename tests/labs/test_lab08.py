"""Lab 08 grader, what is particular to it: the starter fails the assignment with guidance, the rollout
fixtures follow kubectl's rules, the GPU variant (full marks for the reference and every mutant caught:
test_lab_grading.py, for every lab)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from graders.engine.labs import Lab
from graders.engine.model import CheckResult, LabResult, Status
from graders.instructor.build import KIT_ROOT, strip_text
from graders.instructor.copier_config import load_hook
from graders.lab08 import rollout_cases, variant
from tests.labs.conftest import failure_report

LAB = "lab08"
# What the lab08 grader reads; the starter is built from these the way `capstone build` does.
GRADED_PATHS = ("k8s", "helm", "scripts/rollout_status.py")


def _copy_graded_paths(reference_root: Path, dest: Path) -> Path:
    for part in GRADED_PATHS:
        source, target = reference_root / part, dest / part
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy2(source, target)
    return dest


def _starter(reference_root: Path, lab: Lab, dest: Path) -> Path:
    _copy_graded_paths(reference_root, dest)
    for rel, replacement in lab.starters.items():
        path = dest / rel
        assert replacement is None, "lab08 has no whole-file starters"
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    for path in sorted(p for p in dest.rglob("*") if p.is_file()):
        rel = path.relative_to(dest).as_posix()
        path.write_text(strip_text(path.read_text(encoding="utf-8"), rel, rel, {LAB}), encoding="utf-8")
    return dest


def test_starter_fails_the_assignment_with_feedback(
    reference_root: Path,
    lab_catalog: dict[str, Lab],
    grade_lab: Callable[[Path, str], LabResult],
    tmp_path: Path,
) -> None:
    result = grade_lab(_starter(reference_root, lab_catalog[LAB], tmp_path / "starter"), LAB)
    assert result.score < 0.15 * result.max_score, failure_report(result)
    assignment = [c for c in result.checks if c.id.startswith(("lab08.bluegreen", "lab08.rollout"))]
    assert assignment and all(c.status is Status.FAILED and c.feedback for c in assignment), failure_report(result)
    verdicts = next(c for c in result.checks if c.id == "lab08.rollout_verdicts")
    assert "old-generation-observed.json" in verdicts.feedback


def test_fixture_verdicts_follow_kubectls_rules() -> None:
    """The fixture table itself: every case names the rule it follows and a consistent exit code."""
    codes = {"complete": 0, "progressing": 1, "failed": 2}
    for case in rollout_cases.cases():
        assert case.file.is_file(), case.file
        assert case.rule.startswith(("R1", "R2", "R3", "R4", "R5", "R6", "List")), case.id
        assert codes[case.verdict or ""] == case.exit_code, case.id
    assert {c.verdict for c in rollout_cases.cases()} == set(codes)


@pytest.mark.parametrize(
    ("output", "verdict"),
    [
        ('complete: deployment "a" successfully rolled out\n', "complete"),
        ("complete: a\nprogressing: b\n", "progressing"),
        ("Progressing: waiting\nFAILED: deadline\n", "failed"),
        ("all good\n", None),
    ],
)
def test_verdict_parsing(output: str, verdict: str | None) -> None:
    assert rollout_cases.verdict_of(output) == verdict


def test_the_rollout_script_runs_outside_the_submission(
    reference_root: Path, grade_lab: Callable[[Path, str], LabResult], tmp_path: Path
) -> None:
    """A script that writes where it runs writes into the grader's scratch copy, never the student's repo."""
    repo = _copy_graded_paths(reference_root, tmp_path / "repo")
    script = repo / "scripts/rollout_status.py"
    text = script.read_text(encoding="utf-8")
    script.write_text(
        text.replace("import argparse\n", "import argparse\nopen('scripts/rollout_status.py', 'w').close()\n", 1),
        encoding="utf-8",
    )
    before = script.read_bytes()
    result = grade_lab(repo, LAB)
    assert script.read_bytes() == before, "the grader let the student's script overwrite itself in the submission"
    verdicts = next(c for c in result.checks if c.id == "lab08.rollout_verdicts")
    assert verdicts.status is not Status.PASSED  # the first run truncated the scratch copy: later cases fail


# -- the GPU variant is a template option (gpu_variant): left out, it must not cost points ----------------
def _leave_out_gpu_files(root: Path) -> Path:
    """What the post-generation hook removes for gpu_variant = no (of the paths lab08 reads)."""
    shutil.rmtree(root / "k8s/overlays/gpu")
    for path in root.glob("helm/*/values-gpu.yaml"):
        path.unlink()
    return root


def _answer_gpu_variant(root: Path, gpu: bool) -> None:
    answers = f"# Answers this repository was generated with\n_commit: v0.1.0\ngpu_variant: {str(gpu).lower()}\n"
    (root / variant.ANSWERS_FILE).write_text(answers, encoding="utf-8")


def _gpu_check(result: LabResult) -> CheckResult:
    return next(c for c in result.checks if c.id == "lab08.gpu_variant")


def test_gpu_only_paths_are_the_hooks() -> None:
    post = load_hook(KIT_ROOT / "hooks", "post_gen_project")
    assert variant.GPU_ONLY_PATHS == post.GPU_ONLY_PATHS


@pytest.mark.slow  # grades lab08 (5-13 s)
def test_gpu_variant_left_out_by_the_answer_keeps_full_marks(
    reference_root: Path, grade_lab: Callable[[Path, str], LabResult], tmp_path: Path
) -> None:
    root = _leave_out_gpu_files(_copy_graded_paths(reference_root, tmp_path / "repo"))
    _answer_gpu_variant(root, gpu=False)
    result = grade_lab(root, LAB)
    assert result.score == result.max_score == 100, failure_report(result)


@pytest.mark.slow  # grades lab08 (5-13 s)
def test_gpu_variant_left_out_against_the_answer_fails(
    reference_root: Path, grade_lab: Callable[[Path, str], LabResult], tmp_path: Path
) -> None:
    root = _leave_out_gpu_files(_copy_graded_paths(reference_root, tmp_path / "repo"))
    _answer_gpu_variant(root, gpu=True)
    check = _gpu_check(grade_lab(root, LAB))
    assert check.status is Status.FAILED and check.score == 0
    assert "no GPU variant of the API found" in check.feedback


@pytest.mark.slow  # grades lab08 (5-13 s)
def test_gpu_answer_no_does_not_excuse_a_broken_gpu_overlay(
    reference_root: Path, grade_lab: Callable[[Path, str], LabResult], tmp_path: Path
) -> None:
    """Editing the answers file alone skips nothing: GPU files that are there are graded."""
    root = _copy_graded_paths(reference_root, tmp_path / "repo")
    _answer_gpu_variant(root, gpu=False)
    overlay = root / "k8s/overlays/gpu/api-gpu.yaml"
    text, count = re.subn(r"(?s)      tolerations:\n.*?effect: NoSchedule\n", "", overlay.read_text(encoding="utf-8"))
    assert count == 1
    overlay.write_text(text, encoding="utf-8")
    check = _gpu_check(grade_lab(root, LAB))
    assert check.status is Status.FAILED and check.score < check.max_score
    assert ".copier-answers.yml says gpu_variant: false, but k8s/overlays/gpu is there" in check.feedback
    assert "add a toleration" in check.feedback
