"""Lab 04 fixtures: the parsed monitoring configuration and one run of each expensive step.

promtool runs once per grading run (``promtool_check``, ``promtool_test``) and the student's API is
started once (``service_probe``); every check reads the shared result.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from graders.lab04 import monitoring_files as files
from graders.lab04.promtool import run_promtool
from graders.lab04.service_probe import ServiceProbe, probe_service
from graders.sdk import ProcessResult, Submission, SubmissionFileError, fail, find_tool, run


@pytest.fixture(scope="session")
def prometheus_config(submission: Submission) -> Any:
    """monitoring/prometheus.yml as a mapping, or None when it is missing or unreadable."""
    try:
        return submission.load_yaml(files.PROMETHEUS)
    except SubmissionFileError:
        return None


@pytest.fixture(scope="session")
def rule_set(submission: Submission, prometheus_config: Any) -> files.RuleSet:
    return files.load_rules(submission, files.rule_files(submission, prometheus_config))


@pytest.fixture(scope="session")
def staged_monitoring(submission: Submission, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return files.stage_monitoring(submission, tmp_path_factory.mktemp("lab04-staged"))


@pytest.fixture(scope="session")
def promtool_check(rule_set: files.RuleSet, staged_monitoring: Path) -> ProcessResult | None:
    if not rule_set.files:
        return None
    return run_promtool(["check", "rules", *rule_set.files], staged_monitoring)


@pytest.fixture(scope="session")
def rules_test_doc(submission: Submission) -> Any:
    """The promtool test file as data (SubmissionFileError propagates to the checks that need it)."""
    doc = submission.load_yaml(files.RULES_TEST)
    if not isinstance(doc, dict):
        raise SubmissionFileError(
            f"{files.RULES_TEST} must be a mapping with 'rule_files' and 'tests' (see promtool's unit testing docs)",
            files.RULES_TEST,
        )
    return doc


@pytest.fixture(scope="session")
def promtool_test(rules_test_doc: Any, staged_monitoring: Path) -> ProcessResult | None:
    outside = files.outside_references(
        staged_monitoring / files.RULES_TEST, list(rules_test_doc.get("rule_files") or [])
    )
    if outside:
        fail(
            f"{files.RULES_TEST}: rule_files must be paths inside the repository, relative to the test file "
            f"(not {', '.join(outside)})",
            files.RULES_TEST,
        )
    return run_promtool(["test", "rules", files.RULES_TEST], staged_monitoring)


@pytest.fixture(scope="session")
def service_probe(
    submission: Submission, student_python: str, tmp_path_factory: pytest.TempPathFactory
) -> ServiceProbe:
    return probe_service(submission, student_python, tmp_path_factory.mktemp("lab04-service"))


@pytest.fixture(scope="session")
def amtool_check(staged_monitoring: Path) -> ProcessResult | None:
    """``amtool check-config`` where amtool is installed (structural checks run everywhere)."""
    amtool = find_tool("amtool")
    if amtool is None or not (staged_monitoring / files.ALERTMANAGER).is_file():
        return None
    return run([amtool, "check-config", files.ALERTMANAGER], cwd=staged_monitoring, timeout=30, raise_on_timeout=False)
