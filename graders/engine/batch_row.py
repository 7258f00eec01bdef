"""One gradebook row of a batch: the grading of one submission folder, or why there is none."""

from __future__ import annotations

from dataclasses import dataclass

from graders.engine.model import GradeReport


@dataclass
class BatchRow:
    submission: str  # the folder's name
    report: GradeReport | None  # None unless status is "graded"
    status: str  # "graded", "timeout" or "failed"
    message: str = ""
    duration_s: float = 0.0
