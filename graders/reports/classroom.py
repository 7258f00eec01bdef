"""GitHub Classroom: one ``autograding-grading-reporter`` runner result per lab.

The reporter reads ``<RUNNER>_RESULTS`` environment variables holding base64 of
``{"version": 1, "status", "max_score", "tests": [...]}`` and adds up each test's ``score``, so
fractional scores here carry partial credit all the way to Classroom. The rendered text is one
``labNN=<base64>`` line per lab: the format of ``$GITHUB_OUTPUT``.

The format has no free text per runner, and the reporter prints only the messages of ``error`` tests,
so what concerns a whole lab (the banner of checks that could not run for want of a tool, then the
lab's notes, e.g. "the grader could not be loaded") opens the ``message`` of each runner's first
``error`` test (its first test when it has none; a lab with no checks gets one error test for it).
"""

from __future__ import annotations

import base64
import json
from typing import Any

from graders.engine.model import GradeReport, LabResult, Status
from graders.reports.missing_tools import missing_tools_lines

_STATUS = {Status.PASSED: "pass", Status.FAILED: "fail", Status.ERROR: "error", Status.SKIPPED: "error"}


def _lab_note_test(lab: LabResult) -> dict[str, Any]:
    """The test that carries a lab's notes when the lab has no checks (e.g. no grader installed)."""
    return {
        "name": f"{lab.id}: grader",
        "status": "error",
        "score": 0.0,
        "max_score": 0.0,
        "message": None,
        "line_no": None,
        "filename": None,
        "duration": 0.0,
        "execution_time": "0.00s",
    }


def lab_payload(lab: LabResult, banner: list[str] | None = None) -> dict[str, Any]:
    """One runner's result; ``banner`` (the missing-tools lines) and the lab's notes open its first
    error's (else first test's) message."""
    tests: list[dict[str, Any]] = [
        {
            "name": f"{c.id}: {c.name}",
            "status": _STATUS[c.status],
            "score": c.score,
            "max_score": c.max_score,
            "message": c.feedback or None,
            "line_no": c.location.line if c.location else None,
            "filename": c.location.file if c.location else None,
            "duration": round(c.duration_s, 3),
            "execution_time": f"{c.duration_s:.2f}s",
        }
        for c in lab.checks
    ]
    lead = [*(banner or []), *lab.notes]
    if lab.notes and not tests:
        tests.append(_lab_note_test(lab))
    if lead and tests:
        # The reporter prints the message of `error` tests only (tool-skipped checks are errors here).
        first = next((t for t in tests if t["status"] == "error"), tests[0])
        first["message"] = "\n".join([*lead, *([first["message"]] if first["message"] else [])])
    statuses = {t["status"] for t in tests}
    overall = "error" if "error" in statuses and "fail" not in statuses else "fail" if statuses - {"pass"} else "pass"
    return {"version": 1, "status": overall, "max_score": lab.max_score, "tests": tests}


def encode(payload: dict[str, Any]) -> str:
    return base64.b64encode(json.dumps(payload, separators=(",", ":")).encode("utf-8")).decode("ascii")


def render(report: GradeReport) -> str:
    banner = missing_tools_lines(report)
    return "".join(f"{lab.id}={encode(lab_payload(lab, banner))}\n" for lab in report.labs)
