"""Retrieval and answer-quality metrics shared by the service, the notebooks and the benchmarks.

Recall@k and MRR are computed over document ids (a question is answered by documents, whichever
chunk of them was retrieved). Groundedness is a cheap, deterministic proxy used online: the share
of an answer's content words that occur in the passages it cites. It cannot judge meaning, but it
flags answers that bring in vocabulary the sources never mention, which is where hallucinations
show up first.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_WORD = re.compile(r"[a-z0-9]+(?:[.,/-][a-z0-9]+)*")
# Small on purpose: words that carry no evidence of where an answer came from.
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "been",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "for",
        "from",
        "had",
        "has",
        "have",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "may",
        "might",
        "must",
        "no",
        "not",
        "of",
        "on",
        "or",
        "our",
        "should",
        "so",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "to",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
    ]
)


def content_words(text: str) -> list[str]:
    """Lowercase words and codes (``sv-311``, ``0.10``), stopwords removed."""
    return [w for w in _WORD.findall(text.lower()) if w not in STOPWORDS]


def recall_at_k(retrieved: Sequence[str], relevant: Iterable[str], k: int = 5) -> float:
    """Share of the relevant documents found in the first ``k`` retrieved (1.0 when none are relevant)."""
    wanted = set(relevant)
    if not wanted:
        return 1.0
    top = set(_unique(retrieved)[:k])
    return len(top & wanted) / len(wanted)


def hit_at_k(retrieved: Sequence[str], relevant: Iterable[str], k: int = 5) -> float:
    """1.0 when at least one relevant document is in the first ``k``."""
    wanted = set(relevant)
    return 1.0 if wanted & set(_unique(retrieved)[:k]) else 0.0


def reciprocal_rank(retrieved: Sequence[str], relevant: Iterable[str]) -> float:
    """1/rank of the first relevant document (0.0 when none was retrieved)."""
    wanted = set(relevant)
    for rank, doc_id in enumerate(_unique(retrieved), start=1):
        if doc_id in wanted:
            return 1.0 / rank
    return 0.0


def groundedness(answer: str, passages: Iterable[str]) -> float:
    """Share of the answer's content words that appear in the passages (0.0 for an empty answer)."""
    words = content_words(answer)
    if not words:
        return 0.0
    support = set()
    for passage in passages:
        support.update(content_words(passage))
    return sum(1 for w in words if w in support) / len(words)


def keyword_coverage(answer: str, keywords: Iterable[str]) -> float:
    """Share of the expected keywords (case-insensitive substrings) present in the answer."""
    wanted = [k.lower() for k in keywords]
    if not wanted:
        return 1.0
    text = answer.lower()
    return sum(1 for k in wanted if k in text) / len(wanted)


def _unique(items: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out


@dataclass(frozen=True)
class EvalQuestion:
    """One line of ``data/eval/rag_eval.jsonl``."""

    id: str
    question: str
    plant: str
    relevant_doc_ids: tuple[str, ...]
    equipment: str | None = None
    answer_keywords: tuple[str, ...] = ()


def load_eval_set(path: Path | str) -> list[EvalQuestion]:
    """Read the evaluation set; a bad line is reported with its number."""
    items = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw: dict[str, Any] = json.loads(line)
            items.append(
                EvalQuestion(
                    id=str(raw["id"]),
                    question=str(raw["question"]),
                    plant=str(raw["plant"]),
                    relevant_doc_ids=tuple(raw["relevant_doc_ids"]),
                    equipment=raw.get("equipment") or None,
                    answer_keywords=tuple(raw.get("answer_keywords") or ()),
                )
            )
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{number}: not a valid evaluation item ({exc!r})") from None
    return items


@dataclass
class RetrievalReport:
    """Aggregate retrieval quality over an evaluation set."""

    k: int
    questions: int = 0
    recall: float = 0.0
    hit_rate: float = 0.0
    mrr: float = 0.0
    misses: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "k": self.k,
            "questions": self.questions,
            f"recall@{self.k}": round(self.recall, 4),
            f"hit@{self.k}": round(self.hit_rate, 4),
            "mrr": round(self.mrr, 4),
            "misses": list(self.misses),
        }


def evaluate_retrieval(runs: Sequence[tuple[EvalQuestion, Sequence[str]]], k: int = 5) -> RetrievalReport:
    """Recall@k, hit@k and MRR over ``(question, retrieved document ids)`` pairs."""
    report = RetrievalReport(k=k, questions=len(runs))
    if not runs:
        return report
    recalls, hits, rrs = [], [], []
    for item, retrieved in runs:
        recalls.append(recall_at_k(retrieved, item.relevant_doc_ids, k))
        hits.append(hit_at_k(retrieved, item.relevant_doc_ids, k))
        rrs.append(reciprocal_rank(retrieved, item.relevant_doc_ids))
        if hits[-1] == 0.0:
            report.misses.append(item.id)
    report.recall = sum(recalls) / len(runs)
    report.hit_rate = sum(hits) / len(runs)
    report.mrr = sum(rrs) / len(runs)
    return report
