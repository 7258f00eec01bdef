"""The equipment registry (``data/equipment.yaml``): which assets exist and which plant owns each.

Requests name equipment by id; the registry is how those ids are validated (unknown ids are a 422)
and how equipment-level access is decided (the owning plant must be in the caller's token).
"""

from __future__ import annotations

import re

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from common.config import EQUIPMENT_ID_PATTERN, PLANT_CODE_PATTERN
from copilot.storage import DocumentStore, DocumentStoreError

# libyaml's loader is ~10x faster; the pure-Python one is the fallback where it is missing.
SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

REGISTRY_KEY = "equipment.yaml"
_EQUIPMENT_ID = re.compile(EQUIPMENT_ID_PATTERN)


class RegistryError(Exception):
    """The registry file is missing or invalid; the message names the entry."""


class Equipment(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow")

    id: str = Field(pattern=EQUIPMENT_ID_PATTERN)
    name: str
    type: str
    line: str
    plant: str = Field(pattern=PLANT_CODE_PATTERN)
    manufacturer: str | None = None
    model: str | None = None
    criticality: str | None = None


class EquipmentRegistry:
    """Equipment by id, loaded once at startup."""

    def __init__(self, items: list[Equipment]) -> None:
        self._items = {item.id: item for item in items}

    def __len__(self) -> int:
        return len(self._items)

    def get(self, equipment_id: str) -> Equipment | None:
        return self._items.get(equipment_id)

    def for_plant(self, plant: str) -> list[Equipment]:
        return [item for item in self._items.values() if item.plant == plant]

    @staticmethod
    def plant_of_id(equipment_id: str) -> str | None:
        """The plant code an equipment id starts with (ids are ``<plant>-<class>-<number>``)."""
        return equipment_id.split("-", 1)[0] if _EQUIPMENT_ID.match(equipment_id) else None

    @classmethod
    def load(cls, store: DocumentStore, key: str = REGISTRY_KEY) -> EquipmentRegistry:
        try:
            data = yaml.load(store.read_text(key), Loader=SafeLoader)
        except DocumentStoreError:
            raise RegistryError(f"{store.uri}/{key} is missing: the equipment registry is required") from None
        except yaml.YAMLError as exc:
            raise RegistryError(f"{store.uri}/{key} is not valid YAML: {exc}") from None
        raw_items = (data or {}).get("equipment") if isinstance(data, dict) else None
        if not isinstance(raw_items, list):
            raise RegistryError(f"{store.uri}/{key}: expected a top-level 'equipment' list")
        items = []
        for index, raw in enumerate(raw_items):
            try:
                items.append(Equipment.model_validate(raw))
            except ValidationError as exc:
                err = exc.errors()[0]
                where = ".".join(str(p) for p in err["loc"])
                raise RegistryError(f"{store.uri}/{key}: equipment[{index}].{where}: {err['msg']}") from None
        ids = [i.id for i in items]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise RegistryError(f"{store.uri}/{key}: duplicate equipment ids {duplicates}")
        return cls(items)
