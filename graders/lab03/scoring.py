"""How a security check of lab03 scores: one exposure is as exploitable as several."""

from __future__ import annotations

from graders.sdk import Checklist

SECURITY_GATE = "a security check scores only once every item above is fixed: one open door is enough"


def security_gate(checklist: Checklist) -> None:
    """Remove the check's whole score while any of its requirements is unmet (a partly closed hole is open)."""
    if any(not item.ok for item in checklist.items):
        checklist.deduct(1.0, SECURITY_GATE)
