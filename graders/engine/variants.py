"""Correct answers in other forms that a lab's grader must give full marks.

A grader that marks a correct answer wrong is the worst defect a course tool can have, and the
reference solution is only one way to be right. A lab ships ``variants.yaml`` beside its checks:
each variant is a whole-file alternative of the lab's deliverables (an ``overlay`` folder, optional
``edits`` of the kinds ``mutants.yaml`` uses, applied after it) and is judged "at full marks" when
its lab scores the lab's maximum. ``capstone verify`` grades every variant beside the mutants.

Format::

    # Correct answers in other forms; each must score full marks for its lab.
    variants:
      - id: ordered-checklist
        description: the PR checklist as an ordered list, which GitHub renders as task items too.
        overlay: variants/ordered-checklist   # relative to this file; files at their repository paths
        edits: []                             # optional, applied after the overlay

``variants/README.md`` has one line per variant: ``- <id>: how it differs``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from graders.engine.labs import Lab
from graders.engine.model import LabResult
from graders.engine.mutants import Edit, MutantError, grade_change, parse_changes, read_entries

if TYPE_CHECKING:
    from graders.engine.cache import GradeCache

FILE_NAME = "variants.yaml"
FOLDER = "variants"


@dataclass(frozen=True)
class Variant:
    kind: ClassVar[str] = "variant"
    id: str
    lab: str
    description: str
    edits: tuple[Edit, ...]
    overlay: Path | None = None
    scope: ClassVar[tuple[str, ...]] = ()  # a variant must keep full marks on every check


@dataclass
class VariantOutcome:
    variant: Variant
    full_marks: bool
    score: float
    max_score: float
    lost: list[str] = field(default_factory=list)  # "check (status: feedback)" of each check below its points
    message: str = ""


def variants_file(lab: Lab) -> Path | None:
    directory = lab.grader_dir()
    if directory is None:
        return None
    path = directory / FILE_NAME
    return path if path.is_file() else None


def load_variants(lab: Lab) -> list[Variant]:
    """The lab's variants; an invalid entry raises ``MutantError`` naming the file and the entry."""
    path = variants_file(lab)
    if path is None:
        return []
    result = []
    for where, raw in read_entries(path, "variants"):
        if not str(raw.get("description") or "").strip():
            raise MutantError(f"{where}: a variant needs a 'description' that says how it differs")
        overlay, edits = parse_changes(raw, path, where)
        result.append(Variant(str(raw["id"]), lab.id, str(raw["description"]).strip(), edits, overlay))
    return result


def judge(variant: Variant, result: LabResult) -> VariantOutcome:
    """At full marks means: the lab scored its maximum (and has one)."""
    lost = [
        f"{c.id} ({c.status.value}, {c.score:g}/{c.max_score:g}: {c.feedback.strip()})"
        for c in result.checks
        if c.score < c.max_score
    ]
    full = result.max_score > 0 and result.score >= result.max_score
    if full:
        message = ""
    elif not result.checks:
        message = "no check ran: " + ("; ".join(result.notes) or "the grader collected nothing")
    else:
        message = f"scored {result.score:g}/{result.max_score:g}; lost points in " + "; ".join(lost)
    return VariantOutcome(variant, full, result.score, result.max_score, lost, message)


def grade_variant(
    variant: Variant, reference: Path, lab: Lab, python: str | None = None, cache: GradeCache | None = None
) -> LabResult:
    """Apply the variant to a temporary copy of ``reference`` and grade its lab (through ``cache`` if given)."""
    return grade_change(variant, reference, lab, python, cache)


def run_variant(
    variant: Variant, reference: Path, lab: Lab, python: str | None = None, cache: GradeCache | None = None
) -> VariantOutcome:
    """Grade the variant and judge whether it kept full marks."""
    return judge(variant, grade_variant(variant, reference, lab, python, cache))
