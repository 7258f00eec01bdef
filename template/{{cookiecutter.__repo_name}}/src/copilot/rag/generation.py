"""The answer-generation connector interface.

The pipeline retrieves passages and hands them to a generator; which generator answers is a
deployment choice: the extractive one (deterministic, offline, the default) or an
OpenAI-compatible HTTP endpoint serving the fine-tuned models and adapters from earlier weeks
(vLLM, TGI, llama.cpp server ...). Both stream tokens so the SSE endpoint works with either.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk as the generator and the citations see it (numbered from 1)."""

    number: int
    doc_id: str
    title: str
    section: str
    text: str
    score: float


class GeneratorUnavailable(Exception):
    """The generation backend failed or timed out; rendered as 502 with a short detail."""


class AnswerGenerator(ABC):
    model_version: str

    @abstractmethod
    async def generate(self, question: str, passages: Sequence[Passage]) -> str:
        """The complete answer."""

    @abstractmethod
    def stream(self, question: str, passages: Sequence[Passage]) -> AsyncIterator[str]:
        """The answer as it is produced, in pieces whose concatenation is the answer."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release connections (HTTP clients); nothing to do by default."""


NO_ANSWER = "None of this plant's documents answers the question."
