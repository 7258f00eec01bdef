"""How a grader suite declares a check and reports its outcome.

A check is a pytest test function decorated with :func:`check`. It passes by returning; it loses
points by raising one of the outcome exceptions below (or by a plain ``assert`` with a message),
or gradually through the :class:`Checklist` fixture. The engine's plugin turns every outcome,
including a grader crash, into a :class:`~graders.engine.model.CheckResult`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest

F = TypeVar("F", bound=Callable[..., Any])

CHECK_MARKER = "check"
DEFAULT_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class CheckSpec:
    """What a check declares about itself (read by the engine from the pytest marker)."""

    points: float
    name: str
    section: str | None = None
    timeout_s: float = DEFAULT_TIMEOUT_S
    assignment: bool = False
    id: str | None = None


def check(
    points: float,
    name: str,
    *,
    section: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    assignment: bool = False,
    id: str | None = None,
) -> Callable[[F], F]:
    """Declare a test function as a graded check.

    ``points``: the most this check can earn. ``name``: the rubric line students see.
    ``section``: the notebook heading that teaches it (appended to feedback when the check does
    not pass). ``assignment``: the check grades the lab's assignment (the part the starter leaves
    to the student); ``capstone verify`` requires the starter to fail at least one per lab.
    ``id``: override the check id (default: the function name without ``test_``).
    """
    if points <= 0:
        raise ValueError(f"check {name!r}: points must be positive, got {points}")
    spec = CheckSpec(points=points, name=name, section=section, timeout_s=timeout, assignment=assignment, id=id)

    def decorate(func: F) -> F:
        marked: F = pytest.mark.check(spec)(func)
        return marked

    return decorate


class CheckOutcome(Exception):
    """Base of the exceptions a check raises to report a non-passing outcome."""

    def __init__(self, feedback: str, location: str | None = None) -> None:
        super().__init__(feedback)
        self.feedback = feedback
        self.location = location


class CheckFailed(CheckOutcome):
    """The submission does not meet the check: zero points, with feedback."""


class PartialCredit(CheckOutcome):
    """The submission meets part of the check: ``fraction`` of the points, with feedback."""

    def __init__(self, fraction: float, feedback: str, location: str | None = None) -> None:
        super().__init__(feedback, location)
        self.fraction = min(max(float(fraction), 0.0), 1.0)


class CheckSkipped(CheckOutcome):
    """The check cannot be run here (e.g. a tool is missing); scores zero and says why."""


class GraderError(CheckOutcome):
    """The grader itself could not do its job (reported as ``error``, not blamed on the student)."""


def fail(feedback: str, location: str | None = None) -> None:
    raise CheckFailed(feedback, location)


def partial(fraction: float, feedback: str, location: str | None = None) -> None:
    raise PartialCredit(fraction, feedback, location)


def skip(reason: str) -> None:
    raise CheckSkipped(reason)


@dataclass
class _Item:
    ok: bool
    message: str
    location: str | None
    weight: float


@dataclass
class Checklist:
    """Partial credit from several requirements, each worth a share of the check's points.

    ``require`` records one weighted requirement; ``deduct`` removes a fixed fraction (e.g. for a
    lint warning). The engine scores ``points * max(0, met_weight / total_weight - deductions)``
    after the check function returns; unmet requirements become the feedback, in order.
    """

    items: list[_Item] = field(default_factory=list)
    deductions: list[tuple[float, str, str | None]] = field(default_factory=list)

    def require(self, ok: Any, message: str, location: str | None = None, weight: float = 1.0) -> bool:
        if weight <= 0:
            raise ValueError("requirement weight must be positive")
        passed = bool(ok)
        self.items.append(_Item(passed, message, location, weight))
        return passed

    def deduct(self, fraction: float, message: str, location: str | None = None) -> None:
        self.deductions.append((min(max(fraction, 0.0), 1.0), message, location))

    @property
    def used(self) -> bool:
        return bool(self.items or self.deductions)

    @property
    def fraction(self) -> float:
        total = sum(i.weight for i in self.items)
        met = sum(i.weight for i in self.items if i.ok)
        base = met / total if total else 1.0
        return max(0.0, base - sum(d[0] for d in self.deductions))

    @property
    def problems(self) -> list[tuple[str, str | None]]:
        unmet = [(i.message, i.location) for i in self.items if not i.ok]
        return unmet + [(msg, loc) for _, msg, loc in self.deductions]
