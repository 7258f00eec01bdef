"""The result model is lossless, reads the JSON of older versions, and gives every report one Location."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graders.engine.model import GradeReport, Location
from graders.reports import json_report

REPORT_FIXTURES = sorted((Path(__file__).resolve().parents[1] / "fixtures" / "reports").glob("*.json"))


@pytest.mark.parametrize("path", REPORT_FIXTURES, ids=lambda p: p.stem)
def test_every_fixture_report_round_trips(path: Path) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    report = GradeReport.from_dict(data)
    assert GradeReport.from_dict(json.loads(json.dumps(report.to_dict()))) == report
    if "submission" in data:  # written by this version: to_dict gives back exactly what was read
        assert report.to_dict() == data


def test_the_fixtures_cover_notes_details_durations_and_tools() -> None:
    reports = [GradeReport.from_dict(json.loads(p.read_text(encoding="utf-8"))) for p in REPORT_FIXTURES]
    labs = [lab for r in reports for lab in r.labs]
    checks = [c for lab in labs for c in lab.checks]
    assert any(lab.notes for lab in labs)
    assert any(c.detail for c in checks)
    assert any(c.missing_tool for c in checks)
    assert any(c.location and c.location.line for c in checks)
    assert any(c.duration_s for c in checks)


def test_old_json_without_the_new_keys_is_read() -> None:
    old = {
        "schema": 1,
        "score": 1.0,
        "max_score": 2.0,
        "labs": [
            {
                "id": "lab01",
                "title": "Lab one",
                "score": 1.0,
                "max_score": 2.0,
                "duration_s": 1.5,
                "checks": [
                    {
                        "id": "lab01.a",
                        "name": "a",
                        "score": 1.0,
                        "max_score": 2.0,
                        "status": "failed",
                        "feedback": "half",
                        "location": "src/app.py:7",
                    }
                ],
            }
        ],
    }
    report = GradeReport.from_dict(old, submission="alice")
    check = report.check("lab01.a")
    assert (report.submission, report.lab("lab01").notes, check.detail) == ("alice", [], None)
    assert check.location == Location("src/app.py", 7)


def test_the_json_report_reads_back_as_the_report_less_what_students_never_see() -> None:
    path = next(p for p in REPORT_FIXTURES if p.stem == "partial")
    report = GradeReport.from_dict(json.loads(path.read_text(encoding="utf-8")))
    again = GradeReport.from_dict(json.loads(json_report.render(report)), submission=report.submission)
    for lab in report.labs:
        for check in lab.checks:
            check.detail = None
    assert again == report


@pytest.mark.parametrize(
    ("text", "location"),
    [
        ("config.yaml:12", Location("config.yaml", 12)),
        ("README.md", Location("README.md")),
        ("Dockerfile:3:5", Location("Dockerfile:3", 5)),
        ("C:notes", Location("C:notes")),
        (None, None),
        ("", None),
    ],
)
def test_location_is_parsed_in_one_place(text: str | None, location: Location | None) -> None:
    assert Location.parse(text) == location
    if location is not None:
        assert Location.parse(str(location)) == location
