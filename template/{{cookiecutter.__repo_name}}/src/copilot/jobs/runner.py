"""Running one analysis job from a queue message, idempotently.

Used by the in-process consumer and by ``python -m copilot.worker``. The handler returns only
after the result is stored, and a message for a job that already finished is acknowledged without
running it again, so at-least-once delivery gives exactly one stored result per job id.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import anyio

from common.logging import correlation_scope, get_logger
from copilot.jobs.base import JobMessage
from copilot.jobs.store import Job, JobStore

log = get_logger(__name__)
Analyze = Callable[[Job], Awaitable[dict[str, Any]]]


class JobRunner:
    def __init__(self, store: JobStore, analyze: Analyze) -> None:
        self.store = store
        self.analyze = analyze

    async def handle(self, message: JobMessage) -> None:
        with correlation_scope(message.correlation_id or f"job-{message.job_id}"):
            if not await anyio.to_thread.run_sync(self.store.mark_running, message.job_id):
                log.info("job already finished or unknown; acknowledged without rerun", job_id=message.job_id)
                return
            job = await anyio.to_thread.run_sync(self.store.get, message.job_id)
            assert job is not None
            try:
                result = await self.analyze(job)
            except Exception as exc:  # a bad job fails alone; the consumer keeps going
                log.exception("analysis failed", job_id=job.id, kind=job.kind)
                await anyio.to_thread.run_sync(self.store.fail, job.id, f"{type(exc).__name__}: {exc}"[:500])
                return
            await anyio.to_thread.run_sync(self.store.complete, job.id, result)
            log.info("analysis stored", job_id=job.id, kind=job.kind)
