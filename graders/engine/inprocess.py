"""Grading the selected labs of one submission in this process: one pytest session over their suites.

This is the engine's only grading step; ``session.grade_labs`` calls it directly, and each worker of
``parallel`` calls it for one lab.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from graders.engine import outcomes
from graders.engine.labs import Lab
from graders.engine.model import GradeReport
from graders.engine.plugin import GradingPlugin
from graders.engine.pytest_run import run_suites


def grade_in_process(
    root: Path, labs: list[Lab], python: str | None = None, quiet: bool = True, checks: Collection[str] = ()
) -> GradeReport:
    """Grade ``labs`` over the submission folder ``root`` (absolute); labs without a grader get a note.
    With ``checks``, only those checks run (see ``session.grade_labs``)."""
    plugin = GradingPlugin(root, labs, python, selection=checks)
    grader_dirs = []
    for lab in labs:
        directory = lab.grader_dir()
        if directory is None:
            plugin.results[lab.id].notes.append(outcomes.no_grader_note(lab.id, lab.grader))
        else:
            grader_dirs.append(directory)
    run_suites(grader_dirs, plugin, quiet=quiet)
    return plugin.report()
