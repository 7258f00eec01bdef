"""The Lab 04 grader's building blocks: PromQL names, runbook anchors, Alertmanager routing, exporters."""

from __future__ import annotations

import pytest

from graders.lab04 import alertmanager as am
from graders.lab04 import exporters, runbooks
from graders.lab04.promql import PromQLError, metric_names, parse_duration, substitute_grafana_variables

# -- PromQL metric names ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ("up", {"up"}),
        ('sum by (route) (rate(copilot_http_requests_total{status=~"5.."}[5m]))', {"copilot_http_requests_total"}),
        (
            "histogram_quantile(0.95, sum by (le) (rate(a_bucket[5m]))) / on() group_left b",
            {"a_bucket", "b"},
        ),
        ('{__name__="by_name_matcher", job="x"}', {"by_name_matcher"}),
        ('{__name__=~"copilot_.*"}', set()),  # a regex over names cannot be resolved
        ("max_over_time(deriv(q[10m])[1h:5m]) > 0 and absent(z)", {"q", "z"}),
        ('label_replace(x, "dst", "$1", "src", "(.*)")', {"x"}),
        ("copilot:cost_per_answer_usd:rate1h > 0.05", {"copilot:cost_per_answer_usd:rate1h"}),
    ],
)
def test_metric_names_of_promql(expr: str, names: set[str]) -> None:
    assert metric_names(expr) == names


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ('sum(rate(x_total{plant=~"$plant"}[$__rate_interval]))', {"x_total"}),
        ('rate(x{plant="${plant:regex}"}[$__interval] offset $shift)', {"x"}),
        ("topk($n, y)", {"y"}),
        ("label_values(copilot_build_info, plant)", {"copilot_build_info"}),
        ('label_values(up{job="a,b"}, instance)', {"up"}),
        ("label_values(plant)", set()),
        ("query_result(max by (plant) (copilot_build_info))", {"copilot_build_info"}),
        ("metrics(copilot_.*)", set()),
    ],
)
def test_metric_names_of_grafana_queries(expr: str, names: set[str]) -> None:
    assert metric_names(expr, grafana=True) == names


def test_variables_inside_strings_are_left_alone() -> None:
    assert substitute_grafana_variables("x{a=\"$plant\", b='$x'}[$__range]") == "x{a=\"$plant\", b='$x'}[5m]"


@pytest.mark.parametrize("expr", ["rate(x[5m]", "sum(x) by", "x{a=}", "$undefined_outside_grafana"])
def test_invalid_promql_raises(expr: str) -> None:
    with pytest.raises(PromQLError):
        metric_names(expr)


# -- runbooks ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("CopilotHighErrorRate", "copilothigherrorrate"),
        ("Post-incident follow-up", "post-incident-follow-up"),
        ("Step 2: roll back (if needed)!", "step-2-roll-back-if-needed"),
        ("`copilot_queue_depth` above 100", "copilot_queue_depth-above-100"),
        ("Über-alert: Ölstand", "über-alert-ölstand"),
    ],
)
def test_github_anchors(heading: str, anchor: str) -> None:
    assert runbooks.anchors(f"# {heading}\n")[anchor].title.strip() == heading.replace("`", "")


DOC = """# Runbooks

## CopilotHighErrorRate

### Summary

Too many requests fail with HTTP 5xx.

### Diagnosis

```promql
sum by (route) (rate(copilot_http_requests_total{status=~"5.."}[5m]))
```

### Summary

duplicate heading gets a numbered anchor

<!--
## HiddenInAComment
-->

```markdown
## HiddenInAFence
```

## CopilotQueueBacklog

**Severity:** warning, looked at during working hours.

**Diagnosis**

Run `kubectl get pods -n copilot` and read the worker logs.
"""


def test_headings_in_fences_and_comments_do_not_count_and_duplicates_are_numbered() -> None:
    found = runbooks.anchors(DOC)
    assert {"summary", "summary-1", "diagnosis", "copilothigherrorrate"} <= set(found)
    assert "hiddeninacomment" not in found and "hiddeninafence" not in found


def test_entry_parts_from_subheadings_and_bold_labels() -> None:
    parts = runbooks.entry_parts(DOC, "copilothigherrorrate")
    assert parts is not None
    assert [p.title for p in parts] == ["Summary", "Diagnosis", "Summary"]
    assert "copilot_http_requests_total" in parts[1].code[0]
    labelled = runbooks.entry_parts(DOC, "copilotqueuebacklog")
    assert labelled is not None
    assert [(p.title, runbooks.classify(p.title)) for p in labelled] == [
        ("Severity", "Severity"),
        ("Diagnosis", "Diagnosis"),
    ]
    assert labelled[1].code == ["kubectl get pods -n copilot"]
    assert runbooks.entry_parts(DOC, "nope") is None


