"""The provisioned Grafana dashboard: valid JSON, a $plant variable, and only metrics that exist."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from graders.lab04 import exporters, panel_meaning
from graders.lab04 import monitoring_files as files
from graders.lab04.promql import PromQLError, metric_names
from graders.lab04.sections import SECTION_GRAFANA
from graders.lab04.service_probe import ServiceProbe
from graders.sdk import Checklist, Submission, SubmissionFileError, check, fail

PER_PROBLEM = 0.34  # share of the check lost per unknown metric or invalid query
PLANT_REFERENCE = re.compile(r"\$plant\b|\$\{plant(:[a-z]+)?\}|\[\[plant\]\]")


@dataclass(frozen=True)
class Query:
    file: str
    where: str  # "panel 'Error ratio'", "variable plant", "annotation Alerts"
    expr: str


@pytest.fixture(scope="session")
def dashboards(submission: Submission) -> list[tuple[str, Any]]:
    """(path, parsed JSON or the SubmissionFileError) for every dashboard file."""
    found: list[tuple[str, Any]] = []
    for rel in submission.glob(files.DASHBOARDS):
        try:
            doc = submission.load_json(rel)
        except SubmissionFileError as exc:
            found.append((rel, exc))
            continue
        # A dashboard exported through Grafana's API is wrapped: {"dashboard": {...}, "meta": {...}}.
        if isinstance(doc, dict) and isinstance(doc.get("dashboard"), dict):
            doc = doc["dashboard"]
        found.append((rel, doc))
    return found


def _panels(panels: Any) -> Iterator[dict[str, Any]]:
    for panel in panels if isinstance(panels, list) else []:
        if isinstance(panel, dict):
            yield panel
            yield from _panels(panel.get("panels"))  # collapsed rows hold their panels


def queries(rel: str, dashboard: dict[str, Any]) -> list[Query]:
    """Every PromQL expression of a dashboard: panel targets, variable queries and annotations."""
    found = []
    for panel in _panels(dashboard.get("panels")):
        for target in panel.get("targets") or []:
            if isinstance(target, dict) and isinstance(target.get("expr"), str) and target["expr"].strip():
                found.append(Query(rel, f"panel '{panel.get('title', '?')}'", target["expr"]))
    for variable in (dashboard.get("templating") or {}).get("list") or []:
        if isinstance(variable, dict) and variable.get("type") == "query":
            query = variable.get("query")
            text = query.get("query") if isinstance(query, dict) else query
            if isinstance(text, str) and text.strip():
                found.append(Query(rel, f"variable {variable.get('name')}", text))
    for annotation in (dashboard.get("annotations") or {}).get("list") or []:
        if isinstance(annotation, dict) and isinstance(annotation.get("expr"), str) and annotation["expr"].strip():
            found.append(Query(rel, f"annotation {annotation.get('name')}", annotation["expr"]))
    return found


def _parsed(dashboards: list[tuple[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    if not dashboards:
        fail(
            f"no Grafana dashboard found ({files.DASHBOARDS}): export the dashboard JSON there so Grafana "
            "provisions it",
            "monitoring/grafana/dashboards",
        )
    return [(rel, doc) for rel, doc in dashboards if isinstance(doc, dict)]


@check(4, "The Grafana dashboard parses, is provisioned and filters by a $plant variable", section=SECTION_GRAFANA)
def test_dashboard_structure(submission: Submission, dashboards: list[tuple[str, Any]], checklist: Checklist) -> None:
    parsed = _parsed(dashboards)
    for rel, doc in dashboards:
        checklist.require(
            isinstance(doc, dict),
            str(doc) if isinstance(doc, SubmissionFileError) else f"{rel} must hold one dashboard object",
            rel,
        )
    for rel, doc in parsed:
        exprs = [q for q in queries(rel, doc) if q.where.startswith("panel")]
        checklist.require(bool(exprs), f"{rel} has no panel with a Prometheus query (targets[].expr)", rel)
        names = [v.get("name") for v in (doc.get("templating") or {}).get("list") or [] if isinstance(v, dict)]
        checklist.require(
            "plant" in names,
            f"{rel} needs a dashboard variable named 'plant' (templating.list), e.g. a query variable "
            "label_values(copilot_build_info, plant)",
            rel,
            weight=2,
        )
        checklist.require(
            any(PLANT_REFERENCE.search(q.expr) for q in exprs),
            f'no panel query of {rel} uses $plant: filter the panels with {{plant=~"$plant"}}',
            rel,
            weight=2,
        )
    providers = []
    for rel in submission.glob(files.DASHBOARD_PROVISIONING):
        try:
            doc = submission.load_yaml(rel)
        except SubmissionFileError:
            continue
        if isinstance(doc, dict):
            providers += [
                p for p in doc.get("providers") or [] if isinstance(p, dict) and p.get("type", "file") == "file"
            ]
    checklist.require(
        bool(providers),
        "add a Grafana provisioning file (monitoring/grafana/provisioning/dashboards/*.yml) with a 'file' provider "
        "that loads the dashboards folder",
        "monitoring/grafana/provisioning/dashboards",
    )


@check(5, "Every metric the dashboard queries is exported by the app or a configured exporter", section=SECTION_GRAFANA)
def test_dashboard_metrics_exported(
    dashboards: list[tuple[str, Any]],
    service_probe: ServiceProbe,
    rule_set: files.RuleSet,
    prometheus_config: Any,
    checklist: Checklist,
) -> None:
    parsed = _parsed(dashboards)
    if service_probe.error or not service_probe.families:
        fail(
            "cannot tell which metrics the app exports, because its /metrics could not be scraped: "
            + (service_probe.error or f"GET /metrics answered {service_probe.metrics_status}")
        )
    exported = service_probe.exported_names
    known = exported | set(rule_set.records) | exporters.PROMETHEUS_BUILTINS
    scraped = exporters.configured_exporters(prometheus_config)
    seen: set[str] = set()
    for rel, doc in parsed:
        for query in queries(rel, doc):
            try:
                names = metric_names(query.expr, grafana=True)
            except PromQLError as exc:
                checklist.deduct(
                    PER_PROBLEM, f"{query.where} of {rel}: not valid PromQL ({exc}): {query.expr[:120]}", rel
                )
                continue
            for name in sorted(names - seen):
                seen.add(name)
                if name not in known and not exporters.provided_by_exporter(name, scraped):
                    # A panel on a metric nobody exports shows "No data" exactly when it is needed.
                    checklist.deduct(PER_PROBLEM, _unknown_metric(name, query, exported), rel)


def _unknown_metric(name: str, query: Query, exported: set[str]) -> str:
    exporter = exporters.exporter_for_prefix(name)
    if exporter is not None:
        return (
            f"{query.where} queries {name} from {exporter.name}, but monitoring/prometheus.yml has no scrape job "
            f"for {exporter.name}: add one, or query a metric that is scraped"
        )
    close = difflib.get_close_matches(name, sorted(exported), n=2)
    hint = f" (did you mean {' or '.join(close)}?)" if close else ""
    return f"{query.where} queries {name}, which the app does not export on /metrics{hint}"


@check(4, "Dashboard panels compute what their titles say (percentiles, error ratios)", section=SECTION_GRAFANA)
def test_dashboard_panels_meaning(
    dashboards: list[tuple[str, Any]], rule_set: files.RuleSet, checklist: Checklist
) -> None:
    parsed = _parsed(dashboards)
    judged = 0
    for rel, doc in parsed:
        for query in queries(rel, doc):
            if not query.where.startswith("panel '"):
                continue
            title = query.where[len("panel '") : -1]
            try:
                problems = panel_meaning.quantile_problems(title, query.expr)
                if panel_meaning.ERROR_TITLE.search(title):
                    problems += panel_meaning.error_problems(query.expr, rule_set.records)
            except PromQLError:
                continue  # the metrics check reports invalid PromQL
            judged += 1
            for problem in problems:
                checklist.require(False, f"{query.where} of {rel} {problem}", rel)
    checklist.require(judged > 0, "no panel query could be read", files.DASHBOARDS)
