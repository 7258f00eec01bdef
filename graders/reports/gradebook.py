"""The CSV gradebook written by ``capstone grade-batch``: one row per submission."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from graders.engine.model import GradeReport


@dataclass
class BatchRow:
    submission: str
    report: GradeReport | None
    status: str  # "graded", "timeout" or "failed"
    message: str = ""
    duration_s: float = 0.0


def render(rows: list[BatchRow], lab_ids: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["submission", *lab_ids, "total", "max_total", "status", "duration_s", "message"])
    for row in rows:
        scores: list[str] = []
        for lab_id in lab_ids:
            try:
                scores.append(str(row.report.lab(lab_id).score) if row.report else "")
            except KeyError:
                scores.append("")
        total = str(row.report.score) if row.report else ""
        max_total = str(row.report.max_score) if row.report else ""
        writer.writerow([row.submission, *scores, total, max_total, row.status, f"{row.duration_s:.2f}", row.message])
    return buffer.getvalue()