@pytest.mark.parametrize("text", ["", "TODO", "TBD.", "<write this>", "...", "short"])
def test_placeholders_are_not_content(text: str) -> None:
    assert runbooks.is_placeholder(text)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://github.com/o/r/blob/main/docs/runbooks/incident-response.md#CopilotHighErrorRate",
            runbooks.RunbookLink("docs/runbooks/incident-response.md", "copilothigherrorrate"),
        ),
        ("../../docs/runbooks/a.md#x", runbooks.RunbookLink("docs/runbooks/a.md", "x")),
        ("https://wiki.example.com/runbooks#x", "does not point into"),
        ("https://github.com/o/r/blob/main/docs/runbooks/a.md", "no #anchor"),
        ("docs/runbooks/notes.txt#x", "Markdown file"),
        ("", "empty"),
    ],
)
def test_runbook_urls(url: str, expected: object) -> None:
    got = runbooks.resolve_runbook_url(url)
    if isinstance(expected, str):
        assert isinstance(got, str) and expected in got
    else:
        assert got == expected


# -- Alertmanager routing ------------------------------------------------------------------------------

ROUTE = {
    "receiver": "default",
    "routes": [
        {"receiver": "pd", "matchers": ['severity="page"'], "continue": True},
        {"receiver": "teams", "matchers": ["severity=~page|warning"]},
        {"receiver": "db", "match": {"team": "data"}, "routes": [{"matchers": ['alertname!="Noisy"']}]},
    ],
}


@pytest.mark.parametrize(
    ("labels", "receivers"),
    [
        ({"severity": "page"}, ["pd", "teams"]),  # continue: true lets the page reach Teams too
        ({"severity": "warning"}, ["teams"]),
        ({"severity": "info", "team": "data", "alertname": "X"}, ["db"]),  # inherits its parent's receiver
        ({"severity": "info", "team": "data", "alertname": "Noisy"}, ["db"]),
        ({"severity": "info"}, ["default"]),
    ],
)
def test_routing(labels: dict[str, str], receivers: list[str]) -> None:
    assert am.receivers_for(ROUTE, labels) == receivers


@pytest.mark.parametrize(
    ("text", "matcher"),
    [
        ('severity="page"', am.Matcher("severity", "=", "page")),
        ("severity != warning", am.Matcher("severity", "!=", "warning")),
        ('alertname=~"Copilot.*"', am.Matcher("alertname", "=~", "Copilot.*")),
        ('msg!~"a\\"b"', am.Matcher("msg", "!~", 'a"b')),
    ],
)
def test_parse_matcher(text: str, matcher: am.Matcher) -> None:
    assert am.parse_matcher(text) == matcher


def test_bad_matchers_and_regexes_are_reported() -> None:
    with pytest.raises(am.RouteConfigError, match="cannot read matcher"):
        am.parse_matcher("severity")
    with pytest.raises(am.RouteConfigError, match="invalid regular expression"):
        am.receivers_for({"receiver": "a", "routes": [{"receiver": "b", "matchers": ["x=~(unclosed"]}]}, {"x": "1"})


def test_receiver_kinds_and_inline_secrets() -> None:
    pagerduty = {"name": "pd", "pagerduty_configs": [{"routing_key": "abc"}]}
    teams = {"name": "t", "msteamsv2_configs": [{"webhook_url_file": "/run/secrets/teams"}]}
    bridge = {"name": "b", "webhook_configs": [{"url": "http://prometheus-msteams:2000/alertmanager"}]}
    leaked = {"name": "l", "webhook_configs": [{"url": "https://x.webhook.office.com/webhookb2/secret"}]}
    assert am.is_pagerduty(pagerduty) and not am.is_teams(pagerduty)
    assert am.is_teams(teams) and am.is_teams(bridge) and am.is_teams(leaked)
    assert am.inline_secrets(pagerduty) == ["pagerduty_configs.routing_key"]
    assert am.inline_secrets(teams) == [] and am.inline_secrets(bridge) == []
    assert am.inline_secrets(leaked) == ["webhook_configs.url"]


# -- exporters and durations -----------------------------------------------------------------------------


