"""What a grader suite imports: declaring checks, reporting outcomes, reading the submission safely
and running student programs under limits.

The engine provides these pytest fixtures to every check:

* ``submission`` (:class:`Submission`): the student's repository, read-only and size-capped.
* ``checklist`` (:class:`Checklist`): partial credit from several weighted requirements.
* ``student_python`` (``str``): the interpreter that has the student's dependencies.
* ``lab`` (:class:`graders.engine.labs.Lab`): metadata of the lab the check belongs to.
"""

from graders.sdk.checks import (
    CheckFailed,
    Checklist,
    CheckOutcome,
    CheckSkipped,
    CheckSpec,
    GraderError,
    PartialCredit,
    check,
    fail,
    partial,
    skip,
)
from graders.sdk.process import ProcessResult, StudentProgramTimeout, run, run_tool
from graders.sdk.submission import Submission, SubmissionFileError
from graders.sdk.tools import find_tool, require_tool

__all__ = [
    "CheckFailed",
    "CheckOutcome",
    "CheckSkipped",
    "CheckSpec",
    "Checklist",
    "GraderError",
    "PartialCredit",
    "ProcessResult",
    "StudentProgramTimeout",
    "Submission",
    "SubmissionFileError",
    "check",
    "fail",
    "find_tool",
    "partial",
    "require_tool",
    "run",
    "run_tool",
    "skip",
]
