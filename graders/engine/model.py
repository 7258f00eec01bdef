"""The one result model every report is rendered from.

A grading run produces a :class:`GradeReport` holding one :class:`LabResult` per lab and one
:class:`CheckResult` per check. Scores are computed here and nowhere else, so every report format
agrees on every number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

SCHEMA_VERSION = 1
# Scores are rounded once, here, so that 0.1 + 0.2 style noise never reaches a gradebook.
SCORE_DIGITS = 4


class Status(str, Enum):
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    SKIPPED = "skipped"


def round_score(value: float) -> float:
    rounded = round(float(value), SCORE_DIGITS)
    return 0.0 if rounded == 0 else rounded  # never "-0.0"


@dataclass
class CheckResult:
    """The outcome of one check: what a student sees for one rubric line."""

    id: str
    name: str
    max_score: float
    score: float = 0.0
    status: Status = Status.PASSED
    feedback: str = ""
    location: str | None = None
    duration_s: float = 0.0
    # Grader-side diagnostics (tracebacks): shown with --verbose, never in student-facing formats.
    detail: str | None = None
    # The tool whose absence skipped this check (graders.sdk.tools.ToolMissing), for the reports' banner.
    missing_tool: str | None = None

    def __post_init__(self) -> None:
        self.score = round_score(min(max(self.score, 0.0), self.max_score))
        self.max_score = round_score(self.max_score)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "score": self.score,
            "max_score": self.max_score,
            "status": self.status.value,
            "feedback": self.feedback,
            "location": self.location,
        }
        if self.missing_tool:
            data["missing_tool"] = self.missing_tool
        return data


@dataclass
class LabResult:
    id: str
    title: str
    checks: list[CheckResult] = field(default_factory=list)
    duration_s: float = 0.0
    # A lab-level problem (grader could not load, lab timed out) that is not tied to one check.
    notes: list[str] = field(default_factory=list)

    @property
    def score(self) -> float:
        return round_score(sum(c.score for c in self.checks))

    @property
    def max_score(self) -> float:
        return round_score(sum(c.max_score for c in self.checks))

    @property
    def counts(self) -> dict[str, int]:
        counts = {s.value: 0 for s in Status}
        for c in self.checks:
            counts[c.status.value] += 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "score": self.score,
            "max_score": self.max_score,
            "duration_s": round(self.duration_s, 3),
            "checks": [c.to_dict() for c in self.checks],
        }


@dataclass
class GradeReport:
    labs: list[LabResult] = field(default_factory=list)
    submission: str = "."

    @property
    def score(self) -> float:
        return round_score(sum(lab.score for lab in self.labs))

    @property
    def max_score(self) -> float:
        return round_score(sum(lab.max_score for lab in self.labs))

    def missing_tools(self) -> dict[str, list[str]]:
        """Tool name -> ids of the checks skipped because the grading machine lacks it (first seen first)."""
        found: dict[str, list[str]] = {}
        for lab in self.labs:
            for c in lab.checks:
                if c.status is Status.SKIPPED and c.missing_tool:
                    found.setdefault(c.missing_tool, []).append(c.id)
        return found

    def lab(self, lab_id: str) -> LabResult:
        for lab in self.labs:
            if lab.id == lab_id:
                return lab
        raise KeyError(lab_id)

    def check(self, check_id: str) -> CheckResult:
        for lab in self.labs:
            for c in lab.checks:
                if c.id == check_id:
                    return c
        raise KeyError(check_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_VERSION,
            "score": self.score,
            "max_score": self.max_score,
            "labs": [lab.to_dict() for lab in self.labs],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], submission: str = ".") -> GradeReport:
        """Rebuild a report from its JSON form (grade-batch reads its workers' output this way)."""
        labs = []
        for lab in data["labs"]:
            checks = [
                CheckResult(
                    id=c["id"],
                    name=c["name"],
                    max_score=c["max_score"],
                    score=c["score"],
                    status=Status(c["status"]),
                    feedback=c.get("feedback", ""),
                    location=c.get("location"),
                    missing_tool=c.get("missing_tool"),
                )
                for c in lab["checks"]
            ]
            labs.append(LabResult(id=lab["id"], title=lab["title"], checks=checks, duration_s=lab["duration_s"]))
        return cls(labs=labs, submission=submission)
