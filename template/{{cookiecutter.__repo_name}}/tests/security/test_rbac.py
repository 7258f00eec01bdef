"""Plant- and equipment-level access rules (Lab 02)."""

import pytest

from copilot.security.rbac import (
    EQUIPMENT_DENIED,
    PLANT_DENIED,
    ROLE_DENIED,
    PermissionDenied,
    ensure_equipment_access,
    ensure_plant_access,
    require_role,
    visible_plants,
)
from copilot.security.tokens import Principal

pytestmark = pytest.mark.lab("lab02")


def test_plant_access(plant: str, other_plant: str) -> None:
    caller = Principal(sub="u", role="engineer", plants=(plant,))
    ensure_plant_access(caller, plant)
    with pytest.raises(PermissionDenied) as denied:
        ensure_plant_access(caller, other_plant)
    assert denied.value.detail == PLANT_DENIED


def test_equipment_access_follows_the_owning_plant(plant: str, other_plant: str) -> None:
    caller = Principal(sub="u", role="engineer", plants=(plant,))
    ensure_equipment_access(caller, f"{plant}-PRS-101", plant)
    with pytest.raises(PermissionDenied) as denied:
        ensure_equipment_access(caller, f"{other_plant}-WLD-510", other_plant)
    assert denied.value.detail == EQUIPMENT_DENIED


def test_unknown_equipment_is_judged_by_its_id_prefix(plant: str, other_plant: str) -> None:
    caller = Principal(sub="u", role="engineer", plants=(plant,))
    ensure_equipment_access(caller, f"{plant}-ZZZ-999", None)
    with pytest.raises(PermissionDenied):
        ensure_equipment_access(caller, f"{other_plant}-ZZZ-999", None)


def test_registry_owner_wins_over_the_id_prefix(plant: str, other_plant: str) -> None:
    """An item moved to another plant keeps its id; the registry's plant decides."""
    caller = Principal(sub="u", role="engineer", plants=(plant,))
    with pytest.raises(PermissionDenied):
        ensure_equipment_access(caller, f"{plant}-PRS-101", other_plant)


def test_roles(plant: str) -> None:
    require_role(Principal(sub="a", role="admin", plants=(plant,)), ("admin",))
    with pytest.raises(PermissionDenied) as denied:
        require_role(Principal(sub="o", role="operator", plants=(plant,)), ("engineer", "admin"))
    assert denied.value.detail == ROLE_DENIED


def test_visible_plants(plant: str, other_plant: str) -> None:
    caller = Principal(sub="a", role="admin", plants=(plant,))
    assert visible_plants(caller, None) == (plant,)
    assert visible_plants(caller, plant) == (plant,)
    with pytest.raises(PermissionDenied):
        visible_plants(caller, other_plant)
