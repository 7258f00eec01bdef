"""Grading several labs of one submission at once, one worker process per lab at a time.

Most of a lab's grading time is spent waiting on student programs (a training run, a starting
service) or in tools that use one core, so on a 2-core machine two labs graded side by side finish
sooner than one after the other. Each worker runs the ordinary in-process engine for one lab, so the
isolation rules are the same; labs are started in order of their ``grading_cost`` so the longest
one never starts last.
"""

from __future__ import annotations

import os
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from graders import fast_exit
from graders.engine.labs import Lab
from graders.engine.model import CheckResult, GradeReport, LabResult, Status


def default_jobs(lab_count: int) -> int:
    """Two workers when there are two labs and two cores to spare; the grader never asks for more."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(lab_count, cpus, 2))


def _grade_one(submission: str, lab: Lab, python: str | None) -> LabResult:
    from graders.engine.session import grade_labs  # imported in the worker

    return grade_labs(Path(submission), [lab], python=python).lab(lab.id)


def _crashed(lab: Lab, exc: BaseException) -> LabResult:
    return LabResult(
        lab.id,
        lab.title,
        checks=[
            CheckResult(
                id=f"{lab.id}.grader_ran",
                name="Grader process finished",
                max_score=lab.points,
                status=Status.ERROR,
                feedback="The grader process for this lab stopped unexpectedly; the other labs were graded. "
                "Tell your instructor if it persists.",
                detail=f"{type(exc).__name__}: {exc}",
            )
        ],
        notes=[f"worker for {lab.id} failed: {type(exc).__name__}"],
    )


def grade_labs_parallel(submission: Path, labs: list[Lab], python: str | None, jobs: int) -> GradeReport:
    """Grade ``labs`` with up to ``jobs`` worker processes; results come back in lab order."""
    order = sorted(labs, key=lambda lab: -lab.grading_cost)
    results: dict[str, LabResult] = {}
    # Workers skip the interpreter's teardown when the pool closes (1-2 s each; see fast_exit).
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn"), initializer=fast_exit.arm) as pool:
        futures: dict[str, Future[LabResult]] = {
            lab.id: pool.submit(_grade_one, str(submission.absolute()), lab, python) for lab in order
        }
        for lab in order:
            try:
                results[lab.id] = futures[lab.id].result()
            except Exception as exc:  # a crashed worker costs its lab, never the others
                results[lab.id] = _crashed(lab, exc)
    return GradeReport(labs=[results[lab.id] for lab in labs], submission=str(submission))
