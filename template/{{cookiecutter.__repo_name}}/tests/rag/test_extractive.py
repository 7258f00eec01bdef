"""The extractive generator: deterministic, cited, and honest when nothing matches."""

import pytest

from copilot.rag.extractive import ExtractiveGenerator, split_sentences
from copilot.rag.generation import NO_ANSWER, Passage

PASSAGES = [
    Passage(1, "man-a", "Manual A", "Alarms", "SV-320 trips when the DC bus exceeds 820 V. Check resistor RB-4.", 9.0),
    Passage(2, "sop-b", "SOP B", "Steps", "Lock out the press. Wear gloves at all times.", 3.0),
]


def test_answers_with_matching_sentences_and_citations() -> None:
    answer = ExtractiveGenerator().compose("Why does SV-320 trip on the DC bus?", PASSAGES)
    assert answer.startswith("SV-320 trips when the DC bus exceeds 820 V. [1]")
    assert "[2]" not in answer


def test_is_deterministic() -> None:
    generator = ExtractiveGenerator()
    assert {generator.compose("lock out press resistor", PASSAGES) for _ in range(5)} == {
        generator.compose("lock out press resistor", PASSAGES)
    }


def test_says_so_when_nothing_matches() -> None:
    assert ExtractiveGenerator().compose("gearbox oil grade", PASSAGES) == NO_ANSWER
    assert ExtractiveGenerator().compose("anything", []) == NO_ANSWER


@pytest.mark.anyio
async def test_stream_concatenates_to_the_answer() -> None:
    generator = ExtractiveGenerator()
    pieces = [p async for p in generator.stream("DC bus SV-320", PASSAGES)]
    assert len(pieces) > 3
    assert "".join(pieces) == generator.compose("DC bus SV-320", PASSAGES)


def test_sentence_split_keeps_codes_together() -> None:
    assert split_sentences("Set 5.2 bar. Then test SV-311 (I2t). Done.") == [
        "Set 5.2 bar.",
        "Then test SV-311 (I2t).",
        "Done.",
    ]
