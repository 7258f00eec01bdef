"""Every report format parses with a real parser and agrees with the others on every score."""

from __future__ import annotations

import base64
import csv
import io
import json
import xml.etree.ElementTree as ET

import junitparser
import pytest

from graders.engine.model import GradeReport
from graders.reports import FORMATS, classroom, gradescope, json_report, junit, markdown, render, text
from graders.reports.gradebook import BatchRow
from graders.reports.gradebook import render as render_gradebook

from .conftest import SUBMISSIONS


@pytest.fixture(scope="module")
def report() -> GradeReport:
    from graders.engine.labs import load_catalog
    from graders.engine.session import grade_labs

    from .conftest import FIXTURE_LABS

    graded = grade_labs(SUBMISSIONS / "partial", load_catalog(FIXTURE_LABS))
    graded.submission = "partial"
    return graded


def expected_scores(report: GradeReport) -> dict[str, float]:
    return {c.id: c.score for lab in report.labs for c in lab.checks}


def test_json_matches_the_contract(report: GradeReport) -> None:
    data = json.loads(json_report.render(report))
    assert set(data) == {"schema", "score", "max_score", "labs"}
    assert data["schema"] == 1
    for lab in data["labs"]:
        assert set(lab) == {"id", "title", "score", "max_score", "duration_s", "notes", "checks"}
        for c in lab["checks"]:
            # never "detail": tracebacks are for the grader's --verbose text, not for students
            assert set(c) == {"id", "name", "score", "max_score", "status", "feedback", "location", "duration_s"}
            assert c["status"] in {"passed", "failed", "error", "skipped"}
    assert {c["id"]: c["score"] for lab in data["labs"] for c in lab["checks"]} == expected_scores(report)
    assert data["score"] == report.score


def test_classroom_output_is_one_base64_runner_result_per_lab(report: GradeReport) -> None:
    lines = classroom.render(report).splitlines()
    assert [line.split("=", 1)[0] for line in lines] == ["lab01", "lab02"]
    seen: dict[str, float] = {}
    for line in lines:
        lab_id, value = line.split("=", 1)
        payload = json.loads(base64.b64decode(value))
        assert payload["version"] == 1
        assert payload["status"] in {"pass", "fail", "error"}
        assert payload["max_score"] == report.lab(lab_id).max_score
        for t in payload["tests"]:
            assert {"name", "status", "score", "message", "line_no", "duration"} <= set(t)
            assert t["status"] in {"pass", "fail", "error"}
            seen[t["name"].split(":", 1)[0]] = t["score"]
        # what the grading reporter adds up
        assert sum(t["score"] for t in payload["tests"]) == pytest.approx(report.lab(lab_id).score)
    assert seen == expected_scores(report)


def test_classroom_carries_partial_credit_and_line_numbers(report: GradeReport) -> None:
    payload = json.loads(base64.b64decode(classroom.render(report).splitlines()[0].split("=", 1)[1]))
    scores = {t["name"].split(":", 1)[0]: t["score"] for t in payload["tests"]}
    assert scores["lab01.config_keys"] == pytest.approx(2.6667)
    assert payload["status"] == "fail"


def test_gradescope_results_json(report: GradeReport) -> None:
    data = json.loads(gradescope.render(report))
    assert data["score"] == report.score
    assert {t["extra_data"]["id"]: t["score"] for t in data["tests"]} == expected_scores(report)
    for t in data["tests"]:
        assert t["status"] in {"passed", "failed"}
        assert t["visibility"] == "visible"
        assert isinstance(t["max_score"], float)


def test_junit_parses_with_junitparser_and_elementtree(report: GradeReport) -> None:
    xml_text = junit.render(report)
    root = ET.fromstring(xml_text)
    assert root.tag == "testsuites"
    parsed = junitparser.JUnitXml.fromstring(xml_text)
    seen = {}
    for suite in parsed:
        assert suite.tests == len(report.lab(suite.name).checks)
        for case in suite:
            props = {p.name: p.value for p in case.iterchildren(junitparser.Properties) for p in p}
            seen[case.name] = float(props["score"])
    assert seen == expected_scores(report)
    failures = root.findall(".//testcase/failure")
    errors = root.findall(".//testcase/error")
    assert len(failures) == sum(lab.counts["failed"] for lab in report.labs)
    assert len(errors) == sum(lab.counts["error"] for lab in report.labs)


def test_markdown_table_has_every_lab_and_each_problem(report: GradeReport) -> None:
    md = markdown.render(report)
    assert md.startswith("## Capstone grade: 6.67 / 19 (35%)")
    assert "| lab01 | Fixture lab one | 3.67 / 12 |" in md
    assert "config.yaml needs a 'region' key" in md
    assert "\n- config" not in md  # multi-line feedback stays inside its table cell


def test_text_report_lists_checks_that_need_work(report: GradeReport) -> None:
    out = text.render(report)
    assert "6.67 / 19 points (35%)" in out
    assert "[failed] lab01.config_keys" in out
    assert "[error] lab02.slow" not in out  # the first lab with work left comes first; --all shows the rest
    assert "[error] lab02.slow" in text.render(report, "all")


def test_gradebook_csv(report: GradeReport) -> None:
    rows = [BatchRow("alice", report, "graded", duration_s=1.5), BatchRow("bob", None, "timeout", "took too long")]
    parsed = list(csv.DictReader(io.StringIO(render_gradebook(rows, ["lab01", "lab02"]))))
    assert parsed[0]["lab01"] == str(report.lab("lab01").score)
    assert parsed[0]["total"] == str(report.score)
    assert parsed[1]["status"] == "timeout" and parsed[1]["lab01"] == ""


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_format_renders_an_empty_report(fmt: str) -> None:
    assert render(GradeReport(labs=[]), fmt) is not None


def test_unknown_format_is_a_clear_error(report: GradeReport) -> None:
    with pytest.raises(ValueError, match="unknown report format 'pdf'; choose from"):
        render(report, "pdf")
