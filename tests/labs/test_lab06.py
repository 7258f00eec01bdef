"""Lab 06 grader, what is particular to it: the starter fails the assignment with guidance, and the
smoke-test check gives nothing to a smoke test that cannot tell a healthy Copilot from a broken one (full
marks for the reference and every mutant caught: test_lab_grading.py, for every lab)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from graders.engine.labs import Lab
from graders.engine.model import LabResult, Status
from graders.instructor.build import strip_text
from tests.labs.conftest import failure_report

LAB = "lab06"
SMOKE_CHECK = "lab06.smoke_test_against_copilot"
# What the lab06 grader reads; the starter is built from these the way `capstone build` does.
GRADED_PATHS = ("deploy/cloudrun", "docs/runbooks/deploy-cloud-run.md", "scripts/smoke_test.py", "config", "data")
ASSIGNMENT = ("lab06.runbook_sections", "lab06.runbook_rollback_command", SMOKE_CHECK)


def _copy_graded(reference_root: Path, dest: Path) -> Path:
    for part in GRADED_PATHS:
        source, target = reference_root / part, dest / part
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy2(source, target)
    return dest


def _starter(reference_root: Path, lab: Lab, dest: Path) -> Path:
    _copy_graded(reference_root, dest)
    for rel, replacement in lab.starters.items():
        path = dest / rel
        if replacement is None:
            path.unlink(missing_ok=True)
        else:
            shutil.copy2(lab.directory / replacement, path)
    for path in sorted(p for part in ("deploy", "docs", "scripts") for p in (dest / part).rglob("*") if p.is_file()):
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
    by_id = {c.id: c for c in result.checks}
    for check_id in ASSIGNMENT:
        assert by_id[check_id].status is Status.FAILED and by_id[check_id].feedback, failure_report(result)
    assert "it never requested /readyz" in by_id[SMOKE_CHECK].feedback
    assert '"Rollback" is still a TODO' in by_id["lab06.runbook_sections"].feedback


def _with_smoke_test(reference_root: Path, dest: Path, source: str) -> Path:
    root = _copy_graded(reference_root, dest)
    (root / "scripts" / "smoke_test.py").write_text(source, encoding="utf-8")
    return root


@pytest.mark.parametrize(
    ("source", "says"),
    [
        ("print('all good')\n", "the smoke test must fail (non-zero exit)"),
        ("import sys\nprint('FAIL everything')\nsys.exit(1)\n", "against the healthy Copilot your smoke test exited 1"),
        ("import time\ntime.sleep(600)\n", "did not finish in time"),
    ],
    ids=["always-exits-0", "always-exits-1", "hangs"],
)
def test_a_smoke_test_that_cannot_tell_healthy_from_broken_scores_zero(
    reference_root: Path,
    grade_lab: Callable[[Path, str], LabResult],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    source: str,
    says: str,
) -> None:
    from graders.lab06 import smoke

    monkeypatch.setattr(smoke, "RUN_TIMEOUT_S", 3.0)
    result = grade_lab(_with_smoke_test(reference_root, tmp_path / "submission", source), LAB)
    [smoke_check] = [c for c in result.checks if c.id == SMOKE_CHECK]
    assert smoke_check.score == 0 and smoke_check.status is Status.FAILED, smoke_check.feedback
    assert says in smoke_check.feedback


def test_step_names_are_part_of_the_credit(
    reference_root: Path, grade_lab: Callable[[Path, str], LabResult], tmp_path: Path
) -> None:
    """Failing without saying which step failed earns the exit-code part only (3 of 4 per fault)."""
    script = (reference_root / "scripts" / "smoke_test.py").read_text(encoding="utf-8")
    quiet = script.replace('print(f"FAIL {step.name}: {exc}", file=out)', 'print("something is wrong", file=out)')
    summary = """print(f"smoke test FAILED: {', '.join(failed)} ({len(failed)} of {len(STEPS)} steps)")"""
    assert summary in quiet
    quiet = quiet.replace(summary, 'print("smoke test found problems")')
    assert quiet != script
    result = grade_lab(_with_smoke_test(reference_root, tmp_path / "submission", quiet), LAB)
    [smoke_check] = [c for c in result.checks if c.id == SMOKE_CHECK]
    assert smoke_check.score == pytest.approx(0.75 * smoke_check.max_score), smoke_check.feedback
    assert "did not say which step failed (print e.g. 'FAIL readiness: ...')" in smoke_check.feedback


def test_missing_and_broken_files_get_feedback_not_crashes(
    reference_root: Path, grade_lab: Callable[[Path, str], LabResult], tmp_path: Path
) -> None:
    root = _copy_graded(reference_root, tmp_path / "submission")
    (root / "deploy" / "cloudrun" / "service-api.yaml").write_text("spec: [unclosed\n", encoding="utf-8")
    (root / "deploy" / "cloudrun" / "deploy.sh").unlink()
    (root / "docs" / "runbooks" / "deploy-cloud-run.md").write_bytes(b"\xff\xfe not utf-8")
    result = grade_lab(root, LAB)
    assert all(c.status is not Status.ERROR for c in result.checks), failure_report(result)
    by_id = {c.id: c for c in result.checks}
    assert "service-api.yaml:2 is not valid YAML" in by_id["lab06.knative_structure"].feedback
    assert "deploy/cloudrun/deploy.sh is missing" in by_id["lab06.deploy_script_lint"].feedback
    assert "is not valid UTF-8" in by_id["lab06.runbook_sections"].feedback
    assert by_id[SMOKE_CHECK].status is Status.PASSED
