"""Alert rules: valid for promtool, covering the incidents that matter, complete, linked to runbooks."""

from __future__ import annotations

import contextlib
import difflib
from collections.abc import Callable

from graders.lab04 import monitoring_files as files
from graders.lab04 import runbooks
from graders.lab04.conftest import SECTION_ALERTING, output_excerpt
from graders.lab04.promql import PromQLError, Selector, parse_duration, selectors
from graders.lab04.result_labels import result_labels, template_labels
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


def _reads(test: Callable[[str, Selector], bool]) -> Callable[[list[Selector]], bool]:
    """A scenario predicate: does any named selector of an alert pass ``test(name, selector)``?"""
    return lambda sels: any(s.name is not None and test(s.name, s) for s in sels)


# The incidents the Copilot's alerts must cover, recognised by the metrics an alert reads.
SCENARIOS: tuple[tuple[str, str, Callable[[list[Selector]], bool]], ...] = (
    (
        "error rate",
        "the 5xx share of copilot_http_requests_total (a matcher on the status label)",
        _reads(lambda name, s: name.endswith("http_requests_total") and any(m[0] == "status" for m in s.matchers)),
    ),
    (
        "latency SLO burn rate",
        "the request duration histogram (copilot_http_request_duration_seconds_bucket)",
        _reads(lambda name, _: "duration_seconds" in name or "latency" in name),
    ),
    ("groundedness drop", "the RAG groundedness metric", _reads(lambda name, _: "groundedness" in name)),
    ("model drift", "the model drift score", _reads(lambda name, _: "drift" in name)),
    ("queue backlog", "the job queue depth", _reads(lambda name, _: "queue" in name)),
    ("target down", "up == 0 for the Copilot's scrape job", _reads(lambda name, _: name == "up")),
)


def expanded_selectors(expr: str, records: dict[str, str], depth: int = 0) -> list[Selector]:
    """Selectors of ``expr``, with recording rules replaced by the selectors of their expressions."""
    found = selectors(expr)
    if depth > 5:
        return found
    result = []
    for sel in found:
        if sel.name in records:
            with contextlib.suppress(PromQLError):  # promtool's check reports the syntax error
                result += expanded_selectors(records[sel.name], records, depth + 1)
        result.append(sel)
    return result


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


@check(8, "Alert rules pass `promtool check rules`", section=SECTION_ALERTING)
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
    5,
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


@check(8, "Every alert has a `for:`, a severity, a summary, a description and a runbook_url", section=SECTION_ALERTING)
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
        f"\"at {lost[0]} \" with nothing after it, and Alertmanager, which groups and inhibits by {lost[0]}, would "
        f"merge every {lost[0]}'s incident into one; aggregate with `sum by ({names}) (...)` (on both sides of a ratio)"
    )


def _labels_not_in_result(alert: files.Alert, records: dict[str, str]) -> list[str]:
    """Labels the alert's templates name that its expression's result certainly lacks."""
    known = result_labels(str(alert.rule.get("expr", "")), records)
    if known is None:
        return []
    named = template_labels(" ".join(str(v) for v in [*alert.annotations.values(), *alert.labels.values()]))
    return [label for label in named if label not in known and label not in alert.labels]


@check(7, "Every runbook_url resolves to an existing runbook file and heading", section=SECTION_ALERTING)
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
