"""What the handlers tell the audit middleware about a request: who asked, about which plant and
equipment. The middleware creates the context before the request runs and reads it afterwards,
so the record is complete even when the handler raised or the request was rejected.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import HTTPConnection

AUDIT_STATE_KEY = "audit"


@dataclass
class AuditContext:
    correlation_id: str | None = None
    user_id: str | None = None
    role: str | None = None
    plant: str | None = None
    equipment_id: str | None = None


def install_context(scope: dict[str, Any], context: AuditContext) -> None:
    scope.setdefault("state", {})[AUDIT_STATE_KEY] = context


def audit_context(connection: HTTPConnection) -> AuditContext:
    """The current request's context (a detached one when no audit middleware is installed)."""
    state = connection.scope.setdefault("state", {})
    context = state.get(AUDIT_STATE_KEY)
    if not isinstance(context, AuditContext):
        context = AuditContext()
        state[AUDIT_STATE_KEY] = context
    return context
