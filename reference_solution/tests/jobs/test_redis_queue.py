"""The Redis queue backend against a real redis-server: ack after the handler, redelivery of what a
dead or failing consumer left behind, dead-lettering, and no takeover of a slow but healthy job."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Awaitable, Callable

import anyio
import pytest

from copilot.jobs.base import JobMessage, QueueUnavailable
from copilot.jobs.redis_queue import RedisJobQueue

pytestmark = pytest.mark.anyio


def make_queue(url: str, stream: str, consumer: str, **kwargs: float) -> RedisJobQueue:
    return RedisJobQueue(url, stream=stream, consumer=consumer, block_s=0.2, **kwargs)  # type: ignore[arg-type]


async def cancel_and_wait(*tasks: asyncio.Task[None], timeout: float = 10) -> None:
    """One cancel, on purpose (``copilot.core.tasks.stop_tasks`` cancels again): the consumer itself
    must stop, and a hang fails the test within ``timeout`` instead of at pytest's limit."""
    for task in tasks:
        task.cancel()
    with anyio.fail_after(timeout):
        await asyncio.gather(*tasks, return_exceptions=True)


async def consume_until(
    queue: RedisJobQueue, handler: Callable[[JobMessage], Awaitable[None]], done: Callable[[], bool], timeout: float
) -> None:
    task = asyncio.create_task(queue.consume(handler))
    try:
        with anyio.fail_after(timeout):
            while not done():
                await asyncio.sleep(0.05)
    finally:
        await cancel_and_wait(task)


async def test_message_is_acknowledged_after_the_handler_returns(redis_url: str, unique_name: str) -> None:
    queue = make_queue(redis_url, unique_name, "a")
    seen: list[str] = []

    async def handler(message: JobMessage) -> None:
        seen.append(message.job_id)

    for i in range(3):
        await queue.publish(JobMessage(job_id=f"job-{i}", kind="maintenance_history"))
    await consume_until(queue, handler, lambda: len(seen) == 3, timeout=10)
    assert seen == ["job-0", "job-1", "job-2"]
    client = queue.client()
    assert await client.xlen(unique_name) == 0  # acknowledged entries are deleted
    assert (await client.xpending(unique_name, queue.group))["pending"] == 0
    await queue.close()


async def test_failed_handler_leaves_the_message_for_redelivery(redis_url: str, unique_name: str) -> None:
    queue = make_queue(redis_url, unique_name, "a", claim_idle_s=0.3)
    attempts: list[int] = []

    async def flaky(message: JobMessage) -> None:
        attempts.append(message.attempt)
        if len(attempts) == 1:
            raise RuntimeError("database restarting")

    await queue.publish(JobMessage(job_id="job-1", kind="maintenance_history"))
    await consume_until(queue, flaky, lambda: len(attempts) == 2, timeout=10)
    assert attempts == [1, 2]
    await asyncio.sleep(0.1)
    assert await queue.client().xlen(unique_name) == 0
    await queue.close()


async def test_a_dead_consumers_message_is_reclaimed_by_another(redis_url: str, unique_name: str) -> None:
    dead = make_queue(redis_url, unique_name, "dead")
    await dead.publish(JobMessage(job_id="job-1", kind="maintenance_history"))
    await dead._ensure_group()
    # The dead consumer read the message and never acknowledged it (killed mid-job).
    assert await dead._read_new()
    survivor = make_queue(redis_url, unique_name, "survivor", claim_idle_s=0.3)
    handled: list[JobMessage] = []

    async def handler(message: JobMessage) -> None:
        handled.append(message)

    await consume_until(survivor, handler, lambda: bool(handled), timeout=10)
    assert [m.job_id for m in handled] == ["job-1"] and handled[0].attempt == 2
    await dead.close()
    await survivor.close()


