"""Where Lab 04's files live in a capstone repository, and reading them for promtool.

promtool reads files itself, so the grader gives it a staged copy of ``monitoring/`` made through
:class:`Submission` (size-capped, no symbolic links leaving the repository): a rule file or test
that names ``/etc/passwd`` or ``../../secrets`` finds nothing there.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from graders.sdk import Submission, SubmissionFileError

MONITORING = "monitoring"
PROMETHEUS = "monitoring/prometheus.yml"
RULES = "monitoring/alerts/copilot-rules.yml"
RULES_TEST = "monitoring/alerts/copilot-rules.test.yml"
ALERTMANAGER = "monitoring/alertmanager/alertmanager.yml"
DASHBOARDS = "monitoring/grafana/dashboards/**/*.json"
DASHBOARD_PROVISIONING = "monitoring/grafana/provisioning/dashboards/*.y*ml"
LOGGING = "monitoring/logging"
RUNBOOKS = "docs/runbooks"
RUNBOOK_ENTRY = "docs/runbooks/incident-response.md"
MAX_STAGED_FILES = 500


@dataclass
class Alert:
    """One alerting rule, with where it is (for file:line feedback)."""

    file: str
    path: list[str | int]
    rule: dict[str, Any]
    line: int | None = None

    @property
    def name(self) -> str:
        return str(self.rule.get("alert"))

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file

    @property
    def labels(self) -> dict[str, Any]:
        value = self.rule.get("labels")
        return value if isinstance(value, dict) else {}

    @property
    def annotations(self) -> dict[str, Any]:
        value = self.rule.get("annotations")
        return value if isinstance(value, dict) else {}


@dataclass
class RuleSet:
    files: list[str]
    alerts: list[Alert] = field(default_factory=list)
    # record name -> expression
    records: dict[str, str] = field(default_factory=dict)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (message, location)


def rule_files(submission: Submission, prometheus_config: Any) -> list[str]:
    """The rule files Prometheus loads (``rule_files`` of prometheus.yml), always with the lab's rules file."""
    found: list[str] = []
    base = PurePosixPath(PROMETHEUS).parent
    if isinstance(prometheus_config, dict):
        for entry in prometheus_config.get("rule_files") or []:
            pattern = str(PurePosixPath(base, str(entry))) if not str(entry).startswith("/") else ""
            if not pattern or ".." in pattern.split("/"):
                continue
            found += submission.glob(pattern) if any(c in pattern for c in "*?[") else [pattern]
    if RULES not in found:
        found.insert(0, RULES)
    return [f for f in dict.fromkeys(found) if submission.is_file(f) and not f.endswith(".test.yml")]


def load_rules(submission: Submission, files: list[str]) -> RuleSet:
    result = RuleSet(files)
    for rel in files:
        try:
            doc = submission.load_yaml(rel)
        except SubmissionFileError as exc:
            result.problems.append((str(exc), rel))
            continue
        groups = doc.get("groups") if isinstance(doc, dict) else None
        if not isinstance(groups, list):
            result.problems.append((f"{rel} needs a top-level 'groups:' list of rule groups", rel))
            continue
        for g, group in enumerate(groups):
            rules = group.get("rules") if isinstance(group, dict) else None
            for r, rule in enumerate(rules if isinstance(rules, list) else []):
                if not isinstance(rule, dict):
                    continue
                path: list[str | int] = ["groups", g, "rules", r]
                if "alert" in rule:
                    alert = Alert(rel, path, rule, submission.yaml_line(rel, [*path, "alert"]))
                    result.alerts.append(alert)
                elif "record" in rule:
                    result.records[str(rule["record"])] = str(rule.get("expr", ""))
    return result


def stage_monitoring(submission: Submission, dest: Path) -> Path:
    """Copy ``monitoring/`` (regular files only, size-capped) to ``dest``; return ``dest``."""
    for count, rel in enumerate(submission.walk(MONITORING), start=1):
        if count > MAX_STAGED_FILES:
            raise SubmissionFileError(
                f"{MONITORING}/ holds more than {MAX_STAGED_FILES} files; keep only configuration there", MONITORING
            )
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(submission.read_bytes(rel))
    return dest


def outside_references(staged_test: Path, entries: list[Any]) -> list[str]:
    """``rule_files`` entries of a promtool test file that are absolute or leave the staged folder."""
    root = staged_test.parents[len(PurePosixPath(RULES_TEST).parts) - 1]
    bad = []
    for entry in entries:
        text = str(entry)
        if os.path.isabs(text):
            bad.append(text)
            continue
        for match in glob.glob(str(staged_test.parent / text)) or [str(staged_test.parent / text)]:
            if Path(os.path.realpath(match)).is_relative_to(Path(os.path.realpath(root))) is False:
                bad.append(text)
                break
    return bad
