"""Lexical retrieval with BM25 (the ``bm25s`` library), scoped to one plant.

Maintenance questions are full of exact identifiers (alarm codes, part numbers, equipment ids) that
lexical scoring matches precisely. The index is built once per corpus and cached; a query scores
every chunk with sparse postings, masks out other plants' chunks (so RBAC holds at the retrieval
layer, not only at the API), boosts chunks of documents about the requested equipment, and keeps
the best chunk per document.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import bm25s
import numpy as np

from copilot.rag.corpus import Chunk, Corpus

EQUIPMENT_BOOST = 1.6  # score multiplier for chunks of documents that list the requested equipment
CANDIDATE_FACTOR = 4  # chunks looked at per requested document (several chunks share a document)
_STOPWORDS = "en"


def tokenize(texts: list[str]) -> list[list[str]]:
    """The same tokenization for documents and questions (lowercase words, English stopwords out)."""
    tokens: list[list[str]] = bm25s.tokenize(texts, stopwords=_STOPWORDS, return_ids=False, show_progress=False)
    return tokens


@dataclass(frozen=True)
class ScoredChunk:
    chunk: Chunk
    score: float


class Bm25Retriever:
    def __init__(self, corpus: Corpus, k1: float = 1.2, b: float = 0.75) -> None:
        self.chunks = corpus.chunks
        self.version = f"bm25s-{corpus.fingerprint[:12]}"
        self._bm25 = bm25s.BM25(k1=k1, b=b)
        if self.chunks:
            self._bm25.index(tokenize([c.index_text for c in self.chunks]), show_progress=False)
        plants = sorted({c.plant for c in self.chunks})
        self._plant_codes = {p: i for i, p in enumerate(plants)}
        self._plant_of = np.array([self._plant_codes[c.plant] for c in self.chunks], dtype=np.int32)
        by_equipment: dict[str, list[int]] = {}
        for i, chunk in enumerate(self.chunks):
            for equipment in chunk.equipment:
                by_equipment.setdefault(equipment, []).append(i)
        self._equipment_rows = {k: np.array(v, dtype=np.int64) for k, v in by_equipment.items()}

    def __len__(self) -> int:
        return len(self.chunks)

    def scores(self, question: str) -> np.ndarray:
        tokens = [t for t in tokenize([question])[0] if t in self._bm25.vocab_dict]
        if not tokens or not self.chunks:
            return np.zeros(len(self.chunks), dtype=np.float32)
        scores: np.ndarray = self._bm25.get_scores(tokens)
        return scores

    def search(self, question: str, plant: str, equipment: str | None = None, top_k: int = 5) -> list[ScoredChunk]:
        """The best chunk of each of the ``top_k`` best documents of ``plant``, best first."""
        if top_k <= 0 or not self.chunks:
            return []
        plant_index = self._plant_codes.get(plant)
        if plant_index is None:
            return []
        scores = self.scores(question).astype(np.float32, copy=True)
        scores[self._plant_of != plant_index] = 0.0
        if equipment and equipment in self._equipment_rows:
            scores[self._equipment_rows[equipment]] *= EQUIPMENT_BOOST
        candidates = min(len(scores), top_k * CANDIDATE_FACTOR)
        while True:
            results = self._best_per_document(scores, candidates, top_k)
            if len(results) == top_k or candidates == len(scores):
                return results
            if float(np.partition(-scores, candidates - 1)[candidates - 1]) >= 0.0:
                return results  # every remaining chunk scores zero
            candidates = min(len(scores), candidates * CANDIDATE_FACTOR)

    def _best_per_document(self, scores: np.ndarray, candidates: int, top_k: int) -> list[ScoredChunk]:
        top = np.argpartition(-scores, candidates - 1)[:candidates]
        top = top[np.argsort(-scores[top], kind="stable")]
        results: list[ScoredChunk] = []
        seen: set[str] = set()
        for row in top:
            score = float(scores[row])
            if score <= 0.0:
                break
            chunk = self.chunks[int(row)]
            if chunk.doc_id in seen:
                continue
            seen.add(chunk.doc_id)
            results.append(ScoredChunk(chunk, score))
            if len(results) == top_k:
                break
        return results


_cache: dict[str, Bm25Retriever] = {}
_cache_lock = threading.Lock()
CACHE_SIZE = 4


def build_retriever(corpus: Corpus) -> Bm25Retriever:
    """The retriever for ``corpus``, built once per distinct corpus in this process."""
    key = corpus.fingerprint
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None:
            return cached
    retriever = Bm25Retriever(corpus)
    with _cache_lock:
        if len(_cache) >= CACHE_SIZE:
            _cache.pop(next(iter(_cache)))
        _cache[key] = retriever
    return retriever
