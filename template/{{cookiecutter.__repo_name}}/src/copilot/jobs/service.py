"""What the API needs from the job machinery: submit, look up, and (in-process) consume."""

from __future__ import annotations

import asyncio
from typing import Any

import anyio

from common.logging import get_correlation_id, get_logger
from copilot.core.tasks import stop_tasks
from copilot.jobs.base import JobMessage, JobQueue, QueueUnavailable
from copilot.jobs.runner import JobRunner
from copilot.jobs.store import Job, JobStore

log = get_logger(__name__)


class JobService:
    def __init__(self, store: JobStore, queue: JobQueue, runner: JobRunner) -> None:
        self.store = store
        self.queue = queue
        self.runner = runner
        self._consumers: list[asyncio.Task[None]] = []

    async def submit(
        self, kind: str, plant: str, equipment_id: str | None, requested_by: str, params: dict[str, Any]
    ) -> Job:
        job = await anyio.to_thread.run_sync(self.store.create, kind, plant, equipment_id, requested_by, params)
        try:
            await self.queue.publish(JobMessage(job_id=job.id, kind=kind, correlation_id=get_correlation_id()))
        except Exception as exc:
            await anyio.to_thread.run_sync(self.store.fail, job.id, "could not be queued")
            raise QueueUnavailable(f"{self.queue.backend} queue refused the job: {exc}") from exc
        return job

    async def get(self, job_id: str) -> Job | None:
        return await anyio.to_thread.run_sync(self.store.get, job_id)

    def start_consumers(self, count: int) -> None:
        self._consumers = [
            asyncio.create_task(self.queue.consume(self.runner.handle), name=f"job-consumer-{i}") for i in range(count)
        ]

    async def recover(self) -> int:
        """Re-publish jobs a previous process left unfinished (safe: the runner is idempotent)."""
        jobs = await anyio.to_thread.run_sync(self.store.unfinished)
        for job in jobs:
            await self.queue.publish(JobMessage(job_id=job.id, kind=job.kind, attempt=job.attempts + 1))
        if jobs:
            log.info("unfinished jobs re-queued", count=len(jobs))
        return len(jobs)

    async def close(self) -> None:
        if not await stop_tasks(self._consumers):
            log.error("a job consumer ignored the stop request; closing the queue without it")
        self._consumers = []
        await self.queue.close()
