"""The offline default generator: answers with the retrieved sentences that best match the question.

Deterministic (same question, same corpus, same answer) and fully grounded by construction, which
makes it the right default for a plant floor without a GPU and the baseline every LLM connector is
measured against. Each selected sentence carries the number of the passage it came from, ``[n]``.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import AsyncIterator, Sequence

from common.evaluation import content_words
from copilot.rag.generation import NO_ANSWER, AnswerGenerator, Passage

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"'])")
_TOKEN = re.compile(r"\S+\s*")
MAX_SENTENCES = 3
RELATIVE_CUTOFF = 0.5


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if len(s.strip()) > 2]


class ExtractiveGenerator(AnswerGenerator):
    model_version = "extractive-v1"

    def __init__(self, max_sentences: int = MAX_SENTENCES) -> None:
        self.max_sentences = max_sentences

    def compose(self, question: str, passages: Sequence[Passage]) -> str:
        asked = set(content_words(question))
        if not passages or not asked:
            return NO_ANSWER
        candidates: list[tuple[float, int, int, str, int]] = []
        sentence_words: list[set[str]] = []
        for passage in passages:
            for position, sentence in enumerate(split_sentences(passage.text)):
                words = set(content_words(sentence))
                sentence_words.append(words)
                candidates.append((0.0, passage.number, position, sentence, len(sentence_words) - 1))
        # Rarer question words count more (inverse sentence frequency over the retrieved passages).
        total = len(sentence_words)
        weight = {w: math.log(1 + total / (1 + sum(1 for s in sentence_words if w in s))) for w in asked}
        scored = []
        for _, number, position, sentence, idx in candidates:
            overlap = sum(weight[w] for w in asked & sentence_words[idx])
            if overlap > 0:
                scored.append((overlap + 0.25 / number, number, position, sentence))
        if not scored:
            return NO_ANSWER
        ranked = sorted(scored, key=lambda s: (-s[0], s[1], s[2]))
        # Sentences far weaker than the best one are usually about something else: leave them out.
        best = [s for s in ranked[: self.max_sentences] if s[0] >= RELATIVE_CUTOFF * ranked[0][0]]
        ordered = sorted(best, key=lambda s: (s[1], s[2]))
        return " ".join(f"{sentence} [{number}]" for _, number, _, sentence in ordered)

    async def generate(self, question: str, passages: Sequence[Passage]) -> str:
        return self.compose(question, passages)

    async def stream(self, question: str, passages: Sequence[Passage]) -> AsyncIterator[str]:
        for token in _TOKEN.findall(self.compose(question, passages)):
            yield token
            await asyncio.sleep(0)  # let the server flush each event (and notice a disconnect)