async def test_a_slow_healthy_job_is_not_taken_over(redis_url: str, unique_name: str) -> None:
    slow = make_queue(redis_url, unique_name, "slow", claim_idle_s=0.3)
    other = make_queue(redis_url, unique_name, "other", claim_idle_s=0.3)
    runs: list[str] = []
    finished = asyncio.Event()

    async def slow_handler(message: JobMessage) -> None:
        runs.append("slow")
        await asyncio.sleep(1.5)  # five times the claim idle time
        finished.set()

    async def other_handler(message: JobMessage) -> None:
        runs.append("other")

    await slow.publish(JobMessage(job_id="job-1", kind="maintenance_history"))
    first = asyncio.create_task(slow.consume(slow_handler))
    await asyncio.sleep(0.3)
    second = asyncio.create_task(other.consume(other_handler))
    with anyio.fail_after(10):
        await finished.wait()
    await asyncio.sleep(0.5)
    await cancel_and_wait(first, second)
    assert runs == ["slow"]
    await slow.close()
    await other.close()


async def test_a_consumer_cancelled_while_a_job_finishes_stops(
    redis_url: str, unique_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Shutdown right as a job completes: the consumer must stop, not swallow the cancellation."""
    queue = make_queue(redis_url, unique_name, "a")
    handled = asyncio.Event()

    async def keepalive_slow_to_stop(self: RedisJobQueue, entry_id: str) -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            await asyncio.sleep(0.3)  # its XCLAIM still in flight when the job ends
            raise

    async def handler(message: JobMessage) -> None:
        await asyncio.sleep(0.05)  # the keepalive starts
        handled.set()

    monkeypatch.setattr(RedisJobQueue, "_keep_claimed", keepalive_slow_to_stop)
    await queue.publish(JobMessage(job_id="job-1", kind="maintenance_history"))
    task = asyncio.create_task(queue.consume(handler))
    with anyio.fail_after(10):
        await handled.wait()
    await asyncio.sleep(0.1)  # the consumer is now waiting for the keepalive to stop
    await cancel_and_wait(task, timeout=5)
    assert task.cancelled()
    await queue.close()


@pytest.mark.skipif(sys.version_info < (3, 11), reason="Python 3.10 tasks do not count pending cancellations")
async def test_a_consumer_stops_even_when_the_client_swallows_its_cancellation(
    redis_url: str, unique_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """redis-py can lose a cancellation that lands mid-command; shutdown must not hang on it."""
    queue = make_queue(redis_url, unique_name, "a")
    acking = asyncio.Event()

    async def ack_that_swallows_cancel(self: RedisJobQueue, entry_id: str) -> None:
        acking.set()
        with contextlib.suppress(asyncio.CancelledError):  # what redis-py's pipeline sometimes does
            await asyncio.sleep(3600)

    async def handler(message: JobMessage) -> None:
        return None

    monkeypatch.setattr(RedisJobQueue, "_ack", ack_that_swallows_cancel)
    await queue.publish(JobMessage(job_id="job-1", kind="maintenance_history"))
    task = asyncio.create_task(queue.consume(handler))
    with anyio.fail_after(10):
        await acking.wait()
    await cancel_and_wait(task, timeout=5)
    assert task.cancelled()
    await queue.close()


async def test_poison_message_goes_to_the_dead_letter_stream(redis_url: str, unique_name: str) -> None:
    queue = make_queue(redis_url, unique_name, "a", claim_idle_s=0.1, max_deliveries=2)
    calls: list[int] = []

    async def always_fails(message: JobMessage) -> None:
        calls.append(message.attempt)
        raise RuntimeError("broken")

    await queue.publish(JobMessage(job_id="job-1", kind="maintenance_history"))
    client = queue.client()

    async def dead_lettered() -> int:
        return int(await client.xlen(queue.dead_letter))

    task = asyncio.create_task(queue.consume(always_fails))
    try:
        with anyio.fail_after(10):
            while await dead_lettered() == 0:
                await asyncio.sleep(0.05)
    finally:
        await cancel_and_wait(task)
    assert calls == [1, 2]
    assert await client.xlen(unique_name) == 0
    await queue.close()


async def test_unreachable_redis_is_reported(unique_name: str) -> None:
    queue = RedisJobQueue("redis://127.0.0.1:1/0", stream=unique_name)
    assert await queue.ping() is False
    with pytest.raises(QueueUnavailable, match=r"127\.0\.0\.1:1/0"):
        await queue.publish(JobMessage(job_id="job-1", kind="maintenance_history"))
    await queue.close()
