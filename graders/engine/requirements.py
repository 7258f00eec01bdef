"""A lab's requirement map: what its handout asks of the deliverables, which checks judge each
requirement and which mutants violate it.

A grader is only as good as its coverage of the handout. ``graders/labNN/requirements.yaml`` lists
every requirement the lab's notebook states; each names the checks that judge it, and each mutant in
``mutants.yaml`` names (``requirement:``) the one requirement it violates. ``capstone verify`` and the
kit's contract tests then prove, per requirement, that a check exists and a known mistake is caught
by that check, and that mistakes with severe consequences cost real points.

Format::

    requirements:
      - id: alert-waits-before-paging          # kebab-case, unique within the lab
        text: Every alert has a `for:` so one bad scrape never pages.
        source: "Alert rules"                   # the notebook section stating it
        consequence: outage                     # security, data-loss, outage, cost or quality
        checks: [lab04.alert_metadata]          # full check ids; a parametrized check by its base id

Rules (each broken one is a problem naming the requirement, check or mutant):

1. every requirement names at least one existing check and is violated by at least one mutant;
2. every mutant names an existing requirement;
3. a graded mutant loses points on at least one check of its requirement;
4. a mutant of a ``security`` or ``data-loss`` requirement loses at least ``SEVERE_MIN_POINTS`` of 100;
5. every check of the lab appears in some requirement's ``checks``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graders.engine.labs import Lab
from graders.engine.model import LabResult, base_check_id
from graders.sdk import safe_yaml

FILE_NAME = "requirements.yaml"
CONSEQUENCES = ("security", "data-loss", "outage", "cost", "quality")
SEVERE = frozenset({"security", "data-loss"})
SEVERE_MIN_POINTS = 5.0  # of the lab's 100
ID_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
FIELDS = ("id", "text", "source", "consequence", "checks")


class RequirementError(Exception):
    """An invalid requirement map; the message names the file and the field."""


@dataclass(frozen=True)
class Requirement:
    id: str
    text: str
    source: str
    consequence: str
    checks: tuple[str, ...]

    @property
    def severe(self) -> bool:
        return self.consequence in SEVERE


def requirements_file(lab: Lab) -> Path | None:
    directory = lab.grader_dir()
    if directory is None:
        return None
    path = directory / FILE_NAME
    return path if path.is_file() else None


base_id = base_check_id


def _text(raw: dict[str, Any], name: str, where: str) -> str:
    value = raw.get(name)
    if not isinstance(value, str) or not value.strip():
        raise RequirementError(f"{where}.{name}: required, a non-empty string")
    return value.strip()


def _parse(raw: Any, lab: Lab, where: str) -> Requirement:
    if not isinstance(raw, dict):
        raise RequirementError(f"{where}: each requirement is a mapping with {', '.join(FIELDS)}")
    unknown = sorted(set(raw) - set(FIELDS))
    if unknown:
        raise RequirementError(f"{where}: unknown field(s) {', '.join(unknown)} (allowed: {', '.join(FIELDS)})")
    req_id = _text(raw, "id", where)
    if not ID_PATTERN.match(req_id):
        raise RequirementError(f"{where}.id: {req_id!r} is not kebab-case (like alert-waits-before-paging)")
    consequence = _text(raw, "consequence", where)
    if consequence not in CONSEQUENCES:
        raise RequirementError(f"{where}.consequence: {consequence!r} is not one of {', '.join(CONSEQUENCES)}")
    checks = raw.get("checks")
    if not isinstance(checks, list) or not all(isinstance(c, str) and c.strip() for c in checks):
        raise RequirementError(f"{where}.checks: required, a list of check ids like {lab.id}.check_name")
    wrong_lab = [c for c in checks if not c.startswith(lab.id + ".")]
    if wrong_lab:
        raise RequirementError(f"{where}.checks: ids must start with '{lab.id}.': {wrong_lab}")
    return Requirement(
        req_id, _text(raw, "text", where), _text(raw, "source", where), consequence, tuple(base_id(c) for c in checks)
    )


def load_requirements(lab: Lab) -> list[Requirement] | None:
    """The lab's requirements, or None when it has no requirements.yaml; ``RequirementError`` when invalid."""
    path = requirements_file(lab)
    if path is None:
        return None
    try:
        data = safe_yaml.load(path.read_text(encoding="utf-8"), str(path))
    except Exception as exc:  # the YAML parser's and the alias guard's errors alike
        raise RequirementError(f"{path}: not valid YAML: {exc}") from None
    entries = data.get("requirements") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise RequirementError(f"{path}: requirements: required, a non-empty list")
    found: list[Requirement] = []
    seen: set[str] = set()
    for i, raw in enumerate(entries):
        requirement = _parse(raw, lab, f"{path}: requirements[{i}]")
        if requirement.id in seen:
            raise RequirementError(f"{path}: requirements[{i}].id: duplicate id {requirement.id!r}")
        seen.add(requirement.id)
        found.append(requirement)
    return found


