"""Turning what a check raised (or did not raise) into a status, a fraction of its points and feedback.

This is the only place that decides how an exception is scored and what its feedback says, so the
rules are easy to read: the student is blamed only for problems with the submission; grader
problems are ``error``. :func:`finish` gives feedback its final form (paths scrubbed, the notebook
section to read); the model turns the fraction into points (``CheckResult.settle``).
"""

from __future__ import annotations

import re
import tempfile
import traceback
from dataclasses import dataclass, replace

import pytest

from graders.engine.model import CheckResult, Location, Status
from graders.sdk.checks import CheckFailed, Checklist, CheckSkipped, GraderError, PartialCredit
from graders.sdk.submission import SubmissionFileError
from graders.sdk.tools import ToolMissing


class CheckTimeout(Exception):
    """The check as a whole ran past its declared timeout."""


@dataclass(frozen=True)
class Outcome:
    """What one check earned: ``fraction`` of its points (the model computes the score)."""

    status: Status
    fraction: float
    feedback: str
    location: Location | None = None
    detail: str | None = None
    missing_tool: str | None = None  # the tool whose absence skipped the check


PASSED = Outcome(Status.PASSED, 1.0, "")


def _first_line_location(items: list[tuple[str, str | None]]) -> Location | None:
    return Location.parse(next((loc for _, loc in items if loc), None))


def from_checklist(checklist: Checklist) -> Outcome:
    fraction = checklist.fraction
    problems = checklist.problems
    if not problems:
        return PASSED
    lines = [f"- {msg}" + (f" ({loc})" if loc and loc not in msg else "") for msg, loc in problems]
    met = sum(1 for i in checklist.items if i.ok)
    head = f"{met} of {len(checklist.items)} requirements met:" if checklist.items else "Deductions:"
    return Outcome(Status.FAILED, fraction, head + "\n" + "\n".join(lines), _first_line_location(problems))


def from_exception(exc: BaseException, timeout_s: float) -> Outcome:
    if isinstance(exc, PartialCredit):
        status = Status.PASSED if exc.fraction >= 1.0 else Status.FAILED
        return Outcome(status, exc.fraction, exc.feedback, Location.parse(exc.location))
    if isinstance(exc, CheckFailed):
        return Outcome(Status.FAILED, 0.0, exc.feedback, Location.parse(exc.location))
    if isinstance(exc, SubmissionFileError):
        return Outcome(Status.FAILED, 0.0, str(exc), Location.parse(exc.location))
    if isinstance(exc, ToolMissing):
        return Outcome(Status.SKIPPED, 0.0, exc.feedback, missing_tool=exc.tool.name)
    if isinstance(exc, CheckSkipped):
        return Outcome(Status.SKIPPED, 0.0, exc.feedback)
    if isinstance(exc, pytest.skip.Exception):
        return Outcome(Status.SKIPPED, 0.0, str(exc.msg) if hasattr(exc, "msg") else str(exc))
    if isinstance(exc, GraderError):
        return Outcome(Status.ERROR, 0.0, exc.feedback, Location.parse(exc.location))
    if isinstance(exc, CheckTimeout):
        return Outcome(
            Status.ERROR,
            0.0,
            f"This check did not finish within {timeout_s:g} s and was stopped; the other checks were "
            "still graded. If your program waits on the network or for input, make it stop doing so.",
        )
    if isinstance(exc, AssertionError):
        # When a grader module was imported under pytest's assertion rewriting (the kit's own test
        # run), the message carries an "assert ..." explanation with object reprs: keep the author's part.
        message = str(exc).split("\nassert ", 1)[0].strip() or "the check's requirement was not met"
        return Outcome(Status.FAILED, 0.0, message)
    detail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return Outcome(
        Status.ERROR,
        0.0,
        f"The grader hit an internal problem in this check ({type(exc).__name__}: {str(exc)[:200]}); "
        "the other checks were still graded. Tell your instructor if it persists.",
        detail=detail,
    )


_TMP = re.escape(tempfile.gettempdir().rstrip("/"))


def scrub(text: str, submission_root: str) -> str:
    """Remove machine-specific paths so feedback is the same on every run and every machine."""
    if submission_root:
        text = text.replace(submission_root.rstrip("/") + "/", "")
    return re.sub(_TMP + r"/[^\s'\":,)]*", "<tmp>", text)


def finish(outcome: Outcome, submission_root: str, notebook: str, section: str | None) -> Outcome:
    """The outcome as students see it: no machine paths, and a check that lost points names the
    notebook section that explains it."""
    feedback = scrub(outcome.feedback, submission_root)
    if outcome.status is not Status.PASSED and section:
        feedback = feedback.rstrip()
        if feedback and feedback[-1] not in ".!?)":
            feedback += "."
        feedback = (feedback + " " if feedback else "") + f'See {notebook}, section "{section}".'
    location = outcome.location
    if location is not None:
        location = Location(scrub(location.file, submission_root), location.line)
    return replace(outcome, feedback=feedback, location=location)


def record(check: CheckResult, outcome: Outcome) -> None:
    """Give ``check`` its outcome (the model turns the fraction into points)."""
    check.settle(
        outcome.status, outcome.fraction, outcome.feedback, outcome.location, outcome.detail, outcome.missing_tool
    )


def grader_not_loaded(detail: str) -> Outcome:
    """The lab's whole suite could not be imported: one error check carries the lab's points."""
    return Outcome(
        Status.ERROR, 0.0, "The grader suite for this lab failed to load; tell your instructor.", detail=detail
    )


def grader_not_loaded_note(lab_id: str, where: str) -> str:
    return (
        f"The grader for {lab_id} could not be loaded ({where}); its checks were not run. "
        "This is a problem with the grader, not your work."
    )


def no_grader_note(lab_id: str, package: str) -> str:
    return f"No grader suite is installed for {lab_id} ({package})."


def undeclared_check() -> Outcome:
    return Outcome(Status.ERROR, 0.0, "Grader misconfiguration: this test has no @check declaration.")


def worker_crashed(exc: BaseException) -> Outcome:
    """The process grading a lab died; the other labs were graded."""
    return Outcome(
        Status.ERROR,
        0.0,
        "The grader process for this lab stopped unexpectedly; the other labs were graded. "
        "Tell your instructor if it persists.",
        detail=f"{type(exc).__name__}: {exc}",
    )


def worker_crashed_note(lab_id: str, exc: BaseException) -> str:
    return f"worker for {lab_id} failed: {type(exc).__name__}"
