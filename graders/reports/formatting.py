"""Small formatting helpers shared by the human-readable reports."""

from __future__ import annotations

from graders.engine.model import CheckResult, LabResult, Status


def points(value: float) -> str:
    """2 -> '2', 2.5 -> '2.5', 2.6667 -> '2.67'."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text or "0"


def percent(score: float, max_score: float) -> str:
    return f"{100 * score / max_score:.0f}%" if max_score else "-"


def needs_work(lab: LabResult) -> list[CheckResult]:
    return [c for c in lab.checks if c.status is not Status.PASSED]


def status_counts(lab: LabResult) -> str:
    counts = lab.counts
    parts = [f"{n} {name}" for name, n in counts.items() if n]
    return ", ".join(parts) if parts else "no checks"