@dataclass(frozen=True)
class MutantRef:
    """What the coverage rules need of a mutant: its id and the requirement it names."""

    id: str
    requirement: str | None


def static_problems(
    requirements: list[Requirement], checks: Iterable[str], mutants: Iterable[MutantRef]
) -> list[str]:
    """Rules 1, 2 and 5: what the map, the lab's checks and its mutants say without grading anything."""
    declared = {base_id(c) for c in checks}
    mutant_list = list(mutants)
    known = {r.id for r in requirements}
    violated = {m.requirement for m in mutant_list}
    problems: list[str] = []
    for req in requirements:
        unknown = [c for c in req.checks if base_id(c) not in declared]
        if unknown:
            problems.append(f"requirement {req.id} names checks that do not exist: {', '.join(unknown)}")
        if len(unknown) == len(req.checks):
            problems.append(f"requirement {req.id} has no check")
        if req.id not in violated:
            problems.append(f"requirement {req.id} has no mutant")
    for mutant in mutant_list:
        if mutant.requirement is None:
            problems.append(f"mutant {mutant.id} names no requirement")
        elif mutant.requirement not in known:
            problems.append(f"mutant {mutant.id} names an unknown requirement {mutant.requirement!r}")
    mapped = {base_id(c) for req in requirements for c in req.checks}
    for check in sorted(declared - mapped):
        problems.append(f"check {check} is in no requirement")
    return problems


def points_lost(result: LabResult, baseline: LabResult) -> dict[str, float]:
    """Points each check of ``result`` lost against ``baseline`` (by base id; only those that lost some).

    A result graded on a selection of checks (a mutant graded on its scope) is compared on those only."""
    before: dict[str, float] = {}
    for check in baseline.restricted_to(result.selection).checks:
        before[base_id(check.id)] = before.get(base_id(check.id), 0.0) + check.score
    after: dict[str, float] = {}
    for check in result.checks:
        after[base_id(check.id)] = after.get(base_id(check.id), 0.0) + check.score
    return {c: before[c] - after.get(c, 0.0) for c in before if before[c] - after.get(c, 0.0) > 1e-9}


def graded_problems(
    mutant: MutantRef, requirements: Mapping[str, Requirement], lost: Mapping[str, float], max_score: float
) -> list[str]:
    """Rules 3 and 4 for one graded mutant, from the points each check lost (``points_lost``) of a lab
    worth ``max_score``; nothing when it names no known requirement (rule 2 reports that)."""
    req = requirements.get(mutant.requirement or "")
    if req is None:
        return []
    problems: list[str] = []
    if not any(base_id(c) in lost for c in req.checks):
        elsewhere = ", ".join(f"{c} (-{p:g})" for c, p in sorted(lost.items())) or "no check"
        problems.append(
            f"mutant {mutant.id} loses no points on a check of its requirement {req.id} "
            f"({', '.join(req.checks)}); caught only by {elsewhere}"
        )
    if req.severe:
        total = sum(lost.values()) * (100.0 / max_score if max_score else 0.0)
        if total < SEVERE_MIN_POINTS:
            problems.append(
                f"mutant {mutant.id} ({req.consequence} requirement {req.id}) loses {total:g} of 100 points, "
                f"under {SEVERE_MIN_POINTS:g}: weigh its checks by the consequence"
            )
    return problems


def summary(requirements: list[Requirement] | None, checks: Iterable[str], mutants: Iterable[MutantRef]) -> str:
    """The coverage line of a lab: ``requirements: 23/23 with a check and a mutant``."""
    if requirements is None:
        return "requirements: no requirement map"
    declared = {base_id(c) for c in checks}
    violated = {m.requirement for m in mutants}
    covered = sum(1 for r in requirements if r.id in violated and any(base_id(c) in declared for c in r.checks))
    return f"requirements: {covered}/{len(requirements)} with a check and a mutant"
