"""The JSON report: the contract in the design brief (``schema: 1``), for students and their CI.

It is the model's ``to_dict`` less what students never see: the grader-side ``detail`` of a check
(tracebacks) and the grading machine's path of the submission; durations are rounded to
milliseconds. Each lab carries its ``notes`` (e.g. "the grader could not be loaded"). When checks
could not run for want of a tool, a top-level ``missing_tools`` (the banner's lines) comes before
``labs``, and each such check carries ``missing_tool``; both are absent otherwise.
``GradeReport.from_dict`` reads this JSON back (and the older one without notes and durations).
"""

from __future__ import annotations

import json
from typing import Any

from graders.engine.model import GradeReport
from graders.reports.missing_tools import missing_tools_lines


def _for_students(data: dict[str, Any]) -> dict[str, Any]:
    data.pop("submission", None)
    for lab in data["labs"]:
        lab["duration_s"] = round(lab["duration_s"], 3)
        for check in lab["checks"]:
            check.pop("detail", None)
            check["duration_s"] = round(check["duration_s"], 3)
    return data


def render(report: GradeReport) -> str:
    data = _for_students(report.to_dict())
    banner = missing_tools_lines(report)
    if banner:
        labs = data.pop("labs")
        data["missing_tools"] = banner
        data["labs"] = labs
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
