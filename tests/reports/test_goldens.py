"""Every report format, rendered from fixed reports, compared byte for byte with a reviewed file.

The fixtures (tests/fixtures/reports/*.json, the model's ``to_dict`` form) hold a full-marks
capstone, a partial one (failures, partial credit, a grader error, skips, a missing tool, checks
failing for one cause) and one whose lab02 grader could not load and whose lab03 has no grader.
Durations in them are fixed, so the output is the same on every machine. A change of output is
reviewed as a diff of tests/reports/goldens: ``pytest tests/reports --update-goldens`` rewrites them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from graders.engine.batch_row import BatchRow
from graders.engine.model import GradeReport
from graders.reports import FORMATS, gradebook, render, text

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "reports"
GOLDENS = Path(__file__).with_name("goldens")
REPORTS = ("full-marks", "partial", "grader-not-loaded")
LAB_IDS = ["lab01", "lab02", "lab03", "lab04"]

Renderer = Callable[[GradeReport], str]
# name of the golden file's kind -> (file suffix, renderer)
KINDS: dict[str, tuple[str, Renderer]] = {
    **{fmt: (ext, lambda report, fmt=fmt: render(report, fmt)) for fmt, ext in [
        ("text", "txt"),
        ("json", "json"),
        ("classroom", "classroom.txt"),
        ("gradescope", "gradescope.json"),
        ("junit", "junit.xml"),
        ("markdown", "md"),
    ]},
    "text-all": ("all.txt", lambda report: text.render(report, "all")),
    "text-verbose": ("verbose.txt", lambda report: text.render_verbose(report, "all")),
}


def load(name: str) -> GradeReport:
    return GradeReport.from_dict(json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8")))


def compare(request: pytest.FixtureRequest, golden: Path, rendered: str) -> None:
    if request.config.getoption("--update-goldens"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(rendered, encoding="utf-8", newline="")
        return
    assert golden.exists(), f"{golden} is missing: run pytest {__file__} --update-goldens and review it"
    expected = golden.read_bytes().decode("utf-8")  # byte for byte: no newline translation
    assert rendered == expected, f"{golden.name} changed: review with --update-goldens and git diff"


def test_every_format_has_goldens() -> None:
    assert set(FORMATS) <= set(KINDS), "a new report format needs its goldens: add it to KINDS"


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("name", REPORTS)
def test_report_matches_its_golden(request: pytest.FixtureRequest, name: str, kind: str) -> None:
    suffix, renderer = KINDS[kind]
    compare(request, GOLDENS / f"{name}.{suffix}", renderer(load(name)))


def test_gradebook_matches_its_golden(request: pytest.FixtureRequest) -> None:
    rows = [
        BatchRow("alice", load("full-marks"), "graded", "", 12.5),
        BatchRow("bob", load("partial"), "graded", "", 30.25),
        BatchRow("carol", load("grader-not-loaded"), "graded", "", 8.0),
        BatchRow("dave", None, "timeout", "grading took longer than 900 s", 900.0),
        BatchRow("erin", None, "failed", "erin: no config/plant.yaml here; this is not a capstone repository", 0.5),
    ]
    compare(request, GOLDENS / "gradebook.csv", gradebook.render(rows, LAB_IDS))
