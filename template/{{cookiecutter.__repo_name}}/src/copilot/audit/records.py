"""The audit record and the audit query, shared by middleware, store and API."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

# What the record says when a client claimed a plant or equipment id that is not even well formed: the
# claim is kept as a category of its own (never dropped, never stored verbatim), so probing stays visible.
INVALID_CLAIM = "invalid"
# Filters of the audit API over the plant column: no plant, a well-formed code of no plant of the group,
# a malformed claim.
PlantClaim = Literal["none", "unknown", "invalid"]


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
    """Filters of the audit API.

    ``plants`` limits results to the caller's plants. Records that belong to no plant of the group are
    always included: no plant (health checks, unauthenticated requests) and, when ``known_plants`` lists
    the group's plants, claims of unknown or malformed plants, so a probe cannot hide from the admins.
    """

    user_id: str | None = None
    equipment_id: str | None = None
    plant: str | None = None
    correlation_id: str | None = None
    status: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    plants: tuple[str, ...] | None = None
    known_plants: tuple[str, ...] = ()
    plant_claim: PlantClaim | None = None
    limit: int = 50
    offset: int = 0
