"""The engine's entry points: grade the selected labs of one submission, or list their checks.

``grade_labs`` is the one way to grade: in this process (``inprocess``), or with ``jobs`` > 1 and
several labs, side by side in worker processes (``parallel``) that each grade in process. Both
grading and :func:`collect_checks` run pytest through ``pytest_run``, the kit's isolated
configuration, so nothing in a submission can change which checks run or how they score.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Collection
from pathlib import Path

from graders.engine.inprocess import grade_in_process
from graders.engine.labs import Lab
from graders.engine.model import GradeReport, check_lab
from graders.engine.parallel import grade_side_by_side
from graders.engine.plugin import GradingPlugin
from graders.engine.pytest_run import EngineError, run_suites
from graders.sdk.checks import CheckSpec

__all__ = ["EngineError", "check_isolation", "collect_checks", "grade_labs"]


def grade_labs(
    submission: Path,
    labs: list[Lab],
    python: str | None = None,
    quiet: bool = True,
    jobs: int = 1,
    checks: Collection[str] = (),
) -> GradeReport:
    """Grade ``labs`` over ``submission`` and return the report (labs without a grader show a note).

    With ``jobs`` > 1 and more than one lab, the labs are graded side by side in worker processes.
    ``checks`` restricts the grading to those checks (ids, parameters ignored): the others are neither
    run nor reported, and each lab's result records the selection.
    """
    root = submission.absolute()
    if not root.is_dir():
        raise EngineError(f"{submission}: not a folder; pass the path of the capstone repository to grade")
    with_checks = {check_lab(c) for c in checks}
    unselected = [lab.id for lab in labs if checks and lab.id not in with_checks]
    if unselected:
        raise EngineError(
            f"no check of {', '.join(unselected)} is selected ({', '.join(sorted(checks))}): "
            "grade only the labs whose checks you select"
        )
    if jobs > 1 and len(labs) > 1:
        return grade_side_by_side(root, labs, python, jobs, checks)
    return grade_in_process(root, labs, python, quiet, checks)


def collect_checks(labs: list[Lab]) -> dict[str, list[tuple[str, CheckSpec]]]:
    """The checks each lab declares (id and spec, in order), collected without running them.

    Used for rubrics (notebooks, README), the points-add-up test and ``capstone verify``.
    """
    plugin = GradingPlugin(Path(tempfile.gettempdir()), labs)
    run_suites([d for d in (lab.grader_dir() for lab in labs) if d is not None], plugin, collect_only=True)
    return plugin.declared_checks()


def check_isolation(submission: Path) -> None:
    """Refuse to grade when this grader process has already imported code from the submission."""
    root = os.path.realpath(submission)
    for name in ("sitecustomize", "usercustomize", "graders"):
        module = sys.modules.get(name)
        origin = getattr(module, "__file__", None) or ""
        if origin and os.path.realpath(origin).startswith(root + os.sep):
            raise EngineError(
                f"the grader imported {name} from the submission ({origin}); install the grader in its own "
                "environment (not the student's) and run it from outside the repository"
            )
