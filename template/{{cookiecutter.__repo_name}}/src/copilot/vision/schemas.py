"""Response model of the vision endpoint."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Classification(BaseModel):
    label: str = Field(description="ok, scratch, dent or corrosion")
    confidence: float = Field(ge=0.0, le=1.0)
    probabilities: dict[str, float]
    model_version: str
    plant: str
    equipment: str | None = None
