"""Serving the inspection CNN: off the event loop, bounded, and coalescing concurrent requests.

Inference is CPU/GPU work, so it never runs on the event loop: requests put their decoded image
on a queue and await a future. One batcher task takes whatever is waiting (up to ``max_batch``),
runs the batch in a worker thread guarded by a capacity limiter (one batch per device at a time),
and resolves the futures. Under load, images that arrive while a batch runs form the next batch,
so throughput grows with concurrency instead of latency. Weights load in the background at
startup: the API is live at once, and ``/readyz`` reports ready when the model is.

torch is imported only when the model loads, so importing the service stays fast.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import numpy as np

from common.logging import get_logger
from copilot.core.tasks import stop_tasks
from copilot.observability.metrics import observe_inference, set_model_info

log = get_logger(__name__)
MODEL_UNAVAILABLE = "Model unavailable"


class ModelUnavailable(Exception):
    """The model could not be loaded; rendered as 503."""


@dataclass(frozen=True)
class Prediction:
    label: str
    confidence: float
    probabilities: dict[str, float]
    model_version: str


def resolve_model_uri(uri: str) -> Path:
    """A local weights path for ``COPILOT_MODEL_URI``: a path, a ``file://`` URI, or a version of the
    MLflow Model Registry such as ``models:/inspection-cnn@champion`` (downloaded from the tracking
    store that ``MLFLOW_TRACKING_URI`` names, the repository's ``var/mlflow`` store by default)."""
    if uri.startswith("file://"):
        return Path(uri[len("file://") :])
    if uri.startswith("models:/"):
        try:
            from mlops.registry import RegistryError, download_weights  # MLflow is imported only for these URIs
        except ImportError as exc:
            raise ModelUnavailable(
                f"COPILOT_MODEL_URI {uri!r} needs the mlops package and MLflow (pip install '.[mlops]'): {exc}"
            ) from None
        try:
            return download_weights(uri)
        except RegistryError as exc:
            raise ModelUnavailable(f"COPILOT_MODEL_URI {exc}") from None
    if "://" in uri:
        raise ModelUnavailable(f"COPILOT_MODEL_URI {uri!r}: no resolver for this URI scheme is installed")
    return Path(uri)


def pick_device(preferred: str | None) -> str:
    import torch

    if preferred:
        return preferred
    return "cuda" if torch.cuda.is_available() else "cpu"


class VisionClassifier:
    def __init__(
        self,
        model_uri: str,
        device: str | None = None,
        max_batch: int = 16,
        batch_wait_ms: float = 2.0,
    ) -> None:
        self.model_uri = model_uri
        self.preferred_device = device
        self.max_batch = max_batch
        self.batch_wait_s = batch_wait_ms / 1000.0
        self.device: str | None = None
        self.version: str | None = None
        self.image_size = 64
        self._bundle: Any = None
        self._error: str | None = None
        self._loaded: asyncio.Event | None = None
        self._queue: asyncio.Queue[tuple[np.ndarray, asyncio.Future[Prediction]]] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._limiter = anyio.CapacityLimiter(1)
        self.batches = 0

    @property
    def ready(self) -> bool:
        return self._bundle is not None

    @property
    def error(self) -> str | None:
        return self._error

    # -- lifecycle ---------------------------------------------------------------------------
    def load_sync(self) -> None:
        """Load and warm up the weights (blocking; called in a worker thread)."""
        import torch

        from copilot.vision.model import load_bundle

        path = resolve_model_uri(self.model_uri)
        if not path.is_file():
            raise ModelUnavailable(f"model weights not found at {path} (COPILOT_MODEL_URI)")
        device = pick_device(self.preferred_device)
        bundle = load_bundle(path, device=device)
        with torch.inference_mode():
            bundle.model(torch.zeros(1, 3, bundle.image_size, bundle.image_size, device=device))
        self._bundle, self.device, self.version, self.image_size = bundle, device, bundle.version, bundle.image_size
        log.info("vision model loaded", version=bundle.version, device=device, path=str(path))
        set_model_info("vision", path.stem, bundle.version)

    async def start(self) -> None:
        self._loaded = asyncio.Event()
        self._queue = asyncio.Queue()
        self._tasks = [
            asyncio.create_task(self._load(), name="vision-load"),
            asyncio.create_task(self._batcher(), name="vision-batcher"),
        ]

    async def _load(self) -> None:
        assert self._loaded is not None
        try:
            await anyio.to_thread.run_sync(self.load_sync)
        except Exception as exc:  # the API stays up; classify answers 503 and readyz says why
            self._error = str(exc)
            log.error("vision model failed to load", error=str(exc))
        finally:
            self._loaded.set()

    async def wait_loaded(self, timeout_s: float = 60.0) -> bool:
        if self._loaded is None:
            return False
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._loaded.wait(), timeout_s)
        return self.ready

    async def close(self) -> None:
        await stop_tasks(self._tasks)
        self._tasks = []

    # -- inference -----------------------------------------------------------------------------
    async def classify(self, image: np.ndarray) -> Prediction:
        """Classify one uint8 RGB image of the model's input size."""
        if self._queue is None or not await self.wait_loaded():
            raise ModelUnavailable(MODEL_UNAVAILABLE)
        future: asyncio.Future[Prediction] = asyncio.get_running_loop().create_future()
        await self._queue.put((image, future))
        return await future

    async def _batcher(self) -> None:
        assert self._queue is not None
        queue = self._queue
        while True:
            batch = [await queue.get()]
            self._take_waiting(batch)
            if 1 < len(batch) < self.max_batch and self.batch_wait_s > 0:
                await asyncio.sleep(self.batch_wait_s)  # others are arriving: let the batch fill
                self._take_waiting(batch)
            live = [(img, fut) for img, fut in batch if not fut.cancelled()]
            if not live:
                continue
            try:
                predictions = await anyio.to_thread.run_sync(
                    self.predict_batch, np.stack([img for img, _ in live]), limiter=self._limiter
                )
            except Exception as exc:
                for _, fut in live:
                    if not fut.done():
                        fut.set_exception(exc)
                continue
            for (_, fut), prediction in zip(live, predictions, strict=True):
                if not fut.done():
                    fut.set_result(prediction)

    def _take_waiting(self, batch: list[tuple[np.ndarray, asyncio.Future[Prediction]]]) -> None:
        assert self._queue is not None
        while len(batch) < self.max_batch:
            try:
                batch.append(self._queue.get_nowait())
            except asyncio.QueueEmpty:
                return

    def predict_batch(self, images: np.ndarray) -> list[Prediction]:
        """Blocking batch inference (worker thread)."""
        import torch

        from copilot.vision.model import to_tensor

        bundle = self._bundle
        if bundle is None:
            raise ModelUnavailable(MODEL_UNAVAILABLE)
        started = time.perf_counter()
        with torch.inference_mode():
            probs = torch.softmax(bundle.model(to_tensor(images).to(self.device)), dim=1).cpu().numpy()
        observe_inference(component="vision", seconds=time.perf_counter() - started, on_gpu=self.device != "cpu")
        self.batches += 1
        out = []
        for row in probs:
            best = int(row.argmax())
            out.append(
                Prediction(
                    label=bundle.classes[best],
                    confidence=round(float(row[best]), 4),
                    probabilities={c: round(float(p), 4) for c, p in zip(bundle.classes, row, strict=True)},
                    model_version=bundle.version,
                )
            )
        return out
