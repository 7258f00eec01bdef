"""Gradescope's ``results.json`` (the autograder specification's top-level and per-test fields)."""

from __future__ import annotations

import json

from graders.engine.model import GradeReport, Status
from graders.reports.formatting import points
from graders.reports.missing_tools import missing_tools_lines


def render(report: GradeReport) -> str:
    tests = []
    for lab in report.labs:
        for number, c in enumerate(lab.checks, start=1):
            output = c.feedback
            if c.location:
                output = f"{output}\n(at {c.location})" if output else f"at {c.location}"
            tests.append(
                {
                    "score": c.score,
                    "max_score": c.max_score,
                    "status": "passed" if c.status is Status.PASSED else "failed",
                    "name": c.name,
                    "number": f"{lab.id.removeprefix('lab').lstrip('0')}.{number}",
                    "output": output,
                    "tags": [lab.id, c.status.value],
                    "visibility": "visible",
                    "extra_data": {"id": c.id},
                }
            )
    summary = "; ".join(f"{lab.id} {points(lab.score)}/{points(lab.max_score)}" for lab in report.labs)
    results = {
        "score": report.score,
        "execution_time": round(sum(lab.duration_s for lab in report.labs), 3),
        "output": "\n".join(
            [
                *missing_tools_lines(report),
                f"Capstone grade {points(report.score)}/{points(report.max_score)} ({summary})",
            ]
        ),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }
    return json.dumps(results, indent=2, ensure_ascii=False) + "\n"
