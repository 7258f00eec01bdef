"""Plant-level role-based access control.

A token lists the plants its holder works for. Every request that names a plant or an equipment
item is checked against that list before any data is touched, and a refusal is a 403 that carries
nothing but a short reason: no documents, no hint whether the item exists.

| role | may |
| --- | --- |
| operator | ask the RAG assistant, classify inspection images |
| engineer, plant_manager | the above, and start analysis jobs |
| admin | all of the above, and read the audit trail |
"""

from __future__ import annotations

from collections.abc import Collection

from copilot.security.tokens import Principal

PLANT_DENIED = "Plant access denied"
EQUIPMENT_DENIED = "Equipment access denied"
ROLE_DENIED = "Role not permitted"

ANALYSIS_ROLES = ("engineer", "plant_manager", "admin")
AUDIT_ROLES = ("admin",)


class PermissionDenied(Exception):
    """The caller is authenticated but not allowed; rendered as 403 with ``detail``."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def require_role(principal: Principal, allowed: Collection[str]) -> None:
    if principal.role not in allowed:
        raise PermissionDenied(ROLE_DENIED)


def ensure_plant_access(principal: Principal, plant: str) -> None:
    """Refuse a plant that is not in the caller's token."""
    allowed = frozenset(principal.plants)
    if plant in allowed:
        return
    raise PermissionDenied(PLANT_DENIED)


def ensure_equipment_access(principal: Principal, equipment_id: str, owner_plant: str | None) -> None:
    """Refuse equipment owned by a plant outside the caller's token.

    ``owner_plant`` is the plant the registry lists the item under, or None for an unknown id; then
    the plant code the id starts with decides, so a caller cannot probe another plant's registry
    by telling "unknown" (422) from "forbidden" (403).
    """
    try:
        ensure_plant_access(principal, _owner(equipment_id, owner_plant))
    except PermissionDenied:
        raise PermissionDenied(EQUIPMENT_DENIED) from None


def _owner(equipment_id: str, owner_plant: str | None) -> str:
    """The registry's owner, else the plant code the id starts with (``RVB01-PRS-101`` -> ``RVB01``)."""
    if owner_plant:
        return owner_plant
    prefix, _, _ = equipment_id.partition("-")
    return prefix


def visible_plants(principal: Principal, requested: str | None) -> tuple[str, ...]:
    """Plants whose records the caller may list: the requested one (if allowed) or all of theirs."""
    if requested is None:
        return principal.plants
    ensure_plant_access(principal, requested)
    return (requested,)
