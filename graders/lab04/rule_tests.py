"""The student's promtool test file read as data: which cases expect which alert to fire or stay silent."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graders.lab04.promql import PromQLError, metric_names, parse_duration


@dataclass
class AlertCases:
    firing: list[str] = field(default_factory=list)  # names of the tests that expect it to fire
    silent: list[str] = field(default_factory=list)
    # For each silent case: the metric names its test's input_series feed, and when it is evaluated (s).
    silent_inputs: list[set[str]] = field(default_factory=list)
    silent_times: list[float | None] = field(default_factory=list)


def _input_metrics(test: dict[str, Any]) -> set[str]:
    """Metric names of a promtool test's input series (series notation is a PromQL selector)."""
    names: set[str] = set()
    for entry in test.get("input_series") or []:
        series = entry.get("series") if isinstance(entry, dict) else None
        if series is None:
            continue
        try:
            names |= metric_names(str(series))
        except PromQLError:
            continue  # promtool's run reports the malformed series
    return names


def alert_cases(doc: dict[str, Any]) -> dict[str, AlertCases]:
    """alertname -> the promtool test cases that expect it firing, and those that expect silence."""
    cases: dict[str, AlertCases] = {}
    for t, test in enumerate(doc.get("tests") or []):
        if not isinstance(test, dict):
            continue
        name = str(test.get("name") or f"tests[{t}]")
        for case in test.get("alert_rule_test") or []:
            if not isinstance(case, dict) or not case.get("alertname"):
                continue
            entry = cases.setdefault(str(case["alertname"]), AlertCases())
            if case.get("exp_alerts"):
                entry.firing.append(name)
            else:
                entry.silent.append(name)
                entry.silent_inputs.append(_input_metrics(test))
                entry.silent_times.append(parse_duration(case.get("eval_time", "")))
    return cases
