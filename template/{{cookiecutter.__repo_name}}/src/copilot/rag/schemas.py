"""Request and response models of the RAG endpoints (they are the OpenAPI contract)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from common.config import EQUIPMENT_ID_PATTERN, PLANT_CODE_PATTERN

PlantCode = Annotated[str, StringConstraints(pattern=PLANT_CODE_PATTERN), Field(description="Plant code")]
EquipmentId = Annotated[
    str,
    StringConstraints(pattern=EQUIPMENT_ID_PATTERN),
    Field(description="Equipment id from the equipment registry (<plant>-<class>-<number>)"),
]
# At least 3 characters once surrounding whitespace is stripped: the pattern says so in the schema.
Question = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=3, max_length=2000, pattern=r"\S[\s\S]+\S")
]


class RagQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: Question
    plant: PlantCode
    equipment: EquipmentId | None = None
    top_k: int = Field(5, ge=1, le=20, description="Number of documents to retrieve and cite")


class Citation(BaseModel):
    number: int = Field(description="The [n] the answer uses for this source")
    document_id: str
    title: str
    section: str
    snippet: str
    score: float


class RagAnswer(BaseModel):
    answer: str
    citations: list[Citation]
    groundedness: float = Field(
        ge=0.0, le=1.0, description="Share of the answer's content words found in the cited passages"
    )
    model_version: str
    index_version: str
    plant: str
    equipment: str | None = None
