"""Alert rules: valid for promtool, covering the incidents that matter, complete, linked to runbooks."""

from __future__ import annotations

import difflib
from pathlib import Path

from graders.lab04 import alert_kinds, runbooks
from graders.lab04 import alert_scenarios as scenarios
from graders.lab04 import monitoring_files as files
from graders.lab04.alert_kinds import SCENARIOS, expanded_selectors
from graders.lab04.promql import PromQLError, Selector, parse_duration
from graders.lab04.promtool import output_excerpt, run_promtool
from graders.lab04.result_labels import result_labels, template_labels
from graders.lab04.sections import SECTION_ALERTING
from graders.lab04.service_probe import ServiceProbe
from graders.sdk import (
    Checklist,
    GraderError,
    ProcessResult,
    Submission,
    SubmissionFileError,
    check,
    fail,
    require_tool,
)

SEVERITIES = ("page", "warning", "info")
MIN_FOR_S = 60.0


def _require_alerts(submission: Submission, rule_set: files.RuleSet) -> None:
    if not submission.is_file(files.RULES):
        fail(f"{files.RULES} is missing: write the Copilot's alerting rules there", files.RULES)
    if rule_set.problems:
        message, location = rule_set.problems[0]
        fail(message, location)
    if not rule_set.alerts:
        fail(
            f"{files.RULES} defines no alerting rule yet: add groups with rules that have 'alert:', 'expr:', "
            "'for:', 'labels:' and 'annotations:'",
            files.RULES,
        )


@check(6, "Alert rules pass `promtool check rules`", section=SECTION_ALERTING)
def test_rules_promtool_check(
    submission: Submission, rule_set: files.RuleSet, promtool_check: ProcessResult | None
) -> None:
    _require_alerts(submission, rule_set)
    if promtool_check is None:
        require_tool("promtool")
        raise GraderError("promtool could not be run on the rule files")
    if promtool_check.timed_out:
        fail(f"`promtool check rules` did not finish within {promtool_check.duration_s:.0f} s", files.RULES)
    if not promtool_check.ok:
        fail(f"`promtool check rules` rejects the rules; its output:\n{output_excerpt(promtool_check)}", files.RULES)


@check(
    4,
    "Alerts cover error rate, latency burn, groundedness, drift, queue backlog and target down",
    section=SECTION_ALERTING,
)
def test_alert_coverage(submission: Submission, rule_set: files.RuleSet, checklist: Checklist) -> None:
    _require_alerts(submission, rule_set)
    per_alert: list[list[Selector]] = []
    for alert in rule_set.alerts:
        try:
            per_alert.append(expanded_selectors(str(alert.rule.get("expr", "")), rule_set.records))
        except PromQLError:
            continue  # promtool's check reports the syntax error
    for scenario, reads, covered in SCENARIOS:
        checklist.require(
            any(covered(sels) for sels in per_alert),
            f"no alert covers the {scenario}: add one whose expr reads {reads}",
            files.RULES,
        )


@check(7, "Every alert has a `for:`, a severity, a summary, a description and a runbook_url", section=SECTION_ALERTING)
def test_alert_metadata(submission: Submission, rule_set: files.RuleSet, checklist: Checklist) -> None:
    _require_alerts(submission, rule_set)
    for alert in rule_set.alerts:
        waited = parse_duration(alert.rule.get("for", ""))
        checklist.require(
            waited is not None and waited >= MIN_FOR_S,
            f"alert {alert.name} needs 'for:' of at least 1m (got {alert.rule.get('for', 'none')}): without it one "
            "bad scrape or a short spike pages someone",
            alert.location,
        )
        severity = alert.labels.get("severity")
        checklist.require(
            severity in SEVERITIES,
            f"alert {alert.name} needs labels.severity set to page or warning (got {severity!r}); Alertmanager "
            "routes on it",
            alert.location,
        )
        missing = [
            k for k in ("summary", "description", "runbook_url") if not str(alert.annotations.get(k) or "").strip()
        ]
        checklist.require(
            not missing,
            f"alert {alert.name} is missing annotations: {', '.join(missing)}",
            alert.location,
        )
        lost = _labels_not_in_result(alert, rule_set.records)
        checklist.require(not lost, _lost_labels_message(alert, lost), alert.location, weight=3)


def _lost_labels_message(alert: files.Alert, lost: list[str]) -> str:
    if not lost:
        return ""
    names = ", ".join(lost)
    return (
        f"alert {alert.name}'s annotations name {', '.join('$labels.' + x for x in lost)}, but its expr's result has "
        f"no {names} label (an aggregation without `by ({names})` drops it): the notification would read "
        f'"at {lost[0]} " with nothing after it, and Alertmanager, which groups and inhibits by {lost[0]}, would '
        f"merge every {lost[0]}'s incident into one; aggregate with `sum by ({names}) (...)` (on both sides of a ratio)"
    )


def _labels_not_in_result(alert: files.Alert, records: dict[str, str]) -> list[str]:
    """Labels the alert's templates name that its expression's result certainly lacks."""
    known = result_labels(str(alert.rule.get("expr", "")), records)
    if known is None:
        return []
    named = template_labels(" ".join(str(v) for v in [*alert.annotations.values(), *alert.labels.values()]))
    return [label for label in named if label not in known and label not in alert.labels]


