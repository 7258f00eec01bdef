"""The Lab 04 grader's judgement of alert meaning: promtool on the grader's scenarios, run against the
reference rules and against rules with the mistakes the scenarios exist to catch."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from graders.lab04 import alert_kinds, panel_meaning
from graders.lab04 import alert_scenarios as sc
from graders.lab04 import monitoring_files as files
from graders.lab04.rule_tests import alert_cases
from graders.sdk import Submission, run

REFERENCE = Path(__file__).resolve().parents[2] / "reference_solution"
LATENCY_EXPR = re.compile(
    r"expr: \|\n          \(\n            1 - \(\n              sum by \(plant\) \(rate\(copilot_http_request_duration"
    r"_seconds_bucket[\s\S]*?\n(?=        for:)"
)


def _verdicts(tmp_path: Path, rules: str | None = None) -> dict[str, bool]:
    """Scenario key -> whether the rules behave as the scenario expects."""
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed")
    staged = files.stage_monitoring(Submission(REFERENCE), tmp_path / "staged")
    if rules is not None:
        (staged / files.RULES).write_text(rules, encoding="utf-8")
    reference = Submission(REFERENCE)
    rule_set = files.load_rules(Submission(staged), files.rule_files(reference, reference.load_yaml(files.PROMETHEUS)))
    chosen, read = alert_kinds.classify(rule_set)
    errors, latency = chosen[alert_kinds.ERROR_RATE], chosen[alert_kinds.LATENCY]
    incident = sc.incident_minutes([*errors.values(), *latency.values()])
    cases = sc.error_scenarios(errors, read, incident)
    cases += sc.latency_scenarios(latency, read, incident, sc.DEFAULT_BUCKETS)
    written = [sc.write(case, rule_set.files, staged) for case in cases]
    result = run([promtool, "test", "rules", *(p.name for p in written)], cwd=staged, raise_on_timeout=False)
    passed = sc.passed_files(result.stdout)
    return {case.key: path.name in passed for case, path in zip(cases, written, strict=True)}


def _reference_rules() -> str:
    return (REFERENCE / files.RULES).read_text(encoding="utf-8")


def test_reference_rules_behave_in_every_scenario(tmp_path: Path) -> None:
    assert _verdicts(tmp_path) == dict.fromkeys(
        ["errors-5xx", "errors-4xx-only", "errors-1pct", "latency-slow", "latency-fast"], True
    )


@pytest.mark.parametrize(
    ("change", "broken"),
    [
        (lambda t: t.replace('status=~"5.."', 'status=~"4..|5.."'), {"errors-4xx-only"}),
        (lambda t: t.replace('status=~"5.."', 'status!="200"'), {"errors-4xx-only"}),
        (
            lambda t: t.replace(
                'rate(copilot_http_requests_total{status=~"5.."}[5m])', 'copilot_http_requests_total{status=~"5.."}'
            ).replace("rate(copilot_http_requests_total[5m])", "copilot_http_requests_total"),
            {"errors-5xx"},
        ),
        (
            lambda t: LATENCY_EXPR.sub(
                "expr: histogram_quantile(0.95, sum by (le, plant) (copilot_http_request_duration_seconds_bucket))"
                " > 2.5\n",
                t,
            ),
            {"latency-slow"},
        ),
        (
            lambda t: LATENCY_EXPR.sub(
                "expr: histogram_quantile(0.95, sum by (plant) "
                "(rate(copilot_http_request_duration_seconds_bucket[5m]))) > 2.5\n",
                t,
            ),
            {"latency-slow"},
        ),
    ],
    ids=["4xx-counted", "non-200-counted", "raw-counters", "quantile-of-raw-buckets", "quantile-without-le"],
)
def test_wrong_meanings_fail_their_scenario(tmp_path: Path, change: object, broken: set[str]) -> None:
    verdicts = _verdicts(tmp_path, change(_reference_rules()))  # type: ignore[operator]
    assert {key for key, ok in verdicts.items() if not ok} == broken


@pytest.mark.parametrize("window", ["5m", "6h"])
def test_a_p95_quantile_over_rates_is_a_correct_latency_alert(tmp_path: Path, window: str) -> None:
    quantile = (
        "expr: histogram_quantile(0.95, sum by (le, plant) "
        f"(rate(copilot_http_request_duration_seconds_bucket[{window}]))) > 2.5\n"
    )
    assert all(_verdicts(tmp_path, LATENCY_EXPR.sub(quantile, _reference_rules())).values())


def test_passed_files_reads_promtools_stdout() -> None:
    stdout = "Unit Testing:  a.yml\n  SUCCESS\n\nUnit Testing:  b.yml\n\n\nUnit Testing:  c.yml\n  SUCCESS\n"
    assert sc.passed_files(stdout) == {"a.yml", "c.yml"}


def test_control_cases_know_when_they_are_evaluated() -> None:
    doc = {
        "tests": [
            {
                "name": "early",
                "input_series": [{"series": "copilot_http_requests_total{status='500'}", "values": "0+1x5"}],
                "alert_rule_test": [{"eval_time": "3m", "alertname": "A", "exp_alerts": []}],
            },
            {"name": "late", "alert_rule_test": [{"eval_time": "30m", "alertname": "A", "exp_alerts": []}]},
        ]
    }
    cases = alert_cases(doc)["A"]
    assert cases.silent == ["early", "late"] and cases.silent_times == [180.0, 1800.0]


# -- dashboard panels ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("title", "expr", "problem"),
    [
        ("Latency p95", "histogram_quantile(0.95, sum by (le, route) (rate(x_bucket[$__rate_interval])))", None),
        ("Latency p95", "histogram_quantile(0.95, sum without (route) (rate(x_bucket[5m])))", None),
        ("Confidence (p10 / p50)", "histogram_quantile(0.10, sum by (le) (rate(x_bucket[5m])))", None),
        ("Latency p95", "histogram_quantile(0.95, sum by (le) (x_bucket))", "raw _bucket counters"),
        ("Latency p95", "histogram_quantile(0.95, sum(rate(x_bucket[5m])))", "without keeping le"),
        ("Latency p99", "histogram_quantile(0.95, sum by (le) (rate(x_bucket[5m])))", "promises p99"),
    ],
)
def test_percentile_panels(title: str, expr: str, problem: str | None) -> None:
    problems = panel_meaning.quantile_problems(title, expr)
    assert (problem is None and not problems) or (problem is not None and problem in " ".join(problems))


@pytest.mark.parametrize(
    ("expr", "counts_other_codes"),
    [
        (
            'sum(rate(copilot_http_requests_total{status=~"5.."}[5m])) / sum(rate(copilot_http_requests_total[5m]))',
            False,
        ),
        ('sum(rate(copilot_http_requests_total{status=~"5.*"}[5m]))', False),
        ('sum(rate(copilot_http_requests_total{status!~"2..|3..|4.."}[5m]))', False),
        ('sum(rate(copilot_http_requests_total{status=~"4..|5.."}[5m]))', True),
        ('sum(rate(copilot_http_requests_total{status!="200"}[5m]))', True),
        ("max(job:errors:ratio)", True),  # judged through the recording rule it reads
    ],
)
def test_error_panels_count_server_errors_only(expr: str, counts_other_codes: bool) -> None:
    records = {"job:errors:ratio": 'sum(rate(copilot_http_requests_total{status=~"[45].."}[5m]))'}
    assert bool(panel_meaning.error_problems(expr, records)) is counts_other_codes
