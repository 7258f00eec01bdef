"""The plant profile (``config/plant.yaml``): the one place plant values are read from.

Service, notebooks and graders all go through :func:`load_plant_profile`, so changing the plant
(or stamping the template for another one) never means hunting for hard-coded codes or regions.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

PLANT_CODE_PATTERN = r"^[A-Z]{3}[0-9]{2}$"
EQUIPMENT_ID_PATTERN = r"^[A-Z]{3}[0-9]{2}-[A-Z]{2,5}-[0-9]{2,4}$"
LINE_PATTERN = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"
PROFILE_ENV = "COPILOT_PLANT_CONFIG"
PROFILE_RELATIVE = Path("config") / "plant.yaml"


class PlantConfigError(Exception):
    """The plant profile is missing or invalid; the message names the file and the field."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PlantRef(_Model):
    code: str = Field(pattern=PLANT_CODE_PATTERN)
    name: str = Field(min_length=3)
    region: str | None = None
    capstone: bool = False


class Plant(_Model):
    name: str = Field(min_length=3)
    code: str = Field(pattern=PLANT_CODE_PATTERN)
    region: str | None = None
    timezone: str | None = None
    production_lines: tuple[str, ...] = Field(min_length=1)

    @field_validator("production_lines")
    @classmethod
    def _lines_are_slugs(cls, lines: tuple[str, ...]) -> tuple[str, ...]:
        import re

        bad = [line for line in lines if not re.match(LINE_PATTERN, line)]
        if bad:
            raise ValueError(f"production line names must be lowercase slugs like 'press-1', got {bad}")
        return lines


class GcpConfig(_Model):
    project_id: str = Field(pattern=r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
    primary_region: str = Field(pattern=r"^[a-z]+-[a-z]+[0-9]$")
    secondary_region: str = Field(pattern=r"^[a-z]+-[a-z]+[0-9]$")


class PlantProfile(_Model):
    """The capstone's plant, its GCP footprint and the other plants of the group."""

    company: str = Field(min_length=2)
    plant: Plant
    gcp: GcpConfig
    plants: tuple[PlantRef, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _capstone_plant_listed(self) -> PlantProfile:
        codes = [p.code for p in self.plants]
        if len(set(codes)) != len(codes):
            raise ValueError(f"plant codes under 'plants' must be unique, got {codes}")
        if self.plant.code not in codes:
            raise ValueError(f"plants: list the capstone plant {self.plant.code} (with capstone: true)")
        marked = [p.code for p in self.plants if p.capstone]
        if marked != [self.plant.code]:
            raise ValueError(f"plants: mark exactly the capstone plant {self.plant.code} with capstone: true")
        return self

    @property
    def plant_codes(self) -> tuple[str, ...]:
        """Every plant code the Copilot knows (the capstone plant first)."""
        return (self.plant.code, *(p.code for p in self.plants if p.code != self.plant.code))

    @property
    def other_plants(self) -> tuple[PlantRef, ...]:
        return tuple(p for p in self.plants if p.code != self.plant.code)


def find_profile(start: Path | None = None) -> Path:
    """Locate ``config/plant.yaml``: ``$COPILOT_PLANT_CONFIG``, else the repository this package or
    the working directory belongs to (notebooks run from ``notebooks/``, the service from the root)."""
    explicit = os.environ.get(PROFILE_ENV)
    if explicit:
        return Path(explicit)
    candidates = [Path(__file__).resolve().parent.parent]
    here = (start or Path.cwd()).resolve()
    candidates += [here, *here.parents]
    for directory in candidates:
        path = directory / PROFILE_RELATIVE
        if path.is_file():
            return path
    raise PlantConfigError(
        f"cannot find {PROFILE_RELATIVE}: run from the capstone repository or set {PROFILE_ENV} to its path"
    )


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        parts.append(f"field '{where}': {err['msg']}")
    return "; ".join(parts)


def parse_profile(text: str, source: str = "config/plant.yaml") -> PlantProfile:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PlantConfigError(f"{source} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise PlantConfigError(f"{source}: expected a mapping with company, plant, gcp and plants")
    try:
        return PlantProfile.model_validate(data)
    except ValidationError as exc:
        raise PlantConfigError(f"{source}: {_describe(exc)}") from None


@lru_cache(maxsize=8)
def _load_cached(path: str, mtime_ns: int) -> PlantProfile:
    return parse_profile(Path(path).read_text(encoding="utf-8"), path)


def load_plant_profile(path: Path | str | None = None) -> PlantProfile:
    """Load and validate the plant profile (cached until the file changes)."""
    resolved = Path(path) if path is not None else find_profile()
    try:
        mtime = resolved.stat().st_mtime_ns
    except OSError:
        raise PlantConfigError(f"{resolved}: plant profile not found; create it or set {PROFILE_ENV}") from None
    return _load_cached(str(resolved), mtime)
