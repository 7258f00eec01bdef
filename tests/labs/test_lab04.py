"""Lab 04 grader, what is particular to it: feedback on known mistakes, bad input gets clear feedback
(full marks for the reference and every mutant caught: test_lab_grading.py, for every lab)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from graders.engine import mutants
from graders.engine.model import LabResult, Status
from graders.sdk.tools import find_tool
from tests.labs.conftest import failure_report

LAB = "lab04"
needs_promtool = pytest.mark.skipif(find_tool("promtool") is None, reason="promtool is not installed")


@needs_promtool
@pytest.mark.slow
@pytest.mark.parametrize(
    ("mutant_id", "check_id", "phrases"),
    [
        ("control-case-typo-metric", "lab04.firing_and_silent_cases",
         ["only because it has no data", "copilot_http_request_total", "reads copilot_http_requests_total"]),
        ("error-rate-without-by-plant", "lab04.alert_metadata",
         ["$labels.plant", "no plant label", "sum by (plant)", "copilot-rules.yml:"]),
    ],
)
def test_feedback_explains_the_mistake(
    mutant_id: str, check_id: str, phrases: list[str], graded_mutant: Callable[[str, str], LabResult]
) -> None:
    check = _check(graded_mutant(LAB, mutant_id), check_id)  # the grading of test_lab_grading.py, cached
    assert check.status is Status.FAILED
    for phrase in phrases:
        assert phrase in check.feedback, check.feedback
    assert "lab04_monitoring_logging.ipynb" in check.feedback


def _copy(reference_root: Path, tmp_path: Path) -> Path:
    return mutants.copy_reference(reference_root, tmp_path / "submission")


def _check(result: LabResult, check_id: str):  # type: ignore[no-untyped-def]
    return next(c for c in result.checks if c.id == check_id)


@needs_promtool
def test_promtool_output_reaches_the_feedback(
    reference_root: Path, tmp_path: Path, grade_lab: Callable[[Path, str], LabResult]
) -> None:
    root = _copy(reference_root, tmp_path)
    rules = root / "monitoring/alerts/copilot-rules.yml"
    rules.write_text(
        rules.read_text().replace('expr: up{job=~"copilot-api|copilot-worker"} == 0', "expr: up{job=} == 0")
    )
    check = _check(grade_lab(root, LAB), "lab04.rules_promtool_check")
    assert check.status is Status.FAILED
    assert "promtool check rules" in check.feedback and "copilot-rules.yml" in check.feedback


def test_missing_and_broken_files_get_feedback_naming_them(
    reference_root: Path, tmp_path: Path, grade_lab: Callable[[Path, str], LabResult]
) -> None:
    root = _copy(reference_root, tmp_path)
    (root / "monitoring/alerts/copilot-rules.test.yml").unlink()
    (root / "monitoring/alertmanager/alertmanager.yml").write_text("route: [unclosed\n")
    dashboard = root / "monitoring/grafana/dashboards/copilot-overview.json"
    dashboard.write_text(dashboard.read_text()[:200])
    shutil.rmtree(root / "docs/runbooks")
    result = grade_lab(root, LAB)
    test_check = _check(result, "lab04.promtool_tests_pass")
    assert test_check.status is Status.FAILED and "copilot-rules.test.yml is missing" in test_check.feedback
    am_check = _check(result, "lab04.alertmanager_routing")
    assert "alertmanager.yml" in am_check.feedback and "not valid YAML" in am_check.feedback
    dash = _check(result, "lab04.dashboard_structure")
    assert "copilot-overview.json" in dash.feedback and "not valid JSON" in dash.feedback
    entry = _check(result, "lab04.runbook_entry_sections")
    assert "incident-response.md is missing" in entry.feedback
    assert not [c for c in result.checks if c.status is Status.ERROR], failure_report(result)


def test_hostile_rule_test_cannot_read_files_outside_the_repository(
    reference_root: Path, tmp_path: Path, grade_lab: Callable[[Path, str], LabResult]
) -> None:
    root = _copy(reference_root, tmp_path)
    secret = tmp_path / "secret.yml"
    secret.write_text("groups: [{name: leaked-secret-group, rules: []}]\n")
    test_file = root / "monitoring/alerts/copilot-rules.test.yml"
    test_file.write_text(test_file.read_text().replace("  - ../rules/copilot-recording.yml", f"  - {secret}"))
    check = _check(grade_lab(root, LAB), "lab04.promtool_tests_pass")
    assert check.status is not Status.PASSED
    assert "leaked-secret-group" not in check.feedback


def test_empty_starter_rules_fail_with_guidance(
    reference_root: Path, tmp_path: Path, grade_lab: Callable[[Path, str], LabResult]
) -> None:
    root = _copy(reference_root, tmp_path)
    (root / "monitoring/alerts/copilot-rules.yml").write_text("groups:\n  # TODO(lab04): write the rules\n  []\n")
    (root / "monitoring/alerts/copilot-rules.test.yml").unlink()
    result = grade_lab(root, LAB)
    for check_id in ("lab04.rules_promtool_check", "lab04.alert_metadata", "lab04.promtool_tests_pass"):
        assert _check(result, check_id).status is Status.FAILED, check_id
    assert "defines no alerting rule yet" in _check(result, "lab04.alert_metadata").feedback
    assert result.score < 60


def test_missing_promtool_skips_with_the_install_hint(
    reference_root: Path, grade_lab: Callable[[Path, str], LabResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    import graders.lab04.conftest as lab04_fixtures
    from graders.sdk import tools

    monkeypatch.setattr(lab04_fixtures, "find_tool", lambda name: None)
    monkeypatch.setattr(tools, "find_tool", lambda name: None)
    result = grade_lab(reference_root, LAB)
    for check_id in ("lab04.rules_promtool_check", "lab04.promtool_tests_pass"):
        check = _check(result, check_id)
        assert check.status is Status.SKIPPED, check_id
        assert "`promtool` is not installed" in check.feedback and "apt-get install prometheus" in check.feedback
    # The checks that need promtool count in the maximum but earn nothing when skipped; all others pass.
    skipped = [c for c in result.checks if c.status is Status.SKIPPED]
    assert all(c.missing_tool for c in skipped), [c.id for c in skipped if not c.missing_tool]
    assert all(c.status is Status.PASSED for c in result.checks if c not in skipped), failure_report(result)
    assert 0 < result.score == result.max_score - sum(c.max_score for c in skipped) < result.max_score


def test_metrics_with_unbounded_labels_are_refused_by_size(
    reference_root: Path, grade_lab: Callable[[Path, str], LabResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    from graders.lab04 import service_probe

    monkeypatch.setattr(service_probe, "MAX_METRICS_BYTES", 1000)
    check = _check(grade_lab(reference_root, LAB), "lab04.metrics_families")
    assert check.status is Status.FAILED and "GET /metrics returned more than" in check.feedback


def test_amtool_output_is_used_where_amtool_is_installed(
    reference_root: Path, tmp_path: Path, grade_lab: Callable[[Path, str], LabResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    import graders.lab04.conftest as lab04_fixtures

    fake = tmp_path / "amtool"
    fake.write_text("#!/bin/sh\necho \"Checking '$2'  FAILED: unknown receiver field 'msteamsv3_configs'\"\nexit 1\n")
    fake.chmod(0o755)
    real = lab04_fixtures.find_tool
    monkeypatch.setattr(lab04_fixtures, "find_tool", lambda name: str(fake) if name == "amtool" else real(name))
    check = _check(grade_lab(reference_root, LAB), "lab04.alertmanager_routing")
    assert check.status is Status.FAILED
    assert "amtool check-config" in check.feedback and "msteamsv3_configs" in check.feedback
