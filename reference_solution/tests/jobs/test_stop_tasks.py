"""Stopping the worker's tasks: a cancellation a library swallows must not hang the shutdown."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from copilot.core.tasks import stop_tasks

pytestmark = pytest.mark.anyio


async def swallows_first_cancel() -> None:
    """What redis-py can do when a cancellation lands mid-command: lose it and carry on."""
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.sleep(3600)
    await asyncio.sleep(3600)


async def test_a_task_that_swallowed_a_cancellation_is_cancelled_again() -> None:
    task = asyncio.create_task(swallows_first_cancel())
    await asyncio.sleep(0)
    assert await stop_tasks([task], timeout_s=5)
    assert task.cancelled()


async def test_a_task_that_never_stops_is_reported_after_the_timeout() -> None:
    give_up = asyncio.Event()

    async def stubborn() -> None:
        while not give_up.is_set():
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                continue

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    assert await stop_tasks([task], timeout_s=0.3) is False
    assert not task.done()
    give_up.set()  # leave nothing running behind the test
    task.cancel()
    await asyncio.wait({task}, timeout=5)
    assert task.done()


async def test_finished_and_crashed_tasks_are_fine() -> None:
    async def crash() -> None:
        raise RuntimeError("consumer crashed")

    done, crashed = asyncio.create_task(asyncio.sleep(0)), asyncio.create_task(crash())
    await asyncio.wait({done, crashed})
    assert await stop_tasks([done, crashed], timeout_s=1)
