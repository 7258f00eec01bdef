"""Turning what a check raised (or did not raise) into a status, a score and feedback.

This is the only place that decides how an exception is scored, so the rules are easy to read:
the student is blamed only for problems with the submission; grader problems are ``error``.
"""

from __future__ import annotations

import re
import tempfile
import traceback
from dataclasses import dataclass

import pytest

from graders.engine.model import Status
from graders.sdk.checks import CheckFailed, Checklist, CheckSkipped, GraderError, PartialCredit
from graders.sdk.submission import SubmissionFileError
from graders.sdk.tools import ToolMissing


class CheckTimeout(Exception):
    """The check as a whole ran past its declared timeout."""


@dataclass
class Outcome:
    status: Status
    fraction: float
    feedback: str
    location: str | None = None
    detail: str | None = None
    missing_tool: str | None = None  # the tool whose absence skipped the check


def _first_line_location(items: list[tuple[str, str | None]]) -> str | None:
    return next((loc for _, loc in items if loc), None)


def from_checklist(checklist: Checklist) -> Outcome:
    fraction = checklist.fraction
    problems = checklist.problems
    if not problems:
        return Outcome(Status.PASSED, 1.0, "")
    lines = [f"- {msg}" + (f" ({loc})" if loc and loc not in msg else "") for msg, loc in problems]
    met = sum(1 for i in checklist.items if i.ok)
    head = f"{met} of {len(checklist.items)} requirements met:" if checklist.items else "Deductions:"
    return Outcome(Status.FAILED, fraction, head + "\n" + "\n".join(lines), _first_line_location(problems))


def from_exception(exc: BaseException, timeout_s: float) -> Outcome:
    if isinstance(exc, PartialCredit):
        status = Status.PASSED if exc.fraction >= 1.0 else Status.FAILED
        return Outcome(status, exc.fraction, exc.feedback, exc.location)
    if isinstance(exc, CheckFailed):
        return Outcome(Status.FAILED, 0.0, exc.feedback, exc.location)
    if isinstance(exc, SubmissionFileError):
        return Outcome(Status.FAILED, 0.0, str(exc), exc.location)
    if isinstance(exc, ToolMissing):
        return Outcome(Status.SKIPPED, 0.0, exc.feedback, missing_tool=exc.tool.name)
    if isinstance(exc, CheckSkipped):
        return Outcome(Status.SKIPPED, 0.0, exc.feedback)
    if isinstance(exc, pytest.skip.Exception):
        return Outcome(Status.SKIPPED, 0.0, str(exc.msg) if hasattr(exc, "msg") else str(exc))
    if isinstance(exc, GraderError):
        return Outcome(Status.ERROR, 0.0, exc.feedback, exc.location)
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
