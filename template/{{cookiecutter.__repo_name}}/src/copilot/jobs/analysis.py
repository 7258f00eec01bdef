"""The analyses the Copilot runs as jobs.

``maintenance_history``: everything the plant's documents say about one equipment item (or a whole
plant) - which documents exist, the recent timeline, the failure modes that keep coming back, and
a cited summary answer. It reads many documents, which is why it is a job and not a request.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from copilot.equipment import EquipmentRegistry
from copilot.jobs.store import Job
from copilot.rag.corpus import Corpus, Document
from copilot.rag.pipeline import RagPipeline
from copilot.rag.schemas import RagQuery

ANALYSIS_KINDS = ("maintenance_history",)
TIMELINE_LENGTH = 10
# Failure modes and the words maintenance texts use for them.
FAILURE_MODES: dict[str, tuple[str, ...]] = {
    "leak": ("leak", "leaking", "leakage", "seeping"),
    "wear": ("wear", "worn", "abrasion"),
    "overheating": ("overheat", "overtemperature", "too hot", "thermal"),
    "vibration": ("vibration", "vibrating", "chatter"),
    "misalignment": ("misalign", "misaligned", "offset", "out of position"),
    "contamination": ("contamination", "contaminated", "dirt", "particles"),
    "electrical fault": ("overcurrent", "short circuit", "insulation", "fuse", "overvoltage"),
    "sensor or encoder fault": ("encoder", "sensor fault", "signal loss", "proximity switch"),
    "cracking": ("crack", "cracked", "fracture", "split"),
    "corrosion": ("corrosion", "corroded", "rust"),
    "jam or misfeed": ("jam", "jammed", "double blank", "misfeed", "stuck"),
    "lubrication": ("lubrication", "lubricant", "grease", "oil level"),
}


@dataclass
class AnalysisContext:
    corpus: Corpus
    registry: EquipmentRegistry
    pipeline: RagPipeline


def _mentions(text: str, words: tuple[str, ...]) -> int:
    lowered = text.lower()
    return sum(len(re.findall(r"\b" + re.escape(w), lowered)) for w in words)


def recurring_issues(documents: list[Document], limit: int = 5) -> list[dict[str, Any]]:
    counts: Counter[str] = Counter()
    sources: dict[str, list[str]] = {}
    for doc in documents:
        if doc.doc_type not in ("maintenance_log", "work_order", "quality_report", "safety_bulletin"):
            continue
        for mode, words in FAILURE_MODES.items():
            n = _mentions(doc.body, words)
            if n:
                counts[mode] += n
                sources.setdefault(mode, []).append(doc.id)
    return [
        {"issue": mode, "mentions": n, "documents": sorted(set(sources[mode]))} for mode, n in counts.most_common(limit)
    ]


async def maintenance_history(job: Job, context: AnalysisContext) -> dict[str, Any]:
    documents = [
        d
        for d in context.corpus.documents
        if d.plant == job.plant and (job.equipment_id is None or job.equipment_id in d.equipment)
    ]
    by_type = Counter(d.doc_type for d in documents)
    timeline = sorted(documents, key=lambda d: (d.effective_date or "", d.id), reverse=True)[:TIMELINE_LENGTH]
    subject = job.equipment_id or f"plant {job.plant}"
    question = job.params.get("question") or f"What failures and maintenance actions are recorded for {subject}?"
    answer = await context.pipeline.answer(
        RagQuery(question=question, plant=job.plant, equipment=job.equipment_id, top_k=5)
    )
    equipment = context.registry.get(job.equipment_id) if job.equipment_id else None
    return {
        "kind": job.kind,
        "plant": job.plant,
        "equipment": equipment.model_dump() if equipment else None,
        "documents": {"total": len(documents), "by_type": dict(sorted(by_type.items()))},
        "timeline": [
            {"document_id": d.id, "title": d.title, "doc_type": d.doc_type, "effective_date": d.effective_date}
            for d in timeline
        ],
        "recurring_issues": recurring_issues(documents),
        "summary": {
            "question": question,
            "answer": answer.answer,
            "citations": [c.document_id for c in answer.citations],
            "groundedness": answer.groundedness,
        },
    }


async def run_analysis(job: Job, context: AnalysisContext) -> dict[str, Any]:
    if job.kind == "maintenance_history":
        return await maintenance_history(job, context)
    raise ValueError(f"unknown analysis kind {job.kind!r}")
