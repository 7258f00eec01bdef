"""Lab 05 grader, what is particular to it: known mistakes get feedback that says what to fix, and
hostile or broken submissions get messages instead of crashes (full marks for the reference and every
mutant caught: test_lab_grading.py, for every lab)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from graders.engine import mutants
from graders.engine.labs import Lab
from graders.engine.model import CheckResult, LabResult, Status

from .conftest import failure_report

LAB = "lab05"


def _check(result: LabResult, check_id: str) -> CheckResult:
    return next(c for c in result.checks if c.id == check_id)


def test_schema_check_says_actionlint_was_not_run(reference_grade: Callable[[str], LabResult]) -> None:
    from graders.sdk import find_tool

    check = _check(reference_grade(LAB), "lab05.workflows_valid")
    assert check.status is Status.PASSED
    if find_tool("actionlint") is None:
        assert "actionlint is not installed" in check.feedback


# -- feedback a student can act on -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("mutant_id", "check_id", "phrases"),
    [
        ("matrix-unquoted-310", "lab05.python_matrix", ["the number 3.1", 'quote it, "3.10"']),
        ("deploy-skips-scan", "lab05.job_graph", ["does not need the scan job 'scan'"]),
        ("json-key-auth", "lab05.oidc_no_keys", ["credentials_json", ".github/workflows/main.yml:"]),
        ("auth-action-on-main", "lab05.actions_pinned", ["google-github-actions/auth@main", "40-character"]),
        ("trivy-default-exit-code", "lab05.trivy_gates", ['exit-code: "1"', "default exit code is 0"]),
        ("deploy-from-any-branch", "lab05.deploy_gated", ["a pull request into main", "refs/heads/main"]),
        ("deploy-needs-pr-gate", "lab05.deploy_gated", ["would not run for a push to main"]),
        ("ruleset-stale-check-name", "lab05.branch_protection", ["docs-gate", "pr-docs-gate"]),
        ("gate-only-model-card", "lab05.gate_blocks_undocumented", ["prompt-with-card-only", "expected exit 1"]),
        ("gate-crash-passes-empty", "lab05.gate_fails_closed", ["empty-change-set", "printed nothing"]),
        ("gate-job-on-push-only", "lab05.gate_job", ["does not run for pull requests"]),
        ("gate-deleted-card-counts", "lab05.gate_blocks_undocumented", ["model-card-deleted", "expected exit 1"]),
        ("gate-substring-paths", "lab05.gate_passes_unrelated", ["look-alike-paths", "src/copilot/apiary.py"]),
        ("gate-job-name-only", "lab05.gate_job", ["--name-only", "only under its new path", "--name-status"]),
    ],
)
def test_feedback_says_what_to_fix(
    graded_mutant: Callable[[str, str], LabResult], mutant_id: str, check_id: str, phrases: list[str]
) -> None:
    check = _check(graded_mutant(LAB, mutant_id), check_id)  # the grading of test_lab_grading.py, cached
    assert check.status is not Status.PASSED
    for phrase in phrases:
        assert phrase in check.feedback, check.feedback
    assert "lab05_cicd_quality_gates.ipynb" in check.feedback


# -- broken and hostile submissions ----------------------------------------------------------------
def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_empty_repository_gets_feedback_not_errors(tmp_path: Path, grade_lab: Callable[[Path, str], LabResult]) -> None:
    result = grade_lab(tmp_path, LAB)
    assert result.score == 0
    assert all(c.status is Status.FAILED for c in result.checks), failure_report(result)
    assert "main.yml is missing" in _check(result, "lab05.job_graph").feedback
    assert "scripts/check_pr_docs.py is missing" in _check(result, "lab05.gate_blocks_undocumented").feedback


def test_broken_yaml_names_the_file_and_line(
    tmp_path: Path, reference_root: Path, grade_lab: Callable[[Path, str], LabResult]
) -> None:
    root = mutants.copy_reference(reference_root, tmp_path / "broken")
    (root / ".github/workflows/main.yml").write_text("name: ci\non: [push\njobs: {}\n", encoding="utf-8")
    result = grade_lab(root, LAB)
    check = _check(result, "lab05.workflows_valid")
    assert check.status is Status.FAILED
    assert ".github/workflows/main.yml" in check.feedback and "not valid YAML" in check.feedback
    assert _check(result, "lab05.gate_passes_documented").status is Status.PASSED  # the rest is still graded


def test_alias_bomb_workflow_is_refused(tmp_path: Path, grade_lab: Callable[[Path, str], LabResult]) -> None:
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]" for i in range(1, 9)]
    root = _write(tmp_path, {".github/workflows/main.yml": "\n".join(lines) + "\njobs: {x: *a8}\n"})
    started = time.perf_counter()
    result = grade_lab(root, LAB)
    assert time.perf_counter() - started < 60  # a hang would not stop at all
    assert "billion laughs" in _check(result, "lab05.workflows_valid").feedback


def test_gate_that_hangs_is_stopped(tmp_path: Path, reference_root: Path,
                                    grade_lab: Callable[[Path, str], LabResult]) -> None:
    root = mutants.copy_reference(reference_root, tmp_path / "hang")
    (root / "scripts/check_pr_docs.py").write_text("import time\ntime.sleep(600)\n", encoding="utf-8")
    started = time.perf_counter()
    result = grade_lab(root, LAB)
    assert time.perf_counter() - started < 100
    check = _check(result, "lab05.gate_fails_closed")
    assert check.status is not Status.PASSED
    assert "did not finish" in check.feedback


def test_gate_that_always_passes_earns_only_the_pass_cases(
    tmp_path: Path, reference_root: Path, grade_lab: Callable[[Path, str], LabResult]
) -> None:
    root = mutants.copy_reference(reference_root, tmp_path / "yes-man")
    (root / "scripts/check_pr_docs.py").write_text("print('PR docs gate: passed')\n", encoding="utf-8")
    result = grade_lab(root, LAB)
    assert _check(result, "lab05.gate_blocks_undocumented").score == 0
    assert _check(result, "lab05.gate_passes_unrelated").status is Status.PASSED
    assert _check(result, "lab05.gate_fails_closed").status is Status.FAILED


# -- the student's starting point ------------------------------------------------------------------
@pytest.fixture(scope="module")
def starter_result(tmp_path_factory: pytest.TempPathFactory,
                   grade_lab: Callable[[Path, str], LabResult]) -> LabResult:
    """Lab 05 of a starter rendered fresh from the reference (the build strips markers, applies starters)."""
    from graders.instructor import build, render

    dest = tmp_path_factory.mktemp("lab05-starter") / "capstone"
    with render.staged_source(result=build.build()) as source:
        render.render_copier(source, dest, {}, skip_tasks=True)
    return grade_lab(dest, LAB)


def test_starter_fails_every_assignment_check_with_feedback(starter_result: LabResult,
                                                            lab_catalog: dict[str, Lab]) -> None:
    from graders.instructor.verify import assignment_checks

    assigned = set(assignment_checks(lab_catalog[LAB]))
    assert assigned
    for check in starter_result.checks:
        if check.id in assigned:
            assert check.status is Status.FAILED, f"{check.id} passes on the starter"
            assert check.feedback and "lab05_cicd_quality_gates.ipynb" in check.feedback
    assert starter_result.score < 0.15 * starter_result.max_score, failure_report(starter_result)


# -- the PR checklist is read as GitHub renders it ---------------------------------------------------
@pytest.mark.parametrize(
    ("markdown", "items"),
    [
        ("- [ ] model card\n* [x] runbook\n", ["model card", "runbook"]),
        ("1. [ ] model card\n2) [X] runbook\n", ["model card", "runbook"]),  # ordered lists are task lists too
        ("<!--\n- [ ] hidden\n-->\n- [ ] shown\n", ["shown"]),
        ("```\n- [ ] in a code block\n```\n", []),
        ("- [] not a task\n- plain item\n", []),
    ],
)
def test_task_items_follow_github(markdown: str, items: list[str]) -> None:
    from graders.lab05.task_list import task_items

    assert task_items(markdown) == items
