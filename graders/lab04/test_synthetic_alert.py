"""The lab assignment: a synthetic alert scenario (promtool unit tests) and its incident runbook entry."""

from __future__ import annotations

import posixpath
from typing import Any

from graders.lab04 import alert_kinds, runbooks
from graders.lab04 import monitoring_files as files
from graders.lab04.promql import parse_duration, unfed_metrics
from graders.lab04.promtool import output_excerpt
from graders.lab04.rule_tests import alert_cases
from graders.lab04.sections import SECTION_LAB
from graders.sdk import (
    Checklist,
    GraderError,
    ProcessResult,
    Submission,
    SubmissionFileError,
    check,
    fail,
    partial,
    require_tool,
)


def _tested_rule_files(doc: dict[str, Any]) -> list[str]:
    base = posixpath.dirname(files.RULES_TEST)
    return [posixpath.normpath(posixpath.join(base, str(e))) for e in doc.get("rule_files") or []]


@check(10, "The synthetic alert scenario passes `promtool test rules`", section=SECTION_LAB, assignment=True)
def test_promtool_tests_pass(
    submission: Submission, rules_test_doc: dict[str, Any], promtool_test: ProcessResult | None
) -> None:
    if files.RULES not in _tested_rule_files(rules_test_doc):
        fail(
            f"{files.RULES_TEST} must test your alert rules: list copilot-rules.yml under 'rule_files' "
            "(paths are relative to the test file)",
            files.RULES_TEST,
        )
    if not rules_test_doc.get("tests"):
        fail(
            f"{files.RULES_TEST} has no 'tests:' yet: add a test with input_series and alert_rule_test",
            files.RULES_TEST,
        )
    if promtool_test is None:
        require_tool("promtool")
        raise GraderError("promtool could not be run on the rule tests")
    if promtool_test.timed_out:
        fail(
            f"`promtool test rules` did not finish within {promtool_test.duration_s:.0f} s; use fewer, shorter "
            "input series (a few dozen samples each is enough)",
            files.RULES_TEST,
        )
    if not promtool_test.ok:
        fail(
            f"`promtool test rules {files.RULES_TEST}` fails; its output:\n{output_excerpt(promtool_test, 40)}",
            files.RULES_TEST,
        )


@check(
    6,
    "The scenario has a case where the alert fires and a control case where it stays silent",
    section=SECTION_LAB,
    assignment=True,
)
def test_firing_and_silent_cases(rules_test_doc: dict[str, Any], rule_set: files.RuleSet, checklist: Checklist) -> None:
    defined = {a.name for a in rule_set.alerts}
    cases = alert_cases(rules_test_doc)
    if not cases:
        fail(
            f"{files.RULES_TEST} has no alert_rule_test yet: write a case where your alert fires and a control "
            "case where it stays silent",
            files.RULES_TEST,
        )
    unknown = sorted(set(cases) - defined)
    checklist.require(
        not unknown,
        f"the tests name alerts that {files.RULES} does not define: {', '.join(unknown)}",
        files.RULES_TEST,
    )
    firing = {name for name, c in cases.items() if c.firing and name in defined}
    checklist.require(
        bool(firing),
        "no test case expects an alert to fire: give one alert_rule_test an exp_alerts list with the labels and "
        "annotations of the firing alert, at an eval_time after its 'for:' has elapsed",
        files.RULES_TEST,
    )
    alerts = {a.name: a for a in rule_set.alerts}
    controlled: list[tuple[str, str]] = []
    dataless: list[tuple[str, str, list[str], set[str]]] = []
    early: list[tuple[str, str, float | None, float]] = []
    for name in sorted(firing):
        waited = parse_duration(alerts[name].rule.get("for", "0s")) or 0.0
        silent = zip(cases[name].silent, cases[name].silent_inputs, cases[name].silent_times, strict=True)
        for test_name, fed, at in silent:
            unfed = unfed_metrics(str(alerts[name].rule.get("expr", "")), rule_set.records, fed)
            if unfed:
                dataless.append((name, test_name, unfed, fed))
            elif at is None or at < waited:
                early.append((name, test_name, at, waited))
            else:
                controlled.append((name, test_name))
    checklist.require(
        bool(controlled) or bool(dataless) or bool(early),
        "add a control case: an alert_rule_test with 'exp_alerts: []' for "
        f"{', '.join(sorted(firing)) or 'the alert your scenario fires'} on normal traffic (1 % failures), evaluated "
        "after its 'for:' has elapsed, which proves the alert does not fire when it should not",
        files.RULES_TEST,
    )
    for name, test_name, unfed, fed in dataless:
        checklist.require(
            False,
            f"the control case '{test_name}' for {name} stays silent only because it has no data: {name} reads "
            f"{', '.join(unfed)}, but the test's input_series feed {', '.join(sorted(fed)) or 'nothing'} (check the "
            "metric names). A control case feeds the metrics the alert reads, with values that stay under the "
            "threshold (1 % failures), so it proves the condition, not a missing series",
            files.RULES_TEST,
        )
    # The assignment's scenario is the error rate: its control case must prove the threshold. For other
    # alerts a silent case before 'for:' elapses is a pending check, fine on its own.
    errors = set(alert_kinds.classify(rule_set, (alert_kinds.ERROR_RATE,))[0][alert_kinds.ERROR_RATE])
    scenario = (firing & errors) or firing
    proven = {name for name, _ in controlled}
    for name, test_name, at, waited in early:
        if name in proven or name not in scenario:
            continue  # a pending check before 'for:' elapses is fine beside a real control case
        checklist.require(
            False,
            f"the control case '{test_name}' for {name} is evaluated at {_minutes(at)}, before its 'for: "
            f"{_minutes(waited)}' has elapsed: the alert would be silent there whatever the traffic. Evaluate the "
            "control case after 'for:' has elapsed (normal traffic at 30m, say), so it proves the threshold",
            files.RULES_TEST,
        )


