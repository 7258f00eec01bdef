"""Do the student's alerts mean what their names say? promtool runs them on scenarios the grader writes.

An error-rate alert must fire when 10 % of requests fail with a 5xx status and stay silent when 30 %
are 4xx (the client's fault) or 1 % are 5xx; a latency alert must fire when every request is slow and
stay silent when every request is fast. The counters start where a long-running service's stand (three
million healthy requests), so an expression over raw counters or raw histogram buckets (no ``rate()``)
reads that history and not the incident, while a rate over any window, 5 minutes or 6 hours, reads only
the incident; each scenario is evaluated after the alert's ``for:`` has elapsed. Whether an alert fires is
read from the ``ALERTS`` series promtool's rule evaluation writes, so the grader needs no knowledge of
the alert's labels.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from graders.lab04.promql import Selector, parse_duration

REQUESTS = "copilot_http_requests_total"
DURATION = "copilot_http_request_duration_seconds"
HISTORY = 3_000_000  # healthy requests the counters hold when the scenario starts
LEAD_MIN = 10  # quiet minutes before the incident
INCIDENT_RATE = 20  # requests per minute in the incident
MIN_INCIDENT_MIN = 65  # longer than a 1 h window
# Prometheus client's default histogram buckets, as prometheus_client formats them.
DEFAULT_BUCKETS = ("0.005", "0.01", "0.025", "0.05", "0.075", "0.1", "0.25", "0.5", "0.75", "1.0", "2.5", "5.0")
DEFAULT_LABELS = {
    "job": "copilot-api",
    "instance": "api:8080",
    "plant": "rvb01",
    "route": "/v1/ask",
    "method": "POST",
}


@dataclass(frozen=True)
class Scenario:
    key: str
    kind: str  # "error rate" or "latency"
    story: str  # what happens, for feedback
    should_fire: bool
    alerts: tuple[str, ...]
    minutes: int  # evaluation time
    series: tuple[tuple[str, str], ...]  # (series, values) in promtool's notation


def _labels_for(selectors: Iterable[Selector], metric: str, base: dict[str, str]) -> dict[str, str]:
    """Labels that satisfy the alert's equality matchers on ``metric`` (and its regexes where one
    alternative is a plain value), on top of ``base``."""
    labels = dict(base)
    for sel in selectors:
        if sel.name is None or not sel.name.startswith(metric):
            continue
        for label, op, value in sel.matchers:
            if label in ("__name__", "status", "le"):
                continue
            if op == "=":
                labels[label] = value
            elif op == "=~" and not re.fullmatch(value, labels.get(label, "")):
                plain = next((v for v in value.split("|") if re.fullmatch(r"[\w./:-]+", v)), None)
                if plain is not None:
                    labels[label] = plain
    return labels


def _series(name: str, labels: dict[str, str]) -> str:
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}"


def _counter(start: float, incident_per_min: float, incident_min: int) -> str:
    return f"{start:g}+0x{LEAD_MIN} {start:g}+{incident_per_min:g}x{incident_min}"


def incident_minutes(for_values: Sequence[object]) -> int:
    waited = max((parse_duration(v) or 0.0 for v in for_values), default=0.0)
    return int(waited // 60) + MIN_INCIDENT_MIN


def error_scenarios(alerts: dict[str, object], selectors: list[Selector], incident: int) -> list[Scenario]:
    """alerts: error-rate alert name -> its ``for:``."""
    labels = _labels_for(selectors, REQUESTS, DEFAULT_LABELS)
    names = tuple(sorted(alerts))
    end = LEAD_MIN + incident

    def scenario(key: str, story: str, fire: bool, statuses: dict[str, float]) -> Scenario:
        series = tuple(
            (
                _series(REQUESTS, {**labels, "status": status}),
                _counter(HISTORY if status == "200" else 0, per_min, incident),
            )
            for status, per_min in statuses.items()
        )
        return Scenario(key, "error rate", story, fire, names, end, series)

    per_min = INCIDENT_RATE * 5  # 100 requests a minute
    return [
        scenario(
            "errors-5xx",
            "after three million healthy requests, 10 % of requests fail with status 500",
            True,
            {"200": per_min * 0.9, "500": per_min * 0.1},
        ),
        scenario(
            "errors-4xx-only",
            "30 % of requests are refused with 404 and 429 (client errors) and none fails with a 5xx",
            False,
            {"200": per_min * 0.7, "404": per_min * 0.2, "429": per_min * 0.1, "500": 0},
        ),
        scenario(
            "errors-1pct",
            "1 % of requests fail with status 500, under the 5 % threshold",
            False,
            {"200": per_min * 0.99, "500": per_min * 0.01},
        ),
    ]


def latency_scenarios(
    alerts: dict[str, object], selectors: list[Selector], incident: int, buckets: Sequence[str]
) -> list[Scenario]:
    labels = _labels_for(selectors, DURATION, {**DEFAULT_LABELS, "status": "200"})
    wanted = {m[2] for s in selectors if s.name and s.name.startswith(DURATION) for m in s.matchers if m[0] == "le"}
    les = [*sorted({*buckets, *(w for w in wanted if _is_number(w))}, key=float), "+Inf"]
    names = tuple(sorted(alerts))
    end = LEAD_MIN + incident

    def scenario(key: str, story: str, fire: bool, seconds: float) -> Scenario:
        series = [
            (
                _series(f"{DURATION}_bucket", {**labels, "le": le}),
                _counter(HISTORY, INCIDENT_RATE if le == "+Inf" or float(le) >= seconds else 0, incident),
            )
            for le in les
        ]
        series.append((_series(f"{DURATION}_count", labels), _counter(HISTORY, INCIDENT_RATE, incident)))
        total = _counter(HISTORY * 0.004, INCIDENT_RATE * seconds, incident)
        series.append((_series(f"{DURATION}_sum", labels), total))
        return Scenario(key, "latency", story, fire, names, end, tuple(series))

    slowest = max(float(le) for le in les if le != "+Inf")
    return [
        scenario(
            "latency-slow",
            f"after three million fast requests, every request takes {slowest * 3:g} s",
            True,
            slowest * 3,
        ),
        scenario("latency-fast", "every request takes 4 ms", False, 0.004),
    ]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def fired_expr(alerts: Sequence[str]) -> str:
    names = "|".join(re.escape(a) for a in alerts)
    return f'clamp_max(count(ALERTS{{alertname=~"{names}",alertstate="firing"}}), 1) or vector(0)'


def write(scenario: Scenario, rule_files: Sequence[str], folder: Path) -> Path:
    """The scenario as a promtool test file in ``folder`` (rule files relative to it)."""
    doc = {
        "rule_files": list(rule_files),
        "evaluation_interval": "1m",
        "tests": [
            {
                "name": scenario.key,
                "interval": "1m",
                "input_series": [{"series": s, "values": v} for s, v in scenario.series],
                "promql_expr_test": [
                    {
                        "expr": fired_expr(scenario.alerts),
                        "eval_time": f"{scenario.minutes}m",
                        "exp_samples": [{"labels": "{}", "value": 1 if scenario.should_fire else 0}],
                    }
                ],
            }
        ],
    }
    path = folder / f"grader-scenario-{scenario.key}.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def passed_files(stdout: str) -> set[str]:
    """Test files promtool passed: its standard output names each file, then SUCCESS when it passed
    (what failed goes to standard error)."""
    passed: set[str] = set()
    current: str | None = None
    for line in stdout.splitlines():
        match = re.match(r"\s*Unit Testing:\s+(\S+)", line)
        if match:
            current = match.group(1)
        elif current is not None and line.strip() == "SUCCESS":
            passed.add(Path(current).name)
    return passed
