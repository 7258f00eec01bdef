"""Lab 02's checks for the requirements its map added: tokens of every kind (forged, expired, an admin
of one plant) are refused, and a rejected token's claimed user never reaches the audit trail. Each
mutant fails its check outright (a security hole earns no partial credit), with feedback that names
the cause, the fix and the file."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from graders.engine.model import LabResult, Status
from tests.labs.conftest import failure_report

LAB = "lab02"


@pytest.mark.slow  # each grades a mutated copy of the reference
@pytest.mark.parametrize(
    ("mutant_id", "check_id", "phrases", "location"),
    [
        (
            "audit-user-from-unverified-token",
            "lab02.audit_rejected_records",
            ("forged token", "grader-audit-forged-claim", "verified", "user_id null"),
            "src/copilot/audit/middleware.py",
        ),
        (
            "admin-sees-every-plant",
            "lab02.cross_plant_forbidden",
            ("by an admin of", "expected 403", "never the plants the token lists"),
            "src/copilot/security/rbac.py",
        ),
        (
            "token-expiry-not-verified",
            "lab02.authentication_required",
            ("an expired token was accepted", "expiry"),
            "src/copilot/security/tokens.py",
        ),
        (
            "audit-api-open-to-every-role",
            "lab02.audit_query_api",
            ("403 for every role but admin", "operator: 200"),
            "src/copilot/api/routes/audit.py",
        ),
    ],
)
def test_security_mutants_lose_the_whole_check(
    mutant_id: str,
    check_id: str,
    phrases: tuple[str, ...],
    location: str,
    graded_mutant: Callable[[str, str], LabResult],
) -> None:
    result = graded_mutant(LAB, mutant_id)  # the contract suite's grading, from the grade cache
    check = next(c for c in result.checks if c.id == check_id)
    assert check.status is Status.FAILED and check.score == 0, failure_report(result)
    for phrase in phrases:
        assert phrase in check.feedback, check.feedback
    assert check.location is not None and check.location.file == location, check.location