def test_exporters_are_recognised_by_job_name_or_port() -> None:
    config = {
        "scrape_configs": [
            {"job_name": "copilot-api", "static_configs": [{"targets": ["api:8000"]}]},
            {"job_name": "hosts", "static_configs": [{"targets": ["10.0.0.1:9100"]}]},
            {"job_name": "dcgm-exporter", "static_configs": [{"targets": ["gpu-node:9400"]}]},
            {"job_name": "copilot-worker", "static_configs": [{"targets": ["worker:9187"]}]},
        ]
    }
    found = exporters.configured_exporters(config)
    assert exporters.provided_by_exporter("node_cpu_seconds_total", found) == "hosts"
    assert exporters.provided_by_exporter("DCGM_FI_DEV_GPU_UTIL", found) == "dcgm-exporter"
    assert exporters.provided_by_exporter("redis_memory_used_bytes", found) is None
    assert exporters.provided_by_exporter("pg_up", found) is None  # the worker's port is not an exporter
    assert exporters.configured_exporters(None) == []


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("5m", 300), ("1h30m", 5400), ("30s", 30), ("0s", 0), ("", None), ("5 minutes", None), ("5", None)],
)
def test_prometheus_durations(text: str, seconds: float | None) -> None:
    assert parse_duration(text) == seconds


# -- labels of an alert's result, and what a control case feeds --------------------------------------
@pytest.mark.parametrize(
    ("expr", "labels"),
    [
        ('sum by (plant) (rate(x{status=~"5.."}[5m])) / sum by (plant) (rate(x[5m])) > 0.05', {"plant"}),
        ('sum(rate(x{status=~"5.."}[5m])) / sum(rate(x[5m])) > 0.05', set()),  # `by (plant)` forgotten
        ("rate(x[5m]) > 1", None),  # every label of x: unknown, never reported
        ("sum without (instance) (x)", None),
        ("max by (plant, queue) (q) > 100", {"plant", "queue"}),
        ("sum by (plant, line) (a) / on (plant) sum by (plant) (b)", {"plant"}),
        ("sum by (plant) (a) / on (plant) group_left (site) b", {"plant", "site"}),
        ("histogram_quantile(0.9, sum by (le, plant) (rate(h[5m])))", {"plant"}),
        ('label_replace(sum(x), "plant", "$1", "job", "(.*)")', {"plant"}),
        ("topk(3, sum by (plant) (x))", {"plant"}),
        ("vector(1)", set()),
        ('absent(up{job="api"})', None),
        ("1 - (sum by (plant) (a) / sum by (plant) (b)) > 0.05", {"plant"}),
        ("rate(x[5m", None),  # not PromQL: promtool reports it
    ],
)
def test_result_labels(expr: str, labels: set[str] | None) -> None:
    from graders.lab04.result_labels import result_labels

    assert result_labels(expr) == (None if labels is None else frozenset(labels))


def test_result_labels_follow_recording_rules() -> None:
    from graders.lab04.result_labels import result_labels

    records = {"plant:errors:ratio5m": "sum by (plant) (rate(e[5m])) / sum by (plant) (rate(r[5m]))"}
    assert result_labels("plant:errors:ratio5m > 0.05", records) == frozenset({"plant"})


def test_template_labels() -> None:
    from graders.lab04.result_labels import template_labels

    text = "at plant {{ $labels.plant }} on {{$labels.line}}, {{ .Labels.plant }} {{ $value }}"
    assert template_labels(text) == ["plant", "line"]


@pytest.mark.parametrize(
    ("fed", "unfed"),
    [
        ({"copilot_http_requests_total"}, []),
        ({"copilot_http_request_total"}, ["copilot_http_requests_total"]),  # a typo: silent for lack of data
        (set(), ["copilot_http_requests_total"]),
    ],
)
def test_unfed_metrics(fed: set[str], unfed: list[str]) -> None:
    from graders.lab04.promql import unfed_metrics

    expr = (
        'sum by (plant) (rate(copilot_http_requests_total{status=~"5.."}[5m]))'
        " / sum by (plant) (rate(copilot_http_requests_total[5m]))"
    )
    assert unfed_metrics(expr, {}, fed) == unfed


def test_unfed_metrics_through_a_recording_rule() -> None:
    from graders.lab04.promql import unfed_metrics

    records = {"copilot:cost:rate1h": "sum by (plant) (rate(cost_total[1h])) / sum(rate(answers_total[1h]))"}
    assert unfed_metrics("copilot:cost:rate1h > 0.05", records, {"cost_total", "answers_total"}) == []
    assert unfed_metrics("copilot:cost:rate1h > 0.05", records, {"cost_total"}) == ["answers_total"]
    assert unfed_metrics("copilot:cost:rate1h > 0.05", records, {"copilot:cost:rate1h"}) == []
