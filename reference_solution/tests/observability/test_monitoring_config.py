"""The monitoring configuration agrees with itself and with the service (Lab 04).

* promtool accepts prometheus.yml, the rule files and the rule unit tests (skipped, loudly, when
  promtool is not installed);
* every ``copilot_*`` metric the alerts and the dashboard read is one the service exports, and the
  taxonomy documents every family the service exports;
* every alert links to a runbook heading that exists; Alertmanager pages through PagerDuty and
  warns through Teams, with its secrets in files.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from copilot.observability import metrics
from tests.conftest import REPO

pytestmark = pytest.mark.lab("lab04")
MONITORING = REPO / "monitoring"
RULES = MONITORING / "alerts" / "copilot-rules.yml"
DASHBOARD = MONITORING / "grafana" / "dashboards" / "copilot-overview.json"
ALERTMANAGER = MONITORING / "alertmanager" / "alertmanager.yml"
COPILOT_NAME = re.compile(r"\bcopilot_[a-z0-9_]+\b")
SUFFIXES = ("_bucket", "_count", "_sum", "_total")


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("SKIPPED LOUDLY: promtool is not installed (apt-get install prometheus); rules NOT checked")
    return subprocess.run([promtool, *args], cwd=REPO, capture_output=True, text=True, timeout=60)


def _exported_families() -> set[str]:
    """Family names the service exports (counters without _total, as Prometheus' parser names them)."""
    text = metrics.render_metrics().decode()
    return {f.name for f in text_string_to_metric_families(text) if f.name.startswith("copilot_")} | {
        "copilot_queue_depth",  # read from the job store at scrape time, by the app's collector
        # the audit writer's health and counts, read at scrape time by the app's collector
        "copilot_audit_writer_up",
        "copilot_audit_queue_depth",
        "copilot_audit_spill_pending",
        "copilot_audit_records",
        "copilot_audit_writer_restarts",
    }


def _family(name: str) -> str:
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _alerts() -> list[dict[str, Any]]:
    doc = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    return [r for g in doc["groups"] for r in g["rules"] if "alert" in r]


def test_prometheus_config_and_rules_pass_promtool() -> None:
    result = _promtool("check", "config", "monitoring/prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_rule_unit_tests_pass_promtool() -> None:
    result = _promtool("test", "rules", "monitoring/alerts/copilot-rules.test.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_alerts_and_dashboard_read_only_exported_metrics() -> None:
    exported = _exported_families()
    used = set(COPILOT_NAME.findall(RULES.read_text())) | set(COPILOT_NAME.findall(DASHBOARD.read_text()))
    unknown = sorted(n for n in used if n not in exported and _family(n) not in exported)
    assert not unknown, f"queried but not exported by the service: {unknown}"


def test_taxonomy_documents_every_exported_family() -> None:
    taxonomy = (REPO / "docs" / "metrics-taxonomy.md").read_text(encoding="utf-8")
    documented = {_family(n) for n in COPILOT_NAME.findall(taxonomy)}
    missing = sorted(f for f in _exported_families() if f not in documented)
    assert not missing, f"exported but not in docs/metrics-taxonomy.md: {missing}"


def _github_anchor(heading: str) -> str:
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_alert_is_complete_and_links_to_an_existing_runbook_heading() -> None:
    for alert in _alerts():
        name = alert["alert"]
        assert alert.get("for"), f"{name} has no 'for:'"
        assert alert["labels"]["severity"] in ("page", "warning"), name
        assert {"summary", "description", "runbook_url"} <= set(alert["annotations"]), name
        path, _, anchor = alert["annotations"]["runbook_url"].partition("#")
        runbook = REPO / path[path.index("docs/runbooks/") :]
        headings = re.findall(r"^#{1,6} (.+)$", runbook.read_text(encoding="utf-8"), flags=re.MULTILINE)
        assert anchor in {_github_anchor(h) for h in headings}, f"{name}: no heading #{anchor} in {runbook.name}"


def test_alertmanager_pages_through_pagerduty_and_warns_through_teams() -> None:
    config = yaml.safe_load(ALERTMANAGER.read_text(encoding="utf-8"))
    receivers = {r["name"]: r for r in config["receivers"]}
    routes = {m: r["receiver"] for r in config["route"]["routes"] for m in r.get("matchers", [])}
    assert "pagerduty_configs" in receivers[routes['severity="page"']]
    assert "msteamsv2_configs" in receivers[routes['severity="warning"']]
    text = ALERTMANAGER.read_text(encoding="utf-8")
    assert "routing_key_file" in text and "webhook_url_file" in text
    assert not re.search(r"^\s*(routing_key|webhook_url):", text, flags=re.MULTILINE), "secrets must come from files"
    assert config["inhibit_rules"] and config["route"]["group_by"]


def test_dashboard_has_a_plant_variable_used_by_every_panel() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert [v["name"] for v in dashboard["templating"]["list"]] == ["plant"]
    targets = [t for p in dashboard["panels"] for t in p.get("targets", [])]
    assert targets and all('plant=~"$plant"' in t["expr"] for t in targets)


def test_log_shipping_parses_json_and_maps_correlation_id_as_keyword() -> None:
    shipper = yaml.safe_load((MONITORING / "logging" / "fluent-bit.yaml").read_text(encoding="utf-8"))
    parsers = yaml.safe_load((MONITORING / "logging" / "parsers.yaml").read_text(encoding="utf-8"))["parsers"]
    json_parsers = {p["name"] for p in parsers if p["format"] == "json"}
    filters = shipper["pipeline"]["filters"]
    assert any(f["name"] == "parser" and f["parser"] in json_parsers for f in filters)
    assert [o["name"] for o in shipper["pipeline"]["outputs"]] == ["opensearch"]
    template = json.loads((MONITORING / "logging" / "opensearch-index-template.json").read_text(encoding="utf-8"))
    assert template["template"]["mappings"]["properties"]["correlation_id"] == {"type": "keyword"}
