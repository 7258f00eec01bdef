"""Serving: inference off the event loop, concurrent requests coalesced into batches."""

import asyncio

import numpy as np
import pytest

from copilot.vision.classifier import ModelUnavailable, VisionClassifier, resolve_model_uri
from copilot.vision.synthetic import CLASSES, generate
from tests.conftest import REPO

pytestmark = pytest.mark.anyio
WEIGHTS = str(REPO / "models" / "inspection-cnn.pt")


async def test_concurrent_requests_are_batched_and_correct() -> None:
    classifier = VisionClassifier(WEIGHTS, max_batch=16, batch_wait_ms=5)
    await classifier.start()
    try:
        assert await classifier.wait_loaded()
        images, labels = generate(8, seed=4242)
        predictions = await asyncio.gather(*(classifier.classify(img) for img in images))
        accuracy = np.mean([CLASSES.index(p.label) == y for p, y in zip(predictions, labels, strict=True)])
        assert accuracy >= 0.9
        assert classifier.batches < len(images), "concurrent requests should share batches"
        assert all(abs(sum(p.probabilities.values()) - 1) < 0.01 for p in predictions)
        assert predictions[0].model_version == "inspection-cnn-1"
    finally:
        await classifier.close()


async def test_event_loop_stays_responsive_during_inference() -> None:
    classifier = VisionClassifier(WEIGHTS)
    await classifier.start()
    try:
        await classifier.wait_loaded()
        images, _ = generate(16, seed=1)
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.001)

        task = asyncio.create_task(ticker())
        await asyncio.gather(*(classifier.classify(img) for img in images))
        task.cancel()
        assert ticks > 0
    finally:
        await classifier.close()


async def test_missing_weights_make_classify_unavailable(tmp_path) -> None:  # type: ignore[no-untyped-def]
    classifier = VisionClassifier(str(tmp_path / "none.pt"))
    await classifier.start()
    try:
        assert not await classifier.wait_loaded()
        assert "not found" in (classifier.error or "")
        with pytest.raises(ModelUnavailable):
            await classifier.classify(np.zeros((64, 64, 3), np.uint8))
    finally:
        await classifier.close()


def test_model_uri_schemes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert resolve_model_uri("models/x.pt").as_posix() == "models/x.pt"
    assert resolve_model_uri(f"file://{tmp_path}/x.pt") == tmp_path / "x.pt"
    with pytest.raises(ModelUnavailable, match="no resolver"):
        resolve_model_uri("s3://bucket/x.pt")
