"""Which labs a selection of checks (``capstone grade --check ID``) grades, and whether its ids exist.

A student re-running the check they just fixed types its id from the report; a typo must say which
ids exist, not grade nothing.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection

from graders.engine.labs import Lab
from graders.engine.model import base_check_id, check_lab
from graders.engine.session import collect_checks


def selected_labs(labs: list[Lab], checks: Collection[str]) -> list[Lab]:
    """The labs of ``labs`` that hold a check of ``checks``; ValueError naming any id that is no check."""
    wanted = {base_check_id(c) for c in checks}
    chosen = [lab for lab in labs if lab.id in {check_lab(c) for c in wanted}]
    declared = {base_check_id(check_id) for found in collect_checks(chosen).values() for check_id, _ in found}
    unknown = sorted(wanted - declared)
    if unknown:
        raise ValueError("; ".join(_unknown(check_id, declared, [lab.id for lab in labs]) for check_id in unknown))
    return chosen


def _unknown(check_id: str, declared: set[str], lab_ids: list[str]) -> str:
    lab_id = check_lab(check_id)
    if lab_id not in lab_ids:
        return f"--check {check_id}: no lab {lab_id!r} is graded here (labs: {', '.join(lab_ids)})"
    names = sorted(c.removeprefix(f"{lab_id}.") for c in declared if check_lab(c) == lab_id)
    close = difflib.get_close_matches(check_id.removeprefix(f"{lab_id}."), names, n=3, cutoff=0.75)
    hint = (
        f"did you mean {' or '.join(f'{lab_id}.{name}' for name in close)}?"
        if close
        else "`capstone grade --all` names every check by its id"
    )
    return f"--check {check_id}: {lab_id} has no such check; {hint}"
