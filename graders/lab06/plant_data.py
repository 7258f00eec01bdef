"""What the grader's stand-in Copilot knows about the student's plant, read from the submission as data.

The stand-in answers the questions of the plant's evaluation set (``data/eval/rag_eval.jsonl``) with
their known answers, quoting the sentences of the student's own documents that hold the answer
keywords, so a smoke test that asks one of these questions gets the answer the real Copilot gives.
Nothing here runs student code; unreadable files leave the stand-in with less to say, never a crash.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from graders.sdk import Submission, SubmissionFileError

EVAL_SET = "data/eval/rag_eval.jsonl"
DOCUMENTS_DIR = "data/documents"
PLANT_CONFIG = "config/plant.yaml"
PLANT_CODE = re.compile(r"^[A-Z]{3}[0-9]{2}$")
DEFAULT_PLANT = "RVB01"
MAX_CASES = 500
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def normalize_question(text: str) -> str:
    """Case, spacing and trailing punctuation do not matter when matching a question."""
    return " ".join(text.casefold().split()).rstrip(" ?.!")


@dataclass(frozen=True)
class Section:
    heading: str
    text: str


@dataclass(frozen=True)
class Document:
    id: str
    title: str
    sections: tuple[Section, ...]


@dataclass(frozen=True)
class KnownCase:
    id: str
    question: str
    plant: str
    keywords: tuple[str, ...]
    doc_ids: tuple[str, ...]


@dataclass
class PlantData:
    plant: str = DEFAULT_PLANT
    plants: set[str] = field(default_factory=lambda: {DEFAULT_PLANT})
    cases: dict[str, KnownCase] = field(default_factory=dict)  # normalized question -> case
    documents: dict[str, Document] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def case_for(self, question: str) -> KnownCase | None:
        return self.cases.get(normalize_question(question))

    def unrelated_case(self, case: KnownCase) -> KnownCase | None:
        """Another case of the same plant sharing no document and no keyword (the 'wrong answer' fault)."""
        words = {k.casefold() for k in case.keywords}
        for other in self.cases.values():
            if other.plant != case.plant or set(other.doc_ids) & set(case.doc_ids):
                continue
            if words & {k.casefold() for k in other.keywords}:
                continue
            if any(w in " ".join(other.keywords).casefold() for w in words):
                continue
            return other
        return None


def parse_document(doc_id: str, text: str) -> Document:
    """Front matter title and the ``##`` sections of a corpus document."""
    title, body = doc_id, text
    if text.startswith("---"):
        _, _, rest = text.partition("\n")
        front, sep, body = rest.partition("\n---")
        if sep:
            for line in front.splitlines():
                if line.startswith("title:"):
                    title = line.split(":", 1)[1].strip().strip("\"'") or doc_id
    sections = []
    for block in re.split(r"^## ", body, flags=re.MULTILINE)[1:]:
        heading, _, content = block.partition("\n")
        sections.append(Section(heading.strip(), " ".join(content.split())))
    return Document(doc_id, title, tuple(sections))


def evidence(document: Document, keyword: str) -> tuple[Section, str] | None:
    """The section and sentence of ``document`` that contain ``keyword`` (case-insensitive)."""
    needle = keyword.casefold()
    for section in document.sections:
        if needle in section.text.casefold():
            for sentence in _SENTENCE_END.split(section.text):
                if needle in sentence.casefold():
                    return section, sentence.strip()
            return section, section.text
    return None


def _plants(submission: Submission, data: PlantData) -> None:
    try:
        config = submission.load_yaml(PLANT_CONFIG)
    except SubmissionFileError as exc:
        data.problems.append(str(exc))
        return
    if not isinstance(config, dict):
        return
    plant = config.get("plant")
    code = str(plant.get("code", "")) if isinstance(plant, dict) else ""
    if PLANT_CODE.match(code):
        data.plant = code
    listed = [p.get("code") for p in config.get("plants") or [] if isinstance(p, dict)]
    data.plants = {str(c) for c in listed if PLANT_CODE.match(str(c))} | {data.plant}


def _case(raw: Any) -> KnownCase | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("question"), str):
        return None
    keywords = tuple(str(k) for k in raw.get("answer_keywords") or [] if str(k).strip())
    doc_ids = tuple(str(d) for d in raw.get("relevant_doc_ids") or [] if re.fullmatch(r"[a-z0-9-]+", str(d)))
    if not keywords or not doc_ids:
        return None
    return KnownCase(str(raw.get("id", "")), raw["question"], str(raw.get("plant", "")), keywords, doc_ids)


def load_plant_data(submission: Submission) -> PlantData:
    data = PlantData()
    _plants(submission, data)
    try:
        lines = submission.read_text(EVAL_SET).splitlines()
    except SubmissionFileError as exc:
        data.problems.append(str(exc))
        return data
    for number, line in enumerate(lines[:MAX_CASES], start=1):
        if not line.strip():
            continue
        try:
            case = _case(json.loads(line))
        except ValueError:
            data.problems.append(f"{EVAL_SET}:{number} is not valid JSON")
            continue
        if case is not None:
            data.cases.setdefault(normalize_question(case.question), case)
    for doc_id in sorted({d for case in data.cases.values() for d in case.doc_ids}):
        try:
            data.documents[doc_id] = parse_document(doc_id, submission.read_text(f"{DOCUMENTS_DIR}/{doc_id}.md"))
        except SubmissionFileError:
            continue  # the stand-in still answers with the keywords; only the quotes are missing
    return data
