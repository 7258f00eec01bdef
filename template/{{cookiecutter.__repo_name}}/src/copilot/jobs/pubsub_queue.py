"""The Google Cloud Pub/Sub queue backend (the cloud deployment; tested against the Pub/Sub emulator).

Publishing waits for the server's message id, so ``publish`` returns only once Pub/Sub stored the
message. Consuming uses a streaming pull: the client library keeps extending each message's ack
deadline while the handler runs, the message is acknowledged only after the handler returned (the
result is stored) and nacked when it raised. A worker killed mid-job stops extending the deadline,
so Pub/Sub redelivers the message to another subscriber once the deadline passes: at-least-once,
made exactly-once in the results by the idempotent job runner.

The topic and subscription are normally created by Terraform (with a dead-letter policy); against
the emulator (``PUBSUB_EMULATOR_HOST`` set) they are created on first use.
Requires ``pip install google-cloud-pubsub`` (the ``queues`` extra).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TYPE_CHECKING, Any

import anyio

from common.logging import get_logger
from copilot.jobs.base import Handler, JobMessage, JobQueue, QueueUnavailable

if TYPE_CHECKING:
    from copilot.core.config import Settings

try:
    from google.api_core import exceptions as gexc
    from google.cloud import pubsub_v1
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "the Pub/Sub queue needs google-cloud-pubsub: pip install 'manufacturing-copilot[queues]'"
    ) from exc

log = get_logger(__name__)

PUBLISH_TIMEOUT_S = 30.0
EMULATOR_VARIABLE = "PUBSUB_EMULATOR_HOST"


def _path(kind: str, project: str, name: str) -> str:
    """Accept a short name (``copilot-analysis-jobs``) or a full ``projects/.../topics/...`` path."""
    return name if name.startswith("projects/") else f"projects/{project}/{kind}/{name}"


class PubSubJobQueue(JobQueue):
    backend = "pubsub"

    def __init__(
        self,
        project: str,
        topic: str,
        subscription: str,
        ack_deadline_s: int = 60,
        max_lease_s: float = 3600.0,
        create_missing: bool | None = None,
        max_messages: int = 1,
    ) -> None:
        self.project = project
        self.topic = _path("topics", project, topic)
        self.subscription = _path("subscriptions", project, subscription)
        self.ack_deadline_s = ack_deadline_s
        self.max_lease_s = max_lease_s
        self.create_missing = bool(os.environ.get(EMULATOR_VARIABLE)) if create_missing is None else create_missing
        self.max_messages = max_messages
        self._publisher: pubsub_v1.PublisherClient | None = None
        self._subscriber: pubsub_v1.SubscriberClient | None = None
        self._ready = False

    @classmethod
    def from_settings(cls, settings: Settings) -> PubSubJobQueue:
        if not settings.gcp_project:
            raise QueueUnavailable("COPILOT_QUEUE_BACKEND=pubsub needs GOOGLE_CLOUD_PROJECT")
        return cls(
            settings.gcp_project,
            settings.pubsub_topic,
            settings.pubsub_subscription,
            ack_deadline_s=min(max(int(settings.job_retry_after_s), 10), 600),
            max_messages=settings.job_workers,
        )

    def publisher(self) -> pubsub_v1.PublisherClient:
        if self._publisher is None:
            self._publisher = pubsub_v1.PublisherClient()
        return self._publisher

    def subscriber(self) -> pubsub_v1.SubscriberClient:
        if self._subscriber is None:
            self._subscriber = pubsub_v1.SubscriberClient()
        return self._subscriber

    def ensure_topology(self) -> None:
        """Create the topic and the subscription when allowed (the emulator) and missing (blocking)."""
        if self._ready or not self.create_missing:
            return
        with contextlib.suppress(gexc.AlreadyExists):
            self.publisher().create_topic(request={"name": self.topic})
        with contextlib.suppress(gexc.AlreadyExists):
            self.subscriber().create_subscription(
                request={"name": self.subscription, "topic": self.topic, "ack_deadline_seconds": self.ack_deadline_s}
            )
        self._ready = True

    # -- producing -----------------------------------------------------------------------------------
    async def publish(self, message: JobMessage) -> None:
        def _publish() -> str:
            self.ensure_topology()
            future = self.publisher().publish(self.topic, message.to_json(), job_id=message.job_id, kind=message.kind)
            return str(future.result(timeout=PUBLISH_TIMEOUT_S))

        try:
            await anyio.to_thread.run_sync(_publish)
        except (gexc.GoogleAPIError, TimeoutError, OSError) as exc:
            raise QueueUnavailable(f"Pub/Sub topic {self.topic} did not accept the job: {exc}") from exc

    # -- consuming -----------------------------------------------------------------------------------
    async def consume(self, handler: Handler) -> None:
        """Stream messages to ``handler`` until cancelled; the callback thread waits for the handler."""
        loop = asyncio.get_running_loop()
        stopping = threading.Event()
        await anyio.to_thread.run_sync(self.ensure_topology)

        def callback(received: Any) -> None:
            try:
                message = JobMessage.from_json(received.data)
            except (TypeError, ValueError, KeyError):
                log.error("unreadable job message; acknowledged and dropped", message_id=received.message_id)
                received.ack()
                return
            attempt = int(getattr(received, "delivery_attempt", None) or message.attempt)
            job = JobMessage(message.job_id, message.kind, attempt, message.correlation_id)
            running = asyncio.run_coroutine_threadsafe(handler(job), loop)
            while True:
                try:
                    running.result(timeout=1.0)
                    break
                except FutureTimeout:
                    if stopping.is_set():  # shutting down mid-job: cancel it, Pub/Sub redelivers
                        running.cancel()
                        received.nack()
                        return
                except BaseException as exc:  # the handler raised or was cancelled
                    log.error("job handler failed; the message will be redelivered", job_id=job.job_id, error=str(exc))
                    received.nack()
                    return
            received.ack()

        # Each lease extension lasts ack_deadline_s, so a dead worker's message returns that soon
        # (the library's default stream deadline is 60 s); a live one keeps extending its lease.
        flow = pubsub_v1.types.FlowControl(
            max_messages=self.max_messages,
            max_lease_duration=self.max_lease_s,
            max_duration_per_lease_extension=self.ack_deadline_s,
        )
        streaming: Future[Any] = self.subscriber().subscribe(self.subscription, callback, flow_control=flow)
        try:
            await asyncio.wrap_future(streaming)
        finally:
            stopping.set()
            streaming.cancel()
            # Wait for the stream to shut down; its own outcome (cancelled, an error) was already handled.
            with contextlib.suppress(BaseException):
                await anyio.to_thread.run_sync(lambda: streaming.result(timeout=10))

    # -- operations ----------------------------------------------------------------------------------
    async def ping(self) -> bool:
        def _ping() -> bool:
            self.ensure_topology()
            self.publisher().get_topic(request={"topic": self.topic}, timeout=5)
            return True

        try:
            return await anyio.to_thread.run_sync(_ping)
        except (gexc.GoogleAPIError, OSError):
            return False

    async def close(self) -> None:
        if self._subscriber is not None:
            await anyio.to_thread.run_sync(self._subscriber.close)
            self._subscriber = None
        if self._publisher is not None:
            await anyio.to_thread.run_sync(self._publisher.stop)
            self._publisher = None