@check(6, "Every runbook_url resolves to an existing runbook file and heading", section=SECTION_ALERTING)
def test_runbook_urls_resolve(submission: Submission, rule_set: files.RuleSet, checklist: Checklist) -> None:
    _require_alerts(submission, rule_set)
    cache: dict[str, dict[str, runbooks.Section] | str] = {}
    for alert in rule_set.alerts:
        url = str(alert.annotations.get("runbook_url") or "")
        link = runbooks.resolve_runbook_url(url)
        if isinstance(link, str):
            checklist.require(
                False, f"alert {alert.name}: runbook_url {url!r} cannot be followed: {link}", alert.location
            )
            continue
        if link.file not in cache:
            try:
                cache[link.file] = runbooks.anchors(submission.read_text(link.file))
            except SubmissionFileError as exc:
                cache[link.file] = str(exc)
        headings = cache[link.file]
        if isinstance(headings, str):
            checklist.require(
                False, f"alert {alert.name}: runbook_url points to {link.file}, but {headings}", alert.location
            )
            continue
        close = difflib.get_close_matches(link.anchor, list(headings), n=3)
        hint = f" (closest: {', '.join('#' + c for c in close)})" if close else ""
        checklist.require(
            link.anchor in headings,
            f"alert {alert.name}: {link.file} has no heading with anchor #{link.anchor}{hint}; GitHub makes the anchor "
            "from the heading text (lowercase, spaces to '-', punctuation dropped)",
            alert.location,
        )


def _app_buckets(probe: ServiceProbe) -> tuple[str, ...]:
    """The le values of the app's request-duration histogram, as it exports them (defaults without one)."""
    family = probe.families.get(scenarios.DURATION)
    found = {
        str(s.labels["le"]) for s in getattr(family, "samples", []) if "le" in s.labels and s.labels["le"] != "+Inf"
    }
    return tuple(found) or scenarios.DEFAULT_BUCKETS


SCENARIO_HINTS = {
    "errors-5xx": "divide the rate() of 5xx responses by the rate() of all responses, per plant "
    '(sum by (plant) (rate(copilot_http_requests_total{status=~"5.."}[5m])) / sum by (plant) '
    "(rate(copilot_http_requests_total[5m])) > 0.05); raw counters add up the whole history",
    "errors-4xx-only": 'count only server errors (status=~"5.."): a 404 or a 429 is the client\'s mistake, and '
    "paging on it wakes someone for nothing",
    "errors-1pct": "the notebook's threshold is a 5xx share above 5 %",
    "latency-slow": "read rate() of the _bucket series aggregated by le (histogram_quantile(0.95, sum by (le, "
    "plant) (rate(copilot_http_request_duration_seconds_bucket[5m]))) > 2.5), or a burn rate over rate() of a "
    "bucket and of _count; raw buckets add up the whole history, and an aggregation without le leaves "
    "histogram_quantile nothing to read",
    "latency-fast": "check the threshold and the quantile: fast traffic must not page",
}


@check(
    6,
    "Error-rate and latency alerts fire on a real incident and stay silent otherwise (promtool, grader's scenarios)",
    section=SECTION_ALERTING,
)
def test_alert_expressions_behave(
    submission: Submission,
    rule_set: files.RuleSet,
    staged_monitoring: Path,
    promtool_check: ProcessResult | None,
    service_probe: ServiceProbe,
    checklist: Checklist,
) -> None:
    _require_alerts(submission, rule_set)
    if promtool_check is None:
        require_tool("promtool")
        raise GraderError("promtool could not be run on the rule files")
    if not promtool_check.ok:
        fail("`promtool check rules` rejects the rules (see that check); fix them so they can be run", files.RULES)
    chosen, read = alert_kinds.classify(rule_set)
    if not any(chosen.values()):
        fail("no error-rate or latency alert to run (see the coverage check)", files.RULES)
    errors, latency = chosen[alert_kinds.ERROR_RATE], chosen[alert_kinds.LATENCY]
    incident = scenarios.incident_minutes([*errors.values(), *latency.values()])
    cases = scenarios.error_scenarios(errors, read, incident) if errors else []
    if latency:
        cases += scenarios.latency_scenarios(latency, read, incident, _app_buckets(service_probe))
    written = [scenarios.write(case, rule_set.files, staged_monitoring) for case in cases]
    result = run_promtool(["test", "rules", *(p.name for p in written)], staged_monitoring)
    if result is None:
        require_tool("promtool")
        raise GraderError("promtool could not be run on the grader's scenarios")
    if result.timed_out:
        fail(
            f"`promtool test rules` on the grader's scenarios did not finish in {result.duration_s:.0f} s", files.RULES
        )
    passed = scenarios.passed_files(result.stdout)
    for case, path in zip(cases, written, strict=True):
        names = ", ".join(case.alerts)
        if case.should_fire:
            message = f"{case.story}, yet no {case.kind} alert ({names}) fires after its `for:`"
        else:
            message = f"{case.story}, yet {names} fires"
        checklist.require(path.name in passed, f"{message}: {SCENARIO_HINTS[case.key]}", files.RULES)
