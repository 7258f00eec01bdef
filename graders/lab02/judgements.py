"""Judging responses: what a refusal reveals, which fields a 422 names (kept apart from the checks
so they can be unit-tested)."""

from __future__ import annotations

from typing import Any

import httpx

from graders.lab02.plant_data import PlantData


def error_fields(body: Any) -> list[str]:
    """Field names in FastAPI's 422 body: ``{"detail": [{"loc": ["body", "top_k"], ...}]}``."""
    detail = body.get("detail") if isinstance(body, dict) else None
    if not isinstance(detail, list):
        return []
    return [str(e["loc"][-1]) for e in detail if isinstance(e, dict) and isinstance(e.get("loc"), list) and e["loc"]]


def leaks(response: httpx.Response, plant_data: PlantData) -> list[str]:
    """What a refusal body reveals that it should not."""
    text = response.text
    found = []
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        found += [f"'{key}'" for key in ("answer", "citations", "label", "result", "items") if key in body]
    other = plant_data.other_equipment
    found += [f"the name of {other.id}" for name in (other.name,) if len(name) > 6 and name in text]
    found += [f"document {doc}" for doc in plant_data.other_plant_documents() if len(doc) > 6 and doc in text][:3]
    return found
