"""Lab 02's concurrency check with hostile requests among the legitimate ones: the two mutants it exists
for fail it, each with feedback that names its cause and the fix."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from graders.engine.model import LabResult, Status
from tests.labs.conftest import failure_report

LAB = "lab02"
CHECK = "lab02.audit_concurrency"


@pytest.mark.slow  # each grades a mutated copy of the reference: 13 to 24 s
@pytest.mark.parametrize(
    ("mutant_id", "phrases"),
    [
        ("odd-body-escapes-the-trail", ("5,000 '['", "expected exactly one", "RecursionError")),
        # Whether the surrogate's record fails alone ("expected exactly one") or takes its whole batch with
        # it ("N lost") depends on how the writer batched that moment's records: both messages name the
        # cause and the fix, so only those phrases are asserted.
        ("one-bad-record-fails-the-batch", ("lone surrogate", "claimed_subject")),
    ],
)
def test_hostile_request_mutants_get_the_intended_feedback(
    mutant_id: str, phrases: tuple[str, ...], graded_mutant: Callable[[str, str], LabResult]
) -> None:
    result = graded_mutant(LAB, mutant_id)  # the contract suite's grading, from the grade cache
    check = next(c for c in result.checks if c.id == CHECK)
    assert check.status is Status.FAILED, failure_report(result)
    for phrase in phrases:
        assert phrase in check.feedback, check.feedback
    assert check.location is not None and check.location.file == "src/copilot/audit/middleware.py", check.location
