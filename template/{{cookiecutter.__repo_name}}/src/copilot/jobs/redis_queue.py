"""The Redis queue backend: a Redis Stream read through a consumer group.

Why a stream and not a list: a message read by a consumer stays in the group's pending list until
the consumer acknowledges it (``XACK``), so a worker killed mid-job loses nothing. Each worker
acknowledges only after the handler returned (the result is stored), and periodically reclaims
entries that another consumer left pending for longer than ``claim_idle_s`` (``XAUTOCLAIM``):
that is how the job of a dead worker is retried. While a job runs, its worker refreshes the
entry's idle time (``XCLAIM ... JUSTID``) so a slow but healthy job is never taken over.

A message delivered ``max_deliveries`` times without being acknowledged (the handler keeps
failing: the database is down, say) moves to a dead-letter stream instead of looping forever.
Requires ``pip install redis`` (the ``queues`` extra).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from typing import TYPE_CHECKING, Any

from common.logging import get_logger
from copilot.jobs.base import Handler, JobMessage, JobQueue, QueueUnavailable

if TYPE_CHECKING:
    from copilot.core.config import Settings

try:
    import redis.asyncio as aioredis
    from redis.exceptions import RedisError, ResponseError
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("the Redis queue needs the redis package: pip install 'manufacturing-copilot[queues]'") from exc

log = get_logger(__name__)

DEFAULT_STREAM = "copilot:analysis-jobs"
DEFAULT_GROUP = "copilot-workers"
FIELD = "message"


class RedisJobQueue(JobQueue):
    backend = "redis"

    def __init__(
        self,
        url: str,
        stream: str = DEFAULT_STREAM,
        group: str = DEFAULT_GROUP,
        consumer: str | None = None,
        claim_idle_s: float = 60.0,
        block_s: float = 5.0,
        max_deliveries: int = 5,
    ) -> None:
        self.url = url
        self.stream = stream
        self.group = group
        self.dead_letter = f"{stream}:dead"
        self.consumer = consumer or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.claim_idle_ms = int(claim_idle_s * 1000)
        self.block_ms = int(block_s * 1000)
        self.max_deliveries = max_deliveries
        self._client: aioredis.Redis | None = None
        self._group_ready = False

    @classmethod
    def from_settings(cls, settings: Settings) -> RedisJobQueue:
        if not settings.redis_url:
            raise QueueUnavailable("COPILOT_QUEUE_BACKEND=redis needs REDIS_URL (e.g. redis://redis:6379/0)")
        return cls(settings.redis_url, claim_idle_s=settings.job_retry_after_s)

    def client(self) -> aioredis.Redis:
        if self._client is None:
            self._client = aioredis.Redis.from_url(self.url, socket_connect_timeout=5, health_check_interval=30)
        return self._client

    async def _ensure_group(self) -> None:
        if self._group_ready:
            return
        try:
            await self.client().xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._group_ready = True

    # -- producing -----------------------------------------------------------------------------------
    async def publish(self, message: JobMessage) -> None:
        try:
            await self.client().xadd(self.stream, {FIELD: message.to_json()})
        except (RedisError, OSError) as exc:
            raise QueueUnavailable(f"Redis at {self._where()} did not accept the job: {exc}") from exc

    # -- consuming -----------------------------------------------------------------------------------
    async def consume(self, handler: Handler) -> None:
        """Handle messages until cancelled: first entries abandoned by dead consumers, then new ones."""
        while True:
            _stop_if_cancelled()
            try:
                await self._ensure_group()
                entries = await self._claim_abandoned()
                if not entries:
                    entries = await self._read_new()
                for entry_id, fields, deliveries in entries:
                    await self._deliver(handler, entry_id, fields, deliveries)
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                # The edge network or Redis restarts: wait and reconnect; nothing is lost meanwhile.
                log.warning("redis unavailable; retrying", error=str(exc), where=self._where())
                self._group_ready = False
                await asyncio.sleep(1.0)

    async def _read_new(self) -> list[tuple[str, dict[bytes, bytes], int]]:
        reply = await self.client().xreadgroup(
            self.group, self.consumer, {self.stream: ">"}, count=1, block=self.block_ms
        )
        return [(_text(entry_id), fields, 1) for _, entries in reply or [] for entry_id, fields in entries]

    async def _claim_abandoned(self) -> list[tuple[str, dict[bytes, bytes], int]]:
        reply = await self.client().xautoclaim(
            self.stream, self.group, self.consumer, min_idle_time=self.claim_idle_ms, start_id="0-0", count=1
        )
        claimed = [(_text(entry_id), fields) for entry_id, fields in reply[1] if fields]
        deleted = reply[2] if len(reply) > 2 else []
        for entry_id in deleted:  # trimmed while pending: nothing to deliver, just stop tracking it
            await self.client().xack(self.stream, self.group, entry_id)
        result = []
        for entry_id, fields in claimed:
            deliveries = await self._delivery_count(entry_id)
            log.info("reclaimed an abandoned job message", entry_id=entry_id, deliveries=deliveries)
            result.append((entry_id, fields, deliveries))
        return result

    async def _delivery_count(self, entry_id: str) -> int:
        pending = await self.client().xpending_range(self.stream, self.group, min=entry_id, max=entry_id, count=1)
        return int(pending[0]["times_delivered"]) if pending else 1

    async def _deliver(self, handler: Handler, entry_id: str, fields: dict[bytes, bytes], deliveries: int) -> None:
        try:
            message = JobMessage.from_json(fields[FIELD.encode()])
        except (TypeError, ValueError, KeyError):
            log.error("unreadable job message moved to the dead-letter stream", entry_id=entry_id)
            await self._dead_letter(entry_id, fields, "unreadable")
            return
        if deliveries > self.max_deliveries:
            log.error("job message failed too often; moved to the dead-letter stream", job_id=message.job_id)
            await self._dead_letter(entry_id, fields, f"delivered {deliveries} times")
            return
        keepalive = asyncio.create_task(self._keep_claimed(entry_id))
        try:
            await handler(JobMessage(message.job_id, message.kind, deliveries, message.correlation_id))
        except asyncio.CancelledError:
            raise  # shutting down mid-job: the entry stays pending and is reclaimed later
        except Exception as exc:
            log.error("job handler failed; the message will be retried", job_id=message.job_id, error=str(exc))
            return
        finally:
            keepalive.cancel()
            # wait() neither raises the keepalive's CancelledError nor swallows a cancellation of this
            # task (suppressing CancelledError here would, and the consumer would never stop).
            await asyncio.wait({keepalive})
        await self._ack(entry_id)

    async def _keep_claimed(self, entry_id: str) -> None:
        """Reset the entry's idle time while its job runs, so no other worker takes it over."""
        interval = max(self.claim_idle_ms / 3000, 0.2)
        while True:
            _stop_if_cancelled()
            await asyncio.sleep(interval)
            with contextlib.suppress(RedisError, OSError):
                await self.client().xclaim(self.stream, self.group, self.consumer, 0, [entry_id], justid=True)

    async def _ack(self, entry_id: str) -> None:
        async with self.client().pipeline(transaction=True) as pipe:
            pipe.xack(self.stream, self.group, entry_id)
            pipe.xdel(self.stream, entry_id)
            await pipe.execute()

    async def _dead_letter(self, entry_id: str, fields: dict[Any, Any], reason: str) -> None:
        async with self.client().pipeline(transaction=True) as pipe:
            pipe.xadd(self.dead_letter, {**fields, "reason": reason, "entry_id": entry_id})
            pipe.xack(self.stream, self.group, entry_id)
            pipe.xdel(self.stream, entry_id)
            await pipe.execute()

    # -- operations ----------------------------------------------------------------------------------
    async def ping(self) -> bool:
        try:
            return bool(await self.client().ping())
        except (RedisError, OSError):
            return False

    async def depth(self) -> int:
        """Messages waiting or in flight (entries not yet acknowledged)."""
        return int(await self.client().xlen(self.stream))

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _where(self) -> str:
        return self.url.split("@")[-1]  # never log the password part of the URL


def _stop_if_cancelled() -> None:
    """Re-raise a cancellation that redis-py swallowed, so a stopping worker really stops.

    redis-py can lose a ``CancelledError`` that arrives mid-command (a transaction pipeline is one
    place: redis/redis-py#2028 and #2551 describe the family); the loop would then read jobs
    forever and shutdown would hang. Python 3.11+ counts the cancellations a task has pending, so
    the loop checks that count each turn; Python 3.10 has no such count and relies on the library.
    """
    task = asyncio.current_task()
    cancelling = getattr(task, "cancelling", None)
    if cancelling is not None and cancelling():
        raise asyncio.CancelledError


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
