"""The audit trail, for administrators: filter by user, equipment, plant and time; paginated.

An admin sees the records of the plants in their token and the records of no plant of the group:
requests without a plant, and claims of an unknown (``ZZZ99``) or malformed plant (stored as
``invalid``), so a probe with a made-up plant cannot hide from anyone. ``plant_claim`` lists one
of those categories.
"""

import re
from datetime import datetime
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Query
from pydantic import BaseModel, BeforeValidator

from copilot.api.deps import AuditStoreDep, CurrentPrincipal, ServicesDep
from copilot.api.errors import error_responses
from copilot.audit.records import AuditQuery, PlantClaim
from copilot.rag.schemas import EquipmentId, PlantCode
from copilot.security.rbac import AUDIT_ROLES, require_role, visible_plants

router = APIRouter(prefix="/v1/audit", tags=["audit"])

# ISO 8601 only: pydantic would also take a number ("0.5") as seconds since the epoch.
_ISO_DATE_TIME = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}")


def _iso_only(value: Any) -> Any:
    if isinstance(value, str) and not _ISO_DATE_TIME.match(value):
        raise ValueError("expected an ISO 8601 date-time such as 2026-03-02T06:00:00Z")
    return value


Timestamp = Annotated[datetime, BeforeValidator(_iso_only)]


class AuditEntry(BaseModel):
    id: int
    ts: datetime
    correlation_id: str
    user_id: str | None
    role: str | None
    plant: str | None
    equipment_id: str | None
    method: str
    route: str
    path: str
    status: int
    latency_ms: float


class AuditPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[AuditEntry]


@router.get("", response_model=AuditPage, responses=error_responses(401, 403))
async def list_audit_records(
    principal: CurrentPrincipal,
    store: AuditStoreDep,
    services: ServicesDep,
    user: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
    equipment: Annotated[EquipmentId | None, Query()] = None,
    plant: Annotated[PlantCode | None, Query()] = None,
    plant_claim: Annotated[
        PlantClaim | None,
        Query(description="Only records without a plant (none), of a plant unknown to the group, or an invalid claim"),
    ] = None,
    correlation_id: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
    status: Annotated[int | None, Query(ge=100, le=599)] = None,
    since: Annotated[Timestamp | None, Query(description="Inclusive lower bound (ISO 8601)")] = None,
    until: Annotated[Timestamp | None, Query(description="Exclusive upper bound (ISO 8601)")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> AuditPage:
    """Newest first. Records of the group's plants outside the caller's token are never listed."""
    require_role(principal, AUDIT_ROLES)
    plants = visible_plants(principal, plant)
    query = AuditQuery(
        user_id=user,
        equipment_id=equipment,
        plant=plant,
        correlation_id=correlation_id,
        status=status,
        since=since,
        until=until,
        plants=plants,
        known_plants=services.profile.plant_codes,
        plant_claim=plant_claim,
        limit=limit,
        offset=offset,
    )
    total, records = await anyio.to_thread.run_sync(store.query, query)
    return AuditPage(
        total=total,
        limit=limit,
        offset=offset,
        items=[AuditEntry(**{k: v for k, v in r.as_dict().items() if k != "ts"}, ts=r.ts) for r in records],
    )
