"""Retrieve, then generate: the RAG pipeline behind ``/v1/rag/query`` and ``/v1/rag/stream``."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import anyio

from common.evaluation import groundedness
from copilot.rag.generation import AnswerGenerator, Passage
from copilot.rag.retriever import Bm25Retriever
from copilot.rag.schemas import Citation, RagAnswer, RagQuery

SNIPPET_CHARS = 280
_CITATION_MARK = re.compile(r"\s*\[\d+\]")


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > limit // 2 else limit].rstrip() + " ..."


class RagPipeline:
    def __init__(self, retriever: Bm25Retriever, generator: AnswerGenerator) -> None:
        self.retriever = retriever
        self.generator = generator

    @property
    def index_version(self) -> str:
        return self.retriever.version

    @property
    def model_version(self) -> str:
        return self.generator.model_version

    async def retrieve(self, query: RagQuery) -> list[Passage]:
        """BM25 in a worker thread: cheap for hundreds of chunks, milliseconds at 100k."""
        found = await anyio.to_thread.run_sync(
            self.retriever.search, query.question, query.plant, query.equipment, query.top_k
        )
        return [
            Passage(i, s.chunk.doc_id, s.chunk.title, s.chunk.section, s.chunk.text, round(s.score, 4))
            for i, s in enumerate(found, start=1)
        ]

    def _result(self, query: RagQuery, passages: list[Passage], answer: str) -> RagAnswer:
        plain = _CITATION_MARK.sub("", answer)
        return RagAnswer(
            answer=answer,
            citations=[
                Citation(
                    number=p.number,
                    document_id=p.doc_id,
                    title=p.title,
                    section=p.section,
                    snippet=snippet(p.text),
                    score=p.score,
                )
                for p in passages
            ],
            groundedness=round(groundedness(plain, [p.text for p in passages]), 4),
            model_version=self.model_version,
            index_version=self.index_version,
            plant=query.plant,
            equipment=query.equipment,
        )

    async def answer(self, query: RagQuery) -> RagAnswer:
        passages = await self.retrieve(query)
        text = await self.generator.generate(query.question, passages)
        return self._result(query, passages, text)

    async def stream(self, query: RagQuery) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        """``(event, data)`` pairs: retrieval progress, answer tokens, then the final answer."""
        yield "retrieval", {"stage": "searching", "plant": query.plant, "equipment": query.equipment}
        passages = await self.retrieve(query)
        yield "retrieval", {"stage": "retrieved", "documents": [p.doc_id for p in passages]}
        pieces: list[str] = []
        async for token in self.generator.stream(query.question, passages):
            pieces.append(token)
            yield "token", {"text": token}
        result = self._result(query, passages, "".join(pieces).strip())
        yield "done", result.model_dump()
