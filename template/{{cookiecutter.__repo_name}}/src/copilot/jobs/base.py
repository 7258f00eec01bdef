"""The analysis job queue interface.

An analysis is accepted by the API (202 + a job id), stored as ``queued`` in the job store, and
its id is published on a queue. A consumer - a task inside the API process for the in-process
backend, or ``python -m copilot.worker`` for Redis and Pub/Sub (Lab 03) - receives the message,
runs the analysis and stores the result. The contract every backend keeps:

* ``publish`` returns once the message is durably accepted by the backend;
* ``consume`` acknowledges a message only after the handler returned, i.e. after the result is
  stored; a handler that raises leaves the message to be delivered again;
* delivery is at-least-once, so handlers are idempotent by job id (see ``copilot.jobs.runner``).

Backends register in ``BACKENDS`` as ``"module:Class"`` and are imported only when selected by
``COPILOT_QUEUE_BACKEND``; each class provides ``from_settings(settings)``.
"""

from __future__ import annotations

import importlib
import json
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from copilot.core.config import Settings

BACKENDS = {
    "inprocess": "copilot.jobs.inprocess:InProcessJobQueue",
    "redis": "copilot.jobs.redis_queue:RedisJobQueue",
    "pubsub": "copilot.jobs.pubsub_queue:PubSubJobQueue",
}


class QueueUnavailable(Exception):
    """The backend cannot be reached or is not installed; the message says which and why."""


@dataclass(frozen=True)
class JobMessage:
    """What travels on the queue: only the id; the job's details live in the job store.

    ``correlation_id`` is the X-Request-ID of the request that submitted the job, so the worker's
    log lines carry the same id as the API's and the audit record (Lab 04).
    """

    job_id: str
    kind: str
    attempt: int = 1
    correlation_id: str | None = None

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, data: bytes | str) -> JobMessage:
        raw: dict[str, Any] = json.loads(data)
        cid = raw.get("correlation_id")
        return cls(
            job_id=str(raw["job_id"]),
            kind=str(raw["kind"]),
            attempt=int(raw.get("attempt", 1)),
            correlation_id=str(cid) if cid else None,
        )


Handler = Callable[[JobMessage], Awaitable[None]]


class JobQueue(ABC):
    backend: str

    @classmethod
    @abstractmethod
    def from_settings(cls, settings: Settings) -> JobQueue:
        """Build the backend from the service settings (``REDIS_URL``, project ids ...)."""

    @abstractmethod
    async def publish(self, message: JobMessage) -> None:
        """Enqueue; raise QueueUnavailable when the backend does not accept it."""

    @abstractmethod
    async def consume(self, handler: Handler) -> None:
        """Deliver messages to ``handler`` until cancelled; ack each only after the handler returns."""

    async def ping(self) -> bool:
        """Whether the backend is reachable (``/readyz``)."""
        return True

    async def close(self) -> None:  # noqa: B027 - optional hook, most backends have nothing to close
        """Release connections."""


def create_queue(settings: Settings) -> JobQueue:
    """The backend named by ``COPILOT_QUEUE_BACKEND``."""
    target = BACKENDS.get(settings.queue_backend)
    if target is None:
        raise QueueUnavailable(f"unknown COPILOT_QUEUE_BACKEND {settings.queue_backend!r}")
    module_name, _, class_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise QueueUnavailable(
            f"COPILOT_QUEUE_BACKEND={settings.queue_backend} needs {module_name}, which is not available: {exc}"
        ) from None
    queue: JobQueue = getattr(module, class_name).from_settings(settings)
    return queue
