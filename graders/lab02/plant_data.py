"""What the grader needs to know about the submission's plant data, read as data (never imported).

The capstone plant and another plant come from ``config/plant.yaml``; one equipment item of each
from ``data/equipment.yaml``; which plant every document belongs to from the documents' front
matter (to tell whether an answer cites another plant's documents).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from graders.sdk import Submission, SubmissionFileError
from graders.sdk.copilot import PlantInfo, read_plants
from graders.sdk.safe_yaml import UnsafeYamlError, load

REGISTRY = "data/equipment.yaml"
DOCUMENTS = "data/documents"
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)
MAX_DOCUMENTS = 5000


@dataclass(frozen=True)
class EquipmentItem:
    id: str
    plant: str
    name: str


@dataclass
class PlantData:
    plants: PlantInfo
    own_equipment: EquipmentItem
    other_equipment: EquipmentItem
    doc_plants: dict[str, str] = field(default_factory=dict)

    @property
    def plant(self) -> str:
        return self.plants.code

    @property
    def other_plant(self) -> str:
        return self.other_equipment.plant

    def other_plant_documents(self) -> set[str]:
        return {doc for doc, plant in self.doc_plants.items() if plant != self.plant}


def _equipment(submission: Submission) -> list[EquipmentItem]:
    data = submission.load_yaml(REGISTRY)
    items = data.get("equipment") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise SubmissionFileError(f"{REGISTRY}: expected a top-level 'equipment' list", REGISTRY)
    out = []
    for raw in items:
        if isinstance(raw, dict) and isinstance(raw.get("id"), str) and isinstance(raw.get("plant"), str):
            out.append(EquipmentItem(raw["id"], raw["plant"], str(raw.get("name") or raw["id"])))
    return out


def _document_plants(submission: Submission) -> dict[str, str]:
    plants: dict[str, str] = {}
    for rel in submission.glob("**/*.md", under=DOCUMENTS)[:MAX_DOCUMENTS]:
        try:
            match = _FRONT_MATTER.match(submission.read_text(rel, max_bytes=500_000))
            meta = load(match.group(1), rel) if match else None
        except (SubmissionFileError, UnsafeYamlError, ValueError):
            continue
        except Exception:  # a broken front matter is the corpus's problem, graded elsewhere
            continue
        if isinstance(meta, dict) and meta.get("id") and meta.get("plant"):
            plants[str(meta["id"])] = str(meta["plant"])
    return plants


def load_plant_data(submission: Submission) -> PlantData:
    plants = read_plants(submission)
    equipment = _equipment(submission)
    own = next((e for e in equipment if e.plant == plants.code), None)
    if own is None:
        raise SubmissionFileError(f"{REGISTRY} lists no equipment of the capstone plant {plants.code}", REGISTRY)
    other = next((e for e in equipment if e.plant != plants.code and e.plant in plants.others), None)
    if other is None:
        raise SubmissionFileError(
            f"{REGISTRY} lists no equipment of another plant of config/plant.yaml "
            f"({', '.join(plants.others) or 'none listed'}); cross-plant access control cannot be tested without one",
            REGISTRY,
        )
    return PlantData(plants=plants, own_equipment=own, other_equipment=other, doc_plants=_document_plants(submission))
