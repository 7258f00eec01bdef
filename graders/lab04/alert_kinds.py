"""Which incident an alert covers, recognised by the metrics its expression reads (recording rules
expanded), for the coverage check and for the scenarios that run the alerts."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from graders.lab04 import monitoring_files as files
from graders.lab04.promql import PromQLError, Selector, selectors

ERROR_RATE = "error rate"
LATENCY = "latency SLO burn rate"


def _reads(test: Callable[[str, Selector], bool]) -> Callable[[list[Selector]], bool]:
    """A scenario predicate: does any named selector of an alert pass ``test(name, selector)``?"""
    return lambda sels: any(s.name is not None and test(s.name, s) for s in sels)


# The incidents the Copilot's alerts must cover, recognised by the metrics an alert reads.
SCENARIOS: tuple[tuple[str, str, Callable[[list[Selector]], bool]], ...] = (
    (
        ERROR_RATE,
        "the 5xx share of copilot_http_requests_total (a matcher on the status label)",
        _reads(lambda name, s: name.endswith("http_requests_total") and any(m[0] == "status" for m in s.matchers)),
    ),
    (
        LATENCY,
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


def classify(
    rule_set: files.RuleSet, kinds: tuple[str, ...] = (ERROR_RATE, LATENCY)
) -> tuple[dict[str, dict[str, object]], list[Selector]]:
    """kind -> {alert name: its ``for:``} for the alerts covering each of ``kinds``, and the selectors they read."""
    chosen: dict[str, dict[str, object]] = {kind: {} for kind in kinds}
    read: list[Selector] = []
    for alert in rule_set.alerts:
        try:
            sels = expanded_selectors(str(alert.rule.get("expr", "")), rule_set.records)
        except PromQLError:
            continue  # promtool's check reports the syntax error
        for scenario, _, covered in SCENARIOS:
            if scenario in chosen and covered(sels):
                chosen[scenario][alert.name] = alert.rule.get("for", "")
                read += sels
    return chosen, read
