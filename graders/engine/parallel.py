"""Grading several labs of one submission at once, one worker process per lab at a time.

Most of a lab's grading time is spent waiting on student programs (a training run, a starting
service) or in tools that use one core, so on a 2-core machine two labs graded side by side finish
sooner than one after the other. Each worker grades one lab with the in-process engine
(``inprocess.grade_in_process``), so the isolation rules are the same; labs are started in order of
their ``grading_cost`` so the longest one never starts last.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from graders import fast_exit
from graders.engine import outcomes
from graders.engine.inprocess import grade_in_process
from graders.engine.labs import Lab
from graders.engine.model import CheckResult, GradeReport, LabResult


def default_jobs(lab_count: int) -> int:
    """Two workers when there are two labs and two cores to spare; the grader never asks for more."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(lab_count, cpus, 2))


def _grade_lab(root: str, lab: Lab, python: str | None, checks: tuple[str, ...]) -> dict[str, Any]:
    """In a worker: one lab, returned as its lossless dict (what crosses the process boundary)."""
    return grade_in_process(Path(root), [lab], python, checks=checks).lab(lab.id).to_dict()


def _crashed(lab: Lab, exc: BaseException) -> LabResult:
    check = CheckResult(id=f"{lab.id}.grader_ran", name="Grader process finished", max_score=lab.points)
    outcomes.record(check, outcomes.worker_crashed(exc))
    return LabResult(lab.id, lab.title, checks=[check], notes=[outcomes.worker_crashed_note(lab.id, exc)])


def grade_side_by_side(
    root: Path, labs: list[Lab], python: str | None, jobs: int, checks: Collection[str] = ()
) -> GradeReport:
    """Grade ``labs`` over ``root`` (absolute) with up to ``jobs`` worker processes; results in lab order."""
    order = sorted(labs, key=lambda lab: -lab.grading_cost)
    results: dict[str, LabResult] = {}
    # Workers skip the interpreter's teardown when the pool closes (1-2 s each; see fast_exit).
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn"), initializer=fast_exit.arm) as pool:
        futures: dict[str, Future[dict[str, Any]]] = {
            lab.id: pool.submit(_grade_lab, str(root), lab, python, tuple(checks)) for lab in order
        }
        for lab in order:
            try:
                results[lab.id] = LabResult.from_dict(futures[lab.id].result())
            except Exception as exc:  # a crashed worker costs its lab, never the others
                results[lab.id] = _crashed(lab, exc)
    return GradeReport(labs=[results[lab.id] for lab in labs], submission=str(root))
