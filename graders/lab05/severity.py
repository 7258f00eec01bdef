"""Requirements whose violation opens a security hole cost the whole check, not a share of it.

A checklist gives partial credit per requirement met; for a pipeline that deploys an unscanned image
or hands every job a write token, most of a check's points would remain. A severe requirement
therefore voids its check while it is unmet (the feedback still lists every other problem).
"""

from __future__ import annotations

from typing import Any

from graders.sdk import Checklist


def require_severe(checklist: Checklist, ok: Any, message: str, location: str | None = None) -> bool:
    """Like ``Checklist.require``, but an unmet requirement leaves the check no points."""
    passed = bool(ok)
    if not passed:
        checklist.deduct(1.0, message, location)
    return passed
