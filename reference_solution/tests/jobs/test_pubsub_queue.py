"""The Pub/Sub queue backend against the Pub/Sub emulator of the gcloud CLI: a message is acknowledged
only after the handler returned, and a handler that fails gets the message again."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import anyio
import pytest

from copilot.jobs.base import JobMessage
from copilot.jobs.pubsub_queue import PubSubJobQueue

pytestmark = [pytest.mark.anyio, pytest.mark.slow]
PROJECT = "meridian-mfg-copilot"


def make_queue(name: str) -> PubSubJobQueue:
    return PubSubJobQueue(PROJECT, f"{name}-jobs", f"{name}-workers", ack_deadline_s=10, create_missing=True)


async def consume_until(
    queue: PubSubJobQueue, handler: Callable[[JobMessage], Awaitable[None]], done: Callable[[], bool], timeout: float
) -> None:
    task = asyncio.create_task(queue.consume(handler))
    try:
        with anyio.fail_after(timeout):
            while not done():
                await asyncio.sleep(0.05)
    finally:
        task.cancel()
        with anyio.fail_after(30):  # the client library stops its streaming pull in a thread
            await asyncio.gather(task, return_exceptions=True)


async def test_publish_and_consume_with_ack_after_the_handler(pubsub_host: str, unique_name: str) -> None:
    queue = make_queue(unique_name)
    await anyio.to_thread.run_sync(queue.ensure_topology)
    assert await queue.ping()
    seen: list[str] = []

    async def handler(message: JobMessage) -> None:
        seen.append(message.job_id)

    for i in range(3):
        await queue.publish(JobMessage(job_id=f"job-{i}", kind="maintenance_history"))
    await consume_until(queue, handler, lambda: len(seen) == 3, timeout=30)
    assert sorted(seen) == ["job-0", "job-1", "job-2"]
    # Acknowledged: nothing is delivered again within a second ack deadline.
    again: list[str] = []

    async def record(message: JobMessage) -> None:
        again.append(message.job_id)

    with pytest.raises(TimeoutError):
        await consume_until(queue, record, lambda: bool(again), timeout=12)
    assert again == []
    await queue.close()


async def test_a_failing_handler_gets_the_message_again(pubsub_host: str, unique_name: str) -> None:
    queue = make_queue(unique_name)
    calls: list[str] = []

    async def flaky(message: JobMessage) -> None:
        calls.append(message.job_id)
        if len(calls) == 1:
            raise RuntimeError("database restarting")

    await queue.publish(JobMessage(job_id="job-1", kind="maintenance_history"))
    await consume_until(queue, flaky, lambda: len(calls) >= 2, timeout=30)
    assert calls[:2] == ["job-1", "job-1"]
    await queue.close()
