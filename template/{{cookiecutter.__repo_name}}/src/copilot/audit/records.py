"""The audit record and the audit query, shared by middleware, store and API."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(slots=True)
class AuditRecord:
    """One request, as the audit trail keeps it. ``latency_ms`` is wall time in milliseconds."""

    correlation_id: str
    method: str
    route: str
    path: str
    status: int
    latency_ms: float
    user_id: str | None = None
    role: str | None = None
    plant: str | None = None
    equipment_id: str | None = None
    ts: datetime = field(default_factory=utcnow)
    id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ts"] = self.ts.isoformat()
        return data


@dataclass(frozen=True)
class AuditQuery:
    """Filters of the audit API; ``plants`` limits results to the caller's plants (records without a
    plant, such as health checks and unauthenticated requests, are always included)."""

    user_id: str | None = None
    equipment_id: str | None = None
    plant: str | None = None
    correlation_id: str | None = None
    status: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    plants: tuple[str, ...] | None = None
    limit: int = 50
    offset: int = 0
