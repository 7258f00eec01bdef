"""GitHub Classroom: one ``autograding-grading-reporter`` runner result per lab.

The reporter reads ``<RUNNER>_RESULTS`` environment variables holding base64 of
``{"version": 1, "status", "max_score", "tests": [...]}`` and adds up each test's ``score``, so
fractional scores here carry partial credit all the way to Classroom. The rendered text is one
``labNN=<base64>`` line per lab: the format of ``$GITHUB_OUTPUT``.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from graders.engine.model import GradeReport, LabResult, Status
from graders.reports.formatting import line_number

_STATUS = {Status.PASSED: "pass", Status.FAILED: "fail", Status.ERROR: "error", Status.SKIPPED: "error"}


def lab_payload(lab: LabResult) -> dict[str, Any]:
    tests = [
        {
            "name": f"{c.id}: {c.name}",
            "status": _STATUS[c.status],
            "score": c.score,
            "max_score": c.max_score,
            "message": c.feedback or None,
            "line_no": line_number(c.location),
            "filename": c.location.rsplit(":", 1)[0] if c.location else None,
            "duration": round(c.duration_s, 3),
            "execution_time": f"{c.duration_s:.2f}s",
        }
        for c in lab.checks
    ]
    statuses = {t["status"] for t in tests}
    overall = "error" if "error" in statuses and "fail" not in statuses else "fail" if statuses - {"pass"} else "pass"
    return {"version": 1, "status": overall, "max_score": lab.max_score, "tests": tests}


def encode(payload: dict[str, Any]) -> str:
    return base64.b64encode(json.dumps(payload, separators=(",", ":")).encode("utf-8")).decode("ascii")


def render(report: GradeReport) -> str:
    return "".join(f"{lab.id}={encode(lab_payload(lab))}\n" for lab in report.labs)
