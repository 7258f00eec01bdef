"""What the MLOps readiness scorecard must contain, and what evidence each maturity level needs.

Levels: 0 none, 1 ad hoc, 2 repeatable, 3 defined (automated, with its evidence in the repository),
4 managed (also enforced or measured: CI gates, tests, alerts, records). A dimension claimed at level
3 or 4 must list evidence that shows it; the rules below name that evidence by path pattern and,
where a file name proves nothing on its own, by what the file must contain. Below level 3 the card
must say what happens next (gaps and a next action).
"""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

SCHEMA_FILE = Path(__file__).with_name("schemas") / "scorecard.schema.json"
DIMENSIONS: dict[str, str] = {
    "versioning": "Versioning (code, data, models)",
    "reproducibility": "Reproducibility",
    "experiment_tracking": "Experiment tracking",
    "model_registry": "Model registry",
    "ci_cd": "CI/CD",
    "monitoring": "Monitoring",
    "governance_audit": "Governance and audit",
    "security": "Security",
    "rollback": "Rollback",
}
LEVELS = {0: "none", 1: "ad hoc", 2: "repeatable", 3: "defined", 4: "managed"}
EVIDENCE_LEVEL = 3  # from this level on, the listed evidence must show the practice
MAX_EVIDENCE_FILES = 200


@dataclass(frozen=True)
class Evidence:
    """One piece of evidence: a listed file whose path matches one of ``patterns`` (fnmatch; ``*``
    crosses folders) and whose text matches every regular expression in ``contains``."""

    what: str
    patterns: tuple[str, ...]
    contains: tuple[str, ...] = ()


PY = ("*.py",)
WORKFLOWS = (".github/workflows/*.yml", ".github/workflows/*.yaml")
RULES: dict[str, dict[int, tuple[Evidence, ...]]] = {
    "versioning": {
        3: (
            Evidence("the DVC pipeline (dvc.yaml)", ("dvc.yaml",)),
            Evidence("recorded data versions (a .dvc file or dvc.lock)", ("*.dvc", "dvc.lock")),
            Evidence(
                "code that registers model versions",
                PY,
                (r"create_model_version|register_model|registered_model_name",),
            ),
        ),
    },
    "reproducibility": {
        3: (
            Evidence("the pipeline's parameters (params.yaml)", ("params.yaml",)),
            Evidence("the lock file with the hashes of every stage (dvc.lock)", ("dvc.lock",)),
        ),
        4: (Evidence("a CI workflow that checks the data versions", WORKFLOWS, (r"\bdvc\b|data_version",)),),
    },
    "experiment_tracking": {
        # The fluent API (mlflow.log_params), the client API (MlflowClient.log_batch) and autologging all count.
        3: (
            Evidence(
                "code that logs parameters and metrics to MLflow",
                PY,
                (r"log_params?\(|log_batch\(|autolog\(", r"log_metrics?\(|log_batch\(|autolog\("),
            ),
        ),
        4: (
            Evidence(
                "code that also logs artefacts and the dataset version",
                PY,
                (r"log_(artifacts?|figure|text|dict|image|model)\(|autolog\(", r"datas?et|log_input\("),
            ),
        ),
    },
    "model_registry": {
        3: (
            Evidence(
                "registration code with version tags and the alias",
                PY,
                (
                    r"create_model_version|register_model|registered_model_name",
                    r"tags\s*=|set_model_version_tag",
                    r"set_registered_model_alias",
                ),
            ),
        ),
        4: (Evidence("a release record citing a registered version", ("releases/*.json",), (r'"version"',)),),
    },
    "ci_cd": {
        3: (Evidence("a CI workflow that runs the tests", WORKFLOWS, (r"pytest",)),),
        4: (
            Evidence(
                "deployment gated by approvals or required checks",
                (*WORKFLOWS, ".github/rulesets/*.json"),
                (r"environment:|required_status_checks",),
            ),
        ),
    },
    "monitoring": {
        3: (
            Evidence("alerting rules", ("monitoring/*.yml", "monitoring/*.yaml"), (r"\balert:",)),
            Evidence("a dashboard", ("monitoring/*.json",), (r'"panels"',)),
        ),
        4: (
            Evidence("tests of the alerting rules", ("monitoring/*.yml", "monitoring/*.yaml"), (r"alert_rule_test",)),
            Evidence("a runbook for the alerts", ("docs/runbooks/*.md",)),
        ),
    },
    "governance_audit": {
        3: (
            Evidence("a release record", ("releases/*.json",)),
            Evidence("the ISO 9001 audit checklist", ("docs/iso9001-audit-checklist.md",)),
        ),
        4: (
            Evidence(
                "review rules for every change (CODEOWNERS or a pull request template)",
                (".github/CODEOWNERS", "CODEOWNERS", ".github/pull_request_template.md"),
            ),
        ),
    },
    "security": {
        3: (
            Evidence("a vulnerability scan in CI", WORKFLOWS, (r"trivy|grype|snyk|codeql|bandit",)),
            Evidence("access control in the service", PY, (r"\b(rbac|role|permission)s?\b",)),
        ),
        4: (Evidence("policy as code", ("*.rego",)),),
    },
    "rollback": {
        3: (
            Evidence("a runbook with the rollback steps", ("docs/*.md",), (r"(?i)roll ?back",)),
            Evidence(
                "the mechanism that rolls back (the registry alias or a traffic switch)",
                ("*.py", "*.sh", "*.yaml", "*.yml", "k8s/*"),
                (r"set_registered_model_alias|update-traffic|rollout undo|selector",),
            ),
        ),
        4: (
            Evidence(
                "a test or script that exercises the rollback", ("tests/*.py", "scripts/*"), (r"(?i)rollback|rollout",)
            ),
        ),
    },
}


@cache
def validator() -> Any:
    import jsonschema

    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def required(dimension: str, level: int) -> list[Evidence]:
    """The evidence a dimension needs at ``level`` (the level's own and every lower level's from 3 up)."""
    rules = RULES.get(dimension, {})
    return [e for at in sorted(rules) if EVIDENCE_LEVEL <= at <= level for e in rules[at]]


def matches(path: str, evidence: Evidence) -> bool:
    return any(fnmatch.fnmatchcase(path, pattern) for pattern in evidence.patterns)


def satisfied(evidence: Evidence, files: dict[str, str]) -> bool:
    """Whether one of ``files`` (path -> text) is that evidence."""
    return any(
        matches(path, evidence) and all(re.search(rx, text) for rx in evidence.contains) for path, text in files.items()
    )
