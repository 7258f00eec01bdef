"""The audit trail, for administrators: filter by user, equipment, plant and time; paginated."""

from datetime import datetime
from typing import Annotated

import anyio
from fastapi import APIRouter, Query
from pydantic import BaseModel

from copilot.api.deps import AuditStoreDep, CurrentPrincipal
from copilot.api.errors import error_responses
from copilot.audit.records import AuditQuery
from copilot.rag.schemas import EquipmentId, PlantCode
from copilot.security.rbac import AUDIT_ROLES, require_role, visible_plants

router = APIRouter(prefix="/v1/audit", tags=["audit"])


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
    user: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
    equipment: Annotated[EquipmentId | None, Query()] = None,
    plant: Annotated[PlantCode | None, Query()] = None,
    correlation_id: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
    status: Annotated[int | None, Query(ge=100, le=599)] = None,
    since: Annotated[datetime | None, Query(description="Inclusive lower bound (ISO 8601)")] = None,
    until: Annotated[datetime | None, Query(description="Exclusive upper bound (ISO 8601)")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> AuditPage:
    """Newest first. Records of plants outside the caller's token are never listed."""
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