def _minutes(seconds: float | None) -> str:
    return "an unreadable time" if seconds is None else f"{seconds / 60:g}m"


def _entry_problems(submission: Submission, url: str) -> tuple[float, list[str], str]:
    """(fraction of the entry present, what is missing, where) for the runbook entry ``url`` names."""
    link = runbooks.resolve_runbook_url(url)
    if isinstance(link, str):
        return 0.0, [f"its runbook_url cannot be followed: {link}"], ""
    try:
        text = submission.read_text(link.file)
    except SubmissionFileError as exc:
        return 0.0, [str(exc)], link.file
    parts = runbooks.entry_parts(text, link.anchor)
    if parts is None:
        return 0.0, [f"{link.file} has no heading #{link.anchor}"], link.file
    found: dict[str, runbooks.Section] = {}
    for part in parts:
        kind = runbooks.classify(part.title)
        if kind and kind not in found:
            found[kind] = part
    missing = []
    met = 0.0
    for name in runbooks.ENTRY_SECTIONS:
        section = found.get(name)
        if section is None:
            missing.append(f"no {name} section")
        elif runbooks.is_placeholder(section.body):
            missing.append(f"no content under '{section.title}' ({link.file}:{section.line})")
        elif name == "Diagnosis" and not any(len(c.strip()) >= runbooks.MIN_CODE_CHARS for c in section.code):
            missing.append(
                f"no concrete query or command under '{section.title}' ({link.file}:{section.line}): put the "
                "PromQL query, log search or gcloud/kubectl command in a code block"
            )
            met += 0.5
        else:
            met += 1
    return met / len(runbooks.ENTRY_SECTIONS), missing, f"{link.file}#{link.anchor}"


@check(
    8,
    "The incident runbook entry has every section, with concrete diagnosis queries",
    section=SECTION_LAB,
    assignment=True,
)
def test_runbook_entry_sections(submission: Submission, rule_set: files.RuleSet) -> None:
    if not submission.is_file(files.RUNBOOK_ENTRY):
        fail(f"{files.RUNBOOK_ENTRY} is missing: write the incident runbook entry there", files.RUNBOOK_ENTRY)
    try:
        doc = submission.load_yaml(files.RULES_TEST)
        cases = alert_cases(doc) if isinstance(doc, dict) else {}
    except SubmissionFileError:
        cases = {}
    scenario = [a for a in rule_set.alerts if cases.get(a.name) and cases[a.name].firing]
    candidates = scenario or [
        a for a in rule_set.alerts if files.RUNBOOK_ENTRY in str(a.annotations.get("runbook_url") or "")
    ]
    if not candidates:
        fail(
            "no runbook entry to grade: the entry is found through the runbook_url of the alert your synthetic "
            f"scenario fires (or of an alert linking to {files.RUNBOOK_ENTRY}); write that alert and its test first",
            files.RUNBOOK_ENTRY,
        )
    best: tuple[float, list[str], str, str] | None = None
    for alert in candidates:
        fraction, missing, where = _entry_problems(submission, str(alert.annotations.get("runbook_url") or ""))
        if best is None or fraction > best[0]:
            best = (fraction, missing, where, alert.name)
    assert best is not None
    fraction, missing, where, name = best
    if missing:
        partial(
            fraction,
            f"The runbook entry for {name} ({where or 'no file'}) has "
            + "; ".join(missing)
            + ". An entry needs Summary, Severity, Detection, Diagnosis (with queries or commands), Mitigation, "
            "Escalation, Rollback and Post-incident follow-up.",
            where.split("#")[0] or files.RUNBOOK_ENTRY,
        )
