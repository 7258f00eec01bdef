"""The MLOps readiness scorecard (the lab's assignment): complete, honest about its levels, rendered."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest

from graders.lab01 import contract, scorecard_rules, sections
from graders.sdk import Checklist, Submission, SubmissionFileError, check, fail

SECTION = sections.LAB


@pytest.fixture(scope="session")
def scorecard(submission: Submission) -> dict[str, Any]:
    card = submission.load_yaml(contract.SCORECARD)
    if not isinstance(card, dict):
        fail(f"{contract.SCORECARD}: expected a mapping with project, assessed_on, assessor and dimensions")
    # YAML turns unquoted dates into date objects; the schema checks their text.
    return json.loads(json.dumps(card, default=lambda v: v.isoformat() if isinstance(v, dt.date) else str(v)))


def _entries(card: dict[str, Any]) -> list[dict[str, Any]]:
    return (
        [d for d in card.get("dimensions") or [] if isinstance(d, dict)]
        if isinstance(card.get("dimensions"), list)
        else []
    )


def _line(submission: Submission, dimension: object) -> str:
    line = submission.find_line(contract.SCORECARD, f"id: {dimension}")
    return f"{contract.SCORECARD}:{line}" if line else contract.SCORECARD


def _evidence_files(submission: Submission, paths: list[str]) -> dict[str, str]:
    """Listed evidence as path -> text (folders expanded to their files; unreadable files as empty text)."""
    files: dict[str, str] = {}
    for path in paths:
        if not submission.exists(path):
            continue
        found = [path] if submission.is_file(path) else submission.glob("**", under=path)
        for rel in found[: scorecard_rules.MAX_EVIDENCE_FILES]:
            try:
                files[rel] = submission.read_text(rel)
            except SubmissionFileError:  # binary or too large: the path still counts, its text does not
                files[rel] = ""
    return files


def _incomplete(submission: Submission, entry: dict[str, Any]) -> list[str]:
    """What one dimension's entry lacks (empty when it is complete)."""
    lacks = []
    level = entry.get("level")
    if not isinstance(level, int) or isinstance(level, bool) or not 0 <= level <= 4:
        lacks.append(f"a level from 0 to 4 (has {level!r})")
    listed = entry.get("evidence")
    evidence: list[object] = listed if isinstance(listed, list) else []
    if isinstance(level, int) and level >= 1 and not evidence:
        lacks.append(f"evidence for level {level} (paths in the repository)")
    missing = [str(p) for p in evidence if not submission.exists(str(p))]
    if missing:
        lacks.append(f"evidence that exists ({', '.join(missing)} does not)")
    for field, what in (("gaps", "the gaps"), ("owner", "an owner")):
        if not str(entry.get(field) or "").strip():
            lacks.append(what)
    return lacks


@check(
    points=8,
    name="The scorecard covers the nine dimensions with levels, evidence, gaps, actions and owners",
    section=SECTION,
    assignment=True,
)
def test_scorecard_complete(submission: Submission, scorecard: dict[str, Any], checklist: Checklist) -> None:
    errors = sorted(scorecard_rules.validator().iter_errors(scorecard), key=lambda e: [str(p) for p in e.path])
    shown = "; ".join(
        f"{'.'.join(str(p) for p in e.absolute_path) or '(the card)'}: {e.message[:120]}" for e in errors[:4]
    )
    more = f" (and {len(errors) - 4} more)" if len(errors) > 4 else ""
    checklist.require(
        not errors,
        f"{contract.SCORECARD} does not match the scorecard schema ({contract.SCORECARD_SCHEMA}): {shown}{more}",
        contract.SCORECARD,
        weight=2,
    )
    entries = _entries(scorecard)
    ids = [d.get("id") for d in entries]
    for dimension, name in scorecard_rules.DIMENSIONS.items():
        count = ids.count(dimension)
        if count != 1:
            state = "missing" if count == 0 else f"listed {count} times"
            checklist.require(False, f"dimension {dimension} ({name}) is {state}", contract.SCORECARD)
            continue
        lacks = _incomplete(submission, entries[ids.index(dimension)])
        checklist.require(not lacks, f"{dimension} needs {', '.join(lacks)}", _line(submission, dimension))


@check(
    points=8,
    name="Levels 3 and 4 have the evidence they need; lower levels have a next action",
    section=SECTION,
    assignment=True,
)
def test_scorecard_honest(submission: Submission, scorecard: dict[str, Any], checklist: Checklist) -> None:
    entries = _entries(scorecard)
    if not entries:
        fail(f"{contract.SCORECARD} lists no dimensions", contract.SCORECARD)
    for entry in entries:
        dimension, level = entry.get("id"), entry.get("level")
        where = _line(submission, dimension)
        if not isinstance(level, int) or dimension not in scorecard_rules.DIMENSIONS:
            checklist.require(False, f"{dimension}: give a known dimension id and a level from 0 to 4", where)
            continue
        if level < scorecard_rules.EVIDENCE_LEVEL:
            checklist.require(
                len(str(entry.get("next_action") or "").strip()) >= 10 and bool(str(entry.get("gaps") or "").strip()),
                f"{dimension} is at level {level}: say what is missing (gaps) and the next action that raises it",
                where,
            )
            continue
        paths = [str(p) for p in entry.get("evidence") or [] if isinstance(p, str)]
        files = _evidence_files(submission, paths)
        for need in scorecard_rules.required(dimension, level):
            checklist.require(
                scorecard_rules.satisfied(need, files),
                f"{dimension} claims level {level} ({scorecard_rules.LEVELS[level]}), which needs {need.what}, "
                f"but its evidence ({', '.join(paths) or 'none'}) shows none; list that file or lower the level",
                where,
            )


def _rows(markdown: str) -> list[list[str]]:
    return [
        [cell.strip().strip("*_`") for cell in line.strip().strip("|").split("|")]
        for line in markdown.splitlines()
        if line.lstrip().startswith("|")
    ]


@check(points=4, name="The rendered scorecard (Markdown) agrees with the YAML", section=SECTION, assignment=True)
def test_scorecard_rendered(submission: Submission, scorecard: dict[str, Any], checklist: Checklist) -> None:
    rows = _rows(submission.read_text(contract.SCORECARD_MD))
    for entry in _entries(scorecard):
        names = {str(entry.get("id") or "").lower(), str(entry.get("name") or "").lower()} - {""}
        level = entry.get("level")
        row = next((r for r in rows if any(c.lower() in names for c in r)), None)
        shown = re.compile(rf"^{level}\b") if isinstance(level, int) else None
        checklist.require(
            row is not None and shown is not None and any(shown.match(c) for c in row[1:]),
            f"{contract.SCORECARD_MD} has no table row for {entry.get('name') or entry.get('id')} at level {level}; "
            "regenerate it from the YAML (`python -m mlops.scorecard`)",
            contract.SCORECARD_MD,
        )
