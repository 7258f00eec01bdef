"""The one result model every report is rendered from.

A grading run produces a :class:`GradeReport` holding one :class:`LabResult` per lab and one
:class:`CheckResult` per check. A check's score is computed here, from the fraction of its points
that its outcome earned (:meth:`CheckResult.settle`), and nowhere else, so every report format
agrees on every number.

``to_dict``/``from_dict`` are lossless (``GradeReport.from_dict(r.to_dict()) == r``): a report that
crossed a process boundary or came out of a cache is the report that was graded. ``from_dict`` also
reads JSON written before the lab notes, check details and durations were kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

SCHEMA_VERSION = 1
# Scores are rounded once, here, so that 0.1 + 0.2 style noise never reaches a gradebook.
SCORE_DIGITS = 4
# What a check says until its outcome is recorded: a check the grader lost is never "passed, 0 points".
NOT_RUN_FEEDBACK = (
    "This check did not run: the grader recorded no outcome for it. Tell your instructor; "
    "this is a problem with the grader, not your work."
)


class Status(str, Enum):
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    SKIPPED = "skipped"


def base_check_id(check_id: str) -> str:
    """A check's id without its parameter (``lab03.compose_valid[dev]`` -> ``lab03.compose_valid``)."""
    return check_id.split("[", 1)[0]


def check_lab(check_id: str) -> str:
    """The lab a check id belongs to (``lab03.compose_valid`` -> ``lab03``)."""
    return check_id.split(".", 1)[0]


def round_score(value: float) -> float:
    rounded = round(float(value), SCORE_DIGITS)
    return 0.0 if rounded == 0 else rounded  # never "-0.0"


@dataclass(frozen=True)
class Location:
    """Where in the submission a check's feedback points: a file, and a line when known."""

    file: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line is not None else self.file

    @classmethod
    def parse(cls, text: str | None) -> Location | None:
        """``"file:12"`` or ``"file"`` (the graders' and the JSON's form); None for no location."""
        if not text:
            return None
        file, sep, tail = text.rpartition(":")
        if sep and file and tail.isdigit():
            return cls(file, int(tail))
        return cls(text)


@dataclass
class CheckResult:
    """The outcome of one check: what a student sees for one rubric line.

    A check starts as not run (an error saying so) and gets its outcome from :meth:`settle`. An
    error always says why: one created without feedback is a check that did not run.
    """

    id: str
    name: str
    max_score: float
    score: float = 0.0
    status: Status = Status.ERROR
    feedback: str = ""
    location: Location | None = None
    duration_s: float = 0.0
    # Grader-side diagnostics (tracebacks): shown with --verbose, never in student-facing formats.
    detail: str | None = None
    # The tool whose absence skipped this check (graders.sdk.tools.ToolMissing), for the reports' banner.
    missing_tool: str | None = None

    def __post_init__(self) -> None:
        self.max_score = round_score(self.max_score)
        self.score = round_score(min(max(self.score, 0.0), self.max_score))
        if self.status is Status.ERROR and not self.feedback:
            self.feedback = NOT_RUN_FEEDBACK

    def settle(
        self,
        status: Status,
        fraction: float,
        feedback: str,
        location: Location | None = None,
        detail: str | None = None,
        missing_tool: str | None = None,
    ) -> None:
        """Record the check's outcome; it earns ``fraction`` (clamped to 0..1) of its points."""
        self.status = status
        self.score = round_score(min(max(fraction, 0.0), 1.0) * self.max_score)
        self.feedback = feedback
        self.location = location
        self.detail = detail
        self.missing_tool = missing_tool

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "score": self.score,
            "max_score": self.max_score,
            "status": self.status.value,
            "feedback": self.feedback,
            "location": str(self.location) if self.location else None,
            "duration_s": self.duration_s,
        }
        if self.detail is not None:
            data["detail"] = self.detail
        if self.missing_tool:
            data["missing_tool"] = self.missing_tool
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckResult:
        return cls(
            id=data["id"],
            name=data["name"],
            max_score=data["max_score"],
            score=data["score"],
            status=Status(data["status"]),
            feedback=data.get("feedback", ""),
            location=Location.parse(data.get("location")),
            duration_s=data.get("duration_s", 0.0),
            detail=data.get("detail"),
            missing_tool=data.get("missing_tool"),
        )


@dataclass
class LabResult:
    id: str
    title: str
    checks: list[CheckResult] = field(default_factory=list)
    duration_s: float = 0.0
    # A lab-level problem (grader could not load, lab timed out) that is not tied to one check.
    notes: list[str] = field(default_factory=list)
    # The checks this grading was restricted to (base ids); empty: every check of the lab ran.
    selection: tuple[str, ...] = ()

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
            "duration_s": self.duration_s,
            "notes": list(self.notes),
            "checks": [c.to_dict() for c in self.checks],
            **({"selection": list(self.selection)} if self.selection else {}),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LabResult:
        return cls(
            id=data["id"],
            title=data["title"],
            checks=[CheckResult.from_dict(c) for c in data["checks"]],
            duration_s=data.get("duration_s", 0.0),
            notes=list(data.get("notes", [])),
            selection=tuple(data.get("selection", ())),
        )

    def restricted_to(self, selection: tuple[str, ...]) -> LabResult:
        """This result as if only the checks of ``selection`` (base ids) had run; itself when it is empty.

        What a grading restricted to some checks is compared with (a mutant graded on its requirement's
        checks against the reference's full grade)."""
        if not selection:
            return self
        wanted = set(selection)
        checks = [c for c in self.checks if base_check_id(c.id) in wanted]
        return LabResult(self.id, self.title, checks, self.duration_s, list(self.notes), tuple(selection))


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
        """Everything the report holds, JSON-ready (the reports choose what students see)."""
        return {
            "schema": SCHEMA_VERSION,
            "submission": self.submission,
            "score": self.score,
            "max_score": self.max_score,
            "labs": [lab.to_dict() for lab in self.labs],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], submission: str | None = None) -> GradeReport:
        """Rebuild a report from ``to_dict`` or the JSON report; ``submission`` overrides the stored one."""
        return cls(
            labs=[LabResult.from_dict(lab) for lab in data["labs"]],
            submission=submission if submission is not None else data.get("submission", "."),
        )
