"""Group the checks that fail for one reason, so the text report shows that reason once.

A starter function that raises ``NotImplementedError: TODO(lab05) ...`` fails every check that runs
it, and each check's feedback repeats the same traceback. Two checks share a cause when their
feedback names the same exception line (``SomeError: message``), or when their feedback is the same
once the notebook pointer is removed. Each check joins the shared cause that the most checks have,
so a check that shows two errors is listed under the one that blocks most.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from graders.engine.model import CheckResult

_EXCEPTION_LINE = re.compile(r"\b([A-Z]\w*(?:Error|Exception|Exit)): \S[^\n]*")
_NOTEBOOK_POINTER = re.compile(r"\s*See notebooks/\S+, section \"[^\"]*\"\.?\s*$")


@dataclass
class CauseGroup:
    """Checks that fail for one reason: ``cause`` is the shared exception line, or None for same feedback."""

    checks: list[CheckResult] = field(default_factory=list)
    cause: str | None = None

    @property
    def first(self) -> CheckResult:
        return self.checks[0]

    @property
    def others(self) -> list[CheckResult]:
        return self.checks[1:]


def exception_lines(feedback: str) -> list[str]:
    """The ``SomeError: message`` lines a feedback quotes (from a traceback or a program's output), in order."""
    seen: list[str] = []
    for match in _EXCEPTION_LINE.finditer(feedback):
        line = match.group(0).strip()
        if line not in seen:
            seen.append(line)
    return seen


def _keys(check: CheckResult) -> list[str]:
    feedback = check.feedback or ""
    keys = ["error:" + line for line in exception_lines(feedback)]
    plain = _NOTEBOOK_POINTER.sub("", feedback).strip()
    if plain:
        keys.append("feedback:" + plain)
    return keys


def group_by_cause(checks: list[CheckResult]) -> list[CauseGroup]:
    """``checks`` in their order, those sharing a cause together (at the place of the first of them)."""
    keys = {id(c): _keys(c) for c in checks}
    shared = Counter(key for c in checks for key in set(keys[id(c)]))
    groups: dict[str, CauseGroup] = {}
    ordered: list[CauseGroup] = []
    for check in checks:
        candidates = [k for k in keys[id(check)] if shared[k] > 1]
        if not candidates:
            ordered.append(CauseGroup([check]))
            continue
        best = max(candidates, key=lambda k: shared[k])  # max keeps the first of equals: feedback order
        if best not in groups:
            cause = best.removeprefix("error:") if best.startswith("error:") else None
            groups[best] = CauseGroup([], cause)
            ordered.append(groups[best])
        groups[best].checks.append(check)
    return ordered
