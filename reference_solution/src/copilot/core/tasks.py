"""Stopping background tasks at shutdown without trusting a single ``cancel()``."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

STOP_TIMEOUT_S = 10.0  # what is left of a container's grace period once running work has drained


async def stop_tasks(tasks: Iterable[asyncio.Task[Any]], timeout_s: float = STOP_TIMEOUT_S) -> bool:
    """Cancel ``tasks`` and wait for them, cancelling again each second; False if some never stopped.

    One ``cancel()`` is not a guarantee: a client library can lose a cancellation that lands
    mid-command (redis-py can: redis/redis-py#2028), and shutdown would then hang until the
    orchestrator kills the process. A repeated cancel lands elsewhere and stops the task. The tasks'
    own errors are collected here (their owner reports crashes), and a cancellation of the caller
    still goes through.
    """
    tasks = list(tasks)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    pending = {task for task in tasks if not task.done()}
    while pending and loop.time() < deadline:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=min(1.0, max(deadline - loop.time(), 0.0)))
    for task in tasks:
        if task.done() and not task.cancelled():
            task.exception()  # retrieved, so asyncio does not log it as never retrieved
    return not pending
